"""Client grants and connection clients through Auth0's own Python SDK (auth0-python v6)
against ``reconciler serve``: a client we did not write reads and writes what we serve."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from auth0.management import ManagementClient
from auth0.management.errors import ConflictError
from auth0.management.types import UpdateEnabledClientConnectionsRequestContentItem

from tests.auth0_sdk import TlsServe

LEDGER = "https://ledger.example.com/"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[TlsServe]:
    with TlsServe(tmp_path / "tenant.db") as served:
        with served.http() as http:
            http.post(
                f"{served.base_url}/__control/seed",
                json={
                    "resource_servers": [
                        {
                            "identifier": LEDGER,
                            "scopes": [{"value": "read:entries"}, {"value": "write:entries"}],
                        }
                    ],
                    "clients": [
                        {"client_id": f"worker-{n}", "name": f"Worker {n}"} for n in range(3)
                    ],
                    "connections": [
                        {"name": "Username-Password-Authentication", "strategy": "auth0"}
                    ],
                },
            ).raise_for_status()
        yield served


@pytest.fixture
def sdk(served: TlsServe) -> Iterator[ManagementClient]:
    # TlsServe.http() trusts the server's CA; the SDK is given that client, as SdkReader does.
    with served.http() as http:
        yield ManagementClient(
            domain=served.base_url.removeprefix("https://"),
            token=served.token(
                "read:client_grants create:client_grants update:client_grants "
                "delete:client_grants read:connections update:connections"
            ),
            httpx_client=http,
        )


def test_the_sdk_creates_lists_updates_and_deletes_grants(sdk: ManagementClient) -> None:
    created = [
        sdk.client_grants.create(client_id=f"worker-{n}", audience=LEDGER, scope=["read:entries"])
        for n in range(3)
    ]
    with pytest.raises(ConflictError):
        sdk.client_grants.create(client_id="worker-0", audience=LEDGER, scope=[])
    # take=2: the SDK's pager follows `next` to the second page on its own.
    listed = list(sdk.client_grants.list(take=2))
    assert [(g.client_id, g.audience, g.scope) for g in listed] == [
        (f"worker-{n}", LEDGER, ["read:entries"]) for n in range(3)
    ]
    updated = sdk.client_grants.update(created[0].id or "", scope=["read:entries", "write:entries"])
    assert updated.scope == ["read:entries", "write:entries"]
    assert [g.id for g in sdk.client_grants.list(client_id="worker-0")] == [created[0].id]
    sdk.client_grants.delete(created[1].id or "")
    remaining = [g.client_id for g in sdk.client_grants.list(audience=LEDGER)]
    assert remaining == ["worker-0", "worker-2"]


def test_the_sdk_patches_and_reads_connection_clients(sdk: ManagementClient) -> None:
    connection = next(iter(sdk.connections.list()))
    assert connection.name == "Username-Password-Authentication"
    connection_id = connection.id or ""
    sdk.connections.clients.update(
        connection_id,
        request=[
            UpdateEnabledClientConnectionsRequestContentItem(client_id=f"worker-{n}", status=True)
            for n in range(3)
        ],
    )
    sdk.connections.clients.update(
        connection_id,
        request=[
            UpdateEnabledClientConnectionsRequestContentItem(client_id="worker-1", status=False)
        ],
    )
    enabled = [c.client_id for c in sdk.connections.clients.get(connection_id, take=1)]
    assert enabled == ["worker-0", "worker-2"]
