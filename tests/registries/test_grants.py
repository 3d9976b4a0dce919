"""Grants, APIs and connections through the registry contract (``HoldsGrants``), the same
on the embedded tenant (``sqlite:``) and on ``reconciler serve`` over HTTPS (``auth0://``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.core.model import Api, ApiGrant, Grant, LoginConnection
from reconciler.errors import ApiError, ConflictError
from reconciler.registries.auth0.registry import RetryPolicy
from reconciler.registries.base import HoldsGrants
from reconciler.registries.clients import ClientsRegistry
from reconciler.registries.sqlite import open_sqlite, seed_sqlite
from tests.auth0_sdk import TlsServe

LEDGER = "https://ledger.example.com/"
BILLING = "https://billing.example.com/"
LEDGER_SCOPES = ["write:entries", "read:entries", "delete:entries"]
PEOPLE = [f"person{number:03d}" for number in range(120)]
SEED: dict[str, Any] = {
    "resource_servers": [
        {"identifier": LEDGER, "scopes": [{"value": scope} for scope in LEDGER_SCOPES]},
        {"identifier": BILLING},
    ],
    "clients": [
        {"client_id": "worker", "name": "Worker", "app_type": "non_interactive"},
        {"client_id": "web", "name": "Web", "app_type": "regular_web"},
        *({"client_id": person, "name": person, "app_type": "spa"} for person in PEOPLE),
    ],
    "client_grants": [
        {"client_id": "worker", "audience": LEDGER, "scope": ["write:entries", "read:entries"]},
    ],
    "connections": [
        {"name": "db", "strategy": "auth0", "enabled_clients": ["worker", "web"]},
        {"name": "google-oauth2", "strategy": "google-oauth2"},
    ],
}


def _seed_served(served: TlsServe) -> None:
    with served.http() as http:
        http.post(f"{served.base_url}/__control/seed", json=SEED).raise_for_status()


@pytest.fixture(params=["sqlite:", "auth0://"])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ClientsRegistry]:
    """A seeded registry of either backend that holds grants."""
    if request.param == "sqlite:":
        uri = f"sqlite:{tmp_path / 'registry.db'}"
        seed_sqlite(uri, SEED)
        opened = open_sqlite(uri)
        yield opened
        opened.close()
        return
    with TlsServe(tmp_path / "tenant.db") as served:
        _seed_served(served)
        remote = served.registry(retry=RetryPolicy(base_delay=0.02, max_delay=0.2))
        yield remote
        remote.close()


def worker_grant(registry: ClientsRegistry) -> Grant:
    return next(g for g in registry.list_grants() if g.client_id == "worker")


def test_it_holds_grants(registry: ClientsRegistry) -> None:
    assert isinstance(registry, HoldsGrants)


def test_grants_apis_and_connections_read_as_canonical_values(registry: ClientsRegistry) -> None:
    [grant] = registry.list_grants()
    assert grant.id.startswith("cgr_")
    assert grant == Grant(
        id=grant.id,
        client_id="worker",
        audience=LEDGER,
        scopes=("read:entries", "write:entries"),
    )
    assert grant.key == ApiGrant(LEDGER).key
    assert registry.list_apis() == [
        Api(LEDGER, ("delete:entries", "read:entries", "write:entries")),
        Api(BILLING, ()),
    ]
    database, google = registry.list_connections()
    assert (database.name, database.enabled_clients) == ("db", ("web", "worker"))
    assert (google.name, google.enabled_clients) == ("google-oauth2", ())
    assert database.id.startswith("con_")


def test_a_grant_is_created_updated_in_place_and_deleted(registry: ClientsRegistry) -> None:
    created = registry.create_grant(
        ApiGrant(LEDGER, scopes=("read:entries",), organization_usage="allow"), client_id="web"
    )
    assert (created.client_id, created.scopes, created.organization_usage) == (
        "web",
        ("read:entries",),
        "allow",
    )
    assert created in registry.list_grants()

    wanted = ApiGrant(
        LEDGER, scopes=("delete:entries", "read:entries"), allow_any_organization=True
    )
    updated = registry.update_grant(created, wanted)
    assert updated.id == created.id
    assert updated.scopes == wanted.scopes
    assert (updated.organization_usage, updated.allow_any_organization) == ("allow", True)
    assert updated in registry.list_grants()
    assert registry.update_grant(updated, wanted) is updated  # nothing differs: no write

    registry.delete_grant(updated)
    registry.delete_grant(updated)  # already gone: not an error
    assert [g.client_id for g in registry.list_grants()] == ["worker"]


def test_a_grant_for_the_third_party_clients_group(registry: ClientsRegistry) -> None:
    created = registry.create_grant(ApiGrant(BILLING), default_for="third_party_clients")
    assert (created.client_id, created.default_for, created.scopes) == (
        None,
        "third_party_clients",
        (),
    )
    assert created in registry.list_grants()


def test_a_create_sent_again_adopts_the_same_grant_and_refuses_another(
    registry: ClientsRegistry,
) -> None:
    """A 409 for the grant asked for is a create whose answer was lost, sent again."""
    existing = worker_grant(registry)
    assert registry.create_grant(ApiGrant(LEDGER, scopes=existing.scopes), client_id="worker") == (
        existing
    )
    with pytest.raises(ConflictError, match="already has a grant for https://ledger"):
        registry.create_grant(ApiGrant(LEDGER, scopes=("read:entries",)), client_id="worker")


def test_a_grant_the_registry_refuses_is_its_error(registry: ClientsRegistry) -> None:
    with pytest.raises(ApiError) as refused:
        registry.create_grant(ApiGrant("https://nowhere.example.com/"), client_id="web")
    assert refused.value.status == 404


def test_connections_are_enabled_and_disabled_for_many_clients(
    registry: ClientsRegistry,
) -> None:
    database = registry.list_connections()[0]
    registry.update_connection_clients(database, enable=PEOPLE, disable=["worker"])
    database = registry.list_connections()[0]
    assert database.enabled_clients == tuple(sorted([*PEOPLE, "web"]))
    registry.update_connection_clients(database, disable=PEOPLE)
    registry.update_connection_clients(database)  # nothing to change
    assert registry.list_connections()[0] == LoginConnection(database.id, "db", ("web",))


@pytest.mark.parametrize(
    "grantee", [{}, {"client_id": "web", "default_for": "third_party_clients"}]
)
def test_a_grant_is_for_one_client_or_one_group(
    registry: ClientsRegistry, grantee: dict[str, str]
) -> None:
    with pytest.raises(ValueError, match="one of them"):
        registry.create_grant(ApiGrant(BILLING), **grantee)
