"""What the embedded tenant accepts as a client credential, and what it derives from one.

A credential holds a public key or an X.509 certificate (``pem``), or a certificate's
subject DN. Private keys and RSA keys shorter than 2048 bits are refused; the ``kid``
(the RFC 7638 thumbprint), the certificate thumbprint, the subject DN and the expiry are
derived from the key material as Auth0 derives them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from reconciler.tenant.schema import (
    FLAG,
    NONEMPTY_TEXT,
    JsonObject,
    Rule,
    check,
    enum_rule,
    invalid_body,
    join_path,
    object_rule,
)

__all__ = [
    "CREDENTIAL_REFERENCE",
    "CREDENTIAL_TYPE_FOR_METHOD",
    "NEW_CREDENTIAL",
    "NewCredential",
    "check_credential_patch",
    "check_new_credential",
    "format_timestamp",
]

CREDENTIAL_ALGS = ("RS256", "RS384", "PS256")
CREDENTIAL_TYPE_FOR_METHOD = {
    "private_key_jwt": "public_key",
    "tls_client_auth": "cert_subject_dn",
    "self_signed_tls_client_auth": "x509_cert",
}
MIN_RSA_BITS = 2048
_KID_PATTERN = r"^[0-9a-zA-Z_-]{10,64}$"


_DATE_TIME = Rule(type="string", format="date-time")
_CREDENTIAL_MEMBERS = {
    "credential_type": enum_rule("public_key", "cert_subject_dn", "x509_cert"),
    "name": Rule(type="string", max_length=128),
    "subject_dn": Rule(type="string", min_length=1, max_length=256),
    "pem": NONEMPTY_TEXT,
    "alg": enum_rule(*CREDENTIAL_ALGS),
    "parse_expiry_from_cert": FLAG,
    "expires_at": _DATE_TIME,
    "kid": Rule(type="string", pattern=_KID_PATTERN),
}
_COMMON_CREDENTIAL_MEMBERS = {"credential_type", "name", "pem", "expires_at"}
_MEMBERS_BY_CREDENTIAL_TYPE = {
    "public_key": _COMMON_CREDENTIAL_MEMBERS | {"alg", "kid", "parse_expiry_from_cert"},
    "x509_cert": _COMMON_CREDENTIAL_MEMBERS | {"parse_expiry_from_cert"},
    "cert_subject_dn": _COMMON_CREDENTIAL_MEMBERS | {"subject_dn", "parse_expiry_from_cert"},
}
NEW_CREDENTIAL = object_rule(_CREDENTIAL_MEMBERS, required=("credential_type",))
_CREDENTIAL_PATCH = object_rule(
    {"expires_at": Rule(type="string", format="date-time", nullable=True)}
)
CREDENTIAL_REFERENCE = object_rule({"id": NONEMPTY_TEXT}, required=("id",))


@dataclass(frozen=True)
class NewCredential:
    """A checked credential body, with what the server derives from its key material."""

    credential_type: str
    name: str | None
    pem: str | None
    alg: str | None
    kid: str | None
    subject_dn: str | None
    thumbprint_sha256: str | None
    expires_at: str | None

    def record(self, credential_id: str, now: str) -> JsonObject:
        """The stored credential: its public view plus ``pem``."""
        stored: JsonObject = {"id": credential_id}
        optional = {
            "name": self.name,
            "credential_type": self.credential_type,
            "kid": self.kid,
            "alg": self.alg,
            "subject_dn": self.subject_dn,
            "thumbprint_sha256": self.thumbprint_sha256,
        }
        stored.update({key: value for key, value in optional.items() if value is not None})
        stored["created_at"] = now
        stored["updated_at"] = now
        if self.expires_at is not None:
            stored["expires_at"] = self.expires_at
        if self.pem is not None:
            stored["pem"] = self.pem
        return stored


def check_new_credential(body: object, path: str = "") -> NewCredential:
    """A POST /clients/{id}/credentials body (or an inline one on POST /clients), checked."""
    check(body, NEW_CREDENTIAL, path)
    assert isinstance(body, dict)
    credential_type: str = body["credential_type"]
    for name in body:
        if name not in _MEMBERS_BY_CREDENTIAL_TYPE[credential_type]:
            raise invalid_body(f"Additional properties not allowed: {name}", path)
    parse_expiry = bool(body.get("parse_expiry_from_cert"))
    if parse_expiry and "expires_at" in body:
        raise invalid_body("expires_at and parse_expiry_from_cert are mutually exclusive", path)
    pem: str | None = body.get("pem")
    if pem is None and credential_type != "cert_subject_dn":
        raise invalid_body("Missing required property: pem", path)
    if credential_type == "cert_subject_dn" and pem is None and "subject_dn" not in body:
        raise invalid_body("Missing required property: subject_dn", path)
    key, certificate = _read_pem(pem, join_path(path, "pem")) if pem is not None else (None, None)
    if credential_type != "public_key" and pem is not None and certificate is None:
        raise invalid_body(f"A {credential_type} credential needs an X.509 certificate", path)
    expires_at = body.get("expires_at")
    if parse_expiry:
        if certificate is None:
            raise invalid_body("parse_expiry_from_cert needs a certificate in pem", path)
        expires_at = format_timestamp(certificate.not_valid_after_utc)
    elif expires_at is not None:
        expires_at = format_timestamp(datetime.fromisoformat(expires_at))
    subject_dn = body.get("subject_dn")
    if subject_dn is None and certificate is not None and credential_type != "public_key":
        subject_dn = certificate.subject.rfc4514_string()
    is_public_key = credential_type == "public_key"
    return NewCredential(
        credential_type=credential_type,
        name=body.get("name"),
        pem=pem,
        alg=body.get("alg", "RS256") if is_public_key else None,
        kid=body.get("kid") or (_jwk_thumbprint(key) if is_public_key and key else None),
        subject_dn=subject_dn,
        thumbprint_sha256=_certificate_thumbprint(certificate) if certificate else None,
        expires_at=expires_at,
    )


def check_credential_patch(body: object) -> JsonObject:
    """A PATCH /clients/{id}/credentials/{id} body: only ``expires_at`` may change."""
    check(body, _CREDENTIAL_PATCH, patch=True)
    assert isinstance(body, dict)
    expires_at = body.get("expires_at")
    if expires_at is None:
        return {"expires_at": None} if "expires_at" in body else {}
    return {"expires_at": format_timestamp(datetime.fromisoformat(expires_at))}


def _read_pem(pem: str, path: str) -> tuple[rsa.RSAPublicKey, x509.Certificate | None]:
    data = pem.strip().encode("utf-8", "replace")
    if re.search(rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----", data):
        raise invalid_body("pem holds a private key: send only the public key or certificate", path)
    certificate: x509.Certificate | None = None
    key: object
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            certificate = x509.load_pem_x509_certificate(data)
            key = certificate.public_key()
        else:
            key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise invalid_body("pem is not a PEM public key or X.509 certificate", path) from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise invalid_body("pem must hold an RSA key", path)
    if key.key_size < MIN_RSA_BITS:
        raise invalid_body(
            f"pem holds a {key.key_size}-bit RSA key; the minimum is {MIN_RSA_BITS} bits", path
        )
    return key, certificate


def _base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _jwk_thumbprint(key: rsa.RSAPublicKey) -> str:
    """The RFC 7638 thumbprint: what Auth0 uses as the kid when none is given."""
    numbers = key.public_numbers()

    def unsigned(value: int) -> str:
        return _base64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))

    members = {"e": unsigned(numbers.e), "kty": "RSA", "n": unsigned(numbers.n)}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True)
    return _base64url(hashlib.sha256(canonical.encode("ascii")).digest())


def _certificate_thumbprint(certificate: x509.Certificate) -> str:
    return _base64url(hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).digest())


def format_timestamp(moment: datetime) -> str:
    """Auth0's timestamp form: UTC, milliseconds, ``Z``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
