"""The embedded tenant's client grants, held to Auth0's rules; each test names its source."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reconciler.errors import ApiError
from reconciler.tenant.engine import Tenant
from reconciler.tenant.rules import JsonObject

LEDGER = "https://ledger.example.com/"


@pytest.fixture
def tenant() -> Tenant:
    tenant = Tenant(":memory:")
    tenant.resource_servers.create(
        {
            "identifier": LEDGER,
            "scopes": [{"value": "read:entries"}, {"value": "write:entries"}],
        }
    )
    return tenant


def _client(tenant: Tenant, name: str = "worker") -> str:
    return str(tenant.create_client({"name": name, "app_type": "non_interactive"})["client_id"])


def _error(raised: pytest.ExceptionInfo[ApiError]) -> tuple[int, str]:
    return raised.value.status, raised.value.message


def test_create_answers_the_grant_as_auth0_does(tenant: Tenant) -> None:
    # go-auth0 test/data/recordings/TestClientGrantManager_Create.yaml: POST answers 201
    # with id "cgr_hG5VSaXAejRTrTbz" and only client_id, audience and scope echoed.
    client_id = _client(tenant)
    grant = tenant.client_grants.create(
        {"client_id": client_id, "audience": LEDGER, "scope": ["read:entries"]}
    )
    assert re.fullmatch(r"cgr_[A-Za-z0-9]{16}", grant["id"])
    assert grant == {
        "id": grant["id"],
        "client_id": client_id,
        "audience": LEDGER,
        "scope": ["read:entries"],
    }
    assert tenant.client_grants.get(grant["id"]) == grant


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        # Auth0 reference page create-client-grant: audience required, scope items 1-280
        # characters, organization_usage deny|allow|require, subject_type client|user.
        ({"scope": []}, "Missing required property: audience"),
        ({"audience": LEDGER, "scope": [""]}, "String is too short"),
        ({"audience": LEDGER, "scope": [], "organization_usage": "maybe"}, "No enum match"),
        ({"audience": LEDGER, "scope": [], "subject_type": "robot"}, "No enum match"),
        ({"audience": LEDGER, "scope": [], "colour": "red"}, "Additional properties"),
    ],
)
def test_create_validates_the_body_like_auth0(
    tenant: Tenant, body: JsonObject, detail: str
) -> None:
    with pytest.raises(ApiError) as raised:
        tenant.client_grants.create({"client_id": _client(tenant), **body})
    status, message = _error(raised)
    assert status == 400 and message.startswith("Payload validation error") and detail in message


def test_the_audience_must_be_an_api_of_the_tenant(tenant: Tenant) -> None:
    # auth0-fidelity.md section 7: a grant is (client, audience = an API identifier, scopes).
    with pytest.raises(ApiError) as raised:
        tenant.client_grants.create(
            {"client_id": _client(tenant), "audience": "https://nowhere/", "scope": []}
        )
    assert raised.value.status == 404 and raised.value.error_code == "inexistent_resource_server"


def test_scopes_must_be_defined_by_the_api(tenant: Tenant) -> None:
    # Stricter reading (sources disagree): Auth0's Dashboard only offers the API's own
    # permissions (docs machine-to-machine-apps.mdx, steps 3-4); a third-party emulator
    # claims the Management API takes any scope. We refuse undefined ones.
    with pytest.raises(ApiError) as raised:
        tenant.client_grants.create(
            {"client_id": _client(tenant), "audience": LEDGER, "scope": ["delete:entries"]}
        )
    assert raised.value.status == 400 and "delete:entries" in raised.value.message


def test_one_grant_per_client_audience_and_subject_type(tenant: Tenant) -> None:
    # auth0-fidelity.md section 7: "A client can have at most one grant per (audience,
    # subject_type)"; deploy-cli matches grants on [client_id, audience, subject_type].
    client_id = _client(tenant)
    body = {"client_id": client_id, "audience": LEDGER, "scope": ["read:entries"]}
    tenant.client_grants.create(body)
    with pytest.raises(ApiError) as raised:
        tenant.client_grants.create({**body, "subject_type": "client"})
    assert raised.value.status == 409 and raised.value.error == "Conflict"
    assert raised.value.message == "Client grant already exists"
    user = tenant.client_grants.create({**body, "subject_type": "user"})
    assert user["subject_type"] == "user"


def test_patch_changes_only_the_mutable_fields(tenant: Tenant) -> None:
    # auth0-fidelity.md section 7: PATCH changes scope, organization_usage,
    # allow_any_organization; audience, client_id, subject_type, default_for are immutable.
    client_id = _client(tenant)
    grant = tenant.client_grants.create(
        {"client_id": client_id, "audience": LEDGER, "scope": ["read:entries"]}
    )
    for immutable in ({"audience": LEDGER}, {"client_id": client_id}, {"subject_type": "user"}):
        with pytest.raises(ApiError) as raised:
            tenant.client_grants.patch(grant["id"], immutable)
        assert raised.value.status == 400 and "Additional properties not allowed" in (
            raised.value.message
        )
    patched = tenant.client_grants.patch(
        grant["id"],
        {
            "scope": ["read:entries", "write:entries"],
            "organization_usage": "allow",
            "allow_any_organization": True,
        },
    )
    assert patched["scope"] == ["read:entries", "write:entries"]
    assert patched["allow_any_organization"] is True
    assert tenant.client_grants.get(grant["id"]) == patched


def test_delete_answers_nothing_twice(tenant: Tenant) -> None:
    # go-auth0 TestClientGrantManager_Create.yaml: DELETE /client-grants/{id} answers 204.
    grant = tenant.client_grants.create(
        {"client_id": _client(tenant), "audience": LEDGER, "scope": []}
    )
    tenant.client_grants.delete(grant["id"])
    tenant.client_grants.delete(grant["id"])
    with pytest.raises(ApiError) as raised:
        tenant.client_grants.get(grant["id"])
    assert raised.value.status == 404


def test_deleting_a_client_deletes_its_grants(tenant: Tenant) -> None:
    # auth0-fidelity.md section 7: "Deleting a client deletes its grants."
    kept, gone = _client(tenant, "kept"), _client(tenant, "gone")
    for client_id in (kept, gone):
        tenant.client_grants.create({"client_id": client_id, "audience": LEDGER, "scope": []})
    tenant.delete_client(gone)
    listed = tenant.client_grants.list(include_totals="true", page="0")
    assert isinstance(listed, dict)
    assert [g["client_id"] for g in listed["client_grants"]] == [kept]


def test_checkpoint_paging_answers_client_grants_and_next(tenant: Tenant) -> None:
    # auth0-python management/client_grants/raw_client.py: list sends from/take and the
    # pager follows `next` until it is missing or empty.
    clients = [_client(tenant, f"c{n}") for n in range(5)]
    for client_id in clients:
        tenant.client_grants.create({"client_id": client_id, "audience": LEDGER, "scope": []})
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        answer = tenant.client_grants.list(take="2", **({"from": cursor} if cursor else {}))
        assert isinstance(answer, dict) and set(answer) <= {"client_grants", "next"}
        seen += [g["client_id"] for g in answer["client_grants"]]
        pages += 1
        cursor = answer.get("next")
        if not cursor:
            break
    assert seen == clients and pages == 3


def test_offset_paging_and_filters(tenant: Tenant) -> None:
    # auth0-python client_grants.list: filters audience, client_id, subject_type,
    # default_for; Auth0's older reference page: page, per_page, include_totals.
    first, second = _client(tenant, "a"), _client(tenant, "b")
    for client_id in (first, second):
        tenant.client_grants.create({"client_id": client_id, "audience": LEDGER, "scope": []})
    page = tenant.client_grants.list(page="1", per_page="1", include_totals="true")
    assert isinstance(page, dict)
    assert (page["total"], page["start"], page["limit"]) == (2, 1, 1)
    assert [g["client_id"] for g in page["client_grants"]] == [second]
    only = tenant.client_grants.list(client_id=first, audience=LEDGER)
    assert isinstance(only, list) and [g["client_id"] for g in only] == [first]
    assert tenant.client_grants.list(audience="https://other/") == []
    with pytest.raises(ApiError) as raised:
        tenant.client_grants.list(take="2", page="0")
    assert raised.value.status == 400 and raised.value.error_code == "invalid_query_string"


def test_a_grant_for_all_third_party_clients(tenant: Tenant) -> None:
    # Auth0 reference page create-client-grant: default_for "third_party_clients",
    # mutually exclusive with client_id.
    grant = tenant.client_grants.create(
        {"default_for": "third_party_clients", "audience": LEDGER, "scope": ["read:entries"]}
    )
    assert tenant.client_grants.list(default_for="third_party_clients") == [grant]
    with pytest.raises(ApiError) as raised:
        tenant.client_grants.create(
            {
                "default_for": "third_party_clients",
                "client_id": _client(tenant),
                "audience": LEDGER,
                "scope": [],
            }
        )
    assert raised.value.status == 400


def test_grants_survive_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "tenant.db"
    with Tenant(path) as tenant:
        tenant.resource_servers.create({"identifier": LEDGER})
        grant = tenant.client_grants.create(
            {"client_id": _client(tenant), "audience": LEDGER, "scope": []}
        )
    with Tenant(path) as reopened:
        assert reopened.client_grants.get(grant["id"]) == grant
