"""OAuth lint: offline rules that a schema cannot say, one function per concern."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from reconciler.cimd.url import cimd_url_problems
from reconciler.core.hosts import is_loopback_host
from reconciler.core.keys import parse_expiry
from reconciler.core.model import CREDENTIAL_METHODS, CREDENTIAL_TYPE_FOR_METHOD
from reconciler.core.stamp import MAX_USER_METADATA_KEYS, RESERVED_PREFIX
from reconciler.core.third_party import (
    THIRD_PARTY_CLIENT_MEMBERS,
    THIRD_PARTY_GRANT_TYPES,
    THIRD_PARTY_JWT_ALG,
    THIRD_PARTY_JWT_MEMBERS,
    THIRD_PARTY_RULES,
)
from reconciler.diagnostics import Diagnostic, Location, Severity
from reconciler.manifests.settings_lint import SETTINGS_RULES
from reconciler.manifests.yamlfile import SECRET_KEYS, JsonPath

__all__ = ["find_secrets", "lint_app", "lint_third_party_apis"]

Locate = Callable[[JsonPath], Location]
WARNING = Severity.WARNING

PUBLIC_TYPES = {"spa", "native"}
LEGACY_GRANTS = {"implicit", "password", "http://auth0.com/oauth/grant-type/password-realm"}
REDIRECT_FIELDS = ("callbacks", "allowed_logout_urls")
ORIGIN_FIELDS = ("web_origins", "allowed_origins")
#: Pages about the app that users are shown (RFC 7591 §2).
PAGE_FIELDS = ("client_uri", "policy_uri", "tos_uri")
MAX_METADATA_LENGTH = 255
MAX_DESCRIPTION = 140
_METADATA_KEY = re.compile(r'^[A-Za-z0-9:,\-+=_*?"/\\()<>@\t ]+$')
_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;.]+$")
_PRIVATE_PEM = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")
#: RFC 6749 §3.3 scope-token: printable ASCII but space, double quote and backslash.
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")
#: Auth0's credential limits (configure-private-key-jwt.mdx, "Credential limits"), and
#: Terraform's bound on an mTLS certificate's PEM (resource_credentials_schema.go).
MAX_CREDENTIALS = 2
MIN_RSA_BITS = 2048
MAX_RSA_BITS = 4096
MAX_CERTIFICATE_PEM = 4096
_PUBLIC_KEY_MEMBERS = ("alg", "kid", "expires_at")
_METHOD_OF_TYPE = {kind: method for method, kind in CREDENTIAL_TYPE_FOR_METHOD.items()}
_WHAT_METHOD_TAKES = {
    "private_key_jwt": "a public key (public_key_file or pem), with alg, kid, expires_at",
    "self_signed_tls_client_auth": "its X.509 certificate (public_key_file or pem)",
    "tls_client_auth": "the subject_dn of its CA-signed certificates, or one of them",
}
#: The manifest fields a third-party app may have: Auth0's curated client members (by
#: their manifest names), what reconciler keeps to itself, and the RFC 7591 pages and
#: contacts, which an Auth0 client does not hold (never sent).
THIRD_PARTY_FIELDS = frozenset(
    {
        *THIRD_PARTY_CLIENT_MEMBERS,
        "type",
        "metadata",
        "credentials",
        "client_id",
        "cimd",
        "protect",
        "apis",
        "connections",
        "allow_legacy_grants",
        "legacy_grants_reason",
        *PAGE_FIELDS,
        "contacts",
    }
)
#: An https URL on a host of letters, digits, dots and hyphens, with no port, fragment or
#: whitespace: what most redirect URIs are, and one every redirect URI rule passes.
_PLAIN_HTTPS_URL = re.compile(r"https://[A-Za-z0-9.-]+(?:[/?][^\s#]*)?")
#: Auth0's Management API, whose audience is the canonical domain even on a custom domain.
_MANAGEMENT_API = re.compile(r"^https://[^/]+\.auth0\.com/api/v2/?$", re.IGNORECASE)


def lint_app(key: str, app: Mapping[str, Any], locate: Locate, base_dir: Path) -> list[Diagnostic]:
    """Every OAuth finding for one app; ``locate`` maps a path inside the app to a place."""
    found: list[Diagnostic] = []
    rules = (
        _redirects,
        _origins,
        _client_kind,
        _grants,
        _third_party,
        _apis,
        _connections,
        _credentials,
        _request_object_credentials,
        _texts,
        _registration_links,
        _metadata,
        *SETTINGS_RULES,
    )
    for rule in rules:
        found.extend(rule(app, locate, base_dir))
    if "cimd" in app and isinstance(app["cimd"], str):
        for problem in cimd_url_problems(app["cimd"]):
            found.append(Diagnostic(locate(("cimd",)), "cimd-url", f"CIMD URL {problem}"))
    return found


def find_secrets(data: Any, locate_key: Locate, path: JsonPath = ()) -> Iterator[Diagnostic]:
    """Secrets never live in Git: client secrets and private keys anywhere in a file."""
    if isinstance(data, dict):
        for name, value in data.items():
            here = (*path, name)
            if name in SECRET_KEYS:
                yield Diagnostic(
                    locate_key(here),
                    "secret-in-manifest",
                    f"{name} must not be in a manifest: secrets never live in Git "
                    "(new secrets go to --secrets-out)",
                )
            else:
                yield from find_secrets(value, locate_key, here)
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from find_secrets(item, locate_key, (*path, index))
    elif isinstance(data, str) and _PRIVATE_PEM.search(data):
        yield Diagnostic(
            locate_key(path),
            "secret-in-manifest",
            "a private key must not be in a manifest: give the public key only",
        )


def _redirects(app: Mapping[str, Any], locate: Locate, _: Path) -> Iterator[Diagnostic]:
    native = _text(app, "type") == "native"
    for field in REDIRECT_FIELDS:
        for index, uri in enumerate(_strings(app.get(field))):
            yield from _redirect_uri(uri, native, locate, (field, index))
    login = app.get("initiate_login_uri")
    if isinstance(login, str):
        parts = urlsplit(login)
        if parts.scheme != "https" or not parts.netloc or parts.fragment:
            yield Diagnostic(
                locate(("initiate_login_uri",)),
                "initiate-login-uri",
                f"initiate_login_uri {login!r} must be an https URL without a fragment",
            )


def _redirect_uri(uri: str, native: bool, locate: Locate, path: JsonPath) -> Iterator[Diagnostic]:
    if _PLAIN_HTTPS_URL.fullmatch(uri):
        return iter(())
    return _redirect_uri_rules(uri, native, locate(path))


def _redirect_uri_rules(uri: str, native: bool, where: Location) -> Iterator[Diagnostic]:
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        yield Diagnostic(where, "redirect-uri", f"redirect URI {uri!r} is not a valid URL")
        return
    scheme = parts.scheme.lower()
    if not scheme:
        yield Diagnostic(where, "redirect-uri", f"redirect URI {uri!r} must be an absolute URL")
        return
    if parts.fragment or "#" in uri:
        yield Diagnostic(where, "redirect-uri", f"redirect URI {uri!r} must not have a fragment")
    if scheme in {"javascript", "data", "file", "vbscript"}:
        yield Diagnostic(where, "redirect-uri", f"redirect URI {uri!r} uses a dangerous scheme")
        return
    if scheme == "https":
        if not parts.hostname:
            yield Diagnostic(where, "redirect-uri", f"redirect URI {uri!r} has no host")
        elif "*" in (parts.hostname or ""):
            yield Diagnostic(
                where,
                "redirect-uri-wildcard",
                f"redirect URI {uri!r} has a wildcard: any matching host can receive codes",
                WARNING,
            )
        return
    if scheme == "http":
        if is_loopback_host(parts.hostname or ""):
            if not native:
                yield Diagnostic(
                    where,
                    "redirect-uri-loopback",
                    f"redirect URI {uri!r} is plain http on loopback: for local development only",
                    WARNING,
                )
            return
        yield Diagnostic(
            where,
            "redirect-uri",
            f"redirect URI {uri!r} must use https (plain http only on loopback)",
        )
        return
    if not native:
        yield Diagnostic(
            where,
            "redirect-uri",
            f"redirect URI {uri!r} uses the custom scheme {scheme!r}: only native apps may",
        )
    elif "." not in scheme:
        yield Diagnostic(
            where,
            "redirect-uri-scheme",
            f"custom scheme {scheme!r} should be a reverse domain name (RFC 8252 §7.1)",
            WARNING,
        )


def _origins(app: Mapping[str, Any], locate: Locate, _: Path) -> Iterator[Diagnostic]:
    for field in ORIGIN_FIELDS:
        for index, origin in enumerate(_strings(app.get(field))):
            where = locate((field, index))
            parts = urlsplit(origin)
            if parts.scheme not in {"http", "https"} or not parts.netloc:
                yield Diagnostic(where, "origin", f"{field} entry {origin!r} must be scheme://host")
            elif parts.path not in ("", "/") or parts.query or parts.fragment:
                yield Diagnostic(
                    where, "origin", f"{field} entry {origin!r} is an origin: no path or query"
                )
            elif parts.scheme == "http" and not is_loopback_host(parts.hostname or ""):
                yield Diagnostic(where, "origin", f"{field} entry {origin!r} must use https")
            if "*" in origin:
                yield Diagnostic(
                    where, "origin-wildcard", f"{field} entry {origin!r} has a wildcard", WARNING
                )


def _client_kind(app: Mapping[str, Any], locate: Locate, _: Path) -> Iterator[Diagnostic]:
    kind = _text(app, "type")
    method = _text(app, "token_endpoint_auth_method")
    if "cimd" in app:
        return
    if kind in PUBLIC_TYPES and method not in (None, "none"):
        yield Diagnostic(
            locate(("token_endpoint_auth_method",)),
            "public-client",
            f"a {kind} app cannot keep a secret: token_endpoint_auth_method must be 'none'",
        )
    if kind == "m2m":
        if app.get("callbacks"):
            yield Diagnostic(
                locate(("callbacks",)),
                "m2m-callbacks",
                "an m2m app has no users to redirect: remove its callbacks",
            )
        if method == "none":
            yield Diagnostic(
                locate(("token_endpoint_auth_method",)),
                "m2m-public",
                "an m2m app must be confidential: use client_secret_* or private_key_jwt",
            )


def _grants(app: Mapping[str, Any], locate: Locate, _: Path) -> Iterator[Diagnostic]:
    grants = list(_strings(app.get("grant_types")))
    allowed = app.get("allow_legacy_grants") is True
    for index, grant in enumerate(grants):
        if grant in LEGACY_GRANTS and not allowed and not _is_third_party(app):
            yield Diagnostic(
                locate(("grant_types", index)),
                "legacy-grant",
                f"grant {grant!r} is deprecated (OAuth 2.0 Security BCP); "
                "set allow_legacy_grants: true with a legacy_grants_reason to keep it",
            )
        if grant == "client_credentials" and _text(app, "type") in PUBLIC_TYPES:
            yield Diagnostic(
                locate(("grant_types", index)),
                "public-client",
                f"a {app.get('type')} app is public and cannot use client_credentials",
            )
    if allowed and not app.get("legacy_grants_reason"):
        yield Diagnostic(
            locate(("allow_legacy_grants",)),
            "legacy-grant-reason",
            "allow_legacy_grants needs a legacy_grants_reason saying why",
        )


def _third_party(app: Mapping[str, Any], locate: Locate, _: Path) -> Iterator[Diagnostic]:
    """Auth0's security controls for a third-party app (``is_first_party: false``, or
    CIMD): the curated fields, three grants, RS256, expiring refresh tokens, exact URLs.
    Errors, as a new third-party app is strict; warnings for an adopted one, which may be
    an older, permissive app Auth0 does not hold to them."""
    if not _is_third_party(app):
        return
    adopted = "client_id" in app
    severity = WARNING if adopted else Severity.ERROR
    why = f"{THIRD_PARTY_RULES}, for a strict one: this adopted app may be permissive"
    rules = why if adopted else THIRD_PARTY_RULES

    def finding(path: JsonPath, message: str) -> Diagnostic:
        return Diagnostic(locate(path), "third-party", f"{message} ({rules})", severity)

    for name in app:
        if name not in THIRD_PARTY_FIELDS:
            yield finding((name,), f"a third-party app cannot set {name}")
    for index, grant in enumerate(_strings(app.get("grant_types"))):
        if grant not in THIRD_PARTY_GRANT_TYPES:
            yield finding(
                ("grant_types", index),
                f"a third-party app cannot use the {grant} grant, only "
                + ", ".join(THIRD_PARTY_GRANT_TYPES),
            )
        elif grant == "client_credentials" and app.get("token_endpoint_auth_method") == "none":
            yield finding(
                ("grant_types", index),
                "a third-party app must be confidential to use client_credentials "
                "(token_endpoint_auth_method is none)",
            )
    jwt_configuration = app.get("jwt_configuration")
    if isinstance(jwt_configuration, dict):
        for member, value in jwt_configuration.items():
            if member not in THIRD_PARTY_JWT_MEMBERS:
                yield finding(
                    ("jwt_configuration", member),
                    f"a third-party app cannot set jwt_configuration.{member}",
                )
            elif member == "alg" and value != THIRD_PARTY_JWT_ALG:
                yield finding(
                    ("jwt_configuration", "alg"),
                    f"a third-party app signs its tokens with {THIRD_PARTY_JWT_ALG}, not {value}",
                )
    refresh_token = app.get("refresh_token")
    if isinstance(refresh_token, dict):
        if refresh_token.get("expiration_type") == "non-expiring":
            yield finding(
                ("refresh_token", "expiration_type"),
                "a third-party app's refresh tokens must expire",
            )
        if refresh_token.get("infinite_idle_token_lifetime") is True:
            yield finding(
                ("refresh_token", "infinite_idle_token_lifetime"),
                "a third-party app's refresh tokens cannot have an infinite idle lifetime",
            )
    for field in ("callbacks", *ORIGIN_FIELDS):
        for index, url in enumerate(_strings(app.get(field))):
            if "*" in url:
                yield finding((field, index), f"a third-party app's {field} must be exact URLs")


def _is_third_party(app: Mapping[str, Any]) -> bool:
    return "cimd" in app or app.get("is_first_party") is False


def lint_third_party_apis(declared: Iterable[tuple[Any, Locate]]) -> list[Diagnostic]:
    """The tenant's grants for all third-party apps: one per (audience, subject type).

    ``declared`` holds each file's ``third_party_apis`` with the file's ``locate``; a repeat
    in another file is as much an error as one in the same file.
    """
    seen: dict[tuple[str, str], Location] = {}
    found: list[Diagnostic] = []
    for entries, locate in declared:
        path = ("third_party_apis",)
        found.extend(_api_grants(entries, locate, path, third_party=True, seen=seen))
    return found


def _apis(app: Mapping[str, Any], locate: Locate, _: Path) -> Iterator[Diagnostic]:
    entries = app.get("apis")
    listed = entries if isinstance(entries, list) else []
    if _text(app, "type") == "m2m" and not any(
        isinstance(entry, dict) and entry.get("subject_type", "client") == "client"
        for entry in listed
    ):
        yield Diagnostic(
            locate(("apis",) if "apis" in app else ("type",)),
            "m2m-without-api",
            "this m2m app declares no API it may call (no apis entry with subject_type "
            "client): a new app gets a token for no API, an existing one keeps the grants "
            "made outside Git",
            WARNING,
        )
    yield from _api_grants(listed, locate, ("apis",), third_party=_is_third_party(app), seen={})


def _api_grants(
    entries: Any,
    locate: Locate,
    path: JsonPath,
    *,
    third_party: bool,
    seen: dict[tuple[str, str], Location],
) -> Iterator[Diagnostic]:
    """One grant per (audience, subject type), at the repeat; ``seen`` holds the firsts."""
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, dict):
            continue
        audience = entry.get("audience")
        if isinstance(audience, str):
            subject_type = str(entry.get("subject_type", "client"))
            where = locate((*path, index, "audience"))
            first = seen.get((audience, subject_type))
            if first is not None:
                yield Diagnostic(
                    where,
                    "grant-duplicate",
                    f"a second grant for {audience!r} (subject_type {subject_type}): "
                    f"one per audience and subject type; the first is at {first}",
                )
            else:
                seen[(audience, subject_type)] = where
            if third_party and _MANAGEMENT_API.match(audience):
                yield Diagnostic(
                    where,
                    "third-party-management-api",
                    "a third-party app may not be granted the Management API (Auth0's rule)",
                )
        yield from _scopes(entry.get("scopes"), locate, (*path, index, "scopes"))


def _scopes(scopes: Any, locate: Locate, path: JsonPath) -> Iterator[Diagnostic]:
    seen: set[str] = set()
    for index, scope in enumerate(scopes if isinstance(scopes, list) else []):
        if not isinstance(scope, str) or not scope:
            continue  # the schema reports it
        where = locate((*path, index))
        if not _SCOPE_TOKEN.match(scope):
            advice = ": list each scope on its own" if " " in scope.strip() else ""
            yield Diagnostic(
                where,
                "scope",
                f"scope {scope!r} is not one scope: no spaces, double quotes or backslashes "
                f"(RFC 6749 §3.3){advice}",
            )
        if scope in seen:
            yield Diagnostic(where, "scope-duplicate", f"scope {scope!r} is listed twice")
        seen.add(scope)


def _connections(app: Mapping[str, Any], locate: Locate, _: Path) -> Iterator[Diagnostic]:
    names = app.get("connections")
    seen: set[str] = set()
    for index, name in enumerate(names if isinstance(names, list) else []):
        if not isinstance(name, str):
            continue
        if name in seen:
            yield Diagnostic(
                locate(("connections", index)),
                "connection-duplicate",
                f"connection {name!r} is listed twice",
            )
        seen.add(name)


def _credentials(app: Mapping[str, Any], locate: Locate, base_dir: Path) -> Iterator[Diagnostic]:
    credentials = app.get("credentials")
    listed = credentials if isinstance(credentials, list) else []
    method = _text(app, "token_endpoint_auth_method")
    if method in CREDENTIAL_METHODS:
        if not listed and "client_id" in app:
            yield Diagnostic(
                locate(("token_endpoint_auth_method",)),
                "credentials-unmanaged",
                "no credentials listed: the adopted app's credentials stay as they are, unmanaged",
                WARNING,
            )
        elif not listed:
            yield Diagnostic(
                locate(("token_endpoint_auth_method",)),
                "credential-missing",
                f"{method} needs at least one credential: {_WHAT_METHOD_TAKES[method]}",
            )
        yield from _credential_alg(app, method, locate)
    elif listed:
        yield Diagnostic(
            locate(("credentials",)),
            "credential-unused",
            "credentials are used only with token_endpoint_auth_method: "
            + ", ".join(sorted(CREDENTIAL_METHODS)),
            WARNING,
        )
    if len(listed) > MAX_CREDENTIALS:
        yield Diagnostic(
            locate(("credentials", MAX_CREDENTIALS)),
            "credential-limit",
            f"{len(listed)} credentials: Auth0 holds at most {MAX_CREDENTIALS} per app (a "
            "rotation stays within them: list the new key beside one old key)",
        )
    kind = CREDENTIAL_TYPE_FOR_METHOD.get(method or "", "public_key")
    names: set[str] = set()
    seen: dict[str, str] = {}
    for index, credential in enumerate(listed):
        if not isinstance(credential, dict):
            continue
        name = credential.get("name")
        if isinstance(name, str) and name in names:
            yield Diagnostic(
                locate(("credentials", index, "name")),
                "credential-name",
                f"credential name {name!r} is used twice",
            )
        names.add(str(name))
        path = ("credentials", index)
        material = _material(credential, base_dir)
        if material is not None and material in seen:
            yield Diagnostic(
                locate(path),
                "credential-duplicate",
                f"credential {name!r} holds the same material as {seen[material]!r}: Auth0 "
                "holds one credential per key",
            )
        elif material is not None:
            seen[material] = str(name)
        yield from _credential_members(credential, kind, locate, path)
        yield from _credential_key(credential, kind, locate, path, base_dir)


def _material(credential: Mapping[str, Any], base_dir: Path) -> str | None:
    """A credential's PEM or subject DN as written, to tell two of one key apart."""
    if isinstance(credential.get("subject_dn"), str):
        return str(credential["subject_dn"])
    if isinstance(credential.get("pem"), str):
        return "".join(str(credential["pem"]).split())
    if isinstance(credential.get("public_key_file"), str):
        try:
            return "".join((base_dir / credential["public_key_file"]).read_text("utf-8").split())
        except (OSError, UnicodeError):
            return None
    return None


def _credential_alg(app: Mapping[str, Any], method: str, locate: Locate) -> Iterator[Diagnostic]:
    """Auth0: "To configure client_authentication_methods, the property
    jwt_configuration.alg must be set to RS256" (go-auth0 reference.md)."""
    configuration = app.get("jwt_configuration")
    alg = configuration.get("alg") if isinstance(configuration, dict) else None
    if isinstance(alg, str) and alg != "RS256":
        yield Diagnostic(
            locate(("jwt_configuration", "alg")),
            "credential-alg",
            f"an app that authenticates with {method} must sign its tokens with RS256 "
            f"(jwt_configuration.alg), not {alg}: Auth0 refuses any other",
        )


def _credential_members(
    credential: Mapping[str, Any], kind: str, locate: Locate, path: JsonPath
) -> Iterator[Diagnostic]:
    """The members a credential of ``kind`` takes: a key's alg, kid and expiry; a
    certificate subject's DN instead of a PEM."""
    wrong = [m for m in _PUBLIC_KEY_MEMBERS if kind != "public_key" and m in credential]
    if kind != "cert_subject_dn" and "subject_dn" in credential:
        wrong.append("subject_dn")
    for member in wrong:
        yield Diagnostic(
            locate((*path, member)),
            "credential-member",
            f"{member} is not for a {_METHOD_OF_TYPE[kind]} credential, which takes "
            f"{_WHAT_METHOD_TAKES[_METHOD_OF_TYPE[kind]]}",
        )
    expires_at = credential.get("expires_at")
    if kind == "public_key" and isinstance(expires_at, str):
        try:
            parse_expiry(expires_at)
        except ValueError:
            yield Diagnostic(
                locate((*path, "expires_at")),
                "credential-expiry",
                f"expires_at {expires_at!r} is not an ISO 8601 date-time with a UTC offset "
                "(2027-01-01T00:00:00Z)",
            )


def _request_object_credentials(
    app: Mapping[str, Any], locate: Locate, base_dir: Path
) -> Iterator[Diagnostic]:
    """The keys of ``signed_request_object``, checked as ``credentials`` are."""
    request_object = app.get("signed_request_object")
    if not isinstance(request_object, dict) or not isinstance(
        request_object.get("credentials"), list
    ):
        return
    path = ("signed_request_object", "credentials")
    listed = request_object["credentials"]
    if request_object.get("required") is True and not listed:
        yield Diagnostic(
            locate(path),
            "request-object-keys",
            "signed request objects are required but no key can verify one: list a key",
        )
    names: set[str] = set()
    for index, credential in enumerate(listed):
        if not isinstance(credential, dict):
            continue
        name = credential.get("name")
        if isinstance(name, str) and name in names:
            yield Diagnostic(
                locate((*path, index, "name")),
                "credential-name",
                f"credential name {name!r} is used twice",
            )
        names.add(str(name))
        yield from _credential_members(credential, "public_key", locate, (*path, index))
        yield from _credential_key(credential, "public_key", locate, (*path, index), base_dir)
    authenticating = app.get("credentials")
    held = len(authenticating) if isinstance(authenticating, list) else 0
    if listed and held <= MAX_CREDENTIALS < held + len(listed):
        yield Diagnostic(
            locate((*path, MAX_CREDENTIALS - held)),
            "credential-limit",
            f"{held + len(listed)} credentials with those of credentials: Auth0 holds at most "
            f"{MAX_CREDENTIALS} per app, the keys of signed request objects included",
        )


def _credential_key(
    credential: Mapping[str, Any], kind: str, locate: Locate, path: JsonPath, base_dir: Path
) -> Iterator[Diagnostic]:
    if isinstance(credential.get("pem"), str):
        pem, where = credential["pem"], locate((*path, "pem"))
        if _PRIVATE_PEM.search(pem):
            return  # find_secrets reports it where it stands
    elif isinstance(credential.get("public_key_file"), str):
        where = locate((*path, "public_key_file"))
        file = base_dir / credential["public_key_file"]
        try:
            pem = file.read_text("utf-8")
        except (OSError, UnicodeError) as exc:
            yield Diagnostic(where, "credential-key", f"cannot read public key file {file}: {exc}")
            return
    else:
        return
    if _PRIVATE_PEM.search(pem):
        yield Diagnostic(
            where, "secret-in-manifest", "this is a private key: reference the public key only"
        )
        return
    problem = _key_problem(pem.strip(), kind)
    if problem:
        yield Diagnostic(where, "credential-key", problem)


def _key_problem(pem: str, kind: str) -> str | None:
    """What Auth0 would refuse in a credential's PEM: not a public key (for mTLS, not an
    X.509 certificate), not RSA, for private_key_jwt not of 2048 to 4096 bits
    (configure-private-key-jwt.mdx, "Credential limits"), a certificate over 4096
    characters (Terraform's bound on an mTLS ``pem``). Only a manifest with a key loads
    cryptography."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    certificate_only = kind != "public_key"
    data = pem.encode("utf-8")
    key: object
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            # cryptography.x509 takes a third of cryptography's import: only for certificates.
            from cryptography.x509 import load_pem_x509_certificate

            key = load_pem_x509_certificate(data).public_key()
        elif certificate_only:
            return f"not a PEM X.509 certificate: {_METHOD_OF_TYPE[kind]} takes a certificate"
        else:
            key = load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        return f"not a PEM public key or certificate: {exc}"
    if not isinstance(key, rsa.RSAPublicKey):
        return "Auth0 takes RSA keys only"
    if not certificate_only and not MIN_RSA_BITS <= key.key_size <= MAX_RSA_BITS:
        return f"a {key.key_size}-bit RSA key: Auth0 takes {MIN_RSA_BITS} to {MAX_RSA_BITS} bits"
    if certificate_only and len(pem) > MAX_CERTIFICATE_PEM:
        return f"the certificate is {len(pem)} characters; Auth0 takes {MAX_CERTIFICATE_PEM}"
    return None


def _texts(app: Mapping[str, Any], locate: Locate, _: Path) -> Iterator[Diagnostic]:
    description = app.get("description")
    if isinstance(description, str) and len(description) > MAX_DESCRIPTION:
        yield Diagnostic(
            locate(("description",)),
            "description-length",
            f"description is {len(description)} characters; the limit is {MAX_DESCRIPTION}",
        )
    name = app.get("name")
    if isinstance(name, str) and ("<" in name or ">" in name):
        yield Diagnostic(locate(("name",)), "name-characters", "name must not contain < or >")


def _registration_links(app: Mapping[str, Any], locate: Locate, _: Path) -> Iterator[Diagnostic]:
    """The pages users are shown about the app are https; its contacts, email addresses."""
    for field in PAGE_FIELDS:
        uri = app.get(field)
        if isinstance(uri, str):
            parts = urlsplit(uri)
            if parts.scheme != "https" or not parts.netloc:
                yield Diagnostic(
                    locate((field,)), "page-uri", f"{field} {uri!r} must be an https URL"
                )
    for index, contact in enumerate(_strings(app.get("contacts"))):
        if not _EMAIL.match(contact):
            yield Diagnostic(
                locate(("contacts", index)),
                "contact",
                f"contact {contact!r} is not an email address: list one address per entry",
            )


def _metadata(app: Mapping[str, Any], locate: Locate, _: Path) -> Iterator[Diagnostic]:
    metadata = app.get("metadata")
    if not isinstance(metadata, dict):
        return
    if len(metadata) > MAX_USER_METADATA_KEYS:
        yield Diagnostic(
            locate(("metadata",)),
            "metadata-limit",
            f"metadata has {len(metadata)} keys; at most {MAX_USER_METADATA_KEYS} fit beside "
            "the keys reconciler keeps there (10 in all)",
        )
    for name, value in metadata.items():
        here = ("metadata", name)
        if name.startswith(RESERVED_PREFIX):
            yield Diagnostic(
                locate(here),
                "metadata-reserved",
                f"metadata keys starting {RESERVED_PREFIX!r} are reserved",
            )
        elif not _METADATA_KEY.match(name):
            yield Diagnostic(
                locate(here), "metadata-key", f"metadata key {name!r} has characters Auth0 refuses"
            )
        if len(name) > MAX_METADATA_LENGTH:
            yield Diagnostic(
                locate(here),
                "metadata-length",
                f"metadata key is over {MAX_METADATA_LENGTH} characters",
            )
        if isinstance(value, str) and len(value) > MAX_METADATA_LENGTH:
            yield Diagnostic(
                locate(here),
                "metadata-length",
                f"metadata value of {name!r} is over {MAX_METADATA_LENGTH} characters",
            )


def _text(app: Mapping[str, Any], field: str) -> str | None:
    value = app.get(field)
    return value if isinstance(value, str) else None


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, str))
