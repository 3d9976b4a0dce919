"""Crash safety of grants and connection links through ``auth0://`` against ``reconciler
serve``: applies of 40 apps with grants and connections, each killed (SIGKILL) at a point
where an app and what it may access are half written, converge to exactly what the
manifests declare; no grant is doubled, lost, or left on a client that is gone.

Real processes and real HTTPS on loopback (``TlsServe``). The kills, each at a point drawn
from a seeded generator (set CRASH_SEED to replay), found through serve's request log:

- ``client``: right after the n-th client create is answered, so before its grants;
- ``grant``: right after the n-th grant create (or, in later rounds, update or delete);
- ``links``: as soon as the first connection-links PATCH is answered (a batch of them);
- ``early``: at a random time from the start (the lease, the reads, the plan).

The manifest changes every round, back and forth: scopes added and removed, an audience
replaced, connections swapped, three apps removed and two added, so every round also
updates grants in place, deletes them and disables links, and a kill can leave any of
them half done. The last round's manifest is the edited one.

After every kill: at most one grant per (client, audience), none for a client that is
gone, and the next plan is made without error.

The tenant's grants for third-party apps (``third_party_apis``, one ``tenant-grants``
change) are killed the same way, right after the n-th of their writes, while their
audiences and scopes change from round to round: at most one grant per audience after
every kill, and exactly the declared ones at the end. At the end, applies run until one exits 0,
and then: the tenant's grants are exactly the declared (key, audience, scopes), each
connection is enabled for exactly the apps that declare it, and ``plan
--detailed-exitcode`` exits 0.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.core.stamp import Stamp
from reconciler.registries.clients import ClientsRegistry
from reconciler.registries.sqlite import open_sqlite
from tests.auth0_sdk import TlsServe
from tests.registries.auth0.test_crash import RequestLog, poll

pytestmark = pytest.mark.slow

OWNER = "platform-team/grants-crash"
LEDGER = "https://ledger.example.com/"
REPORTS = "https://reports.example.com/"
SCOPES = {LEDGER: ["read:entries", "write:entries", "admin"], REPORTS: ["read:reports"]}
CONNECTIONS = ("db", "google-oauth2", "github")
ROUNDS = ("client", "grant", "links", "grant", "early", "links")
APPLY = ("apply", "--auto-approve", "--secrets-out", "secrets.json")
KILLED = -signal.SIGKILL
WRITES = {
    "client": {("POST", "/api/v2/clients")},
    "grant": {("POST", "/api/v2/client-grants"), ("PATCH", "grant"), ("DELETE", "grant")},
}


def declared(*, edited: bool) -> dict[str, dict[str, Any]]:
    numbers = [*range(3, 40), 40, 41] if edited else list(range(40))
    return {f"app-{n:02d}": app(n, edited=edited) for n in numbers}


def app(n: int, *, edited: bool) -> dict[str, Any]:
    if n % 2 == 0:
        scopes = ["read:entries", "write:entries"] if (n % 4 == 0) != edited else ["read:entries"]
        apis = [{"audience": LEDGER, "scopes": scopes}]
        if n % 3 == 0:
            apis.append({"audience": REPORTS, "scopes": ["read:reports"]})
        if edited and n % 5 == 0:
            apis = [{"audience": REPORTS, "scopes": ["read:reports"]}]
        return {
            "name": f"Worker {n:02d}",
            "type": "m2m",
            "token_endpoint_auth_method": "client_secret_post",
            "apis": apis,
        }
    first = CONNECTIONS[n % 3]
    second = CONNECTIONS[(n + (2 if edited else 1)) % 3]
    return {
        "name": f"Web {n:02d}",
        "type": "spa",
        "callbacks": [f"https://web-{n:02d}.example.com/callback"],
        "token_endpoint_auth_method": "none",
        "connections": sorted({first, second}),
    }


def write_project(root: Path, apps: dict[str, dict[str, Any]]) -> None:
    (root / "apps").mkdir(parents=True, exist_ok=True)
    (root / "reconciler.yaml").write_text(
        f"owner: {OWNER}\nmanifests: [apps]\nregistry: auth0://tenant.test\n"
        "safety:\n  max_delete_fraction: 1.0\n  max_update_fraction: 1.0\n  min_owned: 0\n"
    )
    (root / "apps" / "apps.yaml").write_text(json.dumps({"apps": apps}, indent=1))


def seed(served: TlsServe) -> None:
    with served.http() as http:
        http.post(
            f"{served.base_url}/__control/seed",
            json={
                "resource_servers": [
                    {"identifier": api, "scopes": [{"value": s} for s in scopes]}
                    for api, scopes in SCOPES.items()
                ],
                "connections": [{"name": name, "strategy": "auth0"} for name in CONNECTIONS],
            },
        ).raise_for_status()


class Tenant:
    """What serve's tenant holds, read from its database file by the embedded registry."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> tuple[dict[str, list[str]], list[Any], dict[str, tuple[str, ...]]]:
        registry = open_sqlite(f"sqlite:{self.path}")
        assert isinstance(registry, ClientsRegistry)
        try:
            keys: dict[str, list[str]] = {}
            for client in registry.list_apps():
                stamp = client.stamp or Stamp.read({})
                if stamp is not None and stamp.owner == OWNER:
                    keys.setdefault(stamp.key, []).append(client.client_id)
            ids = {client.client_id for client in registry.list_apps()}
            grants = registry.list_grants()
            links = {c.name: c.enabled_clients for c in registry.list_connections()}
        finally:
            registry.close()
        assert all(g.client_id in ids for g in grants if g.default_for is None), (
            "a grant outlived its client"
        )
        pairs = [(g.client_id, g.audience) for g in grants]
        assert len(pairs) == len(set(pairs)), "two grants for one client and audience"
        return keys, grants, links


class Killer:
    """Kills the apply once serve's log shows the write its round waits for."""

    def __init__(
        self,
        kind: str,
        process: subprocess.Popen[str],
        log: RequestLog,
        began: float,
        rng: random.Random,
    ) -> None:
        self.kind = kind
        self.process = process
        self.log = log
        self.began = began
        self.nth = rng.randint(1, 6)
        self.early = rng.uniform(0.05, 1.0)
        self._thread = threading.Thread(target=self._kill, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self) -> None:
        self._thread.join(timeout=30)

    def _kill(self) -> None:
        if self.kind == "early":
            threading.Event().wait(self.early)
        elif not poll(self._reached(), self.process):
            return
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)

    def _reached(self) -> Callable[[], bool]:
        if self.kind == "links":
            return lambda: any(
                entry["method"] == "PATCH"
                and entry["path"].endswith("/clients")
                and entry["status"] == 204
                for entry in self.log.since(self.began)
            )
        wanted = WRITES[self.kind]

        def answered() -> bool:
            count = sum(
                _write_of(entry) in wanted and 200 <= entry["status"] < 300
                for entry in self.log.since(self.began)
            )
            return count >= self.nth

        return answered


def _write_of(entry: dict[str, Any]) -> tuple[str, str]:
    path = str(entry["path"])
    if path.startswith("/api/v2/client-grants/"):
        return (entry["method"], "grant")
    return (entry["method"], path)


def expected(apps: dict[str, dict[str, Any]]) -> tuple[set[Any], dict[str, set[str]]]:
    grants = {
        (key, api["audience"], tuple(sorted(api["scopes"])))
        for key, spec in apps.items()
        for api in spec.get("apis", ())
    }
    links = {
        name: {key for key, spec in apps.items() if name in spec.get("connections", ())}
        for name in CONNECTIONS
    }
    return grants, links


def test_applies_killed_between_an_app_and_its_grants_and_links_converge(
    tmp_path: Path,
) -> None:
    seed_value = int(os.environ.get("CRASH_SEED") or time.time_ns() % 2**32)
    replay = f" (replay with CRASH_SEED={seed_value})"
    rng = random.Random(seed_value)
    root = tmp_path / "repo"
    kills = 0
    with TlsServe(tmp_path / "tenant.db") as served:
        seed(served)
        tenant = Tenant(tmp_path / "tenant.db")
        log = RequestLog(served)
        try:
            for number, kind in enumerate(ROUNDS):
                write_project(root, declared(edited=number % 2 == 1))
                log.clear()
                began = time.time()
                process = served.reconciler(root, *APPLY)
                killer = Killer(kind, process, log, began, rng)
                killer.start()
                _, err = process.communicate(timeout=120)
                killer.join()
                assert process.returncode in (KILLED, 0), err + replay
                kills += process.returncode == KILLED
                tenant.read()
                plan = served.reconciler(root, "plan", "--format", "json")
                out, err = plan.communicate(timeout=60)
                assert plan.returncode == 0, out + err + replay
            for _ in range(3):
                final = served.reconciler(root, *APPLY)
                out, err = final.communicate(timeout=120)
                if final.returncode == 0:
                    break
            assert final.returncode == 0, out + err + replay
        finally:
            log.close()
        assert kills >= 3, f"only {kills} rounds were killed{replay}"
        keys, grants, links = tenant.read()
        assert all(len(ids) == 1 for ids in keys.values()), f"doubled apps {keys}{replay}"
        key_of = {ids[0]: key for key, ids in keys.items()}
        want_grants, want_links = expected(declared(edited=True))
        held = {
            (key_of[g.client_id], g.audience, g.scopes) for g in grants if g.client_id in key_of
        }
        assert held == want_grants, replay
        for name in CONNECTIONS:
            enabled = {key_of[c] for c in links[name] if c in key_of}
            assert enabled == want_links[name], f"{name}{replay}"
        check = served.reconciler(root, "plan", "--detailed-exitcode")
        out, err = check.communicate(timeout=60)
        assert check.returncode == 0, out + err + replay


#: ``third_party_apis`` from round to round: scopes added and removed, an audience
#: removed and added back, so that each change creates, updates and deletes.
TENANT_ROUNDS: tuple[dict[str, list[str]], ...] = (
    {LEDGER: ["read:entries"]},
    {LEDGER: ["read:entries", "write:entries"], REPORTS: ["read:reports"]},
    {REPORTS: ["read:reports"]},
    {LEDGER: ["admin"], REPORTS: []},
    {LEDGER: ["read:entries"], REPORTS: ["read:reports"]},
)


def write_tenant_grants(root: Path, apis: dict[str, list[str]]) -> None:
    write_project(root, {})
    declared_apis = [{"audience": api, "scopes": scopes} for api, scopes in apis.items()]
    manifest = {"apps": {}, "third_party_apis": declared_apis}
    (root / "apps" / "apps.yaml").write_text(json.dumps(manifest))


def tenant_grants(tenant: Tenant) -> dict[str, tuple[str, ...]]:
    _, grants, _ = tenant.read()
    held = [g for g in grants if g.default_for == "third_party_clients"]
    audiences = [g.audience for g in held]
    assert len(audiences) == len(set(audiences)), f"two tenant grants for one API: {held}"
    return {g.audience: g.scopes for g in held}


def test_applies_killed_while_the_tenant_grants_change_converge(tmp_path: Path) -> None:
    seed_value = int(os.environ.get("CRASH_SEED") or time.time_ns() % 2**32)
    replay = f" (replay with CRASH_SEED={seed_value})"
    rng = random.Random(seed_value)
    root = tmp_path / "repo"
    kills = 0
    with TlsServe(tmp_path / "tenant.db") as served:
        seed(served)
        tenant = Tenant(tmp_path / "tenant.db")
        log = RequestLog(served)
        try:
            for apis in TENANT_ROUNDS:
                write_tenant_grants(root, apis)
                log.clear()
                process = served.reconciler(root, *APPLY)
                killer = Killer("grant", process, log, time.time(), rng)
                killer.nth = rng.randint(1, 2)
                killer.start()
                _, err = process.communicate(timeout=120)
                killer.join()
                assert process.returncode in (KILLED, 0), err + replay
                kills += process.returncode == KILLED
                tenant_grants(tenant)
                plan = served.reconciler(root, "plan", "--format", "json")
                out, err = plan.communicate(timeout=60)
                assert plan.returncode == 0, out + err + replay
            final = served.reconciler(root, *APPLY)
            out, err = final.communicate(timeout=120)
            assert final.returncode == 0, out + err + replay
        finally:
            log.close()
        assert kills >= 2, f"only {kills} rounds were killed{replay}"
        wanted = {api: tuple(sorted(scopes)) for api, scopes in TENANT_ROUNDS[-1].items()}
        assert tenant_grants(tenant) == wanted, replay
        check = served.reconciler(root, "plan", "--detailed-exitcode")
        out, err = check.communicate(timeout=60)
        assert check.returncode == 0, out + err + replay
