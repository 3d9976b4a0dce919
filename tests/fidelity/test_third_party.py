"""Fidelity rows: third-party apps (``auth0-fidelity.md`` section 3, "Switching first-party
and third-party" and "Rules for third-party apps").

The rules are Auth0's security controls for strict third-party apps: docs-v2
``main/docs/get-started/applications/third-party-applications/security-controls.mdx``
(cited below as security-controls) and ``permissive-mode.mdx`` (permissive-mode).
"""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.errors import ApiError
from reconciler.registries.clients import ClientsApi


def third_party(api: ClientsApi, **fields: Any) -> dict[str, Any]:
    return api.create_client({"name": "Partner", "is_first_party": False, **fields})


def refused(call: Any) -> str:
    """The message of the 400 a call must answer."""
    with pytest.raises(ApiError) as raised:
        call()
    assert raised.value.status == 400
    return raised.value.message


def test_a_new_third_party_app_is_strict_with_a_tpc_id(api: ClientsApi) -> None:
    # Source: security-controls "Client ID format" (a tpc_ client_id assigned at creation)
    # and "Refresh token settings" (expiring; rotation on by default for spa and native);
    # permissive-mode "Who can use permissive mode" (accounts without older third-party apps
    # always create strict ones: the stricter reading, taken for every tenant). The 22
    # characters after tpc_ are those of go-auth0's recording TestClient_CIMDFields.
    spa = third_party(api, app_type="spa", token_endpoint_auth_method="none")
    web = third_party(api, app_type="regular_web")
    for client in (spa, web):
        assert client["client_id"].startswith("tpc_") and len(client["client_id"]) == 26
        assert client["third_party_security_mode"] == "strict"
        assert client["jwt_configuration"]["alg"] == "RS256"
        assert client["refresh_token"]["expiration_type"] == "expiring"
        assert client["refresh_token"]["infinite_idle_token_lifetime"] is False
        assert "implicit" not in client["grant_types"]
    assert spa["refresh_token"]["rotation_type"] == "rotating"
    assert not api.create_client({"name": "Web"})["client_id"].startswith("tpc_")


def test_an_app_never_switches_between_first_and_third_party(api: ClientsApi) -> None:
    # Source: security-controls "Client ID format": "Third-party applications cannot be
    # converted to first-party applications, and vice versa". go-auth0's reference.md
    # (Update) only asks for organization_* to be unset before is_first_party: false; the
    # docs are newer and stricter, and this row takes them.
    first = api.create_client({"name": "Web"})
    partner = third_party(api)
    assert "is_first_party" in refused(
        lambda: api.patch_client(first["client_id"], {"is_first_party": False})
    )
    assert "is_first_party" in refused(
        lambda: api.patch_client(partner["client_id"], {"is_first_party": True})
    )


@pytest.mark.parametrize(
    "grant", ["implicit", "password", "urn:ietf:params:oauth:grant-type:device_code"]
)
def test_a_third_party_app_uses_only_three_grants(api: ClientsApi, grant: str) -> None:
    # Source: security-controls "OAuth 2.1 standards": authorization_code, refresh_token
    # and client_credentials; "Implicit and password grants not supported"; "PAR, CIBA,
    # Device Code: Not supported".
    assert "grant_types[1]" in refused(
        lambda: third_party(api, grant_types=["authorization_code", grant])
    )
    partner = third_party(api, grant_types=["authorization_code"])
    assert "grant_types[0]" in refused(
        lambda: api.patch_client(partner["client_id"], {"grant_types": [grant]})
    )


def test_client_credentials_needs_a_confidential_third_party_app(api: ClientsApi) -> None:
    # Source: security-controls "Machine-to-machine (Client Credentials)": "The application
    # must be a confidential client (token_endpoint_auth_method must not be none)".
    assert "confidential" in refused(
        lambda: third_party(
            api, grant_types=["client_credentials"], token_endpoint_auth_method="none"
        )
    )
    worker = third_party(
        api,
        app_type="non_interactive",
        grant_types=["client_credentials"],
        token_endpoint_auth_method="client_secret_post",
    )
    assert worker["grant_types"] == ["client_credentials"]


@pytest.mark.parametrize("alg", ["HS256", "PS256", "RS512"])
def test_a_third_party_app_signs_with_rs256(api: ClientsApi, alg: str) -> None:
    # Source: security-controls "Restricted client configuration": jwt_configuration.alg
    # "must be RS256; HS256 not supported". Terraform's auth0_client_cimd docs
    # (client_cimd.md) also allow RS512 and PS256 on CIMD apps; the stricter reading,
    # RS256 for every third-party app, is taken.
    assert "jwt_configuration.alg" in refused(
        lambda: third_party(api, jwt_configuration={"alg": alg})
    )
    partner = third_party(api, jwt_configuration={"lifetime_in_seconds": 300})
    assert partner["jwt_configuration"]["alg"] == "RS256"
    assert "jwt_configuration.alg" in refused(
        lambda: api.patch_client(partner["client_id"], {"jwt_configuration": {"alg": alg}})
    )


@pytest.mark.parametrize(
    ("refresh_token", "path"),
    [
        ({"expiration_type": "non-expiring"}, "refresh_token.expiration_type"),
        ({"infinite_idle_token_lifetime": True}, "refresh_token.infinite_idle_token_lifetime"),
    ],
)
def test_a_third_party_apps_refresh_tokens_expire(
    api: ClientsApi, refresh_token: dict[str, Any], path: str
) -> None:
    # Source: security-controls "Refresh token settings": "Non-expiring refresh tokens are
    # not available. Infinite idle lifetime is not available."
    partner = third_party(api)
    assert path in refused(
        lambda: api.patch_client(partner["client_id"], {"refresh_token": refresh_token})
    )
    assert path in refused(
        lambda: third_party(
            api,
            refresh_token={
                "rotation_type": "rotating",
                "expiration_type": "expiring",
                **refresh_token,
            },
        )
    )


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("allowed_logout_urls", ["https://partner.example/"]),
        ("initiate_login_uri", "https://partner.example/login"),
        ("cross_origin_authentication", True),
        ("sso_disabled", True),
        ("jwt_configuration", {"scopes": {}}),
    ],
)
def test_a_third_party_app_takes_only_the_curated_members(
    api: ClientsApi, member: str, value: Any
) -> None:
    # Source: security-controls "Restricted client configuration" ("You can only configure
    # a curated set of client properties ... new properties are not available unless
    # reviewed"): its table lists none of these (jwt_configuration only with
    # lifetime_in_seconds and alg); "Logout endpoints" and "Cross-origin authentication"
    # are under "Features not supported". The table says "Key supported properties
    # include"; the stricter reading refuses what it does not name (bar what makes an app
    # third-party, OIDC conformance and the Organizations settings the page supports).
    assert "Additional properties not allowed" in refused(
        lambda: third_party(api, **{member: value})
    )
    partner = third_party(api)
    assert "Additional properties not allowed" in refused(
        lambda: api.patch_client(partner["client_id"], {member: value})
    )
    first_party = api.create_client({"name": "Web", member: value})
    assert first_party["is_first_party"] is True


def test_a_third_party_apps_urls_are_exact(api: ClientsApi) -> None:
    # Source: security-controls "Features not supported": "Wildcard subdomains in URLs:
    # Callback URLs, allowed origins, and web origins must use exact URLs."
    assert "callbacks[0]" in refused(
        lambda: third_party(api, callbacks=["https://*.partner.example/callback"])
    )
    partner = third_party(api, callbacks=["https://app.partner.example/callback"])
    assert "web_origins[0]" in refused(
        lambda: api.patch_client(partner["client_id"], {"web_origins": ["https://*.p.example"]})
    )


def test_a_permissive_third_party_app_keeps_the_first_party_features(api: ClientsApi) -> None:
    # Source: permissive-mode "What permissive mode means": most grant types, standard
    # client ids, "All client properties can be configured" (accounts with third-party apps
    # from before April 2026 may still create them).
    legacy = third_party(
        api,
        third_party_security_mode="permissive",
        grant_types=["authorization_code", "implicit"],
        allowed_logout_urls=["https://partner.example/"],
    )
    assert not legacy["client_id"].startswith("tpc_")
    assert legacy["grant_types"] == ["authorization_code", "implicit"]
