"""What identifies a credential's key material, and the one spelling of its expiry.

A public key is known by its key id: by default the RFC 7638 JWK thumbprint, which is
the kid Auth0 gives a key when none is named (``configure-private-key-jwt.mdx``) and the
one JOSE libraries compute. Versions of the reconciler before it sent a kid of their own
(``legacy_kid``); a registry still holding that kid for the same key holds the same key.
An X.509 certificate is known by the SHA-256 thumbprint of its DER bytes, a certificate
subject by its DN, one RDN a line as Auth0 writes it. Expiry times are compared in
Auth0's spelling (``format_expiry``). Only the functions that parse a PEM load
cryptography, so reading manifests without credentials never does.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from datetime import UTC, datetime

__all__ = [
    "certificate_subject_dn",
    "certificate_thumbprint",
    "format_expiry",
    "jwk_thumbprint",
    "legacy_kid",
    "normal_thumbprint",
    "parse_expiry",
]

_HEX_SHA256 = re.compile(r"^[0-9a-fA-F]{2}(:?[0-9a-fA-F]{2}){31}$")


def jwk_thumbprint(pem: str) -> str:
    """The RFC 7638 thumbprint (SHA-256, base64url) of a PEM public key or of the key in
    a PEM certificate; raises ValueError for anything else (a private key, an unsupported
    key type, no PEM at all)."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    key = _public_key(pem)
    if isinstance(key, rsa.RSAPublicKey):
        numbers = key.public_numbers()
        members = {"e": _unsigned(numbers.e), "kty": "RSA", "n": _unsigned(numbers.n)}
    elif isinstance(key, ec.EllipticCurvePublicKey):
        size = (key.curve.key_size + 7) // 8
        point = key.public_numbers()
        members = {
            "crv": _CURVES.get(key.curve.name, key.curve.name),
            "kty": "EC",
            "x": _base64url(point.x.to_bytes(size, "big")),
            "y": _base64url(point.y.to_bytes(size, "big")),
        }
    else:
        raise ValueError("only RSA and NIST P-curve keys have a JWK thumbprint here")
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True)
    return _base64url(hashlib.sha256(canonical.encode("ascii")).digest())


def legacy_kid(pem: str) -> str:
    """The kid earlier versions derived and sent: base64url(sha256(DER)), 32 characters.
    Never sent any more; recognised so that a key registered under it is not rotated."""
    body = "".join(line for line in pem.strip().splitlines() if not line.startswith("-----"))
    try:
        der = base64.b64decode(body)
    except binascii.Error:
        return ""
    return _base64url(hashlib.sha256(der).digest())[:32]


def certificate_thumbprint(pem: str) -> str:
    """The SHA-256 thumbprint (base64url) of a PEM X.509 certificate's DER bytes."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    certificate = x509.load_pem_x509_certificate(pem.strip().encode("ascii", "replace"))
    return _base64url(hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).digest())


def certificate_subject_dn(pem: str) -> str:
    """A PEM X.509 certificate's subject DN as Auth0 derives it from a ``cert_subject_dn``
    credential's PEM: one ``TYPE=value`` per line, in the certificate's order
    (go-auth0 recording TestClient_CreateAllCredential/Should_create_TLSClientAuth_Credential:
    ``C=JP\\nST=Tokyo\\nL=Chiyoda-ku\\nO=Client\\nCN=client.example.org``)."""
    from cryptography import x509

    certificate = x509.load_pem_x509_certificate(pem.strip().encode("ascii", "replace"))
    return "\n".join(rdn.rfc4514_string() for rdn in certificate.subject.rdns)


def normal_thumbprint(value: str) -> str:
    """A SHA-256 thumbprint as base64url, whether it came so, as base64, or as hex (with
    or without colons), so a registry's spelling never shows as a new certificate."""
    text = value.strip()
    if _HEX_SHA256.match(text):
        return _base64url(bytes.fromhex(text.replace(":", "")))
    try:
        digest = base64.urlsafe_b64decode(text.replace("+", "-").replace("/", "_") + "==")
    except (binascii.Error, ValueError):
        return text
    return _base64url(digest) if len(digest) == 32 else text


def parse_expiry(text: str) -> datetime:
    """An ISO 8601 date-time with a UTC offset (``Z`` or ``+HH:MM``), as Auth0 takes
    ``expires_at``; raises ValueError for anything else, a time without an offset too."""
    moment = datetime.fromisoformat(text.strip())
    if "T" not in text.upper() or moment.tzinfo is None:
        raise ValueError(f"{text!r} is not a date-time with a UTC offset")
    return moment


def format_expiry(text: str) -> str:
    """``text`` in Auth0's spelling (UTC, milliseconds, ``Z``: ``2031-01-01T00:00:00.000Z``),
    so every spelling of one moment compares equal; text that is no date-time is kept."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}


def _public_key(pem: str) -> object:
    from cryptography.hazmat.primitives import serialization

    data = pem.strip().encode("ascii", "replace")
    if b"-----BEGIN CERTIFICATE-----" in data:
        from cryptography import x509

        return x509.load_pem_x509_certificate(data).public_key()
    return serialization.load_pem_public_key(data)


def _unsigned(value: int) -> str:
    return _base64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")
