"""What the embedded tenant accepts of a client's login, native, request and token
settings: back-channel logout (``oidc_logout``), ``mobile``, ``native_social_login``,
JWT-secured authorization requests (``signed_request_object``), ``token_exchange`` and
the multi-resource refresh token ``refresh_token.policies``.

``SETTINGS_MEMBERS`` are their schemas, as go-auth0's generated ``management/clients.go``
(v3.1.0, from Auth0's API definition) types them; ``check_settings`` holds the rules
across fields that Auth0's guides state (``core.app_settings``), each taken at its
stricter reading where they and the SDKs disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.core.app_settings import (
    LOGOUT_INITIATORS,
    MANAGEMENT_API,
    MAX_LOGOUT_URLS,
    REQUIRED_LOGOUT_INITIATORS,
    TOKEN_EXCHANGE_TYPES,
    logout_url_problem,
)
from reconciler.tenant.schema import (
    FLAG,
    NONEMPTY_TEXT,
    TEXT,
    Rule,
    array_rule,
    enum_rule,
    invalid_body,
    object_rule,
)

__all__ = ["SETTINGS_MEMBERS", "check_request_object", "check_settings", "request_object_rule"]

_ENABLED = object_rule({"enabled": FLAG})
SETTINGS_MEMBERS: dict[str, Rule] = {
    "oidc_logout": object_rule(
        {
            "backchannel_logout_urls": array_rule(NONEMPTY_TEXT),
            "backchannel_logout_initiators": object_rule(
                {
                    "mode": enum_rule("custom", "all"),
                    "selected_initiators": array_rule(enum_rule(*LOGOUT_INITIATORS)),
                },
                required=("mode",),
            ),
            "backchannel_logout_session_metadata": object_rule(
                {"include": FLAG}, required=("include",), nullable=True
            ),
        },
        nullable=True,
    ),
    "mobile": object_rule(
        {
            "android": object_rule(
                {"app_package_name": TEXT, "sha256_cert_fingerprints": array_rule(TEXT)}
            ),
            "ios": object_rule({"team_id": TEXT, "app_bundle_identifier": TEXT}),
        }
    ),
    "native_social_login": object_rule(
        {"apple": _ENABLED, "facebook": _ENABLED, "google": _ENABLED}
    ),
    "token_exchange": object_rule(
        {"allow_any_profile_of_type": array_rule(enum_rule(*TOKEN_EXCHANGE_TYPES))},
        nullable=True,
    ),
}


def check_settings(client: Mapping[str, Any]) -> None:
    """The rules across fields of these settings, on a whole client as it would be stored."""
    _check_logout(client.get("oidc_logout") or {})
    _check_native(client)
    _check_refresh_token_policies(client)
    if client.get("organization_require_behavior") == "post_login_prompt" and (
        client.get("oidc_conformant") is not True
    ):
        # go-auth0 ClientOrganizationRequireBehaviorPatchEnum: "`post_login_prompt`
        # requires `oidc_conformant: true`".
        raise invalid_body(
            'organization_require_behavior "post_login_prompt" needs oidc_conformant true',
            "organization_require_behavior",
        )


def _check_logout(logout: Mapping[str, Any]) -> None:
    urls = logout.get("backchannel_logout_urls") or []
    if len(urls) > MAX_LOGOUT_URLS:
        raise invalid_body(
            f"Array is too long ({len(urls)}), maximum {MAX_LOGOUT_URLS}",
            "oidc_logout.backchannel_logout_urls",
        )
    for index, url in enumerate(urls):
        problem = logout_url_problem(url)
        if problem:
            where = f"oidc_logout.backchannel_logout_urls[{index}]"
            raise invalid_body(problem[0].upper() + problem[1:], where)
    initiators = logout.get("backchannel_logout_initiators") or {}
    if initiators.get("mode") == "custom":
        selected = initiators.get("selected_initiators") or []
        missing = [name for name in REQUIRED_LOGOUT_INITIATORS if name not in selected]
        if missing:
            raise invalid_body(
                f"selected_initiators must include {' and '.join(missing)} in custom mode",
                "oidc_logout.backchannel_logout_initiators.selected_initiators",
            )


def _check_native(client: Mapping[str, Any]) -> None:
    # terraform-provider-auth0 resource.go (native_social_login): "Once this is set it must
    # stay set, with both resources set to false in order to change the app_type"; the
    # stricter reading: no enabled provider on an app that is not native.
    social = client.get("native_social_login") or {}
    enabled = [name for name, value in social.items() if (value or {}).get("enabled")]
    if enabled and client.get("app_type") != "native":
        raise invalid_body(
            f"Native social login ({', '.join(enabled)}) is only for native applications: "
            "disable it before changing app_type",
            "native_social_login",
        )


def _check_refresh_token_policies(client: Mapping[str, Any]) -> None:
    # Auth0 docs multi-resource-refresh-token.mdx, "Limitations": MRRT "supports only
    # first-party applications" and "The Auth0 Management API can not be included in the
    # MRRT policies" (refused here, the stricter reading of "not supported").
    policies = (client.get("refresh_token") or {}).get("policies") or []
    if policies and client.get("is_first_party") is False:
        raise invalid_body(
            "Multi-resource refresh token policies are only for first-party applications",
            "refresh_token.policies",
        )
    for index, policy in enumerate(policies):
        if MANAGEMENT_API.match(str(policy.get("audience", ""))):
            raise invalid_body(
                "The Management API cannot be included in refresh token policies",
                f"refresh_token.policies[{index}].audience",
            )


def request_object_rule(credential: Rule) -> Rule:
    """``signed_request_object``: whether JAR is required, and the keys that verify the
    request objects: new credentials on POST /clients, references to the client's own on
    PATCH (Auth0 docs configure-jar.mdx; go-auth0 ClientSignedRequestObjectWithPublicKey
    and ...WithCredentialID)."""
    return object_rule({"required": FLAG, "credentials": array_rule(credential)}, nullable=True)


def check_request_object(client: Mapping[str, Any], credential_types: Mapping[str, str]) -> None:
    """Every key ``signed_request_object`` names is a public key of this client."""
    references = (client.get("signed_request_object") or {}).get("credentials") or []
    for index, reference in enumerate(references):
        credential_id = reference.get("id")
        found = credential_types.get(str(credential_id))
        where = f"signed_request_object.credentials[{index}].id"
        if found is None:
            raise invalid_body(f"Credential {credential_id} does not exist for this client", where)
        if found != "public_key":
            raise invalid_body(
                f"Credential {credential_id} is a {found} credential; JWT-secured "
                "authorization requests take public_key credentials",
                where,
            )
