"""The management client's private_key_jwt: a client assertion (RFC 7523 §2.2) per token
request, signed with its private key, as Auth0 asks for one.

Auth0 (``authenticate-with-private-key-jwt``): the header's ``alg`` is the credential's
(RS256, RS384 or PS256); ``iss`` and ``sub`` are the client id; ``aud`` is the URL of the
tenant or custom domain that receives the assertion, with its trailing slash (what
auth0-python's ``client_authentication.py`` sends); ``jti`` is unique, the assertion is
used once; ``exp`` at most 5 minutes out, the shorter the better. A new one is signed for
every request, a retry included, so no ``jti`` is ever sent twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reconciler.errors import InputError

if TYPE_CHECKING:  # imported where a key is used: a client secret's run never loads them
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

__all__ = ["ALGORITHMS", "ASSERTION_TYPE", "ClientAssertion"]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: The algorithms an Auth0 credential (its public key) can be registered with.
ALGORITHMS = ("RS256", "RS384", "PS256")
LIFETIME_SECONDS = 60
_MIN_BITS, _MAX_BITS = 2048, 4096


@dataclass(frozen=True)
class ClientAssertion:
    """Signs client assertions for ``client_id`` with ``key``."""

    client_id: str
    key: RSAPrivateKey
    alg: str = "RS256"

    @classmethod
    def from_pem(cls, client_id: str, pem: bytes, *, alg: str, source: str) -> ClientAssertion:
        """The assertion signer for a PEM private key; ``source`` names where the key came
        from in the errors (a variable, a file)."""
        from cryptography.exceptions import UnsupportedAlgorithm
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

        if alg not in ALGORITHMS:
            raise InputError(
                f"AUTH0_CLIENT_ASSERTION_ALG {alg!r}: use one of {', '.join(ALGORITHMS)} "
                "(the algorithm the management client's credential was registered with)"
            )
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except TypeError:
            raise InputError(
                f"{source}: the private key is encrypted; give it unencrypted "
                "(openssl pkey -in KEY -out PLAIN), kept as a CI secret"
            ) from None
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise InputError(f"{source}: not a PEM private key ({exc})") from None
        if not isinstance(key, RSAPrivateKey):
            raise InputError(f"{source}: Auth0 credentials are RSA keys; this one is not RSA")
        if not _MIN_BITS <= key.key_size <= _MAX_BITS:
            raise InputError(
                f"{source}: an RSA key of {key.key_size} bits; Auth0 takes {_MIN_BITS} to "
                f"{_MAX_BITS} bits"
            )
        return cls(client_id, key, alg)

    def fields(self, audience: str, now: float) -> dict[str, str]:
        """The token request's client authentication: a fresh assertion for ``audience``
        (the tenant URL with its trailing slash) issued at ``now`` (epoch seconds)."""
        import jwt

        issued = int(now)
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": audience,
            "iat": issued,
            "exp": issued + LIFETIME_SECONDS,
            "jti": str(uuid.uuid4()),
        }
        return {
            "client_id": self.client_id,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": jwt.encode(claims, self.key, algorithm=self.alg),
        }
