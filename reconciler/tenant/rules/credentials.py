"""What the embedded tenant accepts as a client credential, and what it derives from one.

A credential holds a public key or an X.509 certificate (``pem``), or a certificate's
subject DN. Private keys and RSA keys outside 2048-4096 bits are refused; the ``kid``
(the RFC 7638 thumbprint), the certificate thumbprint, the subject DN and the expiry are
derived from the key material as Auth0 derives them. A client holds at most two
credentials, no two with one kid, authenticates by one method at a time, and only with
``jwt_configuration.alg`` RS256 (``check_authentication``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from reconciler.core.keys import certificate_subject_dn, certificate_thumbprint, jwk_thumbprint
from reconciler.core.model import CREDENTIAL_TYPE_FOR_METHOD
from reconciler.errors import ApiError
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
    "MAX_CREDENTIALS",
    "NEW_CREDENTIAL",
    "NewCredential",
    "check_authentication",
    "check_credential_patch",
    "check_new_credential",
    "check_room",
    "format_timestamp",
]

CREDENTIAL_ALGS = ("RS256", "RS384", "PS256")
#: "Auth0 enforces a minimum RSA key size of 2048 bits and a maximum key size of 4096
#: bits. Applications can have a maximum of two credentials configured."
#: (configure-private-key-jwt.mdx, "Credential limits")
MIN_RSA_BITS = 2048
MAX_RSA_BITS = 4096
MAX_CREDENTIALS = 2
#: Terraform's limit on a certificate's PEM (resource_credentials_schema.go, mTLS ``pem``).
MAX_CERTIFICATE_PEM = 4096
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
# alg, kid, expires_at and parse_expiry_from_cert "apply to public_key" (go-auth0
# requests.go PostClientCredentialRequestContent); the certificate shapes carry only
# credential_type, name and pem or subject_dn (X509CertificateCredential,
# CertificateSubjectDnCredential). Stricter reading: refused on the certificate types.
_MEMBERS_BY_CREDENTIAL_TYPE = {
    "public_key": {
        "credential_type",
        "name",
        "pem",
        "alg",
        "kid",
        "expires_at",
        "parse_expiry_from_cert",
    },
    "x509_cert": {"credential_type", "name", "pem"},
    "cert_subject_dn": {"credential_type", "name", "pem", "subject_dn"},
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
    if pem is not None and "subject_dn" in body:
        raise invalid_body("subject_dn and pem are mutually exclusive", path)
    certificate = (
        _read_pem(pem, join_path(path, "pem"), sized=credential_type == "public_key")
        if pem is not None
        else None
    )
    if credential_type != "public_key" and pem is not None and certificate is None:
        raise invalid_body(f"A {credential_type} credential needs an X.509 certificate", path)
    if credential_type != "public_key" and pem is not None and len(pem) > MAX_CERTIFICATE_PEM:
        raise invalid_body(
            f"String is too long ({len(pem)} chars), maximum {MAX_CERTIFICATE_PEM}",
            join_path(path, "pem"),
        )
    expires_at = body.get("expires_at")
    if certificate is not None and credential_type == "x509_cert":
        # Terraform reads expires_at back for a self-signed certificate (computed).
        expires_at = format_timestamp(certificate.not_valid_after_utc)
    elif parse_expiry:
        if certificate is None:
            raise invalid_body("parse_expiry_from_cert needs a certificate in pem", path)
        expires_at = format_timestamp(certificate.not_valid_after_utc)
    elif expires_at is not None:
        expires_at = format_timestamp(datetime.fromisoformat(expires_at))
    subject_dn = body.get("subject_dn")
    if subject_dn is None and pem is not None and credential_type == "cert_subject_dn":
        subject_dn = certificate_subject_dn(pem)
    is_public_key = credential_type == "public_key"
    return NewCredential(
        credential_type=credential_type,
        name=body.get("name"),
        pem=pem,
        alg=body.get("alg", "RS256") if is_public_key else None,
        kid=body.get("kid") or (jwk_thumbprint(pem) if is_public_key and pem else None),
        subject_dn=subject_dn,
        thumbprint_sha256=certificate_thumbprint(pem) if certificate and pem else None,
        expires_at=expires_at,
    )


def check_credential_patch(body: object, stored: Mapping[str, Any]) -> JsonObject:
    """A PATCH /clients/{id}/credentials/{id} body: only ``expires_at`` may change, and
    once set it cannot go back to "never" (Terraform resource_credentials_schema.go,
    ``expires_at``: "It is not possible to set this to never expire after it has been
    set"; Auth0 docs: "The only field you can update is the expires_at field")."""
    check(body, _CREDENTIAL_PATCH, patch=True)
    assert isinstance(body, dict)
    if "expires_at" not in body:
        return {}
    expires_at = body["expires_at"]
    if expires_at is None:
        if stored.get("expires_at") is not None:
            raise invalid_body(
                "expires_at cannot be removed once set: create a new credential instead",
                "expires_at",
            )
        return {}
    return {"expires_at": format_timestamp(datetime.fromisoformat(expires_at))}


def check_room(held: Sequence[Mapping[str, Any]], adding: Sequence[Mapping[str, Any]]) -> None:
    """Whether a client holding the credentials ``held`` can take ``adding`` too (both as
    stored): two credentials at most, whatever they are used for (configure-private-key-jwt.mdx;
    rotate-credentials.mdx: "The current application storage limit is two credentials at
    one time"), none with another's kid (the SDKs: the kid is "used to uniquely identify
    the credential"; stricter reading: a second one is refused). Auth0's wording of either
    refusal is not documented."""
    if len(held) + len(adding) > MAX_CREDENTIALS:
        raise ApiError(
            400,
            "Bad Request",
            f"A client can have at most {MAX_CREDENTIALS} credentials; it has {len(held)}: "
            "delete one before adding another",
            "too_many_credentials",
        )
    kids = [str(c.get("kid")) for c in held if c.get("kid")]
    for credential in adding:
        kid = credential.get("kid")
        if kid is not None and kid in kids:
            raise ApiError(
                409,
                "Conflict",
                f"A credential with kid {kid} already exists for this client",
                "credential_conflict",
            )
        if kid is not None:
            kids.append(str(kid))


def check_authentication(client: Mapping[str, Any], credential_types: Mapping[str, str]) -> None:
    """A client's ``client_authentication_methods`` as it would be stored: exclusive with
    ``token_endpoint_auth_method``, one method at a time (Terraform's ``private_key_jwt``,
    ``tls_client_auth`` and ``self_signed_tls_client_auth`` conflict with each other), each
    naming existing credentials of its type, and ``jwt_configuration.alg`` RS256."""
    methods = client.get("client_authentication_methods") or {}
    if methods and client.get("token_endpoint_auth_method") is not None:
        raise invalid_body(
            "token_endpoint_auth_method and client_authentication_methods are mutually "
            "exclusive: set token_endpoint_auth_method to null to authenticate with credentials",
            "token_endpoint_auth_method",
        )
    if len(methods) > 1:
        raise invalid_body(
            f"Only one client authentication method can be configured, found {len(methods)}",
            "client_authentication_methods",
        )
    for method, config in methods.items():
        path = f"client_authentication_methods.{method}"
        if "credentials" not in config:
            raise invalid_body("Missing required property: credentials", path)
        expected = CREDENTIAL_TYPE_FOR_METHOD[method]
        for index, reference in enumerate(config["credentials"]):
            credential_id = reference["id"]
            found = credential_types.get(credential_id)
            if found is None:
                raise invalid_body(
                    f"Credential {credential_id} does not exist for this client",
                    f"{path}.credentials[{index}].id",
                )
            if found != expected:
                raise invalid_body(
                    f"Credential {credential_id} is a {found} credential; {method} takes "
                    f"{expected} credentials",
                    f"{path}.credentials[{index}].id",
                )
    alg = (client.get("jwt_configuration") or {}).get("alg")
    if methods and alg != "RS256":
        # go-auth0 reference.md (Create/Update a client): "To configure
        # client_authentication_methods, the property jwt_configuration.alg must be set to
        # RS256"; configure-private-key-jwt.mdx and the mTLS guide send RS256 too.
        raise invalid_body(
            "To configure client_authentication_methods, jwt_configuration.alg must be "
            f"RS256, found {json.dumps(alg)}",
            "jwt_configuration.alg",
        )


def _read_pem(pem: str, path: str, *, sized: bool) -> x509.Certificate | None:
    """The certificate ``pem`` holds (None for a bare public key), once it is known to
    hold a public RSA key, of 2048 to 4096 bits when ``sized``: the limits are the
    private_key_jwt guide's, and Auth0 took a 1024-bit self-signed certificate
    (go-auth0 recording Should_create_SelfSignedTLSClientAuth_Credential)."""
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
    if sized and not MIN_RSA_BITS <= key.key_size <= MAX_RSA_BITS:
        raise invalid_body(
            f"pem holds a {key.key_size}-bit RSA key; RSA keys of {MIN_RSA_BITS} to "
            f"{MAX_RSA_BITS} bits are accepted",
            path,
        )
    return certificate


def format_timestamp(moment: datetime) -> str:
    """Auth0's timestamp form: UTC, milliseconds, ``Z``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
