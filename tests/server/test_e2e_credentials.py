"""Key rotation end to end: ``reconciler`` applies through ``auth0://`` to ``reconciler
serve`` over TLS, while every write the server commits is watched.

- An app with two keys rotates one, then both, within Auth0's two credentials: after every
  write, the client holds at most two, authenticates with at least one key declared (by
  the manifest before the change or after it), and still with one it authenticated with
  just before, so a client signing with a key that stays is never locked out. Then a plan
  has nothing to do.
- An adopted app whose keys were made in the Dashboard (Auth0's default kids) plans no
  rotation, nor does an app whose keys an earlier version registered under its own kid.
- A credential POST whose answer is lost is found again, not sent twice.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from reconciler.cli import cli
from reconciler.core.keys import jwk_thumbprint, legacy_kid
from reconciler.core.model import Credential
from reconciler.core.stamp import Stamp
from reconciler.tenant.engine import Tenant
from tests.auth0_sdk import TlsServe

OWNER = "platform-team/credentials-e2e"
#: The Tenant methods through which serve writes a client or its credentials.
WRITES = (
    "create_client",
    "patch_client",
    "create_credential",
    "patch_credential",
    "delete_credential",
)


@functools.cache
def public_pem(name: str) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def kid(name: str) -> str:
    return jwk_thumbprint(public_pem(name))


@dataclass(frozen=True)
class State:
    """A client as one committed write left it: its credentials' kids, and the kids of
    those it authenticates with (or, ``requests``, verifies its signed authorization
    requests with)."""

    held: frozenset[str]
    enabled: frozenset[str]
    requests: frozenset[str] = frozenset()

    def signing_requests(self) -> State:
        """This state with the request keys in the place of the enabled ones."""
        return State(self.held, self.requests)


@dataclass
class Watcher:
    """Records each client's state after every write serve makes to ``tenant``."""

    tenant: Tenant
    states: dict[str, list[State]] = field(default_factory=dict)
    posts: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for name in WRITES:
            monkeypatch.setattr(self.tenant, name, self._watching(name, getattr(self.tenant, name)))

    def _watching(self, name: str, write: Callable[..., Any]) -> Callable[..., Any]:
        def watched(first: Any, *rest: Any) -> Any:
            answer = write(first, *rest)
            client_id = str(answer["client_id"]) if name == "create_client" else str(first)
            with self._lock:
                if name == "create_credential":
                    self.posts.append(client_id)
                self.states.setdefault(client_id, []).append(self.state(client_id))
            return answer

        return watched

    def state(self, client_id: str) -> State:
        kids = {c["id"]: c.get("kid") for c in self.tenant.list_credentials(client_id)}
        methods = self.tenant.get_client(client_id).get("client_authentication_methods") or {}
        enabled = {kids[ref["id"]] for m in methods.values() for ref in m["credentials"]}
        jar = self.tenant.get_client(client_id).get("signed_request_object") or {}
        requests = {kids[ref["id"]] for ref in jar.get("credentials") or []}
        return State(frozenset(kids.values()), frozenset(enabled), frozenset(requests))

    def since(self, client_id: str, start: int) -> list[State]:
        return self.states.get(client_id, [])[start:]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[TlsServe]:
    with TlsServe(tmp_path / "tenant.db") as running:
        yield running


@pytest.fixture
def watcher(served: TlsServe, monkeypatch: pytest.MonkeyPatch) -> Watcher:
    watching = Watcher(served.tenant)
    watching.install(monkeypatch)
    return watching


@pytest.fixture
def project(tmp_path: Path, served: TlsServe, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project whose registry is ``auth0://`` at ``served``; the CLI runs in this process
    and trusts serve's CA through SSL_CERT_FILE."""
    root = tmp_path / "repo"
    (root / "apps").mkdir(parents=True)
    (root / "keys").mkdir()
    (root / "reconciler.yaml").write_text(
        f"owner: {OWNER}\nmanifests: [apps]\nregistry: auth0://tenant.test\n"
    )
    monkeypatch.chdir(root)
    monkeypatch.setenv("AUTH0_CLIENT_ID", served.client_id)
    monkeypatch.setenv("AUTH0_CLIENT_SECRET", served.client_secret)
    monkeypatch.setenv("AUTH0_BASE_URL", served.base_url)
    monkeypatch.setenv("SSL_CERT_FILE", served.ca_file)
    monkeypatch.setenv("NO_COLOR", "1")
    return root


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def apply() -> None:
    code, output = run("apply", "--auto-approve", "--secrets-out", "secrets.json")
    assert code == 0, output


def plan_changes() -> list[dict[str, Any]]:
    result = CliRunner().invoke(cli, ["plan", "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    changes: list[dict[str, Any]] = json.loads(result.stdout)["changes"]
    return changes


def nothing_to_do() -> None:
    code, output = run("plan", "--detailed-exitcode")
    assert code == 0, output


def declare(root: Path, *keys: str, **apps: dict[str, Any]) -> set[str]:
    """The worker app with ``keys`` (one key file each), and ``apps`` beside it; returns
    the kids declared."""
    for name in keys:
        (root / "keys" / f"{name}.pem").write_text(public_pem(name))
    worker = {
        "name": "Worker",
        "type": "m2m",
        "token_endpoint_auth_method": "private_key_jwt",
        "credentials": [{"name": n, "public_key_file": f"../keys/{n}.pem"} for n in keys],
    }
    (root / "apps" / "apps.yaml").write_text(json.dumps({"apps": {"worker": worker, **apps}}))
    return {kid(name) for name in keys}


def client_id_of(served: TlsServe, key: str) -> str:
    [client] = [
        c
        for c in served.tenant.all_clients()
        if (c.get("client_metadata") or {}).get("reconciler_key") == key
    ]
    return str(client["client_id"])


def assert_no_downtime(states: list[State], before: State, declared: set[str]) -> None:
    """At every committed write: at most two credentials, an enabled one that is declared
    (before or after the change), and one enabled just before that is still enabled."""
    assert states, "the rotation wrote nothing"
    previous = before
    for state in states:
        assert len(state.held) <= 2, state
        assert state.enabled and state.enabled <= declared, state
        assert state.enabled & previous.enabled, f"{previous} -> {state}: every key dropped"
        previous = state


def test_two_keys_rotate_one_then_both_within_two_without_downtime(
    project: Path, served: TlsServe, watcher: Watcher
) -> None:
    first = declare(project, "a", "b")
    apply()
    nothing_to_do()
    worker = client_id_of(served, "worker")
    assert watcher.state(worker) == State(frozenset(first), frozenset(first))

    for keys in (("a", "c"), ("d", "e")):
        before = watcher.state(worker)
        declared = declare(project, *keys)
        [change] = plan_changes()
        assert [d["path"] for d in change["diff"]] == ["credentials"]
        assert any("removed before the new ones are added" in n for n in change["notes"])
        start = len(watcher.states[worker])
        apply()
        assert_no_downtime(watcher.since(worker, start), before, before.held | declared)
        assert watcher.state(worker) == State(frozenset(declared), frozenset(declared))
        nothing_to_do()


def test_request_object_keys_rotate_within_two_without_downtime(
    project: Path, served: TlsServe, watcher: Watcher
) -> None:
    # Auth0 counts the keys of signed_request_object against the client's two credentials
    # (configure-jar.mdx: they are credentials of the client, made by POST .../credentials),
    # so at the cap a retired key goes first, as for client authentication.
    def bank(*keys: str) -> set[str]:
        for name in keys:
            (project / "keys" / f"{name}.pem").write_text(public_pem(name))
        app = {
            "name": "Bank",
            "type": "regular_web",
            "callbacks": ["https://bank.example.com/callback"],
            "signed_request_object": {
                "required": True,
                "credentials": [
                    {"name": n, "public_key_file": f"../keys/{n}.pem", "alg": "PS256"} for n in keys
                ],
            },
        }
        (project / "apps" / "apps.yaml").write_text(json.dumps({"apps": {"bank": app}}))
        return {kid(name) for name in keys}

    first = bank("a", "b")
    apply()
    nothing_to_do()
    client = client_id_of(served, "bank")
    assert watcher.state(client).signing_requests() == State(frozenset(first), frozenset(first))
    for keys in (("a", "c"), ("d", "e")):
        before = watcher.state(client).signing_requests()
        declared = bank(*keys)
        [change] = plan_changes()
        assert any("removed before the new ones are added" in n for n in change["notes"])
        start = len(watcher.states[client])
        apply()
        states = [state.signing_requests() for state in watcher.since(client, start)]
        assert_no_downtime(states, before, before.held | declared)
        assert watcher.state(client).signing_requests() == State(
            frozenset(declared), frozenset(declared)
        )
        nothing_to_do()


def test_keys_made_with_default_kids_or_by_an_earlier_version_are_not_rotated(
    project: Path, served: TlsServe, watcher: Watcher
) -> None:
    def credential(name: str, **extra: Any) -> dict[str, Any]:
        return {"credential_type": "public_key", "name": name, "pem": public_pem(name), **extra}

    # Made in the Dashboard: Auth0 gives each key its default kid.
    dashboard = served.tenant.create_client(
        {
            "name": "Dashboard worker",
            "app_type": "non_interactive",
            "jwt_configuration": {"alg": "RS256"},
            "client_authentication_methods": {
                "private_key_jwt": {"credentials": [credential("x"), credential("y")]}
            },
        }
    )
    # Applied by an earlier version, which sent a kid of its own.
    spec = declare(project, "a")
    earlier = Credential("a", public_pem("a"), kid=legacy_kid(public_pem("a")))
    fields = {
        "name": "Worker",
        "app_type": "non_interactive",
        "grant_types": ["client_credentials"],
        "oidc_conformant": True,
        "token_endpoint_auth_method": "private_key_jwt",
        "credentials": [earlier.summary()],
    }
    served.tenant.create_client(
        {
            "name": "Worker",
            "app_type": "non_interactive",
            "grant_types": ["client_credentials"],
            "oidc_conformant": True,
            "jwt_configuration": {"alg": "RS256"},
            "client_metadata": Stamp.for_fields(OWNER, "worker", fields).to_metadata(),
            "client_authentication_methods": {
                "private_key_jwt": {
                    "credentials": [credential("a", kid=legacy_kid(public_pem("a")))]
                }
            },
        }
    )
    assert spec == {kid("a")} != {legacy_kid(public_pem("a"))}
    (project / "keys" / "x.pem").write_text(public_pem("x"))
    (project / "keys" / "y.pem").write_text(public_pem("y"))
    adopted = {
        "name": "Dashboard worker",
        "type": "m2m",
        "client_id": dashboard["client_id"],
        "token_endpoint_auth_method": "private_key_jwt",
        "credentials": [
            {"name": "x", "public_key_file": "../keys/x.pem"},
            {"name": "y", "public_key_file": "../keys/y.pem"},
        ],
    }
    declare(project, "a", dashboard_worker=adopted)
    [adopt] = plan_changes()
    assert adopt["action"] == "adopt" and adopt["key"] == "dashboard_worker"
    assert not [d for d in adopt["diff"] if d["path"].startswith("credentials")]
    apply()
    assert watcher.posts == [] and not [
        s
        for s in watcher.states.get(str(dashboard["client_id"]), [])
        if s.held != {kid("x"), kid("y")}
    ]
    nothing_to_do()


def test_a_credential_post_whose_answer_is_lost_is_not_sent_twice(
    project: Path, served: TlsServe, watcher: Watcher
) -> None:
    declare(project, "a", "b")
    apply()
    worker = client_id_of(served, "worker")
    served.inject(
        status=503, after=True, method="POST", path_prefix=f"/api/v2/clients/{worker}/credentials"
    )
    declared = declare(project, "a", "c")
    apply()
    posts = [
        entry["status"]
        for entry in served.server.app.log.entries()
        if entry["method"] == "POST" and entry["path"] == f"/api/v2/clients/{worker}/credentials"
    ]
    assert posts == [503], "the POST was answered 503 after it was handled, and not sent again"
    assert watcher.posts == [worker]  # a and b came with the client; c once
    assert watcher.state(worker) == State(frozenset(declared), frozenset(declared))
    nothing_to_do()
