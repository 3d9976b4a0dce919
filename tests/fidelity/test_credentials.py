"""Fidelity rows: client credentials (``auth0-fidelity.md`` section 4), for private_key_jwt
and mTLS. Which scopes the credentials routes need is a row of the token-scope table."""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import RSAAlgorithm

from reconciler.errors import ApiError
from reconciler.registries.clients import ClientsApi


@functools.cache
def private_key(index: int, bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def pem(index: int) -> str:
    return (
        private_key(index)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def pem_of_size(bits: int) -> str:
    """A public RSA key of ``bits`` bits, made from its numbers (no key generation)."""
    key = rsa.RSAPublicNumbers(65537, (1 << (bits - 1)) | 1).public_key()
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def certificate(index: int, bits: int = 2048, *, not_after: datetime | None = None) -> str:
    key = private_key(index, bits)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Client"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"client-{index}.example.org"),
        ]
    )
    made = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(index + 1)
        .not_valid_before(datetime(2025, 1, 1))
        .not_valid_after(not_after or datetime(2031, 1, 1))
        .sign(key, hashes.SHA256())
    )
    return made.public_bytes(serialization.Encoding.PEM).decode("ascii")


def public_key(name: str, key: str, **extra: Any) -> dict[str, Any]:
    return {"credential_type": "public_key", "name": name, "pem": key, **extra}


def refused(call: Callable[[], object]) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call()
    return caught.value


@pytest.fixture
def worker(api: ClientsApi) -> str:
    """A client that authenticates with its secret: credentials can be added to it."""
    client = api.create_client({"name": "Worker", "app_type": "non_interactive"})
    return str(client["client_id"])


def enable(api: ClientsApi, client_id: str, method: str, *ids: str) -> dict[str, Any]:
    return api.patch_client(
        client_id,
        {
            "token_endpoint_auth_method": None,
            "jwt_configuration": {"alg": "RS256"},
            "client_authentication_methods": {method: {"credentials": [{"id": i} for i in ids]}},
        },
    )


def test_a_client_holds_at_most_two_credentials(api: ClientsApi, worker: str) -> None:
    # Source: configure-private-key-jwt.mdx "Credential limits" ("Applications can have a
    # maximum of two credentials configured"); rotate-credentials.mdx ("The current
    # application storage limit is two credentials at one time"): enabled or not.
    api.create_credential(worker, public_key("a", pem(0)))
    api.create_credential(worker, public_key("b", pem(1)))
    third = refused(lambda: api.create_credential(worker, public_key("c", pem(2))))
    assert third.status == 400
    assert len(api.list_credentials(worker)) == 2
    inline = {
        "name": "Three keys",
        "app_type": "non_interactive",
        "jwt_configuration": {"alg": "RS256"},
        "client_authentication_methods": {
            "private_key_jwt": {"credentials": [public_key(n, pem(i)) for i, n in enumerate("abc")]}
        },
    }
    assert refused(lambda: api.create_client(inline)).status == 400


@pytest.mark.parametrize(
    ("bits", "accepted"), [(1024, False), (2048, True), (4096, True), (4104, False)]
)
def test_rsa_keys_of_2048_to_4096_bits(
    api: ClientsApi, worker: str, bits: int, accepted: bool
) -> None:
    # Source: configure-private-key-jwt.mdx "Credential limits" ("a minimum RSA key size of
    # 2048 bits and a maximum key size of 4096 bits").
    body = public_key("k", pem_of_size(bits))
    if accepted:
        assert api.create_credential(worker, body)["credential_type"] == "public_key"
    else:
        assert refused(lambda: api.create_credential(worker, body)).status == 400


def test_the_default_kid_is_the_rfc_7638_thumbprint(api: ClientsApi, worker: str) -> None:
    # Source: configure-private-key-jwt.mdx ("Auth0 follows the JSON Web Key Thumbprint
    # standard to generate the kid of your credentials"); the kids of go-auth0's recordings
    # (TestClient_CreateCredential) are the thumbprints of their keys.
    jwk = RSAAlgorithm.to_jwk(private_key(0).public_key(), as_dict=True)
    members = json.dumps({m: jwk[m] for m in ("e", "kty", "n")}, separators=(",", ":"))
    thumbprint = base64.urlsafe_b64encode(hashlib.sha256(members.encode()).digest())
    created = api.create_credential(worker, public_key("a", pem(0)))
    assert created["kid"] == thumbprint.decode().rstrip("=")
    assert created["alg"] == "RS256" and "pem" not in created


def test_a_named_kid_is_kept_and_names_one_credential(api: ClientsApi, worker: str) -> None:
    # Source: go-auth0 requests.go PostClientCredentialRequestContent.Kid ("Optional kid (Key
    # ID), used to uniquely identify the credential ... [0-9a-zA-Z-_]{10,64}"). That a
    # second credential with a kid the client holds is refused is the stricter reading of
    # "uniquely": no source shows Auth0 taking or refusing one.
    created = api.create_credential(worker, public_key("a", pem(0), kid="worker-key-2026"))
    assert created["kid"] == "worker-key-2026"
    again = refused(
        lambda: api.create_credential(worker, public_key("b", pem(1), kid="worker-key-2026"))
    )
    assert again.status == 409
    assert refused(lambda: api.create_credential(worker, public_key("b", pem(1), kid="short")))


def test_an_expiry_is_answered_in_auth0s_spelling(api: ClientsApi, worker: str) -> None:
    # Source: configure-private-key-jwt.mdx (expires_at "in ISO 8601 format. For example,
    # 2020-08-20T19:10:06.299Z"); go-auth0 recording TestClient_UpdateCredential answers
    # milliseconds and Z; TestClient_ListCredentials answers a missing expiry as null.
    created = api.create_credential(
        worker, public_key("a", pem(0), expires_at="2031-01-01T01:00:00+01:00")
    )
    assert created["expires_at"] == "2031-01-01T00:00:00.000Z"
    api.create_credential(worker, public_key("b", pem(1)))
    listed = {c["name"]: c for c in api.list_credentials(worker)}
    assert listed["a"]["expires_at"] == "2031-01-01T00:00:00.000Z"
    assert "expires_at" in listed["b"] and listed["b"]["expires_at"] is None


def test_only_the_expiry_changes_and_never_back_to_never(api: ClientsApi, worker: str) -> None:
    # Source: configure-private-key-jwt.mdx ("The only field you can update is the
    # expires_at field. The rest of the attributes are immutable and require you to rotate
    # the credential"); Terraform resource_credentials_schema.go expires_at ("It is not
    # possible to set this to never expire after it has been set").
    created = api.create_credential(worker, public_key("a", pem(0)))
    patched = api.patch_credential(worker, created["id"], {"expires_at": "2032-06-01T00:00:00Z"})
    assert patched["expires_at"] == "2032-06-01T00:00:00.000Z" and patched["id"] == created["id"]
    assert refused(lambda: api.patch_credential(worker, created["id"], {"alg": "PS256"}))
    assert refused(lambda: api.patch_credential(worker, created["id"], {"expires_at": None}))


def test_credentials_need_jwt_configuration_alg_rs256(api: ClientsApi, worker: str) -> None:
    # Source: go-auth0 reference.md, Create and Update a client ("To configure
    # client_authentication_methods, the property jwt_configuration.alg must be set to
    # RS256"); configure-private-key-jwt.mdx ("You must have the jwt_configuration.alg field
    # set to the RS256 algorithm"). The findings: a create naming PS256 is refused.
    body = {
        "name": "PS256",
        "app_type": "non_interactive",
        "jwt_configuration": {"alg": "PS256"},
        "client_authentication_methods": {
            "private_key_jwt": {"credentials": [public_key("a", pem(0))]}
        },
    }
    assert refused(lambda: api.create_client(body)).status == 400
    created = api.create_credential(worker, public_key("a", pem(0)))
    switch = {
        "token_endpoint_auth_method": None,
        "jwt_configuration": {"alg": "HS256"},
        "client_authentication_methods": {
            "private_key_jwt": {"credentials": [{"id": created["id"]}]}
        },
    }
    assert refused(lambda: api.patch_client(worker, switch)).status == 400
    switched = enable(api, worker, "private_key_jwt", created["id"])
    assert switched["jwt_configuration"]["alg"] == "RS256"
    assert refused(lambda: api.patch_client(worker, {"jwt_configuration": {"alg": "PS256"}}))


def test_a_credential_in_use_cannot_be_deleted(api: ClientsApi, worker: str) -> None:
    # Source: rotate-credentials.mdx ("You must unassociate the credential from your
    # application or you will not be able to remove it"); auth0-deploy-cli
    # clientAuthCredentials.ts re-points the client before it deletes.
    a = api.create_credential(worker, public_key("a", pem(0)))
    b = api.create_credential(worker, public_key("b", pem(1)))
    enable(api, worker, "private_key_jwt", a["id"], b["id"])
    assert refused(lambda: api.delete_credential(worker, b["id"])).status == 400
    enable(api, worker, "private_key_jwt", a["id"])
    api.delete_credential(worker, b["id"])
    assert [c["id"] for c in api.list_credentials(worker)] == [a["id"]]


def test_a_self_signed_certificate_is_known_by_its_thumbprint(api: ClientsApi, worker: str) -> None:
    # Source: configure-mtls-for-a-client.mdx (self_signed_tls_client_auth takes
    # credential_type x509_cert with the certificate's pem); go-auth0 recording
    # Should_create_SelfSignedTLSClientAuth_Credential: the answer carries thumbprint_sha256
    # (base64url, 43 characters) and the certificate's notAfter as expires_at, and Auth0 took
    # a 1024-bit certificate (the 2048-4096 bits are private_key_jwt's limits).
    text = certificate(5, 1024, not_after=datetime(2031, 1, 1, 12, 30, tzinfo=UTC))
    created = api.create_credential(
        worker, {"credential_type": "x509_cert", "name": "c", "pem": text}
    )
    digest = x509.load_pem_x509_certificate(text.encode()).fingerprint(hashes.SHA256())
    assert created["thumbprint_sha256"] == base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert created["expires_at"] == "2031-01-01T12:30:00.000Z"
    assert "kid" not in created and "alg" not in created
    switched = enable(api, worker, "self_signed_tls_client_auth", created["id"])
    assert "token_endpoint_auth_method" not in switched
    assert (
        refused(
            lambda: api.create_credential(
                worker, {"credential_type": "x509_cert", "name": "k", "pem": pem(0)}
            )
        ).status
        == 400
    )


def test_a_ca_signed_certificate_is_known_by_its_subject_dn(api: ClientsApi, worker: str) -> None:
    # Source: configure-mtls-for-a-client.mdx (tls_client_auth takes credential_type
    # cert_subject_dn, with the certificate's pem or its subject_dn); go-auth0 recording
    # Should_create_TLSClientAuth_Credential: from a pem, Auth0 answers the subject DN one
    # RDN a line in the certificate's order (C=JP\nST=Tokyo\n...\nCN=client.example.org).
    from_pem = api.create_credential(
        worker, {"credential_type": "cert_subject_dn", "name": "ca", "pem": certificate(6)}
    )
    assert from_pem["subject_dn"] == "C=JP\nO=Client\nCN=client-6.example.org"
    given = "C=US\nO=Example\nCN=worker"
    named = api.create_credential(
        worker, {"credential_type": "cert_subject_dn", "name": "dn", "subject_dn": given}
    )
    assert named["subject_dn"] == given and "thumbprint_sha256" not in named
    enable(api, worker, "tls_client_auth", from_pem["id"], named["id"])


def test_each_method_takes_its_own_credential_type(api: ClientsApi, worker: str) -> None:
    # Source: go-auth0 clients.go (ClientCreateAuthenticationMethod*: private_key_jwt takes
    # PublicKeyCredential, tls_client_auth CertificateSubjectDnCredential,
    # self_signed_tls_client_auth X509CertificateCredential); alg, kid and expires_at
    # "apply to public_key" (requests.go), so a certificate carrying them is refused
    # (stricter reading).
    key = api.create_credential(worker, public_key("a", pem(0)))
    assert refused(lambda: enable(api, worker, "tls_client_auth", key["id"])).status == 400
    with_kid = {"credential_type": "x509_cert", "name": "c", "pem": certificate(7), "kid": "x" * 12}
    assert refused(lambda: api.create_credential(worker, with_kid)).status == 400


def test_one_authentication_method_at_a_time(api: ClientsApi, worker: str) -> None:
    # Source: Terraform resource_credentials_schema.go: private_key_jwt, tls_client_auth and
    # self_signed_tls_client_auth conflict with each other (ConflictsWith). No source shows
    # Auth0 holding two at once; the stricter reading refuses it.
    key = api.create_credential(worker, public_key("a", pem(0)))
    dn = api.create_credential(
        worker, {"credential_type": "cert_subject_dn", "name": "dn", "subject_dn": "CN=w"}
    )
    both = {
        "token_endpoint_auth_method": None,
        "jwt_configuration": {"alg": "RS256"},
        "client_authentication_methods": {
            "private_key_jwt": {"credentials": [{"id": key["id"]}]},
            "tls_client_auth": {"credentials": [{"id": dn["id"]}]},
        },
    }
    assert refused(lambda: api.patch_client(worker, both)).status == 400
