"""Lint of an app's login, native, organization, request-security and token settings:
Auth0's rules across fields (``core.app_settings``), said at the manifest location where
the embedded tenant, or Auth0, would refuse the app or never let it sign anyone in."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from reconciler.core.app_settings import (
    MANAGEMENT_API,
    REQUIRED_LOGOUT_INITIATORS,
    logout_url_problem,
)
from reconciler.diagnostics import Diagnostic, Location, Severity
from reconciler.manifests.yamlfile import JsonPath

__all__ = ["SETTINGS_RULES"]

Locate = Callable[[JsonPath], Location]
Rule = Callable[[Mapping[str, Any], Locate, Path], Iterator[Diagnostic]]
WARNING = Severity.WARNING

#: An Android signing certificate's SHA-256 fingerprint as Android and Auth0 show it.
_FINGERPRINT = re.compile(r"^(?:[0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$")
#: An Apple developer team id.
_TEAM_ID = re.compile(r"^[A-Z0-9]{10}$")
_MTLS_METHODS = frozenset({"tls_client_auth", "self_signed_tls_client_auth"})


def _logout(app: Mapping[str, Any], locate: Locate, _: Path) -> Iterator[Diagnostic]:
    logout = _object(app, "oidc_logout")
    for index, url in enumerate(_strings(logout.get("backchannel_logout_urls"))):
        problem = logout_url_problem(url)
        if problem:
            where = locate(("oidc_logout", "backchannel_logout_urls", index))
            yield Diagnostic(where, "backchannel-logout-url", problem)
    initiators = _object(logout, "backchannel_logout_initiators")
    selected = list(_strings(initiators.get("selected_initiators")))
    path = ("oidc_logout", "backchannel_logout_initiators")
    if initiators.get("mode") == "custom":
        missing = [name for name in REQUIRED_LOGOUT_INITIATORS if name not in selected]
        if missing:
            yield Diagnostic(
                locate((*path, "selected_initiators" if selected else "mode")),
                "logout-initiators",
                f"custom logout initiators must include {' and '.join(missing)} (Auth0's rule)",
            )
    elif initiators.get("mode") == "all" and selected:
        yield Diagnostic(
            locate((*path, "selected_initiators")),
            "logout-initiators",
            "mode all enables every initiator: selected_initiators is ignored",
            WARNING,
        )


def _native(app: Mapping[str, Any], locate: Locate, _: Path) -> Iterator[Diagnostic]:
    native = app.get("type") == "native" or "cimd" in app
    mobile = _object(app, "mobile")
    if mobile and not native:
        yield Diagnostic(
            locate(("mobile",)),
            "mobile-not-native",
            "mobile settings are for native apps: Auth0 uses them only with type native",
            WARNING,
        )
    android = _object(mobile, "android")
    for index, fingerprint in enumerate(_strings(android.get("sha256_cert_fingerprints"))):
        if not _FINGERPRINT.match(fingerprint):
            yield Diagnostic(
                locate(("mobile", "android", "sha256_cert_fingerprints", index)),
                "mobile-fingerprint",
                f"{fingerprint!r} is not a SHA-256 certificate fingerprint: 32 hex pairs "
                "separated by colons, as keytool -list prints it",
            )
    team_id = _object(mobile, "ios").get("team_id")
    if isinstance(team_id, str) and not _TEAM_ID.match(team_id):
        yield Diagnostic(
            locate(("mobile", "ios", "team_id")),
            "mobile-team-id",
            f"{team_id!r} does not look like an Apple team id (10 capital letters and digits)",
            WARNING,
        )
    social = _object(app, "native_social_login")
    enabled = [name for name, value in social.items() if _object(social, name).get("enabled")]
    if enabled and app.get("type") != "native":
        yield Diagnostic(
            locate(("native_social_login",)),
            "native-social-login",
            f"native social login ({', '.join(enabled)}) is for native apps only: Auth0 "
            "refuses it on another type",
        )


def _organizations(app: Mapping[str, Any], locate: Locate, _: Path) -> Iterator[Diagnostic]:
    behavior = app.get("organization_require_behavior")
    if app.get("organization_discovery_methods") and behavior != "pre_login_prompt":
        yield Diagnostic(
            locate(("organization_discovery_methods",)),
            "organization-discovery",
            "organization_discovery_methods needs organization_require_behavior: "
            "pre_login_prompt (set [] to leave the prompt)",
        )
    if behavior == "post_login_prompt" and app.get("oidc_conformant") is False:
        yield Diagnostic(
            locate(("organization_require_behavior",)),
            "organization-prompt",
            "post_login_prompt needs oidc_conformant: true (Auth0's rule)",
        )
    if "default_organization" in app and "client_credentials" not in _grant_types(app):
        yield Diagnostic(
            locate(("default_organization",)),
            "default-organization-unused",
            "default_organization applies to client credentials requests only, and this "
            "app does not use the client_credentials grant",
            WARNING,
        )


def _request_security(app: Mapping[str, Any], locate: Locate, _: Path) -> Iterator[Diagnostic]:
    """What a FAPI ``compliance_level`` needs of the app, or no authorization request of
    it succeeds (Auth0 docs configure-fapi-compliance.mdx, the validation table). Auth0
    takes the level at write time whatever the app (go-auth0 recording
    TestClientSignedRequestObject), so only lint can say it."""
    level = app.get("compliance_level")
    if not isinstance(level, str) or level == "none":
        return
    where = locate(("compliance_level",))
    if app.get("oidc_conformant") is False:
        yield Diagnostic(
            locate(("oidc_conformant",)), "compliance-level", f"{level} needs oidc_conformant: true"
        )
    method = app.get("token_endpoint_auth_method")
    if "_pkj_" in level and method != "private_key_jwt":
        yield Diagnostic(
            where,
            "compliance-level",
            f"{level} authenticates with private_key_jwt: set token_endpoint_auth_method: "
            "private_key_jwt with credentials",
        )
    if level in ("fapi1_adv_mtls_par", "fapi2_sp_mtls_mtls") and method not in _MTLS_METHODS:
        yield Diagnostic(
            where,
            "compliance-level",
            f"{level} authenticates with mTLS (tls_client_auth or self_signed_tls_client_auth)",
        )
    if level.startswith("fapi1_"):
        for index, uri in enumerate(_strings(app.get("callbacks"))):
            if "*" in uri:
                yield Diagnostic(
                    locate(("callbacks", index)),
                    "compliance-level",
                    f"{level} forbids wildcard callbacks",
                )
        yield Diagnostic(
            where,
            "compliance-level-jar",
            f"{level} requires JWT-secured authorization requests signed with PS256: give "
            "the app its signed_request_object credentials outside the manifest",
            WARNING,
        )


def _tokens(app: Mapping[str, Any], locate: Locate, _: Path) -> Iterator[Diagnostic]:
    exchange = _object(app, "token_exchange")
    if "on_behalf_of_token_exchange" in _strings(exchange.get("allow_any_profile_of_type")):
        yield Diagnostic(
            locate(("token_exchange", "allow_any_profile_of_type")),
            "token-exchange-obo",
            "only Custom API clients (app_type resource_server) can use the On-Behalf-Of "
            "token exchange: this app cannot",
            WARNING,
        )
    policies = _object(app, "refresh_token").get("policies")
    listed = policies if isinstance(policies, list) else []
    third_party = "cimd" in app or app.get("is_first_party") is False
    if listed and third_party:
        yield Diagnostic(
            locate(("refresh_token", "policies")),
            "refresh-token-policies",
            "multi-resource refresh token policies are for first-party apps only",
        )
    seen: set[str] = set()
    for index, policy in enumerate(listed):
        audience = policy.get("audience") if isinstance(policy, dict) else None
        if not isinstance(audience, str):
            continue
        where = locate(("refresh_token", "policies", index, "audience"))
        if MANAGEMENT_API.match(audience):
            yield Diagnostic(
                where,
                "refresh-token-policies",
                "the Management API cannot be in refresh token policies (Auth0's rule)",
            )
        if audience in seen:
            yield Diagnostic(
                where,
                "refresh-token-policies",
                f"a second policy for {audience!r}: one per API, with all its scopes",
            )
        seen.add(audience)


SETTINGS_RULES: tuple[Rule, ...] = (_logout, _native, _organizations, _request_security, _tokens)


def _grant_types(app: Mapping[str, Any]) -> list[str]:
    """The app's grants: as listed, else its type's default (only m2m's has
    client_credentials)."""
    if "grant_types" in app:
        return list(_strings(app["grant_types"]))
    return ["client_credentials"] if app.get("type") == "m2m" else []


def _object(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name)
    return value if isinstance(value, dict) else {}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, str))
