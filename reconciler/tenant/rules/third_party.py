"""What the embedded tenant accepts for a third-party client, as Auth0 applies it.

A client with ``is_first_party: false`` is strict unless it was made in Auth0's
``permissive`` mode (older tenants' apps); every CIMD client is strict. A request may set
only the curated members on a strict client (``check_third_party_body``), and the client
as it would be stored must keep the strict values (``check_third_party_client``). No
client may switch between first and third party. Sources: Auth0's
``security-controls.mdx``, ``permissive-mode.mdx`` and ``register-applications-with-cimd.mdx``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from reconciler.core.cimd_fields import CIMD_GRANT_TYPES
from reconciler.core.third_party import (
    THIRD_PARTY_APP_TYPES,
    THIRD_PARTY_CLIENT_MEMBERS,
    THIRD_PARTY_GRANT_TYPES,
    THIRD_PARTY_JWT_ALG,
    THIRD_PARTY_JWT_MEMBERS,
)
from reconciler.tenant.schema import invalid_body

__all__ = [
    "CIMD_APP_TYPES",
    "check_third_party_body",
    "check_third_party_client",
    "is_strict_third_party",
]

#: A CIMD client is native or regular_web as its document says, or spa once PATCHed so
#: (Terraform's ``auth0_client_cimd`` documents all three).
CIMD_APP_TYPES = ("native", "spa", "regular_web")
_EXACT_URL_FIELDS = ("callbacks", "allowed_origins", "web_origins")


def is_strict_third_party(client: Mapping[str, Any]) -> bool:
    """A third-party client under Auth0's security controls (not a ``permissive`` one)."""
    return (
        client.get("is_first_party") is False
        and client.get("third_party_security_mode") != "permissive"
    )


def check_third_party_body(body: Mapping[str, Any], client: Mapping[str, Any]) -> None:
    """Refuse a member a request may not set on ``client`` (the body itself on create)."""
    if not is_strict_third_party(client):
        return
    for name in body:
        if name not in THIRD_PARTY_CLIENT_MEMBERS:
            raise invalid_body(
                f"Additional properties not allowed: {name} (a third-party client takes only "
                "a curated set of properties)"
            )
    jwt_configuration = body.get("jwt_configuration")
    for member in jwt_configuration if isinstance(jwt_configuration, dict) else ():
        if member not in THIRD_PARTY_JWT_MEMBERS:
            raise invalid_body(
                f"Additional properties not allowed: {member} (a third-party client takes "
                f"only {' and '.join(sorted(THIRD_PARTY_JWT_MEMBERS))})",
                "jwt_configuration",
            )


def check_third_party_client(client: Mapping[str, Any], previous: Mapping[str, Any] | None) -> None:
    """The whole client as it would be stored, after a create (``previous`` None) or a
    PATCH of ``previous``."""
    if previous is not None and _first_party(previous) != _first_party(client):
        raise invalid_body(
            "is_first_party cannot be changed after creation: a third-party client cannot "
            "become first-party, nor a first-party client third-party (create a new client)",
            "is_first_party",
        )
    if not is_strict_third_party(client):
        return
    cimd = client.get("external_metadata_type") == "cimd"
    app_types = CIMD_APP_TYPES if cimd else THIRD_PARTY_APP_TYPES
    if "app_type" in client and client["app_type"] not in app_types:
        raise invalid_body(f"No enum match for: {json.dumps(client['app_type'])}", "app_type")
    grants = CIMD_GRANT_TYPES if cimd else THIRD_PARTY_GRANT_TYPES
    for index, grant in enumerate(client.get("grant_types") or []):
        if grant not in grants:
            raise invalid_body(
                f"No enum match for: {json.dumps(grant)} (a third-party client may use only "
                f"{', '.join(grants)})",
                f"grant_types[{index}]",
            )
    if "client_credentials" in (client.get("grant_types") or []) and (
        client.get("token_endpoint_auth_method") == "none"
    ):
        raise invalid_body(
            "A third-party client needs to be confidential to use client_credentials: "
            'token_endpoint_auth_method cannot be "none"',
            "grant_types",
        )
    alg = (client.get("jwt_configuration") or {}).get("alg")
    if alg is not None and alg != THIRD_PARTY_JWT_ALG:
        raise invalid_body(
            f"No enum match for: {json.dumps(alg)} (a third-party client signs with "
            f"{THIRD_PARTY_JWT_ALG})",
            "jwt_configuration.alg",
        )
    _check_refresh_token(client.get("refresh_token") or {})
    _check_exact_urls(client)
    if cimd and client.get("oidc_conformant") is not True:
        raise invalid_body(
            "A client registered from a Client ID Metadata Document must stay OIDC conformant",
            "oidc_conformant",
        )


def _first_party(client: Mapping[str, Any]) -> bool:
    return client.get("is_first_party") is not False


def _check_refresh_token(refresh_token: Mapping[str, Any]) -> None:
    if refresh_token and refresh_token.get("expiration_type") != "expiring":
        raise invalid_body(
            'A third-party client needs "expiring" refresh tokens',
            "refresh_token.expiration_type",
        )
    if refresh_token.get("infinite_idle_token_lifetime"):
        raise invalid_body(
            "A third-party client cannot have an infinite idle token lifetime",
            "refresh_token.infinite_idle_token_lifetime",
        )


def _check_exact_urls(client: Mapping[str, Any]) -> None:
    """No wildcard subdomains: a third-party client's URLs are exact."""
    for field in _EXACT_URL_FIELDS:
        for index, url in enumerate(client.get(field) or []):
            if isinstance(url, str) and "*" in url:
                raise invalid_body(
                    f"A third-party client's URLs must be exact: {url} has a wildcard",
                    f"{field}[{index}]",
                )
