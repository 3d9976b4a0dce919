"""The embedded tenant's entity limits (``tenant/limits.py``), with small limits so each
kind is reached in a few creates: the create past one is refused and nothing of it is
written; a conflict still answers 409; no limits is the default."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from reconciler.errors import ApiError
from reconciler.tenant.engine import MEMORY, Tenant
from reconciler.tenant.limits import EntityLimits

SMALL = EntityLimits(
    "small",
    {
        "applications": 2,
        "client_grants": 1,
        "resource_servers": 1,
        "connections": 1,
        "credentials": 1,
    },
)


@pytest.fixture
def tenant() -> Iterator[Tenant]:
    with Tenant(MEMORY, limits=SMALL) as small:
        yield small


@pytest.fixture(scope="module")
def pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def refused(create: Callable[[], Any]) -> None:
    with pytest.raises(ApiError) as error:
        create()
    assert (error.value.status, error.value.error_code) == (403, "too_many_entities")


def test_applications_past_the_limit_are_refused_and_not_written(tenant: Tenant) -> None:
    tenant.create_client({"name": "one"})
    tenant.seed_client({"client_id": "two", "name": "two"})

    refused(lambda: tenant.create_client({"name": "three"}))
    refused(lambda: tenant.seed_client({"client_id": "four", "name": "four"}))
    tenant.update_tenant_settings({"client_id_metadata_document_supported": True})
    refused(
        lambda: tenant.cimd_register(
            "https://app.example.com/client.json",
            {
                "client_id": "https://app.example.com/client.json",
                "client_name": "CIMD",
                "redirect_uris": ["https://app.example.com/callback"],
            },
        )
    )

    assert [client["name"] for client in tenant.all_clients()] == ["one", "two"]


def test_the_global_client_is_not_an_application(tenant: Tenant) -> None:
    tenant.reset()  # deletes every client and makes the global client again
    tenant.create_client({"name": "one"})
    tenant.create_client({"name": "two"})
    assert len(list(tenant.all_clients(include_global=True))) == 3


def test_apis_grants_and_connections_past_their_limits_are_refused(tenant: Tenant) -> None:
    app = tenant.create_client({"name": "worker", "app_type": "non_interactive"})["client_id"]
    tenant.resource_servers.create({"identifier": "https://one.example.com/"})
    tenant.client_grants.create(
        {"client_id": app, "audience": "https://one.example.com/", "scope": []}
    )
    tenant.connections.create({"name": "db", "strategy": "auth0"})

    refused(lambda: tenant.resource_servers.create({"identifier": "https://two.example.com/"}))
    refused(
        lambda: tenant.client_grants.create(
            {
                "client_id": app,
                "audience": "https://one.example.com/",
                "scope": [],
                "subject_type": "user",
            }
        )
    )
    refused(lambda: tenant.connections.create({"name": "other", "strategy": "auth0"}))
    assert len(tenant.all_resource_servers()) == 1
    assert len(tenant.all_client_grants()) == 1
    assert len(tenant.all_connections()) == 1


def test_a_conflict_at_the_limit_is_still_a_conflict(tenant: Tenant) -> None:
    tenant.resource_servers.create({"identifier": "https://one.example.com/"})
    with pytest.raises(ApiError) as taken:
        tenant.resource_servers.create({"identifier": "https://one.example.com/"})
    assert taken.value.status == 409


def test_credentials_count_across_the_tenant(tenant: Tenant, pem: str) -> None:
    first = tenant.create_client({"name": "one"})["client_id"]
    second = tenant.create_client({"name": "two"})["client_id"]
    body = {"credential_type": "public_key", "name": "key", "pem": pem}
    tenant.create_credential(first, body)

    refused(lambda: tenant.create_credential(second, body))
    assert tenant.list_credentials(second) == []


def test_no_limits_by_default() -> None:
    with Tenant(MEMORY) as unlimited:
        for number in range(12):
            unlimited.create_client({"name": f"App {number}"})
        assert len(list(unlimited.all_clients())) == 12
