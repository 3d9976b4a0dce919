"""Crash safety through ``auth0://`` against ``reconciler serve``: an apply of 50 apps
with ``--secrets-out``, killed (SIGKILL) six times, converges; no secret is lost silently.

Real processes, real HTTPS on loopback (``TlsServe``), and auth0-python as the reader
of the tenant (``SdkReader``), not the backend under test. A third of the apps are
public (``spa``, no secret), the rest confidential (``regular_web`` with
client_secret_post, ``m2m`` with client_secret_basic). Before the fourth round the
manifest changes: two apps renamed, one public app made confidential, two keys dropped
and two added, so the later rounds also update and delete.

The kills, each at a point drawn from a seeded generator (set CRASH_SEED to replay):

- ``early``: at a random time from process start (start-up, the lease, the reads, the
  plan), at the latest when the first create has been answered;
- ``answered``: as soon as serve's request log (``/__control/requests``) shows the n-th
  create answered (201), so right after a create's answer, before or during the sink
  write that follows it;
- ``delayed``: a random few milliseconds after the n-th create's answer;
- ``held``: serve commits a create and holds its answer back (an ``after`` fault with a
  delay, see faults.py); the kill comes while the answer is held, once the tenant shows
  an app whose create has not been answered: the app exists, the run never saw it;
- ``undelivered``: the test takes the sink's own lock (``.secrets.json.lock``); the
  apply blocks at its next sink write, with the app created and its secret in hand;
  once ``/proc/locks`` shows it waiting there, it is killed: deterministically between
  the registry's answer and the sink write.

After every kill: the sink, if present, is valid JSON; one app per key; every
confidential app of the owner either has its secret in the sink (the same client id
and the secret the SDK reads) or a stamp that says ``pending``; and every pending app is
named by the next ``plan --format json`` (a ``deliver`` change, or a ``delete`` if its
key was dropped). After each kill the test also plants beside the sink what a kill
inside a sink write leaves (``.secrets.json.PID.XXXXXXXX.tmp`` with the dead run's pid,
and an older version's ``.secrets-XXXXXXXX``): no such file, planted or real, may
survive the start of the next run (its first request to serve comes after it opened
the sink).

Then applies run until one exits 0 (the first does, here), and: ``plan
--detailed-exitcode`` exits 0; one app per declared key and none of the owner's apps
without one; every confidential app's secret in the sink is the one the tenant holds;
no stamp says pending; no temporary file is left.

The focused test kills one apply between a create's answer and the sink write (through
the sink's lock) and applies again: the app is not created twice, and its secret is read
back (a token with read:client_keys) or, for a token without it, rotated, and the sink
holds the secret the tenant has now. Auth0 shows ``client_secret`` only to a token with
read:client_keys (or read:client_credentials; the token here has neither), see
https://auth0.com/docs/api/management/v2/clients/get-clients-by-id; it rotates it for a
token with update:client_keys, see
https://auth0.com/docs/api/management/v2/clients/post-rotate-secret.
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from reconciler.core.stamp import Stamp
from reconciler.registries.auth0.lease import LEASE_SCOPES
from tests.auth0_sdk import SdkReader, TlsServe
from tests.helpers import plan_document

pytestmark = pytest.mark.slow

OWNER = "platform-team/crash-test"
ROOT = Path(__file__).parents[3]
SINK = "secrets.json"
ROUNDS = ("early", "answered", "held", "undelivered", "answered", "delayed")
EDITED_FROM_ROUND = 3
APPLY = ("apply", "--auto-approve", "--secrets-out", SINK)
CREATE = ("POST", "/api/v2/clients")
HOLD_SECONDS = 10.0
KILLED = -signal.SIGKILL


# -- the project ---------------------------------------------------------------------------


def declared(*, edited: bool, rounds: int = len(ROUNDS)) -> dict[str, dict[str, Any]]:
    """The manifest's apps: 50 to begin with; then 2 renamed, 1 public made
    confidential, 2 dropped and 2 added; and 8 more for each round after the first, so
    that every round has creates to be killed in (an apply writes its secrets to the sink
    in batches, so a round killed at the sink may have made every create it had)."""
    numbers = [*range(48), 50, 51] if edited else list(range(50))
    numbers += list(range(100, 100 + 8 * max(rounds - 1, 0)))
    apps = {f"app-{n:02d}": app(n) for n in numbers}
    if edited:
        for key in ("app-01", "app-02"):
            apps[key]["name"] += " (renamed)"
        apps["app-03"] = app(3, confidential=True)
    return apps


def app(n: int, *, confidential: bool | None = None) -> dict[str, Any]:
    kind = n % 3 if confidential is None else 1
    if kind == 0:
        return {
            "name": f"Site {n:02d}",
            "type": "spa",
            "callbacks": [f"https://site-{n:02d}.example.com/callback"],
            "grant_types": ["authorization_code"],
            "token_endpoint_auth_method": "none",
        }
    if kind == 1:
        return {
            "name": f"Portal {n:02d}",
            "type": "regular_web",
            "callbacks": [f"https://portal-{n:02d}.example.com/callback"],
            "grant_types": ["authorization_code"],
            "token_endpoint_auth_method": "client_secret_post",
        }
    return {
        "name": f"Worker {n:02d}",
        "type": "m2m",
        "grant_types": ["client_credentials"],
        "token_endpoint_auth_method": "client_secret_basic",
    }


def write_project(root: Path, apps: dict[str, dict[str, Any]]) -> None:
    (root / "apps").mkdir(parents=True, exist_ok=True)
    (root / "reconciler.yaml").write_text(
        f"owner: {OWNER}\nmanifests: [apps]\nregistry: auth0://tenant.test\n"
        "safety:\n  max_delete_fraction: 1.0\n  max_update_fraction: 1.0\n  min_owned: 0\n"
    )
    (root / "apps" / "apps.yaml").write_text(json.dumps({"apps": apps}, indent=1))


def is_confidential(client: dict[str, Any]) -> bool:
    return client.get("token_endpoint_auth_method") not in (None, "none")


# -- processes and serve -------------------------------------------------------------------


def start(
    root: Path, served: TlsServe, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    return served.reconciler(root, *args, env=env)


def run(
    root: Path, served: TlsServe, *args: str, env: dict[str, str] | None = None
) -> tuple[int, str]:
    process = start(root, served, *args, env=env)
    out, err = process.communicate(timeout=120)
    return process.returncode, out + err


class RequestLog:
    """serve's request log, read through ``/__control/requests``."""

    def __init__(self, served: TlsServe) -> None:
        self._url = f"{served.base_url}/__control/requests"
        self._http = served.http()
        self._lock = threading.Lock()

    def since(self, moment: float) -> list[dict[str, Any]]:
        with self._lock:
            entries: list[dict[str, Any]] = self._http.get(self._url).json()["requests"]
        return [entry for entry in entries if entry["time"] >= moment]

    def started(self, moment: float) -> bool:
        """Whether a run began talking to serve after ``moment``: its first request is
        for a token (the test's own reader fetched its token before)."""
        return any(entry["path"] == "/oauth/token" for entry in self.since(moment))

    def creates_answered(self, moment: float) -> int:
        return sum(
            (entry["method"], entry["path"]) == CREATE and entry["status"] == 201
            for entry in self.since(moment)
        )

    def clear(self) -> None:
        with self._lock:
            self._http.delete(self._url).raise_for_status()

    def close(self) -> None:
        self._http.close()


def clear_faults(served: TlsServe) -> None:
    with served.http() as http:
        http.delete(f"{served.base_url}/__control/inject").raise_for_status()


def poll(condition: Callable[[], bool], process: subprocess.Popen[str]) -> bool:
    """Whether ``condition`` came true while ``process`` still ran (polled, no timeout:
    the process ends on its own if the condition never comes)."""
    while process.poll() is None:
        if condition():
            return True
        threading.Event().wait(0.002)
    return False


class SinkLock:
    """The sink's own cross-process lock (``.NAME.lock`` beside it), taken by the test."""

    def __init__(self, sink: Path) -> None:
        self.path = sink.parent / f".{sink.name}.lock"
        self._descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        self._held = False

    def take(self) -> None:
        fcntl.flock(self._descriptor, fcntl.LOCK_EX)
        self._held = True

    def waited_for(self) -> bool:
        """Whether a process is blocked on this lock now (a ``->`` line of /proc/locks)."""
        inode = os.stat(self.path).st_ino
        waiting = re.compile(rf"^\d+: -> FLOCK\s+ADVISORY\s+WRITE\s+\d+\s+\S+:{inode}\s", re.M)
        return bool(waiting.search(Path("/proc/locks").read_text()))

    def release(self) -> None:
        if self._held:
            fcntl.flock(self._descriptor, fcntl.LOCK_UN)
        os.close(self._descriptor)


def temporaries(root: Path) -> set[Path]:
    """Files beside the sink that could hold secrets: the sink's own temporary files
    (``.secrets.json.PID.XXXXXXXX.tmp``) and older versions' ``.secrets-XXXXXXXX``."""
    return {
        path
        for path in root.iterdir()
        if (path.name.startswith(f".{SINK}.") and path.name.endswith(".tmp"))
        or path.name.startswith(".secrets-")
    }


def plant_temporaries(root: Path, pid: int) -> None:
    """What a kill inside a sink write leaves: a full temporary copy of the sink."""
    secret = json.dumps({"app-00": {"client_id": "x", "client_secret": "left-by-a-kill"}})
    (root / f".{SINK}.{pid}.k1113d0a.tmp").write_text(secret)
    (root / ".secrets-k1113d0a").write_text(secret)


# -- the crash run -------------------------------------------------------------------------


@dataclass
class AfterKill:
    """What one round left: the tenant (through the SDK), the sink, and the next plan."""

    kind: str
    killed: bool
    #: Apps the tenant gained in this round whose create was never answered (held back).
    unanswered: int
    apps: dict[str, list[dict[str, Any]]]
    sink: dict[str, Any]
    plan: dict[str, Any]

    def pending(self) -> list[str]:
        return [
            key
            for key, clients in self.apps.items()
            for client in clients
            if (stamp := Stamp.read(client.get("client_metadata") or {})) and stamp.pending
        ]

    def undelivered(self) -> list[str]:
        """Confidential apps whose secret the sink does not hold (client id and secret)."""
        missing = []
        for key, clients in self.apps.items():
            entry = self.sink.get(key) or {}
            held = (entry.get("client_id"), entry.get("client_secret"))
            for client in clients:
                if is_confidential(client) and held != (
                    client["client_id"],
                    client.get("client_secret"),
                ):
                    missing.append(key)
        return missing

    def planned(self, action: str) -> set[str]:
        return {c["key"] for c in self.plan["changes"] if c["action"] == action}


@dataclass
class Crashed:
    root: Path
    served: TlsServe
    reader: SdkReader
    replay: str
    after_kills: list[AfterKill] = field(default_factory=list)
    sweeps_checked: int = 0
    final_applies: list[str] = field(default_factory=list)

    def sink(self) -> dict[str, Any]:
        path = self.root / SINK
        parsed: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
        return parsed


@pytest.fixture(scope="module")
def crashed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crashed]:
    seed = int(os.environ.get("CRASH_SEED") or time.time_ns() % 2**32)
    rng = random.Random(seed)
    tmp = tmp_path_factory.mktemp("auth0-crash")
    root = tmp / "repo"
    write_project(root, declared(edited=False, rounds=1))
    with TlsServe(tmp / "tenant.db") as served:
        reader = served.reader()
        log = RequestLog(served)
        crash = Crashed(root, served, reader, f"(replay with CRASH_SEED={seed})")
        try:
            left: set[Path] = set()
            for number, kind in enumerate(ROUNDS):
                write_project(root, declared(edited=number >= EDITED_FROM_ROUND, rounds=number + 1))
                before = {c["client_id"] for c in reader.clients()}
                log.clear()  # keeps the polls cheap; entries are also told apart by time
                began = time.time()
                process = start(root, served, *APPLY)
                killer = Killer(kind, process, log, began, before, crash, rng)
                killer.start()
                left = check_swept(left, process, log, began, crash)
                _, err = process.communicate(timeout=60)
                killer.finish()
                assert process.returncode in (KILLED, 0), err + crash.replay
                killed = process.returncode == KILLED
                after = inspect(crash, kind, killed, log, began, before)
                crash.after_kills.append(after)
                if process.returncode == KILLED:
                    plant_temporaries(root, process.pid)
                    left |= temporaries(root)
            for _ in range(3):
                log.clear()
                began = time.time()
                process = start(root, served, *APPLY)
                left = check_swept(left, process, log, began, crash)
                out, err = process.communicate(timeout=60)
                crash.final_applies.append(out + err)
                if process.returncode == 0:
                    break
            assert left == set(), "the final apply never started" + crash.replay
            yield crash
        finally:
            log.close()
            reader.close()


def check_swept(
    left: set[Path], process: subprocess.Popen[str], log: RequestLog, began: float, run: Crashed
) -> set[Path]:
    """Once ``process`` has started (its first request reached serve, so it has opened its
    sink), none of the temporary files of the runs before it may be left."""
    if not poll(lambda: log.started(began), process):
        return left  # killed before it opened the sink: the next run must sweep them
    survivors = {path.name for path in left if path.exists()}
    assert survivors == set(), f"survived the next run's start: {survivors} {run.replay}"
    run.sweeps_checked += bool(left)
    return set()


def inspect(
    run: Crashed, kind: str, killed: bool, log: RequestLog, began: float, before: set[str]
) -> AfterKill:
    clear_faults(run.served)  # what a held round injected and did not use
    sink = run.sink()  # valid JSON after every kill
    code, output = run_plan(run, "--format", "json")
    assert code == 0, output + run.replay
    apps = run.reader.apps_by_key(OWNER)
    created = {c["client_id"] for clients in apps.values() for c in clients} - before
    unanswered = len(created) - log.creates_answered(began)
    after = AfterKill(kind, killed, unanswered, apps, sink, plan_document(output))
    doubled = {key: len(clients) for key, clients in apps.items() if len(clients) > 1}
    assert doubled == {}, f"after {kind!r}: {doubled} {run.replay}"
    return after


def run_plan(run: Crashed, *args: str) -> tuple[int, str]:
    process = start(run.root, run.served, "plan", *args)
    out, err = process.communicate(timeout=60)
    return process.returncode, out if process.returncode == 0 else out + err


class Killer:
    """Kills ``process`` at the point its round's ``kind`` names (see the module docstring)."""

    def __init__(
        self,
        kind: str,
        process: subprocess.Popen[str],
        log: RequestLog,
        began: float,
        before: set[str],
        run: Crashed,
        rng: random.Random,
    ) -> None:
        self.kind = kind
        self.process = process
        self.log = log
        self.began = began
        self.before = before
        self.run = run
        self.nth = rng.randint(0 if kind in ("held", "undelivered") else 1, 3)
        self.early = rng.uniform(0.05, 0.8)
        self.delay = rng.uniform(0.0, 0.03)
        self.sink_lock: SinkLock | None = None
        self._thread = threading.Thread(target=self._kill, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def finish(self) -> None:
        self._thread.join(timeout=30)
        if self.sink_lock is not None:
            self.sink_lock.release()

    def answered(self, count: int) -> Callable[[], bool]:
        return lambda: self.log.creates_answered(self.began) >= count

    def _kill(self) -> None:
        process, log = self.process, self.log
        if self.kind == "early":
            deadline = time.monotonic() + self.early
            if poll(lambda: time.monotonic() >= deadline or self.answered(1)(), process):
                process.kill()
        elif self.kind in ("answered", "delayed"):
            if poll(self.answered(self.nth), process):
                if self.kind == "delayed":
                    threading.Event().wait(self.delay)
                process.kill()
        elif self.kind == "held":
            if poll(self.answered(self.nth), process):
                # Every create from here on commits, and its answer is held back.
                self.run.served.inject(
                    delay=HOLD_SECONDS, after=True, count=100, method="POST", path_prefix=CREATE[1]
                )
                if poll(self._held_twice(), process):
                    process.kill()
        elif self.kind == "undelivered":
            started = poll(lambda: log.started(self.began), process)
            if started and poll(self.answered(self.nth), process):
                self.sink_lock = SinkLock(self.run.root / SINK)
                self.sink_lock.take()
                if poll(self.sink_lock.waited_for, process):
                    process.kill()

    def _held_twice(self) -> Callable[[], bool]:
        """True once the tenant has shown, two reads running, more apps created in this
        round than creates answered: one was committed and its answer is being held."""
        seen = 0

        def held() -> bool:
            nonlocal seen
            created = len({c["client_id"] for c in self.run.reader.clients()} - self.before)
            seen = seen + 1 if created > self.log.creates_answered(self.began) else 0
            return seen >= 2

        return held


# -- the crash test's findings -------------------------------------------------------------


def test_every_round_was_killed_and_each_kind_hit_its_window(crashed: Crashed) -> None:
    replay = crashed.replay
    assert [after.killed for after in crashed.after_kills] == [True] * len(ROUNDS), replay
    assert crashed.sweeps_checked == len(ROUNDS)  # the start of the run after each kill
    for after in crashed.after_kills:
        if after.kind == "held":  # killed with a create committed and never answered
            assert after.unanswered >= 1, replay
        if after.kind == "undelivered":  # killed with a secret in hand, not in the sink
            assert set(after.undelivered()) - after.planned("delete"), replay
    final = crashed.final_applies
    assert len(final) == 1, "\n---\n".join(final) + replay
    for key in crashed.after_kills[-1].pending():  # what the last kill left to deliver
        assert re.search(rf"(read back|rotated|already in the sink): [^\n]*\b{key}\b", final[0]), (
            final[0]
        )


def test_after_every_kill_each_undelivered_secret_is_pending_and_named(
    crashed: Crashed,
) -> None:
    for after in crashed.after_kills:
        where = f"after {after.kind!r} {crashed.replay}"
        assert set(after.undelivered()) <= set(after.pending()), where
        for key in after.pending():
            assert key in after.planned("deliver") | after.planned("delete"), f"{key} {where}"
        # A deliver for an app not pending: the edit makes public app-03 confidential.
        unpending = after.planned("deliver") - set(after.pending())
        assert unpending <= {"app-03"}, where
        assert all(not is_confidential(after.apps[key][0]) for key in unpending), where


def test_the_final_plan_matches_and_the_tenant_holds_one_app_per_declared_key(
    crashed: Crashed,
) -> None:
    code, output = run_plan(crashed, "--detailed-exitcode")
    assert code == 0, output + crashed.replay
    apps = crashed.reader.apps_by_key(OWNER)
    assert sorted(apps) == sorted(declared(edited=True)), crashed.replay
    assert crashed.reader.duplicates(OWNER) == {}
    renamed = {key: apps[key][0]["name"] for key in ("app-01", "app-02")}
    assert all(name.endswith("(renamed)") for name in renamed.values()), renamed
    stamps = {key: Stamp.read(c[0].get("client_metadata") or {}) for key, c in apps.items()}
    assert [key for key, s in stamps.items() if s is None or s.pending] == [], "still pending"


def test_every_confidential_secret_in_the_sink_is_the_one_the_tenant_holds(
    crashed: Crashed,
) -> None:
    secrets = crashed.reader.secrets_by_key(OWNER)
    confidential = {key: secret for key, secret in secrets.items() if secret is not None}
    expected = [
        key
        for key, body in declared(edited=True).items()
        if body.get("token_endpoint_auth_method") != "none"
    ]
    assert sorted(confidential) == sorted(expected)  # app-03 among them, made confidential
    sink = crashed.sink()
    delivered = {key: sink[key]["client_secret"] for key in confidential if key in sink}
    lost = sorted(key for key in confidential if delivered.get(key) != confidential[key])
    assert lost == [], f"secrets lost: {lost} {crashed.replay}"
    by_key = crashed.reader.apps_by_key(OWNER)
    assert all(sink[key]["client_id"] == by_key[key][0]["client_id"] for key in confidential)


def test_no_temporary_file_is_left_beside_the_sink(crashed: Crashed) -> None:
    assert temporaries(crashed.root) == set()


# -- the focused test ----------------------------------------------------------------------

ONE_CONFIDENTIAL = {"portal": app(1), "site": app(0)}
#: Every scope an apply needs, without read:client_keys (secrets are not shown).
WITHOUT_READ_CLIENT_KEYS = " ".join(
    ("read:clients", "create:clients", "update:clients", "delete:clients", "update:client_keys")
    + LEASE_SCOPES
)


@pytest.mark.parametrize(
    ("how", "scope"),
    [("read back", None), ("rotated", WITHOUT_READ_CLIENT_KEYS)],
)
def test_a_kill_between_the_answer_and_the_sink_write_is_delivered_by_the_next_apply(
    tmp_path: Path, how: str, scope: str | None
) -> None:
    root = tmp_path / "repo"
    write_project(root, ONE_CONFIDENTIAL)
    with TlsServe(tmp_path / "tenant.db") as served:
        reader = served.reader()
        log = RequestLog(served)
        try:
            began = time.time()
            process = start(root, served, *APPLY)
            # Its first request comes after it opened the sink: from here on, the next
            # sink write is the one after the create of "portal".
            assert poll(lambda: log.started(began), process)
            sink_lock = SinkLock(root / SINK)
            sink_lock.take()
            try:
                assert poll(sink_lock.waited_for, process)
                process.kill()
                process.communicate(timeout=30)
            finally:
                sink_lock.release()
            assert process.returncode == KILLED

            [created] = reader.apps_by_key(OWNER)["portal"]
            stamp = Stamp.read(created["client_metadata"])
            assert stamp is not None and stamp.pending
            assert not (root / SINK).exists() or "portal" not in json.loads(
                (root / SINK).read_text()
            )
            code, output = run(root, served, "plan", "--format", "json")
            assert code == 0, output
            planned = [(c["action"], c["key"]) for c in plan_document(output)["changes"]]
            assert ("deliver", "portal") in planned and ("create", "portal") not in planned

            env = {"AUTH0_TOKEN": served.token(scope)} if scope else None
            code, output = run(root, served, *APPLY, env=env)
            assert code == 0, output
            assert f"({how}: portal)" in output, output

            [after] = reader.apps_by_key(OWNER)["portal"]  # not created twice
            assert after["client_id"] == created["client_id"]
            secret = reader.secret(after["client_id"])
            entry = json.loads((root / SINK).read_text())["portal"]
            assert entry == {**entry, "client_id": after["client_id"], "client_secret": secret}
            assert entry["how"] == how
            assert (secret == created["client_secret"]) == (how == "read back")
            stamp = Stamp.read(after["client_metadata"])
            assert stamp is not None and not stamp.pending
        finally:
            log.close()
            reader.close()
