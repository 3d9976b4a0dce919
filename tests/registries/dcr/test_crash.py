"""Crash safety: an apply of 50 apps with ``--secrets-out``, killed (SIGKILL) at random
points six times, converges; no secret is lost silently.

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
  later than the moment the client was registered; and the plan names it as a client
  whose secret may not have been delivered.

Secrets (every app here is confidential): after each kill and at the end, every app the
state holds is either in the sink with the secret the server holds (RFC 7592 read), or its
stamp says ``pending`` (named by the next plan, re-delivered by the next apply); every
other client is a named orphan. No temporary file is left beside the state or the sink.

The state file is parsed at every kill, and continuously by a watcher thread throughout.
The kills: one at a random time from process start (start-up, discovery, reads, planning;
at the latest at the first registration), then alternately right after a registration's
answer reached the client (the orphan window) and at a random delay after one (anywhere in
the next create); and once between the state write and the sink write ("undelivered"):
the test takes the sink's own lock after a registration, so the apply stops at its next
sink write with that app recorded, then kills it there. Set CRASH_SEED to replay a run.
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.core.stamp import Stamp
from reconciler.registries.dcr.registry import DcrRegistry, open_dcr
from tests.peers import oidc_provider
from tests.registries.dcr.recording_proxy import Ledger, Registered, free_port, recording_proxy
from tests.registries.dcr.support import bearer

pytestmark = pytest.mark.slow

KEYS = [f"app-{n:02d}" for n in range(50)]
ROUNDS = ("early", "window", "undelivered", "window", "delayed", "window")
CLI = [sys.executable, "-c", "from reconciler.cli import main; main()"]
APPLY = [*CLI, "apply", "--auto-approve", "--first-run", "--secrets-out", "secrets.json"]
SINK = "secrets.json"


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


@dataclass
class AfterKill:
    """What one kill left: the state, the sink, and what the next plan said."""

    kind: str
    state: dict[str, Any]
    sink: dict[str, Any]
    plan: str

    def undelivered(self) -> list[str]:
        """Keys the state holds whose client's secret is not in the sink."""
        return [
            key
            for key, entry in self.state.items()
            if self.sink.get(key, {}).get("client_id") != entry["client_id"]
        ]


@dataclass
class Crashed:
    issuer: str
    ledger: Ledger
    root: Path
    replay: str
    kills: int = 0
    after_kills: list[AfterKill] = field(default_factory=list)
    final_apply: str = ""

    @property
    def state_path(self) -> Path:
        return self.root / ".reconciler" / "dcr-state.json"

    def state(self) -> dict[str, Any]:
        return apps_in(self.state_path, self.issuer)

    def sink(self) -> dict[str, Any]:
        path = self.root / SINK
        return json.loads(path.read_text()) if path.exists() else {}

    def registry(self) -> DcrRegistry:
        return open_dcr(f"dcr+{self.issuer}?state={self.state_path}", environ={})

    def plan(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, "plan", *args], cwd=self.root, capture_output=True, text=True, timeout=60
        )


@pytest.fixture(scope="module")
def crashed(proxied: tuple[str, Ledger], tmp_path_factory: pytest.TempPathFactory) -> Crashed:
    issuer, ledger = proxied
    seed = int(os.environ.get("CRASH_SEED") or time.time_ns() % 2**32)
    rng = random.Random(seed)
    root = tmp_path_factory.mktemp("crash")
    run = Crashed(issuer, ledger, root, f"(replay with CRASH_SEED={seed})")
    (root / "reconciler.yaml").write_text(
        f"owner: crash-test\nmanifests: [apps]\nregistry: dcr+{issuer}\n"
    )
    (root / "apps").mkdir()
    (root / "apps" / "apps.yaml").write_text(manifest())

    with StateWatcher(run.state_path) as watcher:
        for kind in ROUNDS:
            process = subprocess.Popen(
                APPLY, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            if kind == "undelivered":
                sink_lock = kill_at_the_sink_write(process, ledger, run, rng)
            else:
                arm_kill(kind, process, ledger, rng)
            _, stderr = process.communicate(timeout=60)
            ledger.on_registered = None
            if kind == "undelivered":
                sink_lock.release()
            assert process.returncode in (-signal.SIGKILL, 0), stderr.decode() + run.replay
            run.kills += process.returncode == -signal.SIGKILL
            held = run.state()  # valid JSON at every kill
            assert len(held) < len(KEYS), f"round {kind!r} finished the apply {run.replay}"
            planned = run.plan()
            after = AfterKill(kind, held, run.sink(), planned.stdout)
            run.after_kills.append(after)
            if kind == "undelivered":
                assert after.undelivered(), f"no app was left undelivered {run.replay}"

        final = subprocess.run(APPLY, cwd=root, capture_output=True, text=True, timeout=60)
        assert final.returncode == 0, final.stdout + final.stderr + run.replay
        run.final_apply = final.stdout
    assert watcher.failures == [], run.replay
    assert watcher.reads > 0
    assert run.kills >= 4, run.replay
    return run


def test_killed_applies_converge_and_every_orphan_is_reported(crashed: Crashed) -> None:
    issuer, ledger, replay = crashed.issuer, crashed.ledger, crashed.replay
    held = crashed.state()
    assert sorted(held) == KEYS
    assert len({entry["client_id"] for entry in held.values()}) == len(KEYS)
    for key, entry in held.items():
        read = httpx.get(
            entry["registration_client_uri"], headers=bearer(entry["registration_access_token"])
        )
        assert read.status_code == 200 and read.json()["client_name"] == client_name(key)

    on_server = clients_by_name(ledger)
    assert set(on_server) == {client_name(key) for key in KEYS}, "no client without a key"

    registry = crashed.registry()
    try:
        orphans = registry.orphans()
    finally:
        registry.close()
    assert len(orphans) <= crashed.kills, replay
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


def test_plan_and_apply_name_each_orphan_as_a_secret_maybe_undelivered(
    crashed: Crashed,
) -> None:
    registry = crashed.registry()
    try:
        orphans = registry.orphans()
    finally:
        registry.close()
    final_plan = crashed.plan("--detailed-exitcode")
    for text in (final_plan.stdout, crashed.final_apply):
        for orphan in orphans:
            [line] = [line for line in text.splitlines() if orphan.id in line]
            assert f"app {orphan.key!r}" in line
            assert "its secret may not have been delivered" in line
    assert final_plan.returncode == (2 if orphans else 0), final_plan.stdout + crashed.replay


def test_every_secret_in_the_sink_is_the_one_the_server_holds(crashed: Crashed) -> None:
    held, sink = crashed.state(), crashed.sink()
    registry = crashed.registry()
    try:
        apps = {app.stamp.key: app for app in registry.list_apps() if app.stamp}
        for key, entry in sink.items():
            if held[key]["client_id"] != entry["client_id"]:
                continue  # an orphan's secret, delivered before the kill lost its state write
            assert registry.read_secret(apps[key]) == entry["client_secret"], key
        for key in held:
            assert registry.read_secret(apps[key]), f"{key}: the server shows no secret"
    finally:
        registry.close()


def test_no_temporary_file_is_left_beside_the_state(crashed: Crashed) -> None:
    leftovers = [p.name for p in crashed.state_path.parent.iterdir() if p.suffix == ".tmp"]
    assert leftovers == []


def test_after_every_kill_each_undelivered_secret_is_pending_and_named(
    crashed: Crashed,
) -> None:
    for after in crashed.after_kills:
        for key in after.undelivered():
            stamp = Stamp.read(after.state[key]["stamp"])
            assert stamp is not None and stamp.pending, f"{after.kind}: {key} {crashed.replay}"
            assert re.search(rf"\b{key}\b", after.plan), f"{key} not named {crashed.replay}"


def test_no_secret_is_lost_silently(crashed: Crashed) -> None:
    held, sink = crashed.state(), crashed.sink()
    for key, entry in held.items():
        stamp = Stamp.read(entry["stamp"])
        delivered = sink.get(key, {}).get("client_id") == entry["client_id"]
        assert delivered, f"{key}: secret not re-delivered {crashed.replay}"
        assert stamp is not None and not stamp.pending, key
    leftovers = [p.name for p in crashed.root.iterdir() if p.name.startswith(".secrets-")]
    assert leftovers == [], "a temporary file holding secrets outlived its run"


def test_once_the_orphans_are_deleted_and_dismissed_the_plan_matches(
    crashed: Crashed,
) -> None:
    held_ids = {entry["client_id"] for entry in crashed.state().values()}
    for client in crashed.ledger.live():
        if client.client_id not in held_ids:
            delete_as_administrator(client)
    registry = crashed.registry()
    try:
        ids = [orphan.id for orphan in registry.orphans()]
    finally:
        registry.close()
    if ids:
        dismiss = [f"--dismiss={intent}" for intent in ids]
        dismissed = subprocess.run(
            [*CLI, "dcr", "orphans", *dismiss], cwd=crashed.root, capture_output=True, text=True
        )
        assert dismissed.returncode == 0 and dismissed.stdout == "", dismissed.stderr
    final = crashed.plan("--detailed-exitcode")
    assert final.returncode == 0, final.stdout + final.stderr + crashed.replay
    assert "The registry matches the manifests" in final.stdout


def delete_as_administrator(client: Registered) -> None:
    assert client.registration_client_uri and client.registration_access_token
    removed = httpx.delete(
        client.registration_client_uri, headers=bearer(client.registration_access_token)
    )
    assert removed.status_code == 204


def clients_by_name(ledger: Ledger) -> dict[str, list[Registered]]:
    found: dict[str, list[Registered]] = defaultdict(list)
    for registered in ledger.live():
        found[str(registered.client_name)].append(registered)
    return found


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


class SinkLock:
    """The sink's own cross-process lock (``.NAME.lock`` beside it), taken by the test."""

    def __init__(self, sink: Path) -> None:
        self._descriptor = os.open(sink.parent / f".{sink.name}.lock", os.O_RDWR | os.O_CREAT)
        self._held = threading.Event()

    def take(self) -> None:
        fcntl.flock(self._descriptor, fcntl.LOCK_EX)
        self._held.set()

    def wait_taken(self) -> None:
        assert self._held.wait(timeout=30), "no registration happened"

    def release(self) -> None:
        if self._held.is_set():
            fcntl.flock(self._descriptor, fcntl.LOCK_UN)
        os.close(self._descriptor)


def kill_at_the_sink_write(
    process: subprocess.Popen[bytes], ledger: Ledger, run: Crashed, rng: random.Random
) -> SinkLock:
    """After a random registration, hold the sink: the apply blocks at its next sink write,
    with that app already recorded in the state; SIGKILL it there."""
    sink_lock = SinkLock(run.root / SINK)
    after = rng.randint(1, 6)
    seen = 0

    def registered() -> None:
        nonlocal seen
        seen += 1
        if seen == after:
            sink_lock.take()

    def kill_once_recorded_but_undelivered() -> None:
        sink_lock.wait_taken()
        while process.poll() is None:
            try:
                state, sink = run.state(), run.sink()
            except ValueError:
                continue  # the sink or state read mid-replace by another reader
            if AfterKill("", state, sink, "").undelivered():
                process.kill()
                return
            threading.Event().wait(0.005)

    ledger.on_registered = registered
    threading.Thread(target=kill_once_recorded_but_undelivered, daemon=True).start()
    return sink_lock


def apps_in(state_path: Path, issuer: str) -> dict[str, Any]:
    if not state_path.exists():
        return {}
    document = json.loads(state_path.read_text())
    apps: dict[str, Any] = document["issuers"].get(issuer, {}).get("apps", {})
    return apps
