"""Crash safety of a key rotation through ``auth0://`` against ``reconciler serve``: an
app's private_key_jwt keys change from round to round (one replaced, both replaced, one
dropped, one added), and each apply is killed (SIGKILL) right after the n-th write of the
rotation is answered (a credential added, the client pointed at its keys, a retired key
deleted), n drawn from a seeded generator (set CRASH_SEED to replay).

After every kill, as Auth0 would hold it: at most two credentials (Auth0's cap), the
client authenticates with at least one key, every key it authenticates with is declared
by the round before or this one (a kill never leaves it signing with nothing, nor with a
key nobody declared), and the next plan is made without error. At the end one more apply
converges: the client holds exactly the last round's keys and a plan has nothing to do.
"""

from __future__ import annotations

import functools
import json
import os
import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from reconciler.core.keys import jwk_thumbprint
from reconciler.tenant.engine import Tenant
from tests.auth0_sdk import TlsServe
from tests.registries.auth0.test_crash import RequestLog, poll

pytestmark = pytest.mark.slow

OWNER = "platform-team/rotation-crash"
APPLY = ("apply", "--auto-approve", "--secrets-out", "secrets.json")
#: The keys rotated: the worker's for client authentication, or a web app's for its
#: signed authorization requests (JAR), which count against the same two credentials.
USES = ("authentication", "requests")
KILLED = -signal.SIGKILL
ROUNDS = (("a", "b"), ("a", "c"), ("d", "e"), ("e",), ("e", "f"), ("g", "h"))


@functools.cache
def public_pem(name: str) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def declare(root: Path, keys: tuple[str, ...], use: str) -> set[str]:
    (root / "apps").mkdir(parents=True, exist_ok=True)
    (root / "keys").mkdir(exist_ok=True)
    (root / "reconciler.yaml").write_text(
        f"owner: {OWNER}\nmanifests: [apps]\nregistry: auth0://tenant.test\n"
    )
    for name in keys:
        (root / "keys" / f"{name}.pem").write_text(public_pem(name))
    credentials = [{"name": n, "public_key_file": f"../keys/{n}.pem"} for n in keys]
    app: dict[str, object] = {"name": "Worker"}
    if use == "authentication":
        app |= {"type": "m2m", "token_endpoint_auth_method": "private_key_jwt"}
        app["credentials"] = credentials
    else:
        app |= {"type": "regular_web", "callbacks": ["https://worker.example.com/callback"]}
        app["signed_request_object"] = {"required": True, "credentials": credentials}
    (root / "apps" / "apps.yaml").write_text(json.dumps({"apps": {"worker": app}}))
    return {jwk_thumbprint(public_pem(name)) for name in keys}


def is_rotation_write(entry: dict[str, object]) -> bool:
    path = str(entry["path"])
    answered = 200 <= int(str(entry["status"])) < 300
    return answered and (
        "/credentials" in path
        or (entry["method"] == "PATCH" and path.startswith("/api/v2/clients/"))
    )


def kill_at(process: subprocess.Popen[str], log: RequestLog, began: float, nth: int) -> None:
    """SIGKILL ``process`` once serve has answered ``nth`` writes of the rotation."""

    def reached() -> bool:
        return sum(map(is_rotation_write, log.since(began))) >= nth

    if poll(reached, process) and process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)


def keys_of(path: Path, use: str) -> tuple[set[str], set[str]]:
    """The worker's credentials' kids, and the kids it authenticates (or, for ``requests``,
    verifies its authorization requests) with."""
    tenant = Tenant(path)
    try:
        [client] = [c for c in tenant.all_clients() if c["name"] == "Worker"]
        kids = {c["id"]: c["kid"] for c in tenant.list_credentials(client["client_id"])}
        methods = client.get("client_authentication_methods") or {}
        if use == "requests":
            methods = {"jar": client.get("signed_request_object") or {"credentials": []}}
        enabled = {kids[ref["id"]] for m in methods.values() for ref in m["credentials"]}
    finally:
        tenant.close()
    return set(kids.values()), enabled


@pytest.mark.parametrize("use", USES)
def test_a_rotation_killed_at_any_write_keeps_a_declared_key_and_converges(
    tmp_path: Path, use: str
) -> None:
    seed_value = int(os.environ.get("CRASH_SEED") or time.time_ns() % 2**32)
    replay = f" (replay with CRASH_SEED={seed_value})"
    rng = random.Random(seed_value)
    root = tmp_path / "repo"
    database = tmp_path / "tenant.db"
    kills = 0
    with TlsServe(database) as served:
        log = RequestLog(served)
        try:
            previous = declare(root, ROUNDS[0], use)
            first = served.reconciler(root, *APPLY)
            out, err = first.communicate(timeout=120)
            assert first.returncode == 0, out + err
            for keys in ROUNDS[1:]:
                declared = declare(root, keys, use)
                log.clear()
                began = time.time()
                process = served.reconciler(root, *APPLY)
                killer = threading.Thread(
                    target=kill_at, args=(process, log, began, rng.randint(1, 4)), daemon=True
                )
                killer.start()
                _, err = process.communicate(timeout=120)
                killer.join(timeout=30)
                assert process.returncode in (KILLED, 0), err + replay
                kills += process.returncode == KILLED
                held, enabled = keys_of(database, use)
                assert len(held) <= 2, f"{held}{replay}"
                assert enabled, f"the client authenticates with no key{replay}"
                assert enabled <= previous | declared, f"{enabled}{replay}"
                plan = served.reconciler(root, "plan", "--format", "json")
                out, err = plan.communicate(timeout=60)
                assert plan.returncode == 0, out + err + replay
                if process.returncode == KILLED:
                    # What the kill left is declared by this round or the one before; the
                    # next round starts from there, so it may still hold the older keys.
                    previous = previous | declared
                else:
                    previous = declared
            final = served.reconciler(root, *APPLY)
            out, err = final.communicate(timeout=120)
            assert final.returncode == 0, out + err + replay
        finally:
            log.close()
        assert kills >= 3, f"only {kills} rounds were killed{replay}"
        assert keys_of(database, use) == (declared, declared), replay
        check = served.reconciler(root, "plan", "--detailed-exitcode")
        out, err = check.communicate(timeout=60)
        assert check.returncode == 0, out + err + replay
