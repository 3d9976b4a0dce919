"""How Auth0 maps a Client ID Metadata Document onto a client (the preview's mapped_fields)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

__all__ = ["CIMD_GRANT_TYPES", "DOCUMENT_FIELDS", "mapped_fields"]

CIMD_GRANT_TYPES = ("authorization_code", "refresh_token")
#: Client fields that come from the document (a refresh rewrites them).
DOCUMENT_FIELDS = (
    "name",
    "app_type",
    "callbacks",
    "grant_types",
    "token_endpoint_auth_method",
    "logo_uri",
    "description",
    "jwks_uri",
)


def mapped_fields(url: str, document: Mapping[str, Any]) -> dict[str, Any]:
    """client_name -> name, redirect_uris -> callbacks, application_type -> app_type, ..."""
    offered = document.get("grant_types", ["authorization_code"])
    method = document.get("token_endpoint_auth_method", "none")
    mapped: dict[str, Any] = {
        "external_client_id": url,
        "name": document.get("client_name") or urlsplit(url).hostname or url,
        "app_type": "native" if document.get("application_type") == "native" else "regular_web",
        "callbacks": list(document.get("redirect_uris", [])),
        "grant_types": list(dict.fromkeys(g for g in offered if g in CIMD_GRANT_TYPES)),
        "token_endpoint_auth_method": method,
    }
    for name in ("logo_uri", "description"):
        if name in document:
            mapped[name] = document[name]
    if method == "private_key_jwt" and "jwks_uri" in document:
        mapped["jwks_uri"] = document["jwks_uri"]
    return mapped
