"""Fidelity rows: clients registered from a Client ID Metadata Document (``auth0-fidelity.md``
section 6).

Sources: docs-v2 ``main/docs/get-started/auth0-overview/create-applications/
register-applications-with-cimd.mdx`` (cited as register-with-cimd), Terraform's
``docs/resources/client_cimd.md`` and ``internal/auth0/client/expand_cimd.go``, and
go-auth0's recordings of a live tenant (``test/data/recordings/``).
"""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.errors import ApiError
from reconciler.registries.clients import ClientsApi
from tests.fidelity.conftest import Imitation

URL = "https://assistant.partner.example/oauth/client.json"
DOCUMENT: dict[str, Any] = {
    "client_id": URL,
    "client_name": "Partner Assistant",
    "application_type": "web",
    "redirect_uris": ["https://assistant.partner.example/callback"],
    "grant_types": ["authorization_code", "refresh_token"],
    "token_endpoint_auth_method": "none",
}
CIMD_SUPPORTED = "client_id_metadata_document_supported"


def allow_cimd(imitation: Imitation, allowed: bool = True) -> None:
    imitation.seed({"tenant_settings": {CIMD_SUPPORTED: allowed}})


def register(imitation: Imitation, document: dict[str, Any]) -> dict[str, Any]:
    """Register ``document`` at URL: serve fetches it (from its fixtures), as Auth0 does."""
    if imitation.served is not None:
        with imitation.served.http() as http:
            answer = http.post(
                f"{imitation.served.base_url}/__control/documents", json={URL: document}
            )
            answer.raise_for_status()
    client, _ = imitation.api.cimd_register(URL, document)
    return client


@pytest.fixture
def registered(imitation: Imitation) -> dict[str, Any]:
    allow_cimd(imitation)
    return register(imitation, DOCUMENT)


def test_registering_needs_the_tenant_setting(imitation: Imitation, api: ClientsApi) -> None:
    # Source: register-with-cimd "Prerequisites > Tenant configuration" (turn on "Client ID
    # Metadata Document Registration" to import CIMD via URL); Terraform client_cimd.md
    # ("Requires the client_id_metadata_document_supported tenant setting to be enabled").
    # The member and its place in GET /tenants/settings: go-auth0's recording
    # TestTenantManager_CIMDAndResourceParameterProfile. Whether register itself fails
    # while it is off is not recorded; the stricter reading (refused) is taken, and a new
    # tenant has it off, as an admin turns it on.
    assert api.tenant_settings()[CIMD_SUPPORTED] is False
    with pytest.raises(ApiError) as refused:
        register(imitation, DOCUMENT)
    assert refused.value.status == 403 and CIMD_SUPPORTED in refused.value.message
    allow_cimd(imitation)
    assert api.tenant_settings()[CIMD_SUPPORTED] is True
    assert register(imitation, DOCUMENT)["external_client_id"] == URL


def test_a_registered_client_is_strict_third_party(registered: dict[str, Any]) -> None:
    # Source: go-auth0's recording TestClient_CIMDFields (the client GET after register).
    expected = {
        "name": "Partner Assistant",
        "app_type": "regular_web",
        "is_first_party": False,
        "oidc_conformant": True,
        "callbacks": ["https://assistant.partner.example/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none",
        "jwt_configuration": {"secret_encoded": False, "alg": "RS256", "lifetime_in_seconds": 3600},
        "external_client_id": URL,
        "external_metadata_type": "cimd",
        "external_metadata_created_by": "admin",
    }
    assert {name: registered.get(name) for name in expected} == expected
    assert registered["client_id"].startswith("tpc_")
    assert registered["refresh_token"]["expiration_type"] == "expiring"


def test_jwt_lifetime_is_editable_as_the_backend_sends_it(
    api: ClientsApi, registered: dict[str, Any]
) -> None:
    # Source: Terraform client_cimd.md (jwt_configuration: alg and lifetime_in_seconds)
    # and expand_cimd.go:62-82, which sends lifetime_in_seconds; the backend sends the
    # whole merged member, {alg, lifetime_in_seconds} (auth0-fidelity.md section 6, probe).
    patched = api.patch_client(
        registered["client_id"], {"jwt_configuration": {"alg": "RS256", "lifetime_in_seconds": 300}}
    )
    assert patched["jwt_configuration"]["lifetime_in_seconds"] == 300


def test_a_cimd_client_may_become_spa_until_the_next_refresh(
    imitation: Imitation, api: ClientsApi, registered: dict[str, Any]
) -> None:
    # Source: Terraform client_cimd.md ("CIMD clients only support native, spa, and
    # regular_web"; its example sets spa); register-with-cimd lists native and regular_web
    # only, and "Refresh client metadata": a refresh "updates the app_type and grant_types
    # to match the values in the hosted CIMD".
    assert api.patch_client(registered["client_id"], {"app_type": "spa"})["app_type"] == "spa"
    with pytest.raises(ApiError) as refused:
        api.patch_client(registered["client_id"], {"app_type": "non_interactive"})
    assert refused.value.status == 400
    assert register(imitation, DOCUMENT)["app_type"] == "regular_web"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"grant_types": ["authorization_code", "client_credentials"]}, "grant_types[1]"),
        ({"jwt_configuration": {"alg": "PS256"}}, "jwt_configuration.alg"),
        ({"oidc_conformant": False}, "oidc_conformant"),
    ],
)
def test_a_cimd_client_keeps_the_strict_values(
    api: ClientsApi, registered: dict[str, Any], body: dict[str, Any], path: str
) -> None:
    # Source: security-controls.mdx ("Machine-to-machine": client_credentials "Not
    # available for applications created through ... CIMD"; alg "must be RS256");
    # register-with-cimd "Update CIMD client" (oidc_conformant "Must be enabled"; alg
    # "typically restricted to ... RS256, RS512, or PS256", as Terraform's client_cimd.md
    # says too: the stricter reading, RS256, is taken).
    with pytest.raises(ApiError) as refused:
        api.patch_client(registered["client_id"], body)
    assert refused.value.status == 400 and path in refused.value.message
