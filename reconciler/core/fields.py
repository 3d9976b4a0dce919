"""The canonical field vocabulary shared by manifests, registries, stamps and plans."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "ACCESS_FIELDS",
    "APP_TYPE_BY_MANIFEST_TYPE",
    "CIMD_MANIFEST_FIELDS",
    "DERIVED_FIELDS",
    "MANAGED_FIELDS",
    "MANIFEST_TYPE_BY_APP_TYPE",
    "PARTIAL_OBJECTS",
    "REQUEST_OBJECT_USE",
    "SECRET_METHODS",
    "SET_LIKE_FIELDS",
    "STAMPED_FIELDS",
    "gains_a_secret",
]

#: A manifest's ``type`` -> the ``app_type`` a registry holds, and back.
APP_TYPE_BY_MANIFEST_TYPE = {
    "spa": "spa",
    "native": "native",
    "regular_web": "regular_web",
    "m2m": "non_interactive",
}
MANIFEST_TYPE_BY_APP_TYPE = {
    registry: manifest for manifest, registry in APP_TYPE_BY_MANIFEST_TYPE.items()
}

#: Every field the reconciler may write (the write allowlist), in a fixed order.
MANAGED_FIELDS = (
    "name",
    "description",
    "app_type",
    "callbacks",
    "allowed_origins",
    "web_origins",
    "allowed_logout_urls",
    "initiate_login_uri",
    "logo_uri",
    "grant_types",
    "token_endpoint_auth_method",
    "is_first_party",
    "oidc_conformant",
    "cross_origin_authentication",
    "refresh_token",
    "jwt_configuration",
    "organization_usage",
    "organization_require_behavior",
    "client_metadata",
    "credentials",
    "client_uri",
    "policy_uri",
    "tos_uri",
    "contacts",
    "oidc_logout",
    "mobile",
    "native_social_login",
    "require_pushed_authorization_requests",
    "require_proof_of_possession",
    "compliance_level",
    "token_exchange",
    "sso_disabled",
    "default_organization",
    "organization_discovery_methods",
    "allowed_clients",
    "signed_request_object",
)
#: What an app may access, which a registry holds apart from the client (Auth0's client
#: grants, and the enabled clients of its connections): compared and stamped as fields
#: are, written by requests of their own. ``grants`` maps each API's audience (with
#: `` as user`` for a user grant) to its scopes and organization members; ``connections``
#: lists connection names.
ACCESS_FIELDS = ("grants", "connections")
#: Fields a registry holds in place of what a manifest says, never named in a manifest:
#: ``scope``, the scopes of an app's ``apis`` as a registry that holds no grants holds
#: them (RFC 7591 ``scope``: sorted, unique, space-separated).
DERIVED_FIELDS = ("scope",)
#: Every field a stamp keeps the hash of; its place here is its letter in the stamp, so
#: the order is append-only (stamps already written keep their letters): a new field goes
#: at the end, wherever it sits in MANAGED_FIELDS.
STAMPED_FIELDS = (*MANAGED_FIELDS[:24], *ACCESS_FIELDS, *DERIVED_FIELDS, *MANAGED_FIELDS[24:36])
#: Arrays whose order means nothing, compared and shown sorted: a field's name, or the path
#: of a member inside an object field (``oidc_logout.backchannel_logout_urls``; ``[]``
#: stands for each item of an array: ``refresh_token.policies[].scope``).
SET_LIKE_FIELDS = frozenset(
    {
        "callbacks",
        "allowed_origins",
        "web_origins",
        "allowed_logout_urls",
        "grant_types",
        "connections",
        "contacts",
        "organization_discovery_methods",
        "allowed_clients",
        "refresh_token.policies",
        "refresh_token.policies[].scope",
        "oidc_logout.backchannel_logout_urls",
        "oidc_logout.backchannel_logout_initiators.selected_initiators",
        "mobile.android.sha256_cert_fingerprints",
        "token_exchange.allow_any_profile_of_type",
        "default_organization.flows",
        "signed_request_object.credentials",
    }
)
#: Objects the server fills with defaults: only the members a manifest names are owned, at
#: every depth (``mobile.ios.team_id`` owns that member of ``mobile.ios`` alone).
PARTIAL_OBJECTS = frozenset(
    {
        "refresh_token",
        "jwt_configuration",
        "oidc_logout",
        "mobile",
        "native_social_login",
        "signed_request_object",
    }
)
#: The ``use`` of a plan's key that verifies signed authorization requests (JAR), not
#: client assertions; it stands in ``signed_request_object.credentials``.
REQUEST_OBJECT_USE = "signed_request_object"
#: The token endpoint auth methods for which a registry hands out a client secret.
SECRET_METHODS = frozenset({"client_secret_post", "client_secret_basic", "client_secret_jwt"})
#: The methods of apps that authenticate without their client secret.
_WITHOUT_SECRET = frozenset(
    {"none", "private_key_jwt", "tls_client_auth", "self_signed_tls_client_auth"}
)
#: The managed fields a manifest sets on an app registered from a CIMD document: those Auth0
#: lets you edit there (the others come from the document).
CIMD_MANIFEST_FIELDS = frozenset(
    {
        "app_type",
        "grant_types",
        "description",
        "allowed_origins",
        "web_origins",
        "refresh_token",
        "jwt_configuration",
        "organization_usage",
        "organization_require_behavior",
        "client_metadata",
        "require_proof_of_possession",
        "organization_discovery_methods",
        "default_organization",
    }
)


def gains_a_secret(before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
    """Whether a change of ``token_endpoint_auth_method`` makes an app confidential: any
    secret the registry holds for it was never delivered, as nobody needed it until now
    (it is read back, or rotated where none can be shown). No method at all is not taken
    for public: Auth0 leaves it out of its answers unless it was set."""
    method = "token_endpoint_auth_method"
    return after.get(method) in SECRET_METHODS and before.get(method) in _WITHOUT_SECRET
