"""The management client's tokens: ``POST /oauth/token`` and the Bearer check on /api/v2.

Tokens are HS256 JWTs signed with a key that lives as long as the server, carrying the
claims an Auth0 Management API token carries (``aud``, ``sub: {client_id}@clients``,
``gty``, ``scope``, ``iat``, ``exp``). Token endpoint errors use OAuth's
``{error, error_description}`` shape, as Auth0's authentication API does; the /api/v2
errors use the Management API's (``ApiError``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from reconciler.errors import ApiError
from reconciler.server.messages import Request, Response, json_response

__all__ = [
    "MANAGEMENT_SCOPES",
    "Grant",
    "ManagementAuth",
    "TokenError",
    "UnauthorizedError",
    "require_scope",
]

MANAGEMENT_SCOPES = (
    "read:clients",
    "create:clients",
    "update:clients",
    "delete:clients",
    "read:client_keys",
    "update:client_keys",
    "read:client_credentials",
    "create:client_credentials",
    "update:client_credentials",
    "delete:client_credentials",
    "read:client_summary",
    "read:resource_servers",
    "create:resource_servers",
    "update:resource_servers",
    "delete:resource_servers",
)
EXPIRED_TOKEN = "Expired token received for JSON Web Token validation"
INVALID_TOKEN = "Invalid token"
_JWT_HEADER = {"alg": "HS256", "typ": "JWT"}


@dataclass(frozen=True)
class Grant:
    """Who a valid token was issued to, and what it may do."""

    client_id: str
    scopes: frozenset[str]

    def has(self, scope: str) -> bool:
        return scope in self.scopes


class UnauthorizedError(ApiError):
    """401 with the ``attributes`` member hapi's JWT plugin adds for a bad token."""

    def __init__(self, message: str) -> None:
        super().__init__(401, "Unauthorized", message)

    def body(self) -> dict[str, object]:
        return {**super().body(), "attributes": {"error": self.message}}


class TokenError(Exception):
    """An OAuth token endpoint error (RFC 6749 §5.2)."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    def response(self) -> Response:
        return json_response(
            self.status, {"error": self.error, "error_description": self.description}
        )


def require_scope(grant: Grant, *any_of: str) -> None:
    if not any(grant.has(scope) for scope in any_of):
        raise ApiError(
            403,
            "Forbidden",
            f"Insufficient scope, expected any of: {', '.join(any_of)}",
            "insufficient_scope",
        )


class ManagementAuth:
    """Issues and checks the tokens of the one management client the server knows."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        token_lifetime: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client_id = client_id
        self._client_secret = client_secret
        self._token_lifetime = token_lifetime
        self._clock = clock
        self._key = secrets.token_bytes(32)

    # -- POST /oauth/token --------------------------------------------------------------------

    def token(self, request: Request, audiences: Iterable[str]) -> Response:
        try:
            fields = _token_request_fields(request)
            self._check_client(request, fields)
            audience = _check_audience(fields.get("audience"), set(audiences))
            scopes = _granted_scopes(fields.get("scope"))
        except TokenError as exc:
            return exc.response()
        scope = " ".join(scopes)
        access_token = self._sign(
            {
                "iss": audience.removesuffix("api/v2/"),
                "sub": f"{self.client_id}@clients",
                "aud": audience,
                "iat": (now := int(self._clock())),
                "exp": now + self._token_lifetime,
                "scope": scope,
                "gty": "client-credentials",
                "azp": self.client_id,
            }
        )
        return json_response(
            200,
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": self._token_lifetime,
                "scope": scope,
            },
            {"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    def _check_client(self, request: Request, fields: Mapping[str, str]) -> None:
        if fields.get("grant_type") != "client_credentials":
            raise TokenError(
                400,
                "unsupported_grant_type",
                f"Unsupported grant type: {fields.get('grant_type', '')}",
            )
        client_id, client_secret = _basic_credentials(request) or (
            fields.get("client_id"),
            fields.get("client_secret"),
        )
        if client_id is None:
            raise TokenError(401, "access_denied", "Unauthorized")
        if client_id != self.client_id or not hmac.compare_digest(
            (client_secret or "").encode(), self._client_secret.encode()
        ):
            raise TokenError(401, "access_denied", "Unauthorized")

    # -- Bearer tokens on /api/v2 -------------------------------------------------------------

    def authenticate(self, request: Request, audiences: Iterable[str]) -> Grant:
        """The grant of the request's Bearer token, or 401 as Auth0 answers it."""
        scheme, _, token = (request.header("authorization") or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "Unauthorized", "Missing authentication")
        claims = self._verify(token.strip())
        if claims.get("aud") not in set(audiences):
            raise UnauthorizedError(INVALID_TOKEN)
        expires = claims.get("exp")
        if not isinstance(expires, int | float) or self._clock() >= expires:
            raise UnauthorizedError(EXPIRED_TOKEN)
        scope = claims.get("scope")
        subject = str(claims.get("sub", ""))
        return Grant(
            subject.removesuffix("@clients"),
            frozenset(scope.split()) if isinstance(scope, str) else frozenset(),
        )

    def _sign(self, claims: Mapping[str, Any]) -> str:
        signing_input = f"{_encode_part(_JWT_HEADER)}.{_encode_part(claims)}"
        return f"{signing_input}.{_b64encode(self._mac(signing_input))}"

    def _verify(self, token: str) -> dict[str, Any]:
        parts = token.split(".")
        if len(parts) != 3:
            raise UnauthorizedError(INVALID_TOKEN)
        header, claims, signature = (_decode_part(part) for part in parts)
        expected = self._mac(f"{parts[0]}.{parts[1]}")
        if not isinstance(signature, bytes) or not hmac.compare_digest(signature, expected):
            raise UnauthorizedError(INVALID_TOKEN)
        header_object, claims_object = _json_object(header), _json_object(claims)
        if header_object.get("alg") != "HS256":
            raise UnauthorizedError(INVALID_TOKEN)
        return claims_object

    def _mac(self, signing_input: str) -> bytes:
        return hmac.new(self._key, signing_input.encode("ascii"), hashlib.sha256).digest()


def _token_request_fields(request: Request) -> dict[str, str]:
    if request.method != "POST":
        raise TokenError(405, "invalid_request", "Use POST")
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise TokenError(400, "invalid_request", "The body is not UTF-8") from None
    if request.media_type == "application/json":
        try:
            value = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError:
            raise TokenError(400, "invalid_request", "Invalid JSON body") from None
        if not isinstance(value, dict):
            raise TokenError(400, "invalid_request", "The body must be a JSON object")
        return {k: v for k, v in value.items() if isinstance(v, str)}
    return dict(parse_qsl(text, keep_blank_values=True))


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, encoded = (request.header("authorization") or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise TokenError(401, "access_denied", "Unauthorized") from None
    client_id, _, client_secret = decoded.partition(":")
    return client_id, client_secret


def _check_audience(audience: str | None, accepted: set[str]) -> str:
    if not audience:
        raise TokenError(
            403,
            "access_denied",
            "No audience parameter was provided, and no default audience has been configured",
        )
    if audience not in accepted:
        raise TokenError(403, "access_denied", f"Service not enabled within domain: {audience}")
    return audience


def _granted_scopes(requested: str | None) -> list[str]:
    """Every management scope, or the requested subset of them."""
    if requested is None or not requested.strip():
        return list(MANAGEMENT_SCOPES)
    wanted = list(dict.fromkeys(requested.split()))
    refused = [scope for scope in wanted if scope not in MANAGEMENT_SCOPES]
    if refused:
        raise TokenError(
            403, "access_denied", f"Client has not been granted scopes: {', '.join(refused)}"
        )
    return wanted


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _encode_part(value: Mapping[str, Any]) -> str:
    return _b64encode(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def _decode_part(part: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        return None


def _json_object(data: bytes | None) -> dict[str, Any]:
    try:
        value = json.loads(data) if data is not None else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        value = None
    if not isinstance(value, dict):
        raise UnauthorizedError(INVALID_TOKEN)
    return value
