"""What reading and writing grants and connections costs through ``auth0://``, counted in
serve's request log (``/__control/requests``), and that a failed page is read again."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from reconciler.core.model import ApiGrant
from reconciler.registries.auth0.lease import LEASE_IDENTIFIER
from reconciler.registries.auth0.paging import quiet_requests
from reconciler.registries.auth0.registry import RetryPolicy, open_auth0
from reconciler.registries.clients import ClientsRegistry
from tests.auth0_sdk import TlsServe

LEDGER = "https://ledger.example.com/"
GRANTS = 250
WORKERS = [f"worker{number:03d}" for number in range(GRANTS)]


@pytest.fixture
def seeded(served: TlsServe) -> TlsServe:
    """250 clients with a grant each for the ledger API, and one connection."""
    document: dict[str, Any] = {
        "resource_servers": [{"identifier": LEDGER, "scopes": [{"value": "read:entries"}]}],
        "clients": [
            {"client_id": worker, "name": worker, "app_type": "non_interactive"}
            for worker in WORKERS
        ],
        "client_grants": [
            {"client_id": worker, "audience": LEDGER, "scope": ["read:entries"]}
            for worker in WORKERS
        ],
        "connections": [{"name": "db", "strategy": "auth0"}],
    }
    with served.http() as http:
        http.post(f"{served.base_url}/__control/seed", json=document).raise_for_status()
    return served


def open_served(served: TlsServe, *, http: httpx.Client | None = None) -> ClientsRegistry:
    return open_auth0(
        "auth0://tenant.test",
        base_url=served.base_url,
        environ={"AUTH0_CLIENT_ID": served.client_id, "AUTH0_CLIENT_SECRET": served.client_secret},
        client=http,
        verify=trusting(served),
        lock=False,
        retry=RetryPolicy(base_delay=0.02, max_delay=0.2),
    )


def trusting(served: TlsServe) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=served.ca_file)


@pytest.fixture
def registry(seeded: TlsServe) -> Iterator[ClientsRegistry]:
    opened = open_served(seeded)
    yield opened
    opened.close()


def logged(served: TlsServe, method: str, path: str) -> list[dict[str, Any]]:
    """The requests serve answered for ``method path`` since the log was last cleared."""
    with served.http() as http:
        entries = http.get(f"{served.base_url}/__control/requests").json()["requests"]
    return [e for e in entries if e["method"] == method and e["path"] == path]


def clear_log(served: TlsServe) -> None:
    with served.http() as http:
        http.delete(f"{served.base_url}/__control/requests").raise_for_status()


def test_all_grants_cost_one_request_a_window(seeded: TlsServe, registry: ClientsRegistry) -> None:
    clear_log(seeded)
    grants = registry.list_grants()
    assert sorted(g.client_id or "" for g in grants) == WORKERS
    pages = logged(seeded, "GET", "/api/v2/client-grants")
    assert len(pages) == quiet_requests(GRANTS) == 3
    assert [page["status"] for page in pages] == [200, 200, 200]


def test_apis_and_connections_cost_a_constant(seeded: TlsServe, registry: ClientsRegistry) -> None:
    clear_log(seeded)
    registry.list_apis()
    [connection] = registry.list_connections()
    assert len(logged(seeded, "GET", "/api/v2/resource-servers")) == 1
    assert len(logged(seeded, "GET", "/api/v2/connections")) == 1
    assert len(logged(seeded, "GET", f"/api/v2/connections/{connection.id}/clients")) == 1


def test_a_5xx_on_a_page_is_retried_and_nothing_is_missed(seeded: TlsServe) -> None:
    """The second page fails once (the fault is set as the first page's answer arrives)."""
    injected: list[str] = []

    def fail_the_next_page(response: httpx.Response) -> None:
        if response.request.url.path == "/api/v2/client-grants" and not injected:
            injected.append(str(response.request.url))
            seeded.inject(status=503, count=1, method="GET", path_prefix="/api/v2/client-grants")

    http = httpx.Client(verify=trusting(seeded), event_hooks={"response": [fail_the_next_page]})
    registry = open_served(seeded, http=http)
    try:
        clear_log(seeded)
        grants = registry.list_grants()
    finally:
        registry.close()
    assert sorted(g.client_id or "" for g in grants) == WORKERS
    pages = logged(seeded, "GET", "/api/v2/client-grants")
    # The two windows after the first go together; the one that failed is asked again.
    assert sorted(page["status"] for page in pages) == [200, 200, 200, 503]
    [failed] = [page["query"] for page in pages if page["status"] == 503]
    assert [page["query"] for page in pages[1:]].count(failed) == 2


def test_connection_links_go_in_batches_of_50(seeded: TlsServe, registry: ClientsRegistry) -> None:
    [connection] = registry.list_connections()
    clear_log(seeded)
    registry.update_connection_clients(connection, enable=WORKERS[:120])
    assert len(logged(seeded, "PATCH", f"/api/v2/connections/{connection.id}/clients")) == 3
    assert registry.list_connections()[0].enabled_clients == tuple(WORKERS[:120])


def test_grant_writes_are_one_request_each(seeded: TlsServe, registry: ClientsRegistry) -> None:
    grant = next(g for g in registry.list_grants() if g.client_id == WORKERS[0])
    clear_log(seeded)
    unchanged = registry.update_grant(grant, ApiGrant(LEDGER, scopes=grant.scopes))
    changed = registry.update_grant(grant, ApiGrant(LEDGER, organization_usage="allow"))
    registry.delete_grant(changed)
    assert unchanged is grant and changed.scopes == ()
    assert len(logged(seeded, "PATCH", f"/api/v2/client-grants/{grant.id}")) == 1
    assert len(logged(seeded, "DELETE", f"/api/v2/client-grants/{grant.id}")) == 1


def test_the_apply_lease_is_not_an_api_of_the_tenant(seeded: TlsServe) -> None:
    locking = open_auth0(
        "auth0://tenant.test",
        base_url=seeded.base_url,
        environ={"AUTH0_CLIENT_ID": seeded.client_id, "AUTH0_CLIENT_SECRET": seeded.client_secret},
        verify=trusting(seeded),
        notify=lambda message: None,
    )
    try:
        with locking.lock():
            assert locking.api.resource_server_by_identifier(LEASE_IDENTIFIER) is not None
            assert [api.identifier for api in locking.list_apis()] == [LEDGER]
    finally:
        locking.close()
