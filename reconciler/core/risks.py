"""Risk labels a reviewer should see on a change, from its before and after."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import urlsplit

from reconciler.core.changes import Reason
from reconciler.core.hosts import is_loopback_host

__all__ = [
    "RISK_DESCRIPTIONS",
    "change_risks",
    "creation_risks",
    "deletion_risks",
    "refresh_risks",
]

RISK_DESCRIPTIONS = {
    "deletion": "the app is deleted: its users, grants and tokens stop working",
    "redirect-uri-added": "a new redirect URI can receive authorization codes",
    "redirect-uri-changed": "redirect URIs changed",
    "redirect-uri-reverted": (
        "redirect URIs edited outside reconciler are put back as the manifest declares them"
    ),
    "wildcard-redirect": "a redirect URI with a wildcard",
    "http-redirect": "a plain http redirect URI",
    "origin-added": "a new web or CORS origin can receive tokens and make cross-origin calls",
    "origin-changed": "web or CORS origins changed",
    "origin-reverted": (
        "origins edited outside reconciler are put back as the manifest declares them"
    ),
    "wildcard-origin": "a web or CORS origin with a wildcard",
    "grant-client_credentials": "client_credentials grant added",
    "grant-password": "password grant added",
    "grant-implicit": "implicit grant added",
    "grant-refresh_token": "refresh_token grant added",
    "first-party-flipped": "first-party flag changed (consent is skipped for first-party apps)",
    "auth-method-weakened": "client authentication weakened",
    "refresh-rotation-off": "refresh token rotation turned off",
    "keys-changed": "client authentication keys changed",
    "document-security-changed": (
        "the CIMD document changed security-sensitive fields since it was locked"
    ),
    "url-changed": "CIMD URL changed: a new client; grants and consent are lost",
    "secret-rotated": "the client secret is replaced: the old one stops working at once",
    "duplicate": "a second app for one key is deleted; the one whose secret was delivered stays",
    "api-added": "the app may call an API it could not call before",
    "m2m-scope-added": "a machine-to-machine app gets a scope it did not have",
    "any-organization": "a grant allows tokens for any organization",
    "grants-reverted": (
        "grants edited outside reconciler are put back as the manifest declares them"
    ),
    "connection-added": "users can log in to the app through another connection",
    "connections-reverted": (
        "connections edited outside reconciler are put back as the manifest declares them"
    ),
}

_REDIRECT_FIELDS = ("callbacks", "allowed_logout_urls")
_ORIGIN_FIELDS = ("web_origins", "allowed_origins")
_WATCHED_GRANTS = ("client_credentials", "password", "implicit", "refresh_token")
_LEGACY_GRANTS = ("password", "implicit")
_AUTH_STRENGTH = {
    "none": 0,
    "client_secret_post": 1,
    "client_secret_basic": 1,
    "private_key_jwt": 2,
    "tls_client_auth": 2,
    "self_signed_tls_client_auth": 2,
}


def creation_risks(after: Mapping[str, Any]) -> tuple[str, ...]:
    """Labels for a new app. It is expected to have grants, redirect URIs and origins: only
    the legacy grants are flagged, and the values that are risky anywhere (a wildcard, a
    plain http redirect URI)."""
    return _labels(None, after)


def change_risks(
    before: Mapping[str, Any], after: Mapping[str, Any], reverted: Collection[str] = ()
) -> tuple[str, ...]:
    """Labels for a change to an app the registry holds, from what it holds to ``after``.

    ``reverted`` names the fields whose change only undoes an edit made outside reconciler:
    their redirect URIs and origins are labelled as reverts, not as changes the manifests
    make. A wildcard or plain http value put back is still flagged.
    """
    return _labels(before, after, reverted)


def refresh_risks(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    reverted: Collection[str] = (),
    document_changes: Collection[str] = (),
) -> tuple[str, ...]:
    """A refresh's labels: a change's, and whether the document's security-sensitive fields
    (``document_changes``: redirect URIs, authentication, scope, grants, keys) moved."""
    labels = _labels(before, after, reverted)
    return (*labels, "document-security-changed") if document_changes else labels


def deletion_risks(reason: Reason) -> tuple[str, ...]:
    """Labels for a delete: always ``deletion``, and what else it means for some reasons."""
    also = _DELETION_RISKS.get(reason)
    return ("deletion", also) if also else ("deletion",)


_DELETION_RISKS = {Reason.URL_CHANGED: "url-changed", Reason.DUPLICATE: "duplicate"}


def _labels(
    before: Mapping[str, Any] | None, after: Mapping[str, Any], reverted: Collection[str] = ()
) -> tuple[str, ...]:
    """``before`` is None for a new app."""
    old = before or {}
    found: list[str] = []
    for fields, family in ((_REDIRECT_FIELDS, "redirect-uri"), (_ORIGIN_FIELDS, "origin")):
        for field in fields:
            if field not in after:
                continue
            new_values = set(_list(after.get(field)))
            added = new_values - set(_list(old.get(field)))
            changed = new_values != set(_list(old.get(field)))
            if before is not None and changed:
                if field in reverted:
                    found.append(f"{family}-reverted")
                else:
                    found.append(f"{family}-added" if added else f"{family}-changed")
            if any("*" in value for value in added):
                found.append("wildcard-redirect" if family == "redirect-uri" else "wildcard-origin")
            if family == "redirect-uri" and any(_plain_http(uri) for uri in added):
                found.append("http-redirect")
    if "grant_types" in after:
        added_grants = set(_list(after["grant_types"])) - set(_list(old.get("grant_types")))
        watched = _WATCHED_GRANTS if before is not None else _LEGACY_GRANTS
        found.extend(f"grant-{g}" for g in watched if g in added_grants)
    if before is not None:
        found.extend(_flips(old, after))
    found.extend(_access_labels(before, after, reverted))
    return tuple(dict.fromkeys(found))


def _access_labels(
    before: Mapping[str, Any] | None, after: Mapping[str, Any], reverted: Collection[str]
) -> list[str]:
    """What changes in what the app may access: a new app is expected to have grants and
    connections, so only a grant for any organization is flagged on it."""
    found: list[str] = []
    grants = _grants(after)
    held = _grants(before or {})
    if any(
        grant.get("allow_any_organization") and not held.get(name, {}).get("allow_any_organization")
        for name, grant in grants.items()
    ):
        found.append("any-organization")
    if before is None:
        return found
    if "grants" in after and held != grants and "grants" in reverted:
        found.append("grants-reverted")
    elif "grants" in after:
        if set(grants) - set(held):
            found.append("api-added")
        m2m = after.get("app_type", before.get("app_type")) == "non_interactive"
        widened = any(
            set(grant.get("scopes", ())) - set(held[name].get("scopes", ()))
            for name, grant in grants.items()
            if name in held
        )
        if m2m and widened:
            found.append("m2m-scope-added")
    if "connections" in after:
        wanted, had = set(_list(after["connections"])), set(_list(before.get("connections")))
        if "connections" in reverted and wanted != had:
            found.append("connections-reverted")
        elif wanted - had:
            found.append("connection-added")
    return found


def _flips(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    if "is_first_party" in new and old.get("is_first_party") != new.get("is_first_party"):
        found.append("first-party-flipped")
    method_old = old.get("token_endpoint_auth_method")
    method_new = new.get("token_endpoint_auth_method")
    if (
        method_old in _AUTH_STRENGTH
        and method_new in _AUTH_STRENGTH
        and _AUTH_STRENGTH[method_new] < _AUTH_STRENGTH[method_old]
    ):
        found.append("auth-method-weakened")
    rotation_old = _member(old.get("refresh_token"), "rotation_type")
    rotation_new = _member(new.get("refresh_token"), "rotation_type")
    if rotation_old == "rotating" and rotation_new == "non-rotating":
        found.append("refresh-rotation-off")
    for keys in ("credentials", "jwks_uri"):
        if keys in new and old.get(keys) != new.get(keys):
            found.append("keys-changed")
    return found


def _grants(fields: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    value = fields.get("grants")
    return value if isinstance(value, dict) else {}


def _plain_http(uri: str) -> bool:
    parts = urlsplit(uri)
    return parts.scheme == "http" and not is_loopback_host(parts.hostname or "")


def _list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _member(value: Any, name: str) -> Any:
    return value.get(name) if isinstance(value, dict) else None
