"""What Auth0 allows a third-party app: the security controls of a strict one, as data.

A third-party app (``is_first_party: false``, and every app registered from a Client ID
Metadata Document) is created in Auth0's "strict" security mode unless the tenant's
account may still make "permissive" ones. A strict app takes only a curated set of client
members, only three grants, ``RS256`` ID tokens and refresh tokens that expire; it can
never become first-party, nor a first-party app third-party (Auth0's
``security-controls.mdx`` and ``permissive-mode.mdx``). Lint and the embedded tenant
both hold apps to these.
"""

from __future__ import annotations

__all__ = [
    "THIRD_PARTY_APP_TYPES",
    "THIRD_PARTY_CLIENT_MEMBERS",
    "THIRD_PARTY_GRANT_TYPES",
    "THIRD_PARTY_JWT_ALG",
    "THIRD_PARTY_JWT_MEMBERS",
    "THIRD_PARTY_RULES",
]

#: The grants a strict third-party app may use: no implicit, password or device code.
THIRD_PARTY_GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
THIRD_PARTY_APP_TYPES = ("regular_web", "spa", "native", "non_interactive")
#: The only ID token signing algorithm (HS256 signs with the client secret).
THIRD_PARTY_JWT_ALG = "RS256"
THIRD_PARTY_JWT_MEMBERS = frozenset({"alg", "lifetime_in_seconds"})
#: The client members a request may set on a strict third-party app: Auth0's curated set
#: ("Restricted client configuration"), the members that make an app third-party, the
#: Organizations settings the same page supports, and what Auth0 lets you edit on a CIMD
#: app (which is one). Anything else, new members included, is refused.
THIRD_PARTY_CLIENT_MEMBERS = frozenset(
    {
        "name",
        "description",
        "logo_uri",
        "callbacks",
        "allowed_origins",
        "web_origins",
        "grant_types",
        "token_endpoint_auth_method",
        "client_authentication_methods",
        "client_secret",
        "app_type",
        "client_metadata",
        "jwt_configuration",
        "refresh_token",
        "require_proof_of_possession",
        "redirection_policy",
        "is_first_party",
        "third_party_security_mode",
        "oidc_conformant",
        "organization_usage",
        "organization_require_behavior",
        "organization_discovery_methods",
        "default_organization",
        "token_quota",
        "skip_non_verifiable_callback_uri_confirmation_prompt",
    }
)
#: The rules, worded once for every message that cites them.
THIRD_PARTY_RULES = "Auth0's security controls for third-party apps"
