"""What the embedded tenant accepts for a client registered from a Client ID Metadata Document.

``cimd_mapped_fields`` turns a fetched document into the client fields it gives, refusing
a document no client could be made from; ``check_cimd_patch`` refuses a PATCH of what such
a client takes from its document. Such a client is a strict third-party one: the values
it must keep are checked with the other third-party rules (``third_party``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.core.cimd_fields import mapped_fields
from reconciler.tenant.rules.clients import CLIENT_MEMBERS
from reconciler.tenant.schema import (
    NONEMPTY_TEXT,
    TEXT,
    URLS,
    JsonObject,
    Rule,
    array_rule,
    check,
    enum_rule,
    invalid_body,
)

__all__ = ["CIMD_PATCHABLE_MEMBERS", "check_cimd_patch", "cimd_mapped_fields"]

#: What a PATCH of a client registered from a CIMD document may carry: Auth0's documented
#: list, plus what auth0-deploy-cli and terraform also send.
CIMD_PATCHABLE_MEMBERS = frozenset(
    "app_type grant_types jwt_configuration description oidc_conformant "
    "allowed_origins web_origins refresh_token organization_usage "
    "organization_require_behavior organization_discovery_methods "
    "default_organization client_metadata require_proof_of_possession token_quota "
    "skip_non_verifiable_callback_uri_confirmation_prompt redirection_policy".split()
)


def check_cimd_patch(body: Mapping[str, Any]) -> None:
    """Refuse what a PATCH may not change on a client registered from a CIMD document
    (which, a third-party client, takes only ``alg`` and ``lifetime_in_seconds`` of
    ``jwt_configuration`` as well: ``third_party``)."""
    for name in body:
        if name not in CIMD_PATCHABLE_MEMBERS:
            raise invalid_body(
                f"Additional properties not allowed: {name} (a client registered from a Client "
                "ID Metadata Document takes it from the document: register the URL again)",
            )


_CIMD_DOCUMENT_MEMBERS = {
    "client_id": NONEMPTY_TEXT,
    "client_name": CLIENT_MEMBERS["name"],
    "redirect_uris": URLS,
    "grant_types": array_rule(NONEMPTY_TEXT),
    "application_type": enum_rule("web", "native"),
    "token_endpoint_auth_method": enum_rule("none", "private_key_jwt"),
    "logo_uri": TEXT,
    "description": CLIENT_MEMBERS["description"],
    "jwks_uri": NONEMPTY_TEXT,
}


def cimd_mapped_fields(url: str, document: object) -> JsonObject:
    """The client fields a Client ID Metadata Document gives: the preview's ``mapped_fields``.

    ``document`` has been fetched and validated against the CIMD rules already; this
    refuses only what would make a client the tenant itself would not accept.
    """
    if not isinstance(url, str) or not url:
        raise invalid_body("Expected a non-empty URL", "external_client_id")
    check(document, Rule(type="object"))
    assert isinstance(document, dict)
    for name, rule in _CIMD_DOCUMENT_MEMBERS.items():
        if name in document:
            check(document[name], rule, name)
    if document.get("client_id", url) != url:
        raise invalid_body("The document's client_id must equal its URL", "client_id")
    mapped = mapped_fields(url, document)
    if not mapped["grant_types"]:
        raise invalid_body(
            "grant_types must include authorization_code or refresh_token", "grant_types"
        )
    if mapped["token_endpoint_auth_method"] == "private_key_jwt" and "jwks_uri" not in mapped:
        raise invalid_body("Missing required property: jwks_uri (for private_key_jwt)")
    return mapped
