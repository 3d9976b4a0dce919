"""What a no-change plan of apps with grants costs through ``auth0://`` against serve over
real HTTP: every client window, every grant window (both by offset, ``paging.py``), then
one request each for the token, the APIs, the connections and each connection's enabled
clients, counted by route in serve's request log (``bench/auth0.py`` measures the same
at 10,000)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.apply.applier import apply_plan
from reconciler.apply.secrets import SecretsFile
from reconciler.core.stamp import OWNER_KEY
from reconciler.manifests.workspace import Options, Workspace
from reconciler.pipeline import load_desired, read_and_plan
from reconciler.registries.auth0.paging import quiet_requests
from reconciler.registries.sqlite import open_sqlite
from tests.auth0_sdk import TlsServe

OWNER = "team-a"
APPS = 250
LEDGER = "https://ledger.example.com/"
SCOPES = ["read:entries", "write:entries"]
_CONNECTION_CLIENTS = re.compile(r"^/api/v2/connections/[^/]+/clients$")


def route_of(path: str) -> str:
    """A connection's enabled clients are one route, whichever connection."""
    return _CONNECTION_CLIENTS.sub("/api/v2/connections/{id}/clients", path)


def write_manifests(root: Path, *, apis: bool) -> None:
    lines = ["apps:"]
    for number in range(APPS):
        lines += [
            f"  worker-{number:03d}:",
            f"    name: Worker {number}",
            "    type: m2m",
            "    grant_types: [client_credentials]",
            "    token_endpoint_auth_method: client_secret_post",
        ]
        if apis:
            lines.append(f"    apis: [{{audience: '{LEDGER}', scopes: [{', '.join(SCOPES)}]}}]")
    (root / "apps" / "workers.yaml").write_text("\n".join(lines) + "\n")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TlsServe]:
    """250 workers applied into the tenant file, then served; each given a grant for the
    ledger API through the control seed, which the manifests then declare."""
    root = tmp_path / "repo"
    (root / "apps").mkdir(parents=True)
    (root / "reconciler.yaml").write_text(
        f"owner: {OWNER}\nmanifests: [apps]\nregistry: auth0://tenant.test\n"
    )
    write_manifests(root, apis=False)
    monkeypatch.chdir(root)
    tenant_file = f"sqlite:{tmp_path / 'tenant.db'}"
    registry = open_sqlite(tenant_file)
    try:
        reading = read_and_plan(
            load_desired(Workspace.open(Options(registry=tenant_file))), registry
        )
        sink = SecretsFile(tmp_path / "secrets.json")
        assert apply_plan(reading.plan, registry, reading.current, secrets=sink).ok
    finally:
        registry.close()
    with TlsServe(tmp_path / "tenant.db") as served:
        workers = [
            client["client_id"]
            for client in served.tenant.all_clients()
            if (client.get("client_metadata") or {}).get(OWNER_KEY) == OWNER
        ]
        document = {
            "resource_servers": [{"identifier": LEDGER, "scopes": [{"value": s} for s in SCOPES]}],
            "client_grants": [
                {"client_id": worker, "audience": LEDGER, "scope": SCOPES} for worker in workers
            ],
            "connections": [{"name": "Username-Password-Authentication", "strategy": "auth0"}],
        }
        with served.http() as http:
            http.post(f"{served.base_url}/__control/seed", json=document).raise_for_status()
            http.delete(f"{served.base_url}/__control/requests").raise_for_status()
        write_manifests(root, apis=True)
        yield served


def test_a_no_change_plan_costs_every_page_once_and_a_constant(project: TlsServe) -> None:
    registry = project.registry()
    try:
        reading = read_and_plan(load_desired(Workspace.open(Options())), registry)
    finally:
        registry.close()

    assert reading.plan.is_empty, [change.to_data() for change in reading.plan.changes]
    assert len(reading.holdings.grants) == APPS
    with project.http() as http:
        log = http.get(f"{project.base_url}/__control/requests").json()["requests"]
    routes = Counter(f"{entry['method']} {route_of(entry['path'])}" for entry in log)
    assert routes == {
        "GET /api/v2/clients": quiet_requests(APPS),
        "GET /api/v2/client-grants": quiet_requests(APPS),
        "POST /oauth/token": 1,
        "GET /api/v2/resource-servers": 1,
        "GET /api/v2/connections": 1,
        "GET /api/v2/connections/{id}/clients": 1,
    }
