"""Canonical fields <-> RFC 7591 / OpenID Connect Dynamic Registration client metadata.

    name                       client_name
    app_type                   application_type: native -> native, every other -> web
    callbacks                  redirect_uris
    allowed_logout_urls        post_logout_redirect_uris
    logo_uri                   logo_uri
    initiate_login_uri         initiate_login_uri
    grant_types                grant_types, and response_types to match (RFC 7591 2.1:
                               authorization_code -> code, implicit -> the server's
                               implicit response type)
    token_endpoint_auth_method token_endpoint_auth_method
    credentials                jwks: each public key as a JWK with its kid, alg, use=sig
    client_uri                 client_uri
    policy_uri                 policy_uri
    tos_uri                    tos_uri
    contacts                   contacts
    scope                      scope: the scopes of the app's APIs, space-separated
                               (compared as a set)

What is reported back (``App.fields``) for a field the manifest owns:

- the server holds exactly what the applied value maps to: the applied value (so
  ``spa``, which a server can only call ``web``, stays ``spa``);
- the server left the field's members out of its answer when the value was written (it
  ignored them, as RFC 7591 lets it): the applied value;
- the field has no registration metadata at all (description, web_origins, oidc_conformant,
  refresh_token, client_metadata, ...): the applied value;
- otherwise what the server holds, mapped back: that is drift.

Everything else the server fills in (subject_type, id_token_signed_response_alg, ...) is
in the record only, never a canonical field, so it never shows as drift. A client's
``scope`` is compared only where the manifest declares the app's ``apis``; otherwise it is
left as the server has it.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from reconciler.core.model import Credential, canonical
from reconciler.errors import InputError

__all__ = [
    "NEVER_SENT",
    "SECRET_METHODS",
    "Profile",
    "ignored_fields",
    "registration_metadata",
    "server_fields",
]

#: Never sent in a registration or update (RFC 7592 2.2), nor echoed from a read.
NEVER_SENT = frozenset(
    {
        "registration_access_token",
        "registration_client_uri",
        "client_id_issued_at",
        "client_secret_expires_at",
        "client_secret",
    }
)
SECRET_METHODS = frozenset({"client_secret_post", "client_secret_basic", "client_secret_jwt"})
_SET_LIKE_MEMBERS = frozenset(
    {"redirect_uris", "post_logout_redirect_uris", "grant_types", "response_types", "contacts"}
)
_IMPLICIT_PREFERENCE = ("id_token token", "token", "id_token")
_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}


@dataclass(frozen=True)
class Profile:
    """What discovery says about the server, where the mapping depends on it."""

    response_types_supported: tuple[str, ...] = ()

    @property
    def implicit_response_type(self) -> str:
        for candidate in _IMPLICIT_PREFERENCE:
            if candidate in self.response_types_supported:
                return candidate
        return "token"


@dataclass(frozen=True)
class _Mapping:
    field: str
    members: tuple[str, ...]
    write: Callable[[Any, Profile], dict[str, Any]]
    read: Callable[[Mapping[str, Any], Any], Any]


def _member(field: str, member: str) -> _Mapping:
    return _Mapping(field, (member,), lambda v, _: {member: v}, lambda m, _: m.get(member))


def _write_app_type(value: Any, _: Profile) -> dict[str, Any]:
    return {"application_type": "native" if value == "native" else "web"}


def _read_app_type(metadata: Mapping[str, Any], _: Any) -> str:
    if metadata.get("application_type") == "native":
        return "native"
    grants = set(metadata.get("grant_types") or ["authorization_code"])
    if grants == {"client_credentials"}:
        return "non_interactive"
    if metadata.get("token_endpoint_auth_method") == "none":
        return "spa"
    return "regular_web"


def _write_grants(value: Any, profile: Profile) -> dict[str, Any]:
    grants = list(value or [])
    responses = []
    if "authorization_code" in grants:
        responses.append("code")
    if "implicit" in grants:
        responses.append(profile.implicit_response_type)
    return {"grant_types": grants, "response_types": responses}


def _write_jwks(value: Any, _: Profile) -> dict[str, Any]:
    keys = [_jwk(item) for item in value or []]
    return {"jwks": {"keys": keys} if keys else None}


def _read_credentials(metadata: Mapping[str, Any], applied: Any) -> list[dict[str, Any]] | None:
    jwks = metadata.get("jwks")
    if not isinstance(jwks, dict):
        return None
    names = {c.get("kid"): c.get("name") for c in applied or [] if isinstance(c, dict)}
    summaries = []
    for key in jwks.get("keys") or []:
        kid = key.get("kid")
        summaries.append({"name": names.get(kid) or kid, "kid": kid, "alg": key.get("alg")})
    return summaries


def _read_scope(metadata: Mapping[str, Any], _: Any) -> str | None:
    """The server's ``scope`` as the canonical field holds one: sorted and unique."""
    return " ".join(_scopes(metadata.get("scope"))) or None


def _scopes(value: Any) -> list[str]:
    return sorted(set(value.split())) if isinstance(value, str) else []


_MAPPINGS = (
    _member("name", "client_name"),
    _Mapping("app_type", ("application_type",), _write_app_type, _read_app_type),
    _member("callbacks", "redirect_uris"),
    _member("allowed_logout_urls", "post_logout_redirect_uris"),
    _member("logo_uri", "logo_uri"),
    _member("initiate_login_uri", "initiate_login_uri"),
    _Mapping("grant_types", ("grant_types",), _write_grants, lambda m, _: m.get("grant_types")),
    _member("token_endpoint_auth_method", "token_endpoint_auth_method"),
    _Mapping("credentials", ("jwks",), _write_jwks, _read_credentials),
    _member("client_uri", "client_uri"),
    _member("policy_uri", "policy_uri"),
    _member("tos_uri", "tos_uri"),
    _member("contacts", "contacts"),
    _Mapping("scope", ("scope",), lambda v, _: {"scope": v or None}, _read_scope),
)
_BY_FIELD = {mapping.field: mapping for mapping in _MAPPINGS}


def registration_metadata(fields: Mapping[str, Any], profile: Profile) -> dict[str, Any]:
    """The metadata members for ``fields``; a None member means "leave it out".

    ``credentials`` may hold ``Credential`` values (full JWKs are written) or their
    summaries (only kid and alg, enough to compare).
    """
    members: dict[str, Any] = {}
    for name, value in fields.items():
        mapping = _BY_FIELD.get(name)
        if mapping is not None:
            members.update(mapping.write(value, profile))
    return members


def ignored_fields(
    fields: Mapping[str, Any], answer: Mapping[str, Any], profile: Profile
) -> tuple[str, ...]:
    """Fields written with a value whose members the server's answer leaves out entirely."""
    ignored = []
    for name, value in fields.items():
        mapping = _BY_FIELD.get(name)
        if mapping is None or _holds(mapping, answer, value, profile):
            continue
        if not any(member in answer for member in mapping.members):
            ignored.append(name)
    return tuple(sorted(ignored))


def server_fields(
    metadata: Mapping[str, Any],
    applied: Mapping[str, Any],
    ignored: Sequence[str],
    profile: Profile,
) -> dict[str, Any]:
    """The canonical fields of a client as the server holds it (see the module docstring)."""
    fields: dict[str, Any] = {}
    for mapping in _MAPPINGS:
        name = mapping.field
        if name in applied and name in ignored:
            fields[name] = applied[name]
        elif name in applied and _holds(mapping, metadata, applied[name], profile):
            fields[name] = applied[name]
        else:
            value = mapping.read(metadata, applied.get(name))
            if value is not None:
                fields[name] = value
    for name, value in applied.items():
        if name not in _BY_FIELD:
            fields[name] = value
    return canonical(fields)


def _holds(mapping: _Mapping, metadata: Mapping[str, Any], value: Any, profile: Profile) -> bool:
    written = mapping.write(value, profile)
    return all(
        _comparable(member, written.get(member)) == _comparable(member, metadata.get(member))
        for member in mapping.members
    )


def _comparable(member: str, value: Any) -> Any:
    if value in (None, "", [], {}):
        return None
    if member == "jwks" and isinstance(value, dict):
        keys = value.get("keys") or []
        return sorted((str(k.get("kid")), str(k.get("alg"))) for k in keys) or None
    if member in _SET_LIKE_MEMBERS and isinstance(value, list):
        return sorted({str(item) for item in value})
    if member == "scope":
        return _scopes(value) or None
    return value


def _jwk(item: Credential | Mapping[str, Any]) -> dict[str, Any]:
    """A public JWK for a credential; a summary gives only what comparison needs."""
    if not isinstance(item, Credential):
        return {"kid": item.get("kid"), "alg": item.get("alg")}
    try:
        key = load_pem_public_key(item.pem.encode("ascii"))
    except (ValueError, TypeError) as exc:
        raise InputError(f"credential {item.name!r} is not a PEM public key: {exc}") from exc
    jwk: dict[str, Any]
    if isinstance(key, rsa.RSAPublicKey):
        numbers = key.public_numbers()
        jwk = {"kty": "RSA", "n": _b64(numbers.n), "e": _b64(numbers.e)}
    elif isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in _CURVES:
        numbers_ec = key.public_numbers()
        size = (key.curve.key_size + 7) // 8
        jwk = {
            "kty": "EC",
            "crv": _CURVES[key.curve.name],
            "x": _b64(numbers_ec.x, size),
            "y": _b64(numbers_ec.y, size),
        }
    else:
        raise InputError(
            f"credential {item.name!r}: only RSA and NIST P-curve public keys become JWKs"
        )
    return {**jwk, "kid": item.kid, "alg": item.alg, "use": "sig"}


def _b64(number: int, size: int | None = None) -> str:
    raw = number.to_bytes(size or max(1, (number.bit_length() + 7) // 8), "big")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
