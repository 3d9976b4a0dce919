"""The embedded tenant's resource servers (APIs), held to Auth0.

Sources: go-auth0 recording ``test/data/recordings/TestResourceServer_Create.yaml``
(POST answers 201 with a 24-hex ``id``, ``allow_offline_access: false`` and
``skip_consent_for_verifiable_first_party_clients: false``; DELETE answers 204);
auth0-python ``management/resource_servers/raw_client.py`` (``identifier`` required and
"Can not be changed once set"; 409 on create raises ConflictError; the list takes
``identifiers`` (max 10), ``page``, ``per_page``, ``include_totals`` and answers
``resource_servers``); Auth0's reference page ``post-resource-servers`` (``name`` "Can
not contain < or > characters").
"""

from __future__ import annotations

import re

import pytest

from reconciler.errors import ApiError
from reconciler.tenant.engine import Tenant


@pytest.fixture
def tenant() -> Tenant:
    return Tenant(":memory:")


def test_create_answers_auth0s_defaults(tenant: Tenant) -> None:
    created = tenant.resource_servers.create(
        {"identifier": "https://api.example.com/", "name": "Example", "signing_alg": "HS256"}
    )
    assert re.fullmatch(r"[0-9a-f]{24}", created["id"])
    assert created["allow_offline_access"] is False
    assert created["skip_consent_for_verifiable_first_party_clients"] is False
    assert created["scopes"] == []
    assert tenant.resource_servers.get(created["id"]) == created
    assert tenant.resource_servers.get("https://api.example.com/") == created


def test_a_taken_identifier_is_a_409(tenant: Tenant) -> None:
    tenant.resource_servers.create({"identifier": "urn:x"})
    with pytest.raises(ApiError) as raised:
        tenant.resource_servers.create({"identifier": "urn:x", "name": "again"})
    assert raised.value.status == 409 and raised.value.error == "Conflict"
    assert tenant.resource_servers.list(include_totals="true")["total"] == 1  # type: ignore[index]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"name": "no identifier"}, "Missing required property: identifier"),
        ({"identifier": ""}, "String is too short"),
        ({"identifier": "urn:a", "name": "<b>"}, "String does not match pattern"),
        ({"identifier": "urn:a", "colour": "red"}, "Additional properties not allowed: colour"),
        ({"identifier": "urn:a", "signing_alg": "none"}, "No enum match"),
    ],
)
def test_create_validates_like_auth0(tenant: Tenant, body: dict[str, object], detail: str) -> None:
    with pytest.raises(ApiError) as raised:
        tenant.resource_servers.create(body)
    assert raised.value.status == 400 and detail in raised.value.message


def test_the_identifier_cannot_change_and_patch_merges(tenant: Tenant) -> None:
    created = tenant.resource_servers.create({"identifier": "urn:a", "name": "A"})
    with pytest.raises(ApiError, match="identifier"):
        tenant.resource_servers.patch(created["id"], {"identifier": "urn:b"})
    patched = tenant.resource_servers.patch(created["id"], {"name": "B"})
    assert patched["name"] == "B" and patched["identifier"] == "urn:a"


def test_list_pages_and_filters_by_identifiers(tenant: Tenant) -> None:
    for n in range(7):
        tenant.resource_servers.create({"identifier": f"urn:api:{n}"})
    page = tenant.resource_servers.list(page="1", per_page="3", include_totals="true")
    assert isinstance(page, dict)
    assert page["total"] == 7 and page["start"] == 3 and page["limit"] == 3
    assert [s["identifier"] for s in page["resource_servers"]] == [
        "urn:api:3",
        "urn:api:4",
        "urn:api:5",
    ]
    only = tenant.resource_servers.list(
        identifiers=["urn:api:1", "urn:api:6"], include_totals="false"
    )
    assert [s["identifier"] for s in only] == ["urn:api:1", "urn:api:6"]  # type: ignore[index]
    with pytest.raises(ApiError, match="maximum 10"):
        tenant.resource_servers.list(identifiers=[f"urn:{n}" for n in range(11)])


def test_delete_and_reset(tenant: Tenant) -> None:
    created = tenant.resource_servers.create({"identifier": "urn:a"})
    tenant.resource_servers.delete(created["id"])
    tenant.resource_servers.delete(created["id"])  # gone: still no error
    with pytest.raises(ApiError) as raised:
        tenant.resource_servers.get(created["id"])
    assert raised.value.status == 404
    tenant.resource_servers.create({"identifier": "urn:b"})
    tenant.reset()
    assert tenant.resource_servers.list(include_totals="true")["total"] == 0  # type: ignore[index]
