"""Fidelity rows: the app fields people set through the other tools (``auth0-fidelity.md``
section 3 and its ranked list of missing fields), and the legacy ``cross_origin_auth``.

Recordings are go-auth0's (tag v1.45.0, ``test/data/recordings/``) of a live tenant;
types and enums are go-auth0 v3.1.0's ``management/clients.go``, generated from Auth0's
API definition.
"""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from reconciler.core.stamp import Stamp
from reconciler.errors import ApiError
from reconciler.registries.clients import ClientsApi, ClientsRegistry
from tests.fidelity.conftest import Imitation

LOGOUT_URL = "https://pay.example.com/backchannel-logout"


@pytest.fixture(scope="module")
def public_key_pem() -> str:
    return _public_key_pem()


def _public_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def refused(api: ClientsApi, body: dict[str, Any], client_id: str | None = None) -> str:
    """The message of the 400 a create (or, with ``client_id``, a PATCH) is answered."""
    with pytest.raises(ApiError) as error:
        if client_id is None:
            api.create_client({"name": "Refused", **body})
        else:
            api.patch_client(client_id, body)
    assert error.value.status == 400, error.value
    return str(error.value)


def test_a_new_client_has_single_sign_on_on(api: ClientsApi) -> None:
    # Source: every POST /clients answer in the recordings (TestClient_Create,
    # TestClient_CreateWithOIDCLogout, ...) carries "sso_disabled":false.
    client = api.create_client({"name": "Web"})
    assert client["sso_disabled"] is False
    assert api.patch_client(client["client_id"], {"sso_disabled": True})["sso_disabled"] is True


def test_back_channel_logout_reads_back_with_the_deprecated_member_beside_it(
    api: ClientsApi,
) -> None:
    # Source: recording TestClient_CreateWithOIDCLogout: the answer holds oidc_logout as
    # sent and oidc_backchannel_logout with the same URLs (auth0-deploy-cli still renames
    # the old member, handlers/clients.ts sanitizeOidcLogout).
    logout = {
        "backchannel_logout_urls": [LOGOUT_URL],
        "backchannel_logout_initiators": {
            "mode": "custom",
            "selected_initiators": ["rp-logout", "idp-logout"],
        },
        "backchannel_logout_session_metadata": {"include": True},
    }
    client = api.create_client({"name": "Web", "oidc_logout": logout})
    read = api.get_client(client["client_id"])
    assert read["oidc_logout"] == logout
    assert read["oidc_backchannel_logout"] == {"backchannel_logout_urls": [LOGOUT_URL]}
    unsubscribed = api.patch_client(
        client["client_id"], {"oidc_logout": {"backchannel_logout_urls": []}}
    )
    assert unsubscribed["oidc_logout"]["backchannel_logout_urls"] == []


@pytest.mark.parametrize(
    "urls",
    [
        ["http://pay.example.com/bcl"],
        ["https://tenant.eu.auth0.com/bcl"],
        ["https://127.0.0.1/bcl"],
        [LOGOUT_URL, "https://other.example.com/bcl"],
    ],
)
def test_back_channel_logout_takes_one_public_https_url_off_auth0s_domains(
    api: ClientsApi, urls: list[str]
) -> None:
    # Source: Auth0 docs configure-back-channel-logout.mdx, "Back-Channel Logout
    # restrictions" (https only; no auth0.com, auth0app.com, webtask.io, webtask.run; no
    # internal, reserved or loopback IPs), and go-auth0 ClientOidcBackchannelLogoutSettings
    # ("Currently only one URL is allowed"). The same page's PATCH example shows an http
    # URL; the stricter reading, the restrictions list, is held.
    refused(api, {"oidc_logout": {"backchannel_logout_urls": urls}})


def test_custom_logout_initiators_keep_rp_and_idp_logout(api: ClientsApi) -> None:
    # Source: Auth0 docs oidc-back-channel-logout-initiators.mdx: mode is required,
    # selected_initiators is "Required if mode is custom", and its example selecting
    # password-changed notes "(rp-logout and idp-logout are required)"; whether Auth0
    # refuses the body or ignores the omission is not said, so the body is refused.
    initiators = {"mode": "custom", "selected_initiators": ["password-changed"]}
    refused(api, {"oidc_logout": {"backchannel_logout_initiators": initiators}})
    refused(api, {"oidc_logout": {"backchannel_logout_initiators": {"selected_initiators": []}}})
    refused(api, {"oidc_logout": {"backchannel_logout_initiators": {"mode": "some"}}})
    everything = {"mode": "all"}
    client = api.create_client(
        {"name": "W", "oidc_logout": {"backchannel_logout_initiators": everything}}
    )
    assert client["oidc_logout"]["backchannel_logout_initiators"] == everything


def test_organization_discovery_needs_the_pre_login_prompt(api: ClientsApi) -> None:
    # Source: go-auth0 management/client_test.go TestClient_OrganizationDiscoveryMethods
    # and its recording: discovery methods are kept while the behavior stays
    # pre_login_prompt, and leaving it takes organization_discovery_methods: null in the
    # same PATCH; terraform resource.go: "Setting this property requires that
    # organization_require_behavior is set to pre_login_prompt".
    client = api.create_client(
        {
            "name": "Portal",
            "oidc_conformant": True,
            "organization_usage": "require",
            "organization_require_behavior": "pre_login_prompt",
            "organization_discovery_methods": ["email"],
        }
    )
    client_id = client["client_id"]
    kept = api.patch_client(client_id, {"organization_usage": "allow"})
    assert kept["organization_discovery_methods"] == ["email"]
    refused(api, {"organization_require_behavior": "post_login_prompt"}, client_id)
    moved = api.patch_client(
        client_id,
        {
            "organization_require_behavior": "post_login_prompt",
            "organization_discovery_methods": None,
        },
    )
    assert "organization_discovery_methods" not in moved
    refused(api, {"organization_discovery_methods": ["phone"]}, client_id)


def test_the_post_login_prompt_needs_an_oidc_conformant_app(api: ClientsApi) -> None:
    # Source: go-auth0 ClientOrganizationRequireBehaviorPatchEnum: "`post_login_prompt`
    # requires `oidc_conformant: true`" (a new client is not OIDC conformant by default,
    # recording TestClient_Create).
    refused(api, {"organization_require_behavior": "post_login_prompt"})
    client = api.create_client(
        {"name": "P", "oidc_conformant": True, "organization_require_behavior": "post_login_prompt"}
    )
    refused(api, {"oidc_conformant": False}, client["client_id"])


def test_a_default_organization_names_the_organization_and_its_flows(api: ClientsApi) -> None:
    # Source: recording TestClient_CreateWithDefaultOrg (answered as sent); go-auth0
    # ClientDefaultOrganization (organization_id and flows, both required) and its flows
    # enum (client_credentials only); a PATCH of null removes it (terraform expand.go,
    # the `disable` member).
    default = {"flows": ["client_credentials"], "organization_id": "org_X6hYdaBImySituVC"}
    client = api.create_client(
        {"name": "Worker", "organization_usage": "allow", "default_organization": default}
    )
    assert api.get_client(client["client_id"])["default_organization"] == default
    refused(api, {"default_organization": {"organization_id": "org_X6hYdaBImySituVC"}})
    refused(api, {"default_organization": {**default, "flows": ["authorization_code"]}})
    removed = api.patch_client(client["client_id"], {"default_organization": None})
    assert "default_organization" not in removed


def test_request_security_settings_are_taken_as_written_whatever_the_rest(
    api: ClientsApi,
) -> None:
    # Source: recording TestClientSignedRequestObject: a client that is not OIDC
    # conformant, signs with PS256 and has no private_key_jwt key is created with
    # compliance_level fapi1_adv_pkj_par, require_pushed_authorization_requests and
    # require_proof_of_possession, and PATCHed to fapi1_adv_mtls_par; the levels are
    # enforced on authorization requests (docs configure-fapi-compliance.mdx), not here.
    client = api.create_client(
        {
            "name": "Bank",
            "jwt_configuration": {"alg": "PS256"},
            "require_pushed_authorization_requests": True,
            "require_proof_of_possession": True,
            "compliance_level": "fapi1_adv_pkj_par",
        }
    )
    assert client["compliance_level"] == "fapi1_adv_pkj_par"
    changed = api.patch_client(
        client["client_id"],
        {"compliance_level": "fapi2_sp_mtls_mtls", "require_proof_of_possession": False},
    )
    assert changed["compliance_level"] == "fapi2_sp_mtls_mtls"
    assert changed["require_proof_of_possession"] is False
    refused(api, {"compliance_level": "fapi3"}, client["client_id"])


def test_token_exchange_takes_auth0s_profile_types(api: ClientsApi) -> None:
    # Source: recording TestClient_CreateWithTokenExchange; go-auth0
    # ClientTokenExchangeTypeEnum (custom_authentication, on_behalf_of_token_exchange).
    exchange = {"allow_any_profile_of_type": ["custom_authentication"]}
    client = api.create_client({"name": "Exchanger", "token_exchange": exchange})
    assert api.get_client(client["client_id"])["token_exchange"] == exchange
    refused(api, {"token_exchange": {"allow_any_profile_of_type": ["impersonation"]}})


def test_native_settings_are_typed_and_native_social_login_is_for_native_apps(
    api: ClientsApi,
) -> None:
    # Source: go-auth0 ClientMobile{Android,iOs} and NativeSocialLogin types; terraform
    # resource.go native_social_login: "Once this is set it must stay set, with both
    # resources set to false in order to change the app_type", read strictly: no enabled
    # provider on an app that is not native.
    mobile = {
        "ios": {"team_id": "ABCDE12345", "app_bundle_identifier": "com.example.pay"},
        "android": {"app_package_name": "com.example.pay", "sha256_cert_fingerprints": ["AB"]},
    }
    social = {"apple": {"enabled": True}, "google": {"enabled": False}}
    client = api.create_client(
        {"name": "Pay", "app_type": "native", "mobile": mobile, "native_social_login": social}
    )
    read = api.get_client(client["client_id"])
    assert read["mobile"] == mobile and read["native_social_login"] == social
    refused(api, {"app_type": "spa"}, client["client_id"])
    refused(api, {"mobile": {"windows": {}}}, client["client_id"])
    api.patch_client(client["client_id"], {"native_social_login": {"apple": {"enabled": False}}})
    assert api.patch_client(client["client_id"], {"app_type": "spa"})["app_type"] == "spa"


def test_refresh_token_policies_are_for_first_party_apps_and_not_the_management_api(
    api: ClientsApi,
) -> None:
    # Source: recording TestClient_CreateWithClientRefreshToken (policies answered as
    # sent); Auth0 docs multi-resource-refresh-token.mdx, "Limitations": first-party
    # applications only, and "The Auth0 Management API can not be included" (refused
    # here, the stricter reading).
    refresh = {
        "rotation_type": "non-rotating",
        "expiration_type": "expiring",
        "policies": [{"audience": "https://mrrt", "scope": ["create:bar", "read:bar"]}],
    }
    client = api.create_client({"name": "Native", "refresh_token": refresh})
    assert api.get_client(client["client_id"])["refresh_token"]["policies"] == refresh["policies"]
    refused(api, {"is_first_party": False, "refresh_token": refresh})
    management = [{"audience": "https://tenant.eu.auth0.com/api/v2/", "scope": ["read:users"]}]
    refused(api, {"refresh_token": {**refresh, "policies": management}})
    refused(api, {"refresh_token": {**refresh, "policies": [{"audience": "https://mrrt"}]}})


def test_allowed_clients_are_kept_as_given(api: ClientsApi) -> None:
    # Source: go-auth0 Client.AllowedClients ("List of allow clients and API ids that are
    # allowed to make delegation requests. Empty means all all your clients are allowed").
    client = api.create_client({"name": "Delegate", "allowed_clients": ["abc", "def"]})
    assert api.get_client(client["client_id"])["allowed_clients"] == ["abc", "def"]
    assert api.patch_client(client["client_id"], {"allowed_clients": []})["allowed_clients"] == []


def test_an_older_tenants_legacy_cross_origin_auth_reads_as_cross_origin_authentication(
    imitation: Imitation, api: ClientsApi
) -> None:
    # Source: recording TestClient_List (January 2023): the tenant answered a new client
    # with "cross_origin_auth":false, the legacy name, and no cross_origin_authentication;
    # auth0-deploy-cli renames it (handlers/clients.ts:510-535). Such a tenant is taken to
    # keep answering the old name after a write of the new one (the stricter reading: the
    # perpetual drift of auth0-fidelity.md section 3).
    imitation.seed(
        {
            "clients": [
                {
                    "client_id": "legacyClient0000000000000000000a",
                    "name": "Old",
                    "cross_origin_auth": True,
                }
            ]
        }
    )
    registry = ClientsRegistry(api, "auth0://tenant.test")
    [app] = [app for app in registry.list_apps() if app.client_id.startswith("legacy")]
    assert app.record.get("cross_origin_auth") is True
    assert "cross_origin_authentication" not in app.record
    assert app.fields["cross_origin_authentication"] is True
    stamp = Stamp.for_fields("team", "old", {"cross_origin_authentication": False})
    updated = registry.update(app, {"cross_origin_authentication": False}, stamp)
    assert updated.record.get("cross_origin_auth") is False
    assert updated.fields["cross_origin_authentication"] is False
    fresh = api.create_client({"name": "New", "cross_origin_auth": True})
    assert fresh["cross_origin_authentication"] is True and "cross_origin_auth" not in fresh


def test_signed_request_objects_take_keys_inline_on_create_and_by_id_after(
    api: ClientsApi, public_key_pem: str
) -> None:
    # Source: Auth0 docs configure-jar.mdx (a new application sends its JAR keys inline in
    # signed_request_object.credentials; an existing one creates the credential first and
    # PATCHes its id) and recording TestClientSignedRequestObject (the POST answer holds
    # the new credentials in full, the PATCH takes [{id}]); a credential still in use is
    # not deleted (dcli clientAuthCredentials.ts, before its re-wire PATCH).
    key = {"name": "jar", "credential_type": "public_key", "pem": public_key_pem, "alg": "PS256"}
    client = api.create_client(
        {"name": "Bank", "signed_request_object": {"required": True, "credentials": [key]}}
    )
    [created] = client["signed_request_object"]["credentials"]
    assert created["name"] == "jar" and created["alg"] == "PS256" and "pem" not in created
    client_id = client["client_id"]
    read = api.get_client(client_id)["signed_request_object"]
    assert read == {"required": True, "credentials": [{"id": created["id"]}]}
    refused(api, {"signed_request_object": {"credentials": [{"id": "cred_missing"}]}}, client_id)
    with pytest.raises(ApiError) as in_use:
        api.delete_credential(client_id, created["id"])
    assert in_use.value.status == 400
    # Another key: a client holds one credential per kid (tests/fidelity/test_credentials.py).
    second = api.create_credential(client_id, {**key, "name": "jar-2", "pem": _public_key_pem()})
    api.patch_client(client_id, {"signed_request_object": {"credentials": [{"id": second["id"]}]}})
    api.delete_credential(client_id, created["id"])
    assert [c["name"] for c in api.list_credentials(client_id)] == ["jar-2"]


def test_a_client_metadata_patch_counts_its_members_nulls_included(api: ClientsApi) -> None:
    # Source: go-auth0 clients.go, ClientMetadata: "up to 10 properties"; whether Auth0
    # counts a PATCH body's members (nulls that remove keys included) or only the merged
    # result is not published (auth0-fidelity.md section 3, "unknown"): the imitations
    # take the stricter reading and count the body, so the backend must split a body that
    # removes and adds more than ten members between them.
    before = {f"old{n}": "v" for n in range(7)}
    client = api.create_client({"name": "Meta", "client_metadata": before})
    body = {**{name: None for name in before}, **{f"new{n}": "v" for n in range(4)}}
    message = refused(api, {"client_metadata": body}, client["client_id"])
    assert "Too many properties defined (11), maximum 10" in message

    registry = ClientsRegistry(api, "fidelity:")
    [current] = [app for app in registry.list_apps() if app.client_id == client["client_id"]]
    wanted = {f"new{n}": "v" for n in range(7)}
    stamp = Stamp.for_fields("owner", "meta", {"client_metadata": wanted})
    updated = registry.update(current, {"client_metadata": wanted}, stamp)
    assert updated.fields["client_metadata"] == wanted
    assert api.get_client(client["client_id"])["client_metadata"] == {
        **wanted,
        **stamp.to_metadata(),
    }


def test_every_app_type_auth0_names_is_accepted(api: ClientsApi) -> None:
    # Source: go-auth0 clients.go, ClientAppTypeEnum (auth0-fidelity.md section 3, the
    # app_type row): b2b_integration among them.
    for app_type in ("b2b_integration", "express_configuration", "sso_integration", "oag"):
        assert api.create_client({"name": app_type, "app_type": app_type})["app_type"] == app_type
    refused(api, {"app_type": "toaster"})
