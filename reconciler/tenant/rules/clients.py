"""What the embedded tenant accepts as a client: the bodies of POST and PATCH /clients,
and the rules across a client's fields that a schema cannot express.

The schema comes first (``check_new_client``, ``check_client_patch``); then
``check_client_rules`` reads the whole client as it would be stored: fields that exclude
each other, credential references, organization settings, and the values a third-party
client (one registered from a Client ID Metadata Document too) must keep (``third_party``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.core.app_settings import COMPLIANCE_LEVELS
from reconciler.tenant.rules.credentials import (
    CREDENTIAL_REFERENCE,
    CREDENTIAL_TYPE_FOR_METHOD,
    NEW_CREDENTIAL,
    check_authentication,
)
from reconciler.tenant.rules.settings import (
    SETTINGS_MEMBERS,
    check_request_object,
    check_settings,
    request_object_rule,
)
from reconciler.tenant.rules.third_party import check_third_party_client
from reconciler.tenant.schema import (
    FLAG,
    NONEMPTY_TEXT,
    TEXT,
    URLS,
    JsonObject,
    Rule,
    array_rule,
    check,
    enum_rule,
    invalid_body,
    object_rule,
)

__all__ = [
    "AUTH0_APP_TYPES",
    "CLIENT_MEMBERS",
    "DEFAULT_GRANT_TYPES",
    "check_client_patch",
    "check_client_rules",
    "check_new_client",
]

#: Every ``app_type`` Auth0 accepts on a client (go-auth0 ``clients.go``, ClientAppTypeEnum).
AUTH0_APP_TYPES = tuple(
    "native spa regular_web non_interactive resource_server express_configuration "
    "b2b_integration rms box cloudbees concur dropbox mscrm echosign egnyte newrelic "
    "office365 salesforce sentry sharepoint slack springcm zendesk zoom sso_integration oag".split()
)
GRANT_TYPES = (
    "authorization_code",
    "implicit",
    "refresh_token",
    "client_credentials",
    "password",
    "http://auth0.com/oauth/grant-type/password-realm",
    "http://auth0.com/oauth/grant-type/mfa-oob",
    "http://auth0.com/oauth/grant-type/mfa-otp",
    "http://auth0.com/oauth/grant-type/mfa-recovery-code",
    "urn:openid:params:grant-type:ciba",
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:auth0:params:oauth:grant-type:token-exchange:federated-connection-access-token",
)
DEFAULT_GRANT_TYPES = ("authorization_code", "implicit", "refresh_token", "client_credentials")
JWT_ALGS = ("HS256", "RS256", "RS512", "PS256")
ASYMMETRIC_JWT_ALGS = ("RS256", "RS512", "PS256")
MAX_METADATA_KEYS = 10
MAX_METADATA_LENGTH = 255
#: Strings a PATCH may not set to null: the client would be left without them.
_NOT_NULLABLE_ON_PATCH = ("name", "client_secret")
_METADATA_KEY_PATTERN = r'^[A-Za-z0-9:,\-+=_*?"/\\()<>@\t ]+$'


def _authentication_methods(credential: Rule, *, nullable: bool) -> Rule:
    method = object_rule(
        {"credentials": array_rule(credential, min_items=1)}, required=("credentials",)
    )
    return object_rule({name: method for name in CREDENTIAL_TYPE_FOR_METHOD}, nullable=nullable)


_REFRESH_TOKEN = object_rule(
    {
        "rotation_type": enum_rule("rotating", "non-rotating"),
        "expiration_type": enum_rule("expiring", "non-expiring"),
        "leeway": Rule(type="integer", minimum=0),
        "token_lifetime": Rule(type="integer", minimum=1),
        "idle_token_lifetime": Rule(type="integer", minimum=1),
        "infinite_token_lifetime": FLAG,
        "infinite_idle_token_lifetime": FLAG,
        "policies": array_rule(
            object_rule(
                {"audience": NONEMPTY_TEXT, "scope": array_rule(NONEMPTY_TEXT)},
                required=("audience", "scope"),
            )
        ),
    },
    required=("rotation_type", "expiration_type"),
    nullable=True,
)
_CLIENT_METADATA = Rule(
    type="object",
    key_rule=Rule(type="string", max_length=MAX_METADATA_LENGTH, pattern=_METADATA_KEY_PATTERN),
    value_rule=Rule(type="string", max_length=MAX_METADATA_LENGTH),
    max_properties=MAX_METADATA_KEYS,
    nullable=True,
)
_ANY_OBJECT = Rule(type="object", nullable=True)
_FREE_FORM_OBJECTS = tuple(
    "addons fedcm_login oidc_backchannel_logout session_transfer token_quota "
    "token_vault_privileged_access express_configuration "
    "my_organization_configuration".split()
)
CLIENT_MEMBERS: dict[str, Rule] = {
    "name": Rule(type="string", min_length=1, pattern=r"^[^<>]+$"),
    "description": Rule(type="string", max_length=140),
    "logo_uri": TEXT,
    "callbacks": URLS,
    "allowed_origins": URLS,
    "web_origins": URLS,
    "allowed_logout_urls": URLS,
    "client_aliases": URLS,
    "allowed_clients": URLS,
    "grant_types": array_rule(Rule(type="string", min_length=1, enum=GRANT_TYPES)),
    "app_type": enum_rule(*AUTH0_APP_TYPES),
    "is_first_party": FLAG,
    "oidc_conformant": FLAG,
    "cross_origin_authentication": FLAG,
    "cross_origin_auth": FLAG,
    "sso": FLAG,
    "sso_disabled": FLAG,
    "custom_login_page_on": FLAG,
    "is_token_endpoint_ip_header_trusted": FLAG,
    "require_pushed_authorization_requests": FLAG,
    "require_proof_of_possession": FLAG,
    "skip_non_verifiable_callback_uri_confirmation_prompt": Rule(type="boolean", nullable=True),
    "cross_origin_loc": TEXT,
    "custom_login_page": TEXT,
    "custom_login_page_preview": TEXT,
    "form_template": TEXT,
    "initiate_login_uri": Rule(type="string", format="absolute-https-uri-or-empty"),
    "jwt_configuration": object_rule(
        {
            "lifetime_in_seconds": Rule(type="integer", minimum=0),
            "scopes": Rule(type="object"),
            "alg": enum_rule(*JWT_ALGS),
        }
    ),
    "encryption_key": object_rule({"pub": TEXT, "cert": TEXT, "subject": TEXT}, nullable=True),
    "client_metadata": _CLIENT_METADATA,
    "refresh_token": _REFRESH_TOKEN,
    "organization_usage": enum_rule("deny", "allow", "require"),
    "organization_require_behavior": enum_rule(
        "no_prompt", "pre_login_prompt", "post_login_prompt"
    ),
    "organization_discovery_methods": array_rule(
        enum_rule("email", "organization_name"), nullable=True
    ),
    "default_organization": object_rule(
        {"organization_id": NONEMPTY_TEXT, "flows": array_rule(enum_rule("client_credentials"))},
        required=("organization_id", "flows"),
        nullable=True,
    ),
    "compliance_level": enum_rule(*COMPLIANCE_LEVELS, nullable=True),
    "redirection_policy": enum_rule("allow_always", "open_redirect_protection"),
    "par_request_expiry": Rule(type="integer", minimum=10, maximum=600, nullable=True),
    "async_approval_notification_channels": array_rule(enum_rule("guardian-push", "email")),
    **{name: _ANY_OBJECT for name in _FREE_FORM_OBJECTS},
    **SETTINGS_MEMBERS,
}
_NEW_CLIENT = object_rule(
    {
        **CLIENT_MEMBERS,
        "token_endpoint_auth_method": enum_rule(
            "none", "client_secret_post", "client_secret_basic"
        ),
        "client_authentication_methods": _authentication_methods(NEW_CREDENTIAL, nullable=False),
        "signed_request_object": request_object_rule(NEW_CREDENTIAL),
        "third_party_security_mode": enum_rule("strict", "permissive"),
        "resource_server_identifier": NONEMPTY_TEXT,
    },
    required=("name",),
)
_CLIENT_PATCH = object_rule(
    {
        **CLIENT_MEMBERS,
        "token_endpoint_auth_method": enum_rule(
            "none", "client_secret_post", "client_secret_basic", nullable=True
        ),
        "client_authentication_methods": _authentication_methods(
            CREDENTIAL_REFERENCE, nullable=True
        ),
        "signed_request_object": request_object_rule(CREDENTIAL_REFERENCE),
        "client_secret": NONEMPTY_TEXT,
    }
)


def check_new_client(body: object) -> JsonObject:
    """The body of a POST /clients, checked; inline credentials are checked separately."""
    check(body, _NEW_CLIENT)
    assert isinstance(body, dict)
    return body


def check_client_patch(body: object) -> JsonObject:
    """The body of a PATCH /clients/{id}, checked as a merge patch."""
    check(body, _CLIENT_PATCH, patch=True)
    assert isinstance(body, dict)
    for name in _NOT_NULLABLE_ON_PATCH:
        if name in body and body[name] is None:
            raise invalid_body("Expected type string but found type null", name)
    return body


def check_client_rules(
    client: Mapping[str, Any],
    *,
    previous: Mapping[str, Any] | None,
    credential_types: Mapping[str, str],
) -> None:
    """The rules across fields, on a whole client as it would be stored.

    ``previous`` is the stored client a PATCH starts from (None on create);
    ``credential_types`` maps each of the client's credential ids to its type.
    """
    metadata = client.get("client_metadata") or {}
    if len(metadata) > MAX_METADATA_KEYS:
        raise invalid_body(
            f"Too many properties defined ({len(metadata)}), maximum {MAX_METADATA_KEYS}",
            "client_metadata",
        )
    refresh_token = client.get("refresh_token")
    if isinstance(refresh_token, dict):
        for name in _REFRESH_TOKEN.required:
            if name not in refresh_token:
                raise invalid_body(f"Missing required property: {name}", "refresh_token")
    check_authentication(client, credential_types)
    _check_organizations(client)
    _check_third_party(client, previous)
    check_settings(client)
    check_request_object(client, credential_types)
    check_third_party_client(client, previous)


def _check_organizations(client: Mapping[str, Any]) -> None:
    if client.get("organization_discovery_methods") and (
        client.get("organization_require_behavior") != "pre_login_prompt"
    ):
        raise invalid_body(
            'organization_discovery_methods needs organization_require_behavior "pre_login_prompt"',
            "organization_discovery_methods",
        )


def _check_third_party(client: Mapping[str, Any], previous: Mapping[str, Any] | None) -> None:
    if "redirection_policy" in client and not (
        client.get("is_first_party") is False
        and client.get("third_party_security_mode") == "strict"
    ):
        raise invalid_body(
            "redirection_policy applies only to third-party clients "
            '(is_first_party false) in third_party_security_mode "strict"',
            "redirection_policy",
        )
    if (
        previous is None
        and "resource_server_identifier" in client
        and client.get("app_type") != "resource_server"
    ):
        raise invalid_body(
            'resource_server_identifier needs app_type "resource_server"',
            "resource_server_identifier",
        )
