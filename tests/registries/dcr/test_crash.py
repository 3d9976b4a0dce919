"""Crash safety: an apply of 50 apps killed (SIGKILL) at random points, six times, converges.

How "every managed app maps to exactly one client" is established, with no list API:

- The peer runs behind a recording proxy (``recording_proxy``): the peer's ``ISSUER`` is
  the proxy's address, so discovery, the registration endpoint and every registration
  client URI point at the proxy, and every ``201`` of ``POST /reg`` is written down with
  the client's id and name, even when the process that asked was killed before it read
  the answer. That ledger is the server's set of registered clients.
- Each app key registers under a ``client_name`` no other key uses, so each server client
  belongs to exactly one key.
- After the final apply, the state holds each of the 50 keys once, with 50 different
  client ids; each is read back with its own registration access token (200, right name).
- Every other client the ledger holds for a key is an orphan: a kill fell between the
  server's answer and the state write. Each must be named by the intent journal's report
  (``DcrRegistry.orphans()``): same key, the registration endpoint, and an intent time no
  later than the moment the client was registered.

The state file is parsed at every kill, and continuously by a watcher thread throughout.
The kills: one at a random time from process start (start-up, discovery, reads, planning;
at the latest at the first registration), then alternately right after a registration's
answer reached the client (the orphan window) and at a random delay after one (anywhere
in the next create). Set CRASH_SEED to replay a run.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.registries.dcr import open_dcr
from tests.peers import oidc_provider
from tests.registries.dcr.recording_proxy import Ledger, free_port, recording_proxy
from tests.registries.dcr.support import bearer

KEYS = [f"app-{n:02d}" for n in range(50)]
ROUNDS = ("early", "window", "delayed", "window", "delayed", "window")
RECONCILER = [sys.executable, "-c", "from reconciler.cli import main; main()"]
APPLY = [*RECONCILER, "apply", "--secrets-out", "secrets.json"]


def client_name(key: str) -> str:
    return f"crash test {key}"


def manifest() -> str:
    lines = ["apps:"]
    for n, key in enumerate(KEYS):
        lines += [f"  {key}:", f"    name: {client_name(key)}"]
        if n % 5 == 0:
            lines += ["    type: regular_web", f'    callbacks: ["https://{key}.example.com/cb"]']
        else:
            lines += ["    type: m2m"]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def proxied() -> Iterator[tuple[str, Ledger]]:
    proxy_port, peer_port = free_port(), free_port()
    issuer = f"http://127.0.0.1:{proxy_port}"
    with oidc_provider({"PORT": str(peer_port), "ISSUER": issuer}) as announced:
        assert announced == issuer
        with recording_proxy(proxy_port, f"http://127.0.0.1:{peer_port}") as ledger:
            yield issuer, ledger


class StateWatcher:
    """Parses the state file as often as it can while applies run and die."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.reads = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> StateWatcher:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                text = self.path.read_text()
            except FileNotFoundError:
                time.sleep(0.001)
                continue
            self.reads += 1
            try:
                json.loads(text)
            except ValueError as exc:
                self.failures.append(f"{exc}: {text[:200]!r}")


def test_killed_applies_converge_and_every_orphan_is_reported(
    proxied: tuple[str, Ledger], tmp_path: Path
) -> None:
    issuer, ledger = proxied
    seed = int(os.environ.get("CRASH_SEED") or time.time_ns() % 2**32)
    rng = random.Random(seed)
    replay = f"(replay with CRASH_SEED={seed})"
    (tmp_path / "reconciler.yaml").write_text(
        f"owner: crash-test\nmanifests: [apps]\nregistry: dcr+{issuer}\n"
    )
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "apps.yaml").write_text(manifest())
    state_path = tmp_path / ".reconciler" / "dcr-state.json"

    kills = 0
    with StateWatcher(state_path) as watcher:
        for kind in ROUNDS:
            process = subprocess.Popen(
                [*APPLY, "--auto-approve"],
                cwd=tmp_path,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            arm_kill(kind, process, ledger, rng)
            _, stderr = process.communicate(timeout=60)
            ledger.on_registered = None
            assert process.returncode in (-signal.SIGKILL, 0), stderr.decode() + replay
            kills += process.returncode == -signal.SIGKILL
            held = apps_in(state_path, issuer)  # valid JSON at every kill
            assert len(held) < len(KEYS), f"round {kind!r} finished the apply {replay}"

        final = subprocess.run(
            [*APPLY, "--auto-approve"], cwd=tmp_path, capture_output=True, timeout=60
        )
        assert final.returncode == 0, final.stderr.decode() + replay
    assert watcher.failures == [], replay
    assert watcher.reads > 0
    assert kills >= 4, replay

    plan = subprocess.run(
        [*RECONCILER, "plan", "--detailed-exitcode"], cwd=tmp_path, capture_output=True
    )
    assert plan.returncode == 0, plan.stdout.decode() + plan.stderr.decode() + replay

    held = apps_in(state_path, issuer)
    assert sorted(held) == KEYS
    assert len({entry["client_id"] for entry in held.values()}) == len(KEYS)
    for key, entry in held.items():
        read = httpx.get(
            entry["registration_client_uri"], headers=bearer(entry["registration_access_token"])
        )
        assert read.status_code == 200 and read.json()["client_name"] == client_name(key)

    on_server: dict[str, list[Any]] = defaultdict(list)
    for registered in ledger.live():
        on_server[str(registered.client_name)].append(registered)
    assert set(on_server) == {client_name(key) for key in KEYS}, "no client without a key"

    registry = open_dcr(f"dcr+{issuer}?state={state_path}", environ={})
    try:
        orphans = registry.orphans()
    finally:
        registry.close()
    assert len(orphans) <= kills, replay
    orphaned = 0
    for key in KEYS:
        managed = held[key]["client_id"]
        clients = on_server[client_name(key)]
        assert managed in {c.client_id for c in clients}
        extra = [c for c in clients if c.client_id != managed]
        reported = [o for o in orphans if o.key == key]
        assert len(reported) >= len(extra), f"{key}: unreported orphans {replay}"
        for client in extra:
            assert any(
                o.registration_endpoint == f"{issuer}/reg"
                and datetime.fromisoformat(o.time) <= client.at
                and o.client_name == client_name(key)
                for o in reported
            ), f"{key}: orphan {client.client_id} not matched by the report {replay}"
        orphaned += len(extra)
    assert len(ledger.live()) == len(KEYS) + orphaned


def arm_kill(
    kind: str, process: subprocess.Popen[bytes], ledger: Ledger, rng: random.Random
) -> None:
    """SIGKILL ``process`` at a random point chosen by ``kind`` (see the module docstring)."""
    if kind == "early":  # at a random time, but no later than the first registration
        threading.Timer(rng.uniform(0.05, 0.6), process.kill).start()
        ledger.on_registered = process.kill
        return
    after = rng.randint(1, 6)
    delay = rng.uniform(0.0, 0.03) if kind == "delayed" else 0.0
    seen = 0

    def registered() -> None:
        nonlocal seen
        seen += 1
        if seen != after:
            return
        if delay:
            threading.Timer(delay, process.kill).start()
        else:
            process.kill()

    ledger.on_registered = registered


def apps_in(state_path: Path, issuer: str) -> dict[str, Any]:
    if not state_path.exists():
        return {}
    document = json.loads(state_path.read_text())
    apps: dict[str, Any] = document["issuers"].get(issuer, {}).get("apps", {})
    return apps
