"""A plan through ``auth0://`` while someone else deletes and registers clients between
its page requests (serve's ``meanwhile`` fault: another writer, between two pages).

Offset pages that do not overlap lose the client that a deletion on an earlier page
moves across a page boundary, while the count still matches ``total``; when that client
is an owned app, the plan creates it again. Here every owned app is found, and the plan
is empty (``registries/auth0/paging.py``).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply.applier import apply_plan
from reconciler.apply.secrets import SecretsFile
from reconciler.core.stamp import OWNER_KEY
from reconciler.manifests.workspace import Options, Workspace
from reconciler.pipeline import load_desired, read_and_plan
from reconciler.registries.auth0.paging import quiet_requests
from reconciler.registries.auth0.registry import RetryPolicy, open_auth0
from reconciler.registries.sqlite import open_sqlite
from reconciler.tenant.engine import Tenant
from tests.auth0_sdk import TlsServe

OWNER = "team-a"
OWNED = 250
#: Apps of other teams, created before the owned ones: the first page's first rows.
OTHERS = 30


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TlsServe]:
    """Others' apps, then 250 owned workers applied into the tenant file, then served."""
    root = tmp_path / "repo"
    (root / "apps").mkdir(parents=True)
    (root / "reconciler.yaml").write_text(
        f"owner: {OWNER}\nmanifests: [apps]\nregistry: auth0://tenant.test\n"
    )
    lines = ["apps:"]
    for number in range(OWNED):
        lines += [
            f"  worker-{number:03d}:",
            f"    name: Worker {number}",
            "    type: m2m",
            "    grant_types: [client_credentials]",
            "    token_endpoint_auth_method: client_secret_post",
        ]
    (root / "apps" / "workers.yaml").write_text("\n".join(lines) + "\n")
    monkeypatch.chdir(root)
    with Tenant(tmp_path / "tenant.db") as tenant:
        for number in range(OTHERS):
            tenant.seed_client({"client_id": f"other{number:03d}", "name": f"Other {number}"})
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
        yield served


def owned_keys(served: TlsServe) -> set[str]:
    return {
        str(client["client_metadata"]["reconciler_key"])
        for client in served.tenant.all_clients()
        if (client.get("client_metadata") or {}).get(OWNER_KEY) == OWNER
    }


def plan_through_auth0(served: TlsServe) -> Any:
    registry = open_auth0(
        "auth0://tenant.test",
        base_url=served.base_url,
        environ={"AUTH0_CLIENT_ID": served.client_id, "AUTH0_CLIENT_SECRET": served.client_secret},
        verify=ssl.create_default_context(cafile=served.ca_file),
        lock=False,
        retry=RetryPolicy(base_delay=0.02, max_delay=0.2),
    )
    try:
        return read_and_plan(load_desired(Workspace.open(Options())), registry)
    finally:
        registry.close()


def client_pages(served: TlsServe) -> int:
    with served.http() as http:
        log = http.get(f"{served.base_url}/__control/requests").json()["requests"]
    return sum(entry["path"] == "/api/v2/clients" for entry in log)


@pytest.mark.parametrize(
    ("skip", "deleted", "registered"),
    [
        (0, 5, 0),  # after the first page, five of others' apps go
        (0, 5, 5),  # five go and five register: the total does not move
        (1, 3, 3),  # the same after the second page
        (0, 0, 4),  # only registrations, at the end of the list
    ],
)
def test_a_plan_misses_no_owned_app_while_clients_come_and_go_between_pages(
    project: TlsServe, skip: int, deleted: int, registered: int
) -> None:
    before = owned_keys(project)
    assert len(before) == OWNED
    change: dict[str, Any] = {}
    if deleted:
        change["delete_clients"] = [f"other{number:03d}" for number in range(deleted)]
    if registered:
        change["seed"] = {"clients": [{"name": f"Newcomer {n}"} for n in range(registered)]}
    project.inject(
        method="GET", path_prefix="/api/v2/clients", skip=skip, after=True, meanwhile=change
    )

    reading = plan_through_auth0(project)

    assert [change.to_data() for change in reading.plan.changes] == []
    assert {app.stamp.key for app in reading.current if app.stamp and app.owned_by(OWNER)} == before
    total = OTHERS + OWNED
    if deleted and skip == 0:
        # The windows after the first go out together once it has answered, all after the
        # deletions: the second overlaps the first by one client only, so the read saw the
        # list move and read again. Later, which windows the change falls between depends
        # on the order they were answered in, and an overlap of more than three may hold.
        assert client_pages(project) > quiet_requests(total)
