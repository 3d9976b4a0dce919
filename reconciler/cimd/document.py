"""What a Client ID Metadata Document may say (CIMD draft §4, stricter where Auth0 is).

``validate_document`` never raises: it returns every finding, each naming the JSON path
it is about, and the caller prefixes the document's URL. Errors make a document unusable;
warnings describe what a registry will ignore or filter out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from reconciler.core.hosts import is_loopback_host
from reconciler.diagnostics import Severity

__all__ = [
    "ALLOWED_GRANT_TYPES",
    "MAX_DESCRIPTION_LENGTH",
    "PRIVATE_JWK_MEMBERS",
    "SECURITY_SENSITIVE_FIELDS",
    "Finding",
    "filtered_document",
    "jwks_findings",
    "security_sensitive_changes",
    "validate_document",
]

ALLOWED_GRANT_TYPES = ("authorization_code", "refresh_token")
DEFAULT_GRANT_TYPES = ("authorization_code",)  # RFC 7591 §2
REDIRECT_GRANT_TYPES = frozenset({"authorization_code", "implicit"})
ALLOWED_AUTH_METHODS = ("none", "private_key_jwt")
SHARED_SECRET_AUTH_METHODS = frozenset(
    {"client_secret_basic", "client_secret_post", "client_secret_jwt"}
)
APPLICATION_TYPES = ("native", "web")
PRIVATE_JWK_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
MAX_DESCRIPTION_LENGTH = 140
INFORMATION_URIS = ("client_uri", "logo_uri", "tos_uri", "policy_uri")
DANGEROUS_SCHEMES = frozenset({"javascript", "data", "file", "vbscript"})
#: Changes to these can widen what a client may do: review them before a refresh (CIMD §8.4).
SECURITY_SENSITIVE_FIELDS = (
    "redirect_uris",
    "token_endpoint_auth_method",
    "scope",
    "grant_types",
    "response_types",
    "jwks_uri",
    "jwks",
)
#: Members that may carry a language tag, as in ``client_name#ja-Jpan-JP`` (RFC 7591 §2.2).
LOCALIZABLE_FIELDS = frozenset({"client_name", *INFORMATION_URIS})
#: RFC 7591 §2, OpenID Connect Registration §2 and the IANA OAuth Dynamic Client
#: Registration Metadata registry, plus Auth0's ``description``.
KNOWN_FIELDS = frozenset(
    {
        "client_id",
        "client_secret",
        "client_id_issued_at",
        "client_secret_expires_at",
        "redirect_uris",
        "token_endpoint_auth_method",
        "grant_types",
        "response_types",
        "client_name",
        "client_uri",
        "logo_uri",
        "scope",
        "contacts",
        "tos_uri",
        "policy_uri",
        "jwks_uri",
        "jwks",
        "software_id",
        "software_version",
        "software_statement",
        "application_type",
        "sector_identifier_uri",
        "subject_type",
        "id_token_signed_response_alg",
        "id_token_encrypted_response_alg",
        "id_token_encrypted_response_enc",
        "userinfo_signed_response_alg",
        "userinfo_encrypted_response_alg",
        "userinfo_encrypted_response_enc",
        "request_object_signing_alg",
        "request_object_encryption_alg",
        "request_object_encryption_enc",
        "token_endpoint_auth_signing_alg",
        "default_max_age",
        "require_auth_time",
        "default_acr_values",
        "initiate_login_uri",
        "request_uris",
        "post_logout_redirect_uris",
        "frontchannel_logout_uri",
        "frontchannel_logout_session_required",
        "backchannel_logout_uri",
        "backchannel_logout_session_required",
        "tls_client_certificate_bound_access_tokens",
        "dpop_bound_access_tokens",
        "require_pushed_authorization_requests",
        "require_signed_request_object",
        "authorization_signed_response_alg",
        "authorization_encrypted_response_alg",
        "authorization_encrypted_response_enc",
        "introspection_signed_response_alg",
        "introspection_encrypted_response_alg",
        "introspection_encrypted_response_enc",
        "authorization_details_types",
        "description",
    }
)
#: The members that make up a public key, by which a reused ``kid`` is compared.
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class Finding:
    severity: Severity
    path: str  # a JSON path into the document, e.g. "$.redirect_uris[1]"
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.severity.value}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


def validate_document(
    url: str, document: Mapping[str, Any], *, same_origin_only: bool = False
) -> list[Finding]:
    """Every finding about ``document`` as fetched from ``url``, errors and warnings.

    ``same_origin_only`` is the optional policy of CIMD §8.1: https redirect URIs and
    ``client_uri`` must share the document's origin.
    """
    findings = [
        *_client_id_findings(url, document),
        *_client_name_findings(document),
        *_grant_type_findings(document),
        *_redirect_uri_findings(document),
        *_secret_findings(document),
        *_authentication_findings(url, document),
        *_application_type_findings(document),
        *_response_type_findings(document),
        *_description_findings(document),
        *_information_uri_findings(document),
        *_contacts_findings(document),
        *_unknown_field_findings(document),
    ]
    if same_origin_only:
        findings.extend(_same_origin_findings(url, document))
    return findings


def filtered_document(document: Mapping[str, Any]) -> dict[str, Any]:
    """``document`` with ``grant_types`` cut down to what Auth0 accepts for CIMD clients."""
    filtered = dict(document)
    grants = document.get("grant_types")
    if _is_string_list(grants):
        filtered["grant_types"] = [g for g in dict.fromkeys(grants) if g in ALLOWED_GRANT_TYPES]
    return filtered


def jwks_findings(jwks: object, path: str = "$") -> list[Finding]:
    """Problems with a JSON Web Key Set that must hold public keys only."""
    keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if not isinstance(keys, list):
        return [_error(path, 'must be a JSON Web Key Set: an object with a "keys" array')]
    findings: list[Finding] = []
    for index, key in enumerate(keys):
        key_path = f"{path}.keys[{index}]"
        if not isinstance(key, Mapping):
            findings.append(_error(key_path, "must be a JSON Web Key (an object)"))
            continue
        findings.extend(
            _error(_member(key_path, name), "is private key material; publish public keys only")
            for name in PRIVATE_JWK_MEMBERS
            if name in key
        )
    return findings


def security_sensitive_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """The security-sensitive fields whose values differ between two versions of a document."""
    return [name for name in SECURITY_SENSITIVE_FIELDS if before.get(name) != after.get(name)]


# -- the rules, one group of fields each -----------------------------------------------------


def _client_id_findings(url: str, document: Mapping[str, Any]) -> Iterator[Finding]:
    if "client_id" not in document:
        yield _error("$.client_id", f"is required and must equal the document's URL {url}")
    elif document["client_id"] != url:
        yield _error(
            "$.client_id",
            f"must equal the document's URL byte for byte: {_show(document['client_id'])} "
            f"is not {_show(url)}",
        )


def _client_name_findings(document: Mapping[str, Any]) -> Iterator[Finding]:
    if "client_name" not in document:
        yield _error("$.client_name", "is required")
    for name in _localized_members(document, "client_name"):
        value = document[name]
        if not isinstance(value, str) or not value.strip():
            yield _error(_member("$", name), "must be a non-empty string")


def _grant_type_findings(document: Mapping[str, Any]) -> Iterator[Finding]:
    path = "$.grant_types"
    if "grant_types" not in document:
        yield _warning(path, 'is absent, so RFC 7591\'s default ["authorization_code"] applies')
        return
    grants = document["grant_types"]
    if not _is_string_list(grants):
        yield _error(path, "must be an array of strings")
        return
    if not any(grant in ALLOWED_GRANT_TYPES for grant in grants):
        yield _error(path, "must include authorization_code or refresh_token")
    seen: set[str] = set()
    for index, grant in enumerate(grants):
        if grant in seen:
            yield _warning(f"{path}[{index}]", f"repeats {_show(grant)}")
        elif grant not in ALLOWED_GRANT_TYPES:
            yield _warning(
                f"{path}[{index}]",
                f"{_show(grant)} is not allowed for a CIMD client and will be filtered out",
            )
        seen.add(grant)


def _redirect_uri_findings(document: Mapping[str, Any]) -> Iterator[Finding]:
    path = "$.redirect_uris"
    needs_redirect = bool(REDIRECT_GRANT_TYPES.intersection(_declared_grants(document)))
    uris = document.get("redirect_uris")
    if uris is None:
        if needs_redirect:
            yield _error(path, "is required when grant_types include authorization_code")
        return
    if not _is_string_list(uris):
        yield _error(path, "must be an array of strings")
        return
    if needs_redirect and not uris:
        yield _error(path, "must list at least one URI when grant_types include a redirect")
    native = document.get("application_type") == "native"
    seen: set[str] = set()
    for index, uri in enumerate(uris):
        problem = f"repeats {_show(uri)}" if uri in seen else _redirect_uri_problem(uri, native)
        if problem:
            yield _error(f"{path}[{index}]", problem)
        seen.add(uri)


def _redirect_uri_problem(uri: str, native: bool) -> str | None:
    try:
        parts = urlsplit(uri)
        host = parts.hostname or ""
    except ValueError:
        return "is not a valid URI"
    loopback = is_loopback_host(host)
    if "#" in uri:
        return "must not have a fragment (RFC 6749 §3.1.2)"
    if native and parts.scheme == "https" and loopback:
        return "must use http, not https, on a loopback host (RFC 8252 §7.3)"
    if parts.scheme == "https" and host:
        return None
    if parts.scheme == "http" and loopback:
        return None if native else "may use http on a loopback host only for a native app"
    if native:
        return "must be an absolute https URI, or http on a loopback host"
    return "must be an absolute https URI"


def _secret_findings(document: Mapping[str, Any]) -> Iterator[Finding]:
    for name in ("client_secret", "client_secret_expires_at"):
        if name in document:
            yield _error(
                _member("$", name),
                "must not be present: a client identified by a URL has no shared secret",
            )


def _authentication_findings(url: str, document: Mapping[str, Any]) -> Iterator[Finding]:
    path = "$.token_endpoint_auth_method"
    if "token_endpoint_auth_method" not in document:
        yield _error(
            "$",
            "token_endpoint_auth_method is missing: RFC 7591's default, client_secret_basic, "
            "is a shared secret, which a CIMD client cannot have; say none or private_key_jwt",
        )
    method = document.get("token_endpoint_auth_method", "none")
    if method in SHARED_SECRET_AUTH_METHODS:
        yield _error(path, f"{_show(method)} needs a shared secret; use none or private_key_jwt")
    elif method not in ALLOWED_AUTH_METHODS:
        yield _error(path, f"must be none or private_key_jwt, not {_show(method)}")
    if method == "private_key_jwt" and "jwks_uri" not in document:
        yield _error("$.jwks_uri", "is required when token_endpoint_auth_method is private_key_jwt")
    if "jwks_uri" in document:
        yield from _jwks_uri_findings(url, document["jwks_uri"])
    if "jwks" in document:
        yield _error("$.jwks", "inline keys are refused by Auth0; publish them at jwks_uri")
        if "jwks_uri" in document:
            yield _error("$.jwks", "must not be used together with jwks_uri (RFC 7591 §2)")
        yield from jwks_findings(document["jwks"], "$.jwks")


def _jwks_uri_findings(url: str, jwks_uri: object) -> Iterator[Finding]:
    if not isinstance(jwks_uri, str) or _scheme(jwks_uri) != "https":
        yield _error("$.jwks_uri", "must be an https URI")
    elif _origin(jwks_uri) != _origin(url):
        yield _error("$.jwks_uri", f"must have the same origin as the document ({_origin(url)})")


def _application_type_findings(document: Mapping[str, Any]) -> Iterator[Finding]:
    if "application_type" in document and document["application_type"] not in APPLICATION_TYPES:
        yield _error(
            "$.application_type",
            f"must be native or web, not {_show(document['application_type'])}",
        )


def _response_type_findings(document: Mapping[str, Any]) -> Iterator[Finding]:
    response_types = document.get("response_types")
    if response_types is None:
        return
    if not _is_string_list(response_types):
        yield _error("$.response_types", "must be an array of strings")
        return
    if "code" in response_types and "authorization_code" not in _declared_grants(document):
        yield _warning(
            f"$.response_types[{response_types.index('code')}]",
            '"code" needs the authorization_code grant, which grant_types does not include',
        )


def _description_findings(document: Mapping[str, Any]) -> Iterator[Finding]:
    description = document.get("description")
    if description is None:
        return
    if not isinstance(description, str):
        yield _error("$.description", "must be a string")
    elif len(description) > MAX_DESCRIPTION_LENGTH:
        yield _error(
            "$.description",
            f"is {len(description)} characters long; at most {MAX_DESCRIPTION_LENGTH} are allowed",
        )


def _information_uri_findings(document: Mapping[str, Any]) -> Iterator[Finding]:
    for base in INFORMATION_URIS:
        for name in _localized_members(document, base):
            problem = _information_uri_problem(document[name])
            if problem:
                yield _error(_member("$", name), problem)


def _information_uri_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return "must be a string"
    scheme = _scheme(value)
    if scheme in DANGEROUS_SCHEMES:
        return f"must not use the {scheme}: scheme; only https is allowed"
    if scheme != "https" or not _host(value):
        return "must be an absolute https URI (a document's URIs are fetched or shown to users)"
    return None


def _contacts_findings(document: Mapping[str, Any]) -> Iterator[Finding]:
    if "contacts" in document and not _is_string_list(document["contacts"]):
        yield _error("$.contacts", "must be an array of strings (RFC 7591 §2)")


def _unknown_field_findings(document: Mapping[str, Any]) -> Iterator[Finding]:
    for name in document:
        base, tagged, _ = name.partition("#")
        known = base in LOCALIZABLE_FIELDS if tagged else base in KNOWN_FIELDS
        if not known:
            yield _warning(
                _member("$", name), "is not a registered client metadata name and is ignored"
            )


def _same_origin_findings(url: str, document: Mapping[str, Any]) -> Iterator[Finding]:
    origin = _origin(url)
    uris = document.get("redirect_uris")
    for index, uri in enumerate(uris if _is_string_list(uris) else []):
        if _scheme(uri) == "https" and _origin(uri) != origin:
            yield _error(f"$.redirect_uris[{index}]", f"must have the document's origin {origin}")
    client_uri = document.get("client_uri")
    if isinstance(client_uri, str) and _origin(client_uri) != origin:
        yield _error("$.client_uri", f"must have the document's origin {origin}")


# -- helpers ---------------------------------------------------------------------------------


def _error(path: str, message: str) -> Finding:
    return Finding(Severity.ERROR, path, message)


def _warning(path: str, message: str) -> Finding:
    return Finding(Severity.WARNING, path, message)


def _member(path: str, name: str) -> str:
    """The JSON path of member ``name``: dotted when it can be, bracketed when not."""
    if _IDENTIFIER.match(name):
        return f"{path}.{name}"
    return f"{path}[{json.dumps(name, ensure_ascii=False)}]"


def _show(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=repr)


def _is_string_list(value: object) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _declared_grants(document: Mapping[str, Any]) -> list[str]:
    grants = document.get("grant_types", list(DEFAULT_GRANT_TYPES))
    return grants if _is_string_list(grants) else []


def _localized_members(document: Mapping[str, Any], base: str) -> list[str]:
    return [name for name in document if name == base or name.startswith(f"{base}#")]


def _scheme(uri: str) -> str:
    try:
        return urlsplit(uri.strip()).scheme
    except ValueError:
        return ""


def _host(uri: str) -> str:
    try:
        return urlsplit(uri).hostname or ""
    except ValueError:
        return ""


def _origin(uri: str) -> str:
    """Scheme, host and port, with the scheme's default port made explicit (RFC 6454)."""
    try:
        parts = urlsplit(uri)
        port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    except ValueError:
        return f"(not a valid URI: {uri})"
    return f"{parts.scheme}://{parts.hostname or ''}:{port}"
