"""What identifies a key or certificate, and the one spelling of an expiry (core/keys.py)."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from reconciler.core.keys import (
    certificate_subject_dn,
    certificate_thumbprint,
    format_expiry,
    jwk_thumbprint,
    legacy_kid,
    normal_thumbprint,
    parse_expiry,
)

# RFC 7638 section 3.1: the JWK of RFC 7517 appendix A.1 and its SHA-256 thumbprint.
RFC_7638_N = (
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
    "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY"
    "368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0f"
    "M4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
)
RFC_7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def b64url_int(text: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), "big")


def pem_of(key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def independent_thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638 over the JWK another library (PyJWT) makes of the key."""
    required = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y")}[jwk["kty"]]
    text = json.dumps({m: jwk[m] for m in required}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).decode().rstrip("=")


def certificate(**subject: str) -> tuple[x509.Certificate, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(getattr(NameOID, k), v) for k, v in subject.items()])
    made = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(7)
        .not_valid_before(datetime(2025, 1, 1))
        .not_valid_after(datetime(2030, 1, 1))
        .sign(private, hashes.SHA256())
    )
    return made, made.public_bytes(serialization.Encoding.PEM).decode("ascii")


def test_the_rfc_7638_example_thumbprint() -> None:
    key = rsa.RSAPublicNumbers(65537, b64url_int(RFC_7638_N)).public_key()
    assert jwk_thumbprint(pem_of(key)) == RFC_7638_THUMBPRINT


@pytest.mark.parametrize("bits", [2048, 4096])
def test_an_rsa_thumbprint_agrees_with_another_library(bits: int) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits).public_key()
    jwk = RSAAlgorithm.to_jwk(key, as_dict=True)
    assert jwk_thumbprint(pem_of(key)) == independent_thumbprint(jwk)


def test_an_ec_thumbprint_agrees_with_another_library() -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    jwk = ECAlgorithm.to_jwk(key, as_dict=True)
    assert jwk_thumbprint(pem_of(key)) == independent_thumbprint(jwk)


def test_a_certificate_has_the_thumbprint_of_its_key() -> None:
    made, pem = certificate(COMMON_NAME="ledger")
    assert jwk_thumbprint(pem) == jwk_thumbprint(pem_of(made.public_key()))  # type: ignore[arg-type]


def test_a_private_key_or_garbage_has_no_thumbprint() -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    for text in (private.decode(), "not a key"):
        with pytest.raises(ValueError):
            jwk_thumbprint(text)


def test_the_legacy_kid_is_what_earlier_versions_sent() -> None:
    pem = pem_of(rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key())
    der = serialization.load_pem_public_key(pem.encode()).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    expected = base64.urlsafe_b64encode(hashlib.sha256(der).digest()).decode().rstrip("=")[:32]
    assert legacy_kid(pem) == expected != jwk_thumbprint(pem)


def test_a_certificate_thumbprint_is_base64url_sha256_of_its_der() -> None:
    made, pem = certificate(COMMON_NAME="ledger")
    digest = made.fingerprint(hashes.SHA256())
    assert certificate_thumbprint(pem) == base64.urlsafe_b64encode(digest).decode().rstrip("=")


def test_a_subject_dn_is_one_rdn_a_line_in_the_certificates_order() -> None:
    # What Auth0 answered for a cert_subject_dn credential given as a certificate (go-auth0
    # recording TestClient_CreateAllCredential/Should_create_TLSClientAuth_Credential).
    _, pem = certificate(
        COUNTRY_NAME="JP",
        STATE_OR_PROVINCE_NAME="Tokyo",
        LOCALITY_NAME="Chiyoda-ku",
        ORGANIZATION_NAME="Client",
        COMMON_NAME="client.example.org",
    )
    assert (
        certificate_subject_dn(pem)
        == "C=JP\nST=Tokyo\nL=Chiyoda-ku\nO=Client\nCN=client.example.org"
    )


def test_a_thumbprint_in_any_spelling_is_one_value() -> None:
    digest = hashlib.sha256(b"certificate").digest()
    url = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    for spelling in (
        url,
        base64.b64encode(digest).decode(),
        digest.hex(),
        digest.hex().upper(),
        ":".join(f"{b:02X}" for b in digest),
    ):
        assert normal_thumbprint(spelling) == url
    assert normal_thumbprint("short") == "short"


@pytest.mark.parametrize(
    "spelling",
    [
        "2031-01-01T00:00:00Z",
        "2031-01-01T00:00:00.000Z",
        "2031-01-01T00:00:00+00:00",
        "2031-01-01T01:00:00+01:00",
        "2030-12-31T19:00:00.000-05:00",
        "2031-01-01T00:00:00.000000Z",
    ],
)
def test_every_spelling_of_a_moment_is_auth0s(spelling: str) -> None:
    assert format_expiry(spelling) == "2031-01-01T00:00:00.000Z"
    assert parse_expiry(spelling) == datetime(2031, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2031-01-01", "2031-01-01T00:00:00", "next tuesday"])
def test_an_expiry_needs_a_time_and_an_offset(text: str) -> None:
    with pytest.raises(ValueError):
        parse_expiry(text)
