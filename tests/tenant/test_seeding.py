"""Seeding a tenant with APIs, clients, grants and connections (``registry seed``,
``/__control/seed``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import ApiError
from reconciler.registries.sqlite import seed_sqlite
from reconciler.tenant.engine import Tenant
from reconciler.tenant.seeding import seed_tenant

LEDGER = "https://ledger.example.com/"
DOCUMENT = {
    "resource_servers": [{"identifier": LEDGER, "scopes": [{"value": "read:entries"}]}],
    "clients": [{"client_id": "worker", "name": "Worker", "app_type": "non_interactive"}],
    "client_grants": [{"client_id": "worker", "audience": LEDGER, "scope": ["read:entries"]}],
    "connections": [{"name": "db", "strategy": "auth0", "enabled_clients": ["worker"]}],
}


def test_a_seed_file_loads_everything_once(tmp_path: Path) -> None:
    uri = f"sqlite:{tmp_path / 'tenant.db'}"
    first = seed_sqlite(uri, DOCUMENT)
    assert {kind: len(added) for kind, added in first.added.items()} == {
        "resource_servers": 1,
        "clients": 1,
        "client_grants": 1,
        "connections": 1,
    }
    again = seed_sqlite(uri, DOCUMENT)
    assert all(added == [] for added in again.added.values())
    assert again.kept["client_grants"] == [f"worker {LEDGER} client"]
    with Tenant(tmp_path / "tenant.db") as tenant:
        assert tenant.client_grants.for_client("worker", LEDGER) is not None
        connection = tenant.connections.list(name="db")
        assert isinstance(connection, list)
        assert tenant.connections.clients(connection[0]["id"]) == {
            "clients": [{"client_id": "worker"}]
        }


def test_without_keeping_a_second_seed_is_a_conflict_naming_the_object() -> None:
    tenant = Tenant(":memory:")
    seed_tenant(tenant, DOCUMENT, keep_existing=False)
    with pytest.raises(ApiError) as raised:
        seed_tenant(tenant, {"resource_servers": DOCUMENT["resource_servers"]}, keep_existing=False)
    assert raised.value.status == 409 and raised.value.message.startswith("resource_servers[0]: ")


@pytest.mark.parametrize(
    ("document", "detail"),
    [
        ([], "Expected type object but found type array"),
        ({"clients": {}}, "Expected type array but found type object"),
        ({"roles": []}, "Additional properties not allowed: roles"),
        ({"tenant_settings": {"flags": {}}}, "tenant_settings: "),
    ],
)
def test_a_seed_document_is_checked(document: object, detail: str) -> None:
    with pytest.raises(ApiError) as raised:
        seed_tenant(Tenant(":memory:"), document, keep_existing=False)
    assert raised.value.status == 400 and detail in raised.value.message


def test_a_seed_sets_the_tenant_settings_it_names() -> None:
    tenant = Tenant(":memory:")
    seeded = seed_tenant(
        tenant,
        {"tenant_settings": {"client_id_metadata_document_supported": True}},
        keep_existing=True,
    )
    assert seeded.settings == {"client_id_metadata_document_supported": True}
    assert tenant.tenant_settings() == seeded.settings
    assert seed_tenant(tenant, {}, keep_existing=True).settings is None
