"""Client ID Metadata Document rules: each case names the exact findings, path by path."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.cimd.document import (
    Finding,
    filtered_document,
    jwks_findings,
    security_sensitive_changes,
    validate_document,
)

URL = "https://app.example/oauth/client.json"
REMOVED = object()
PUBLIC_KEY = {"kty": "RSA", "kid": "k1", "e": "AQAB", "n": "0vx7agoebGcQSuuPiLJXZpt"}


def document(**changes: Any) -> dict[str, Any]:
    """A valid document with ``changes`` applied; REMOVED deletes a member."""
    base: dict[str, Any] = {
        "client_id": URL,
        "client_name": "Example",
        "redirect_uris": ["https://app.example/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none",
    }
    base.update(changes)
    return {name: value for name, value in base.items() if value is not REMOVED}


def summary(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(finding.severity.value, finding.path) for finding in findings]


E, W = "error", "warning"

CASES: list[tuple[str, dict[str, Any], list[tuple[str, str]]]] = [
    ("valid", {}, []),
    (
        "native with a loopback redirect",
        {
            "application_type": "native",
            "redirect_uris": ["http://127.0.0.1:8080/cb", "http://[::1]/cb", "http://localhost/cb"],
        },
        [],
    ),
    (
        "refresh_token only needs no redirect",
        {"grant_types": ["refresh_token"], "redirect_uris": REMOVED},
        [],
    ),
    (
        "localized names and URIs",
        {"client_name#ja-Jpan-JP": "例", "logo_uri#fr": "https://app.example/logo-fr.png"},
        [],
    ),
    # client_id
    ("client_id missing", {"client_id": REMOVED}, [(E, "$.client_id")]),
    (
        "client_id of another URL",
        {"client_id": "https://app.example/other.json"},
        [(E, "$.client_id")],
    ),
    (
        "client_id with the default port",
        {"client_id": "https://app.example:443/oauth/client.json"},
        [(E, "$.client_id")],
    ),
    (
        "client_id differing in case",
        {"client_id": "https://APP.example/oauth/client.json"},
        [(E, "$.client_id")],
    ),
    ("client_id with a trailing slash", {"client_id": URL + "/"}, [(E, "$.client_id")]),
    ("client_id not a string", {"client_id": 42}, [(E, "$.client_id")]),
    # client_name
    ("client_name missing", {"client_name": REMOVED}, [(E, "$.client_name")]),
    ("client_name empty", {"client_name": ""}, [(E, "$.client_name")]),
    ("client_name blank", {"client_name": "   "}, [(E, "$.client_name")]),
    ("client_name not a string", {"client_name": ["Example"]}, [(E, "$.client_name")]),
    ("localized client_name empty", {"client_name#de": ""}, [(E, '$["client_name#de"]')]),
    # redirect_uris
    ("redirect_uris missing", {"redirect_uris": REMOVED}, [(E, "$.redirect_uris")]),
    (
        "redirect_uris missing, default grant",
        {"redirect_uris": REMOVED, "grant_types": REMOVED},
        [(W, "$.grant_types"), (E, "$.redirect_uris")],
    ),
    ("redirect_uris empty", {"redirect_uris": []}, [(E, "$.redirect_uris")]),
    (
        "redirect_uris not a list",
        {"redirect_uris": "https://app.example/cb"},
        [(E, "$.redirect_uris")],
    ),
    (
        "redirect_uris repeated",
        {
            "redirect_uris": [
                "https://app.example/a",
                "https://app.example/b",
                "https://app.example/a",
            ]
        },
        [(E, "$.redirect_uris[2]")],
    ),
    (
        "redirect_uri over http",
        {"redirect_uris": ["https://app.example/a", "http://app.example/cb"]},
        [(E, "$.redirect_uris[1]")],
    ),
    (
        "native with http on any 127.0.0.0/8 address",
        {"application_type": "native", "redirect_uris": ["http://127.0.0.2:8080/cb"]},
        [],
    ),
    (
        "native with https on a loopback address",
        {"application_type": "native", "redirect_uris": ["https://127.0.0.2:8080/cb"]},
        [(E, "$.redirect_uris[0]")],
    ),
    (
        "native with http on a name under localhost",
        {"application_type": "native", "redirect_uris": ["http://dev.localhost/cb"]},
        [(E, "$.redirect_uris[0]")],
    ),
    (
        "loopback http for a web app",
        {"redirect_uris": ["http://127.0.0.1:8080/cb"]},
        [(E, "$.redirect_uris[0]")],
    ),
    (
        "loopback http, application_type absent",
        {"redirect_uris": ["http://localhost/cb"], "application_type": REMOVED},
        [(E, "$.redirect_uris[0]")],
    ),
    (
        "non-loopback http for a native app",
        {"application_type": "native", "redirect_uris": ["http://app.example/cb"]},
        [(E, "$.redirect_uris[0]")],
    ),
    (
        "custom scheme",
        {"application_type": "native", "redirect_uris": ["com.example.app:/cb"]},
        [(E, "$.redirect_uris[0]")],
    ),
    ("relative redirect", {"redirect_uris": ["/callback"]}, [(E, "$.redirect_uris[0]")]),
    (
        "redirect with a fragment",
        {"redirect_uris": ["https://app.example/cb#x"]},
        [(E, "$.redirect_uris[0]")],
    ),
    (
        "javascript redirect",
        {"redirect_uris": ["javascript:alert(1)"]},
        [(E, "$.redirect_uris[0]")],
    ),
    # secrets and authentication
    ("client_secret", {"client_secret": "s3cr3t"}, [(E, "$.client_secret")]),
    (
        "client_secret_expires_at",
        {"client_secret_expires_at": 0},
        [(E, "$.client_secret_expires_at")],
    ),
    (
        "client_secret_basic",
        {"token_endpoint_auth_method": "client_secret_basic"},
        [(E, "$.token_endpoint_auth_method")],
    ),
    (
        "client_secret_post",
        {"token_endpoint_auth_method": "client_secret_post"},
        [(E, "$.token_endpoint_auth_method")],
    ),
    (
        "client_secret_jwt",
        {"token_endpoint_auth_method": "client_secret_jwt"},
        [(E, "$.token_endpoint_auth_method")],
    ),
    (
        "tls_client_auth",
        {"token_endpoint_auth_method": "tls_client_auth"},
        [(E, "$.token_endpoint_auth_method")],
    ),
    ("auth method absent", {"token_endpoint_auth_method": REMOVED}, [(E, "$")]),
    (
        "private_key_jwt with a same-origin jwks_uri",
        {
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks_uri": "https://app.example/oauth/jwks.json",
        },
        [],
    ),
    (
        "private_key_jwt without jwks_uri",
        {"token_endpoint_auth_method": "private_key_jwt"},
        [(E, "$.jwks_uri")],
    ),
    (
        "jwks_uri on another host",
        {
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks_uri": "https://keys.example/jwks.json",
        },
        [(E, "$.jwks_uri")],
    ),
    (
        "jwks_uri on another port",
        {
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks_uri": "https://app.example:8443/jwks.json",
        },
        [(E, "$.jwks_uri")],
    ),
    (
        "jwks_uri with the default port is the same origin",
        {
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks_uri": "https://app.example:443/jwks.json",
        },
        [],
    ),
    (
        "jwks_uri over http",
        {
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks_uri": "http://app.example/jwks.json",
        },
        [(E, "$.jwks_uri")],
    ),
    (
        "private_key_jwt with inline jwks",
        {"token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [PUBLIC_KEY]}},
        [(E, "$.jwks_uri"), (E, "$.jwks")],
    ),
    (
        "jwks and jwks_uri",
        {
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks_uri": "https://app.example/jwks.json",
            "jwks": {"keys": [PUBLIC_KEY]},
        },
        [(E, "$.jwks"), (E, "$.jwks")],
    ),
    (
        "inline jwks with private members",
        {
            "jwks": {
                "keys": [
                    PUBLIC_KEY,
                    {
                        **PUBLIC_KEY,
                        "kid": "k2",
                        "d": "x",
                        "p": "x",
                        "q": "x",
                        "dp": "x",
                        "dq": "x",
                        "qi": "x",
                        "oth": [],
                    },
                    {"kty": "oct", "k": "c2VjcmV0"},
                ]
            }
        },
        [
            (E, "$.jwks"),
            (E, "$.jwks.keys[1].d"),
            (E, "$.jwks.keys[1].p"),
            (E, "$.jwks.keys[1].q"),
            (E, "$.jwks.keys[1].dp"),
            (E, "$.jwks.keys[1].dq"),
            (E, "$.jwks.keys[1].qi"),
            (E, "$.jwks.keys[1].oth"),
            (E, "$.jwks.keys[2].k"),
        ],
    ),
    ("inline jwks without keys", {"jwks": {"kty": "RSA"}}, [(E, "$.jwks"), (E, "$.jwks")]),
    # application_type
    ("application_type web", {"application_type": "web"}, []),
    ("application_type unknown", {"application_type": "spa"}, [(E, "$.application_type")]),
    # grant_types
    ("grant_types absent", {"grant_types": REMOVED}, [(W, "$.grant_types")]),
    (
        "grant_types without a CIMD grant",
        {"grant_types": ["client_credentials"]},
        [(E, "$.grant_types"), (W, "$.grant_types[0]")],
    ),
    (
        "grant_types with others",
        {
            "grant_types": [
                "authorization_code",
                "implicit",
                "urn:ietf:params:oauth:grant-type:device_code",
            ]
        },
        [(W, "$.grant_types[1]"), (W, "$.grant_types[2]")],
    ),
    (
        "grant_types repeated",
        {"grant_types": ["authorization_code", "authorization_code"]},
        [(W, "$.grant_types[1]")],
    ),
    ("grant_types not a list", {"grant_types": "authorization_code"}, [(E, "$.grant_types")]),
    (
        "implicit alone needs redirects",
        {"grant_types": ["implicit"], "redirect_uris": REMOVED},
        [(E, "$.grant_types"), (W, "$.grant_types[0]"), (E, "$.redirect_uris")],
    ),
    # response_types
    ("response_types code with authorization_code", {"response_types": ["code"]}, []),
    (
        "response_types code without authorization_code",
        {"grant_types": ["refresh_token"], "response_types": ["none", "code"]},
        [(W, "$.response_types[1]")],
    ),
    ("response_types not a list", {"response_types": "code"}, [(E, "$.response_types")]),
    # description
    ("description of 140 characters", {"description": "d" * 140}, []),
    ("description of 141 characters", {"description": "d" * 141}, [(E, "$.description")]),
    ("description not a string", {"description": 7}, [(E, "$.description")]),
    # information URIs
    (
        "information URIs over http and https",
        {
            "logo_uri": "http://app.example/logo.png",
            "client_uri": "https://app.example/",
            "tos_uri": "https://app.example/tos",
            "policy_uri": "https://app.example/privacy",
        },
        [(E, "$.logo_uri")],
    ),
    ("javascript logo_uri", {"logo_uri": "javascript:alert(1)"}, [(E, "$.logo_uri")]),
    ("data logo_uri", {"logo_uri": "data:image/png;base64,AAAA"}, [(E, "$.logo_uri")]),
    ("file tos_uri", {"tos_uri": "file:///etc/passwd"}, [(E, "$.tos_uri")]),
    ("ftp policy_uri", {"policy_uri": "ftp://app.example/policy"}, [(E, "$.policy_uri")]),
    ("client_uri without a host", {"client_uri": "https:///"}, [(E, "$.client_uri")]),
    (
        "localized javascript logo_uri",
        {"logo_uri#en": " JavaScript:alert(1)"},
        [(E, '$["logo_uri#en"]')],
    ),
    (
        "logo_uri not a string",
        {"logo_uri": {"href": "https://app.example/l.png"}},
        [(E, "$.logo_uri")],
    ),
    # unknown members
    (
        "unknown members",
        {"colour": "blue", "x-vendor": 1, "scope": "openid", "contacts": ["ops@app.example"]},
        [(W, "$.colour"), (W, '$["x-vendor"]')],
    ),
    ("language tag on a member that takes none", {"scope#fr": "openid"}, [(W, '$["scope#fr"]')]),
]


@pytest.mark.parametrize(
    ("changes", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_findings(changes: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert summary(validate_document(URL, document(**changes))) == expected


def test_the_default_port_is_not_normalised() -> None:
    with_port = "https://x.example:443/c"
    without_port = "https://x.example/c"

    assert validate_document(with_port, document(client_id=with_port)) == []
    assert validate_document(without_port, document(client_id=without_port)) == []
    [finding] = validate_document(without_port, document(client_id=with_port))
    assert finding.path == "$.client_id"
    assert with_port in finding.message and without_port in finding.message
    assert summary(validate_document(with_port, document(client_id=without_port))) == [
        (E, "$.client_id")
    ]


def test_messages_say_what_is_wrong() -> None:
    findings = validate_document(
        URL,
        document(
            token_endpoint_auth_method="client_secret_basic",
            description="d" * 150,
            logo_uri="javascript:alert(1)",
            grant_types=["authorization_code", "password"],
        ),
    )

    assert [str(finding) for finding in findings] == [
        '$.grant_types[1]: warning: "password" is not allowed for a CIMD client and will be '
        "filtered out",
        '$.token_endpoint_auth_method: error: "client_secret_basic" needs a shared secret; use '
        "none or private_key_jwt",
        "$.description: error: is 150 characters long; at most 140 are allowed",
        "$.logo_uri: error: must not use the javascript: scheme; only https is allowed",
    ]


def test_same_origin_policy_is_optional() -> None:
    spread = document(
        redirect_uris=["https://app.example/cb", "https://elsewhere.example/cb"],
        client_uri="https://www.app.example/",
    )

    assert validate_document(URL, spread) == []
    assert summary(validate_document(URL, spread, same_origin_only=True)) == [
        (E, "$.redirect_uris[1]"),
        (E, "$.client_uri"),
    ]


def test_same_origin_policy_leaves_native_loopback_redirects_alone() -> None:
    native = document(application_type="native", redirect_uris=["http://127.0.0.1:7000/cb"])

    assert validate_document(URL, native, same_origin_only=True) == []


def test_filtered_document_keeps_only_the_grants_auth0_allows() -> None:
    original = document(
        grant_types=[
            "implicit",
            "refresh_token",
            "authorization_code",
            "refresh_token",
            "client_credentials",
        ]
    )

    filtered = filtered_document(original)

    assert filtered["grant_types"] == ["refresh_token", "authorization_code"]
    assert {k: v for k, v in filtered.items() if k != "grant_types"} == {
        k: v for k, v in original.items() if k != "grant_types"
    }
    assert "implicit" in original["grant_types"]  # the input is left alone


def test_filtered_document_leaves_bad_grant_types_for_validation_to_report() -> None:
    assert filtered_document(document(grant_types="authorization_code"))["grant_types"] == (
        "authorization_code"
    )
    assert "grant_types" not in filtered_document(document(grant_types=REMOVED))


def test_jwks_findings_on_a_fetched_key_set() -> None:
    assert jwks_findings({"keys": [PUBLIC_KEY]}) == []
    assert summary(jwks_findings({"keys": [PUBLIC_KEY, {**PUBLIC_KEY, "d": "x"}]})) == [
        (E, "$.keys[1].d")
    ]
    assert summary(jwks_findings({"keys": ["not a key"]})) == [(E, "$.keys[0]")]
    assert summary(jwks_findings([PUBLIC_KEY])) == [(E, "$")]


def test_security_sensitive_changes() -> None:
    before = document(scope="openid")
    after = document(
        scope="openid profile",
        client_name="Renamed",
        redirect_uris=["https://app.example/callback", "https://evil.example/cb"],
        jwks_uri="https://app.example/jwks.json",
    )

    assert security_sensitive_changes(before, before) == []
    assert security_sensitive_changes(before, after) == ["redirect_uris", "scope", "jwks_uri"]
