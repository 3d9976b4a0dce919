"""Client assertions (private_key_jwt, RFC 7523 §2.2) of the management client, checked
as Auth0 checks them (``authenticate-with-private-key-jwt``):

- the header's ``alg`` is the credential's, and the signature is its key's;
- ``iss`` and ``sub`` are the client id (at most 64 characters each);
- ``aud`` is the URL of the tenant or of the domain that received it, with its trailing
  slash;
- ``exp`` has not passed and is at most 5 minutes after ``iat`` (or now, without one);
  ``iat`` and ``nbf``, when present, are not more than 10 seconds in the future;
- ``jti`` (at most 64 characters) is used once: a second use is refused until it expires.

``RefusedAssertion`` says why one is refused (the token endpoint answers it as a 401
``access_denied``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any, NoReturn

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

__all__ = [
    "ASSERTION_TYPE",
    "KEY_ALGORITHMS",
    "ClientAssertions",
    "RefusedAssertion",
    "rsa_public_key",
]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: The algorithms Auth0 registers a credential with.
KEY_ALGORITHMS = ("RS256", "RS384", "PS256")
MAX_LIFETIME_SECONDS = 300
SKEW_SECONDS = 10
MAX_CLAIM_LENGTH = 64


def rsa_public_key(pem: bytes, alg: str) -> RSAPublicKey:
    """The RSA public key of a credential registered with ``alg``, or ValueError."""
    if alg not in KEY_ALGORITHMS:
        raise ValueError(f"the key's algorithm must be one of {', '.join(KEY_ALGORITHMS)}")
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ValueError(f"not a PEM public key ({exc})") from None
    if not isinstance(key, RSAPublicKey):
        raise ValueError("the management client's public key must be an RSA key")
    return key


class RefusedAssertion(Exception):
    """A client assertion Auth0 would not accept; the message says why."""


class ClientAssertions:
    """The assertions of ``client_id``, signed by the private key of ``public_key_pem``."""

    def __init__(
        self, client_id: str, public_key_pem: bytes, alg: str, clock: Callable[[], float]
    ) -> None:
        self._client_id = client_id
        self._key = rsa_public_key(public_key_pem, alg)
        self._alg = alg
        self._clock = clock
        self._used: dict[str, float] = {}  # jti -> the exp after which it is forgotten
        self._lock = threading.Lock()

    def verify(self, assertion: str, audiences: Iterable[str]) -> None:
        """Accept ``assertion`` for a request that reached the tenant at one of
        ``audiences``, or raise RefusedAssertion."""
        claims = self._signed_claims(assertion)
        for name in ("iss", "sub"):
            if claims.get(name) != self._client_id:
                _refuse(f"the client assertion's {name} must be the client id")
        aud = claims.get("aud")
        named = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        if not set(named) & set(audiences):
            _refuse(f"the client assertion's aud must be one of {', '.join(sorted(audiences))}")
        now = self._clock()
        self._check_times(claims, now)
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti or len(jti) > MAX_CLAIM_LENGTH:
            _refuse(f"the client assertion needs a jti of at most {MAX_CLAIM_LENGTH} characters")
        with self._lock:
            self._used = {seen: until for seen, until in self._used.items() if until > now}
            if jti in self._used:
                _refuse("the client assertion's jti has already been used")
            self._used[jti] = float(claims["exp"])

    def _signed_claims(self, assertion: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(assertion)
            if header.get("alg") != self._alg:
                _refuse(f"the client assertion must be signed with {self._alg}")
            claims = jwt.decode(
                assertion,
                self._key,
                algorithms=[self._alg],
                options={
                    "verify_aud": False,
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "verify_iss": False,
                },
            )
        except jwt.PyJWTError as exc:
            _refuse(f"invalid client assertion ({exc})")
        for name in ("iss", "sub"):
            value = claims.get(name)
            if isinstance(value, str) and len(value) > MAX_CLAIM_LENGTH:
                _refuse(f"the client assertion's {name} is longer than {MAX_CLAIM_LENGTH}")
        return dict(claims)

    def _check_times(self, claims: dict[str, Any], now: float) -> None:
        expires = _time(claims, "exp")
        if expires is None:
            _refuse("the client assertion needs an exp")
        if now >= expires:
            _refuse("the client assertion has expired")
        for name in ("iat", "nbf"):
            at = _time(claims, name)
            if name in claims and (at is None or at > now + SKEW_SECONDS):
                _refuse(f"the client assertion's {name} is in the future")
        issued = _time(claims, "iat")
        if expires - (now if issued is None else issued) > MAX_LIFETIME_SECONDS:
            _refuse(f"the client assertion lives longer than {MAX_LIFETIME_SECONDS // 60} minutes")


def _time(claims: dict[str, Any], name: str) -> float | None:
    """A NumericDate claim (RFC 7519 §2), None when absent or not a number."""
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _refuse(reason: str) -> NoReturn:
    raise RefusedAssertion(reason)
