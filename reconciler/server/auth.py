"""Tokens: ``POST /oauth/token`` and the Bearer check on /api/v2.

The management client gets Management API tokens, with its secret or, when it is given
a public key, with a client assertion (private_key_jwt, ``assertions.py``). The audience
must be the tenant's Management API, its canonical domain's as at Auth0 (a custom
domain's is refused: "Service not enabled within domain"); the scopes are the grant the
client was given (``MANAGEMENT_SCOPES`` unless told), or the requested subset of them.
Any other client of the tenant with a secret and the client_credentials grant type gets
a token for one of the tenant's APIs when it holds a client grant for it, with exactly
the granted scopes (a requested ``scope`` narrows them), as Auth0 issues them.

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
from typing import Any, NoReturn
from urllib.parse import parse_qsl

import jwt

from reconciler.errors import ApiError
from reconciler.server.assertions import ASSERTION_TYPE, ClientAssertions, RefusedAssertion
from reconciler.server.messages import Request, Response, json_response
from reconciler.tenant.engine import Tenant
from reconciler.tenant.rules import DEFAULT_GRANT_TYPES

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
    "read:client_grants",
    "create:client_grants",
    "update:client_grants",
    "delete:client_grants",
    "read:connections",
    "update:connections",
    "read:tenant_settings",
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

    def __init__(self, status: int, error: str, description: str, uri: str | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.uri = uri

    def response(self) -> Response:
        body = {"error": self.error, "error_description": self.description}
        if self.uri is not None:
            body["error_uri"] = self.uri
        return json_response(self.status, body)


def require_scope(grant: Grant, *any_of: str) -> None:
    if not any(grant.has(scope) for scope in any_of):
        raise ApiError(
            403,
            "Forbidden",
            f"Insufficient scope, expected any of: {', '.join(any_of)}",
            "insufficient_scope",
        )


class ManagementAuth:
    """Issues tokens (the management client's, and the tenant's clients' for its APIs) and
    checks the Management API's."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str | None,
        token_lifetime: int,
        clock: Callable[[], float] = time.time,
        tenant: Tenant | None = None,
        client_public_key: bytes | None = None,
        client_key_alg: str = "RS256",
        management_scopes: tuple[str, ...] = MANAGEMENT_SCOPES,
    ) -> None:
        """The management client authenticates with ``client_secret`` or, given its
        ``client_public_key`` (PEM), with client assertions signed ``client_key_alg``."""
        if (client_secret is None) == (client_public_key is None):
            raise ValueError("the management client has a secret or a public key: one of them")
        self.client_id = client_id
        self._tenant = tenant
        self._client_secret = client_secret
        self._assertions = (
            ClientAssertions(client_id, client_public_key, client_key_alg, clock)
            if client_public_key is not None
            else None
        )
        self._management_scopes = management_scopes
        self._token_lifetime = token_lifetime
        self._clock = clock
        self._key = secrets.token_bytes(32)

    # -- POST /oauth/token --------------------------------------------------------------------

    def token(self, request: Request, audiences: Iterable[str]) -> Response:
        """A client-credentials token: for the management client, for the Management API;
        for a client of the tenant, for one of its APIs it holds a client grant for."""
        accepted = set(audiences)
        try:
            fields = _token_request_fields(request)
            client_id, client_secret = _client_credentials(request, fields)
            if client_id == self.client_id:
                self._authenticate(request, fields, client_secret, accepted)
                audience = _check_audience(fields.get("audience"), accepted)
                scopes = _granted_scopes(fields.get("scope"), self._management_scopes)
                lifetime = self._token_lifetime
            else:
                audience, scopes, lifetime = self._tenant_client_token(
                    client_id, client_secret, fields, accepted
                )
        except TokenError as exc:
            return exc.response()
        issuer = _issuer(request, accepted)
        scope = " ".join(scopes)
        access_token = self._sign(
            {
                "iss": issuer,
                "sub": f"{client_id}@clients",
                "aud": audience,
                "iat": (now := int(self._clock())),
                "exp": now + lifetime,
                "scope": scope,
                "gty": "client-credentials",
                "azp": client_id,
            }
        )
        return json_response(
            200,
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": lifetime,
                "scope": scope,
            },
            {"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    def _authenticate(
        self,
        request: Request,
        fields: Mapping[str, str],
        client_secret: str | None,
        management_audiences: set[str],
    ) -> None:
        """The management client's secret, or its client assertion: whichever way it
        authenticates (an Auth0 app set to private_key_jwt has no secret to use)."""
        assertion = fields.get("client_assertion")
        if self._assertions is None:
            if assertion is not None:
                raise TokenError(401, "access_denied", "Unauthorized")
            assert self._client_secret is not None
            _check_secret(client_secret, self._client_secret)
            return
        if assertion is None or client_secret is not None:
            raise TokenError(401, "access_denied", "Unauthorized")
        if fields.get("client_assertion_type") != ASSERTION_TYPE:
            raise TokenError(
                400, "invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}"
            )
        tenant_urls = {audience.removesuffix("api/v2/") for audience in management_audiences}
        tenant_urls.add(f"{request.scheme}://{request.header('host')}/")
        try:
            self._assertions.verify(assertion, tenant_urls)
        except RefusedAssertion as refused:
            raise TokenError(401, "access_denied", str(refused)) from None

    def _tenant_client_token(
        self,
        client_id: str,
        client_secret: str | None,
        fields: Mapping[str, str],
        management_audiences: set[str],
    ) -> tuple[str, list[str], int]:
        """Audience, scopes and lifetime of a token for a client of the tenant."""
        tenant = self._tenant
        try:
            if tenant is None:
                raise ApiError(404, "Not Found", "no tenant")
            client = tenant.get_client(client_id)
        except ApiError:
            raise TokenError(401, "access_denied", "Unauthorized") from None
        stored_secret = client.get("client_secret")
        if not isinstance(stored_secret, str):
            raise TokenError(401, "access_denied", "Unauthorized")
        _check_secret(client_secret, stored_secret)
        if "client_credentials" not in client.get("grant_types", DEFAULT_GRANT_TYPES):
            raise TokenError(
                403,
                "unauthorized_client",
                "Grant type 'client_credentials' not allowed for the client.",
                "https://auth0.com/docs/clients/client-grant-types",
            )
        audience = fields.get("audience") or ""
        server = _resource_server(tenant, audience) if audience else None
        if server is None:
            # The Management API itself: the tenant's clients hold no grant for it here.
            _not_authorized(_check_audience(audience, management_audiences))
        grant = tenant.client_grants.for_client(client_id, audience)
        if grant is None:
            _not_authorized(audience)
        scopes = _granted_scopes(fields.get("scope"), tuple(grant.get("scope") or ()))
        return audience, scopes, int(server.get("token_lifetime", self._token_lifetime))

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


def _issuer(request: Request, management_audiences: set[str]) -> str:
    """The tenant's own URL, as the client reached it (a Management API audience less
    ``api/v2/``)."""
    host = request.header("host")
    reached = f"{request.scheme}://{host}/api/v2/"
    audience = reached if reached in management_audiences else min(management_audiences)
    return audience.removesuffix("api/v2/")


def _client_credentials(request: Request, fields: Mapping[str, str]) -> tuple[str, str | None]:
    """The client's id and secret, from HTTP Basic or the body; only client_credentials."""
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
    if client_id is None and fields.get("client_assertion"):
        client_id = _asserted_client(fields["client_assertion"])
    if client_id is None:
        raise TokenError(401, "access_denied", "Unauthorized")
    return client_id, client_secret


def _asserted_client(assertion: str) -> str | None:
    """The client a client assertion says it is for (its ``sub``), when the request names
    none (RFC 7521 §4.2: ``client_id`` is then optional); checked when it is verified."""
    try:
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    subject = claims.get("sub")
    return subject if isinstance(subject, str) else None


def _check_secret(given: str | None, expected: str) -> None:
    if not hmac.compare_digest((given or "").encode(), expected.encode()):
        raise TokenError(401, "access_denied", "Unauthorized")


def _not_authorized(audience: str) -> NoReturn:
    raise TokenError(
        403,
        "access_denied",
        f'Client is not authorized to access "{audience}". You need to create a '
        '"client-grant" associated to this API. See: '
        "https://auth0.com/docs/api/management/v2/client-grants/post-client-grants",
    )


def _resource_server(tenant: Tenant, audience: str) -> Mapping[str, Any] | None:
    """The tenant's API whose identifier is ``audience`` (not its id), if any."""
    try:
        server = tenant.resource_servers.get(audience)
    except ApiError:
        return None
    return server if server.get("identifier") == audience else None


def _granted_scopes(requested: str | None, granted: tuple[str, ...]) -> list[str]:
    """Every granted scope, or the requested subset of them."""
    if requested is None or not requested.strip():
        return list(granted)
    wanted = list(dict.fromkeys(requested.split()))
    refused = [scope for scope in wanted if scope not in granted]
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
