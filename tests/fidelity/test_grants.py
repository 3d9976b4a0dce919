"""Fidelity rows: client grants (``auth0-fidelity.md`` section 7)."""

from __future__ import annotations

import pytest

from reconciler.errors import ApiError
from reconciler.registries.clients import ClientsApi
from tests.fidelity.conftest import Imitation

LEDGER = "https://ledger.example.com/"


@pytest.fixture
def worker(imitation: Imitation, api: ClientsApi) -> str:
    imitation.seed(
        {
            "resource_servers": [
                {"identifier": LEDGER, "scopes": [{"value": "read:entries"}, {"value": "x"}]}
            ]
        }
    )
    return str(api.create_client({"name": "Worker", "app_type": "non_interactive"})["client_id"])


def test_one_grant_per_client_audience_and_subject_type(api: ClientsApi, worker: str) -> None:
    # Source: Auth0 docs application-access-to-apis-client-grants.mdx ("a client can have
    # at most one grant per audience and subject type"); a second create answers 409, on
    # which Terraform's resource_grant.go:116-157 relies.
    api.create_client_grant({"client_id": worker, "audience": LEDGER, "scope": ["x"]})
    with pytest.raises(ApiError) as refused:
        api.create_client_grant({"client_id": worker, "audience": LEDGER, "scope": []})
    assert refused.value.status == 409
    api.create_client_grant(
        {"client_id": worker, "audience": LEDGER, "scope": [], "subject_type": "user"}
    )


def test_a_grants_audience_client_and_subject_type_cannot_change(
    api: ClientsApi, worker: str
) -> None:
    # Source: Auth0 Management API PATCH /client-grants/{id} takes only scope,
    # organization_usage, allow_any_organization, authorization_details_types and
    # allow_all_scopes (go-auth0 reference.md ClientGrants; auth0-deploy-cli strips the
    # others before an update, handlers/clientGrants.ts:70).
    grant = api.create_client_grant({"client_id": worker, "audience": LEDGER, "scope": []})
    with pytest.raises(ApiError) as refused:
        api.patch_client_grant(grant["id"], {"audience": "https://other.example.com/"})
    assert refused.value.status == 400
    changed = api.patch_client_grant(grant["id"], {"scope": ["read:entries"]})
    assert changed["scope"] == ["read:entries"] and changed["audience"] == LEDGER


def test_deleting_a_client_deletes_its_grants(api: ClientsApi, worker: str) -> None:
    # Source: auth0-fidelity.md section 7 ("Deleting a client deletes its grants"), from
    # the Auth0 docs on client grants.
    api.create_client_grant({"client_id": worker, "audience": LEDGER, "scope": ["x"]})
    api.delete_client(worker)
    assert [g for g in api.all_client_grants() if g.get("client_id") == worker] == []
