"""The canonical <-> RFC 7591 mapping, without a server."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from reconciler.core.model import Credential
from reconciler.errors import InputError
from reconciler.registries.dcr.metadata import (
    Profile,
    ignored_fields,
    registration_metadata,
    server_fields,
)
from tests.registries.dcr.support import rsa_public_pem

NODE = Profile(("code id_token", "code", "id_token", "none"))


def test_each_app_type_maps_to_web_or_native_with_consistent_response_types() -> None:
    spa = registration_metadata(
        {"app_type": "spa", "grant_types": ["authorization_code", "refresh_token"]}, NODE
    )
    assert spa == {
        "application_type": "web",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
    }
    native = registration_metadata({"app_type": "native"}, NODE)
    assert native == {"application_type": "native"}
    m2m = registration_metadata({"grant_types": ["client_credentials"]}, NODE)
    assert m2m["response_types"] == []


def test_implicit_uses_a_response_type_the_server_supports() -> None:
    grants = {"grant_types": ["implicit"]}
    assert registration_metadata(grants, NODE)["response_types"] == ["id_token"]
    rfc = Profile(("code", "token"))
    assert registration_metadata(grants, rfc)["response_types"] == ["token"]


def test_the_rfc_7591_fields_are_sent_as_themselves_and_the_rest_is_not_sent() -> None:
    pages = {
        "client_uri": "https://pay.example/",
        "policy_uri": "https://pay.example/privacy",
        "tos_uri": "https://pay.example/terms",
        "contacts": ["a@example.com", "b@example.com"],
    }
    assert registration_metadata(pages, NODE) == pages
    assert registration_metadata({"client_metadata": {"contacts": "a@example.com"}}, NODE) == {}
    assert registration_metadata({"web_origins": ["https://a.example"]}, NODE) == {}


def test_scope_is_sent_space_separated_and_compared_as_a_set() -> None:
    assert registration_metadata({"scope": "read:entries write:entries"}, NODE) == {
        "scope": "read:entries write:entries"
    }
    applied = {"scope": "read:entries write:entries"}
    reordered = {**SERVER, "scope": "write:entries read:entries"}
    assert server_fields(reordered, applied, (), NODE)["scope"] == "read:entries write:entries"
    assert ignored_fields(applied, reordered, NODE) == ()
    widened = {**SERVER, "scope": "write:entries admin:entries read:entries"}
    assert server_fields(widened, applied, (), NODE)["scope"] == (
        "admin:entries read:entries write:entries"
    ), "what the server holds, sorted: drift"
    assert server_fields(widened, {}, (), NODE)["scope"] == (
        "admin:entries read:entries write:entries"
    )
    assert "scope" not in server_fields(SERVER, {}, (), NODE)


def test_credentials_become_public_jwks_with_their_kid() -> None:
    pem = rsa_public_pem()
    rsa_key = Credential("k1", pem, "RS256", Credential.kid_for(pem))
    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    ec_key = Credential("k2", ec_pem, "ES256", "ec-kid-0000")
    jwks = registration_metadata({"credentials": [rsa_key, ec_key]}, NODE)["jwks"]["keys"]
    assert [(k["kty"], k["kid"], k["alg"], k["use"]) for k in jwks] == [
        ("RSA", rsa_key.kid, "RS256", "sig"),
        ("EC", "ec-kid-0000", "ES256", "sig"),
    ]
    assert jwks[1]["crv"] == "P-256" and len(jwks[1]["x"]) == 43
    assert registration_metadata({"credentials": []}, NODE) == {"jwks": None}
    with pytest.raises(InputError, match="not a PEM public key"):
        registration_metadata({"credentials": [Credential("bad", "nope")]}, NODE)


SERVER: dict[str, Any] = {
    "client_id": "c1",
    "client_name": "Dashboard",
    "application_type": "web",
    "token_endpoint_auth_method": "none",
    "grant_types": ["refresh_token", "authorization_code"],
    "response_types": ["code"],
    "redirect_uris": ["https://b.example/cb", "https://a.example/cb"],
    "post_logout_redirect_uris": [],
    "subject_type": "public",
    "contacts": ["ops@example.com"],
}
APPLIED: dict[str, Any] = {
    "name": "Dashboard",
    "app_type": "spa",
    "token_endpoint_auth_method": "none",
    "grant_types": ["authorization_code", "refresh_token"],
    "callbacks": ["https://a.example/cb", "https://b.example/cb"],
    "oidc_conformant": True,
    "web_origins": ["https://a.example"],
    "client_metadata": {"team": "dash"},
    "contacts": ["ops@example.com"],
}


def test_what_the_server_holds_as_applied_reads_back_as_applied() -> None:
    fields = server_fields(SERVER, APPLIED, (), NODE)
    assert {name: fields[name] for name in APPLIED} == {
        **APPLIED,
        "grant_types": ["authorization_code", "refresh_token"],
    }
    assert "subject_type" not in fields


def test_what_the_server_changed_reads_back_as_the_server_has_it() -> None:
    edited = {
        **SERVER,
        "application_type": "native",
        "redirect_uris": ["https://c.example/cb"],
        "contacts": ["other@example.com"],
    }
    fields = server_fields(edited, APPLIED, (), NODE)
    assert fields["app_type"] == "native"
    assert fields["callbacks"] == ["https://c.example/cb"]
    assert fields["contacts"] == ["other@example.com"]
    assert fields["client_metadata"] == {"team": "dash"}, "held in the state only"


def test_an_ignored_member_is_not_drift_but_a_removed_one_is() -> None:
    applied = {"logo_uri": "https://a.example/logo.png", "name": "Dashboard"}
    assert ignored_fields(applied, SERVER, NODE) == ("logo_uri",)
    ignored = server_fields(SERVER, applied, ("logo_uri",), NODE)
    assert ignored["logo_uri"] == "https://a.example/logo.png"
    removed = server_fields(SERVER, applied, (), NODE)
    assert "logo_uri" not in removed


def test_app_type_is_derived_for_an_unstamped_client() -> None:
    def kind(**metadata: Any) -> Any:
        return server_fields(metadata, {}, (), NODE)["app_type"]

    assert kind(application_type="native") == "native"
    assert kind(grant_types=["client_credentials"]) == "non_interactive"
    assert kind(token_endpoint_auth_method="none") == "spa"
    assert kind(token_endpoint_auth_method="client_secret_basic") == "regular_web"
