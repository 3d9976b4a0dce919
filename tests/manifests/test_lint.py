"""OAuth lint, rule by rule: what it finds, how severe it is, and where it points.

The bad fixtures (tests/fixtures/bad, test_fixtures.py) give, through a whole validate,
the first error of a file for the rules a manifest most often breaks; the cases here
are the rest of each rule: its other branches, its warnings, and what it lets pass.
Each app is written in YAML, so a location is the line:column a person would see.
"""

from __future__ import annotations

import functools
import json
import textwrap
from datetime import datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.diagnostics import Location
from reconciler.manifests.evaluation import ManifestApp
from reconciler.manifests.lint import (
    _PLAIN_HTTPS_URL,
    _redirect_uri_rules,
    find_secrets,
    lint_app,
)
from reconciler.manifests.yamlfile import load_yaml_bytes

Finding = tuple[str, str, str]  # rule, severity, line:column


def lint(fields: str, base_dir: Path = Path(".")) -> list[Finding]:
    """Lint the app ``web`` whose fields (one per line, from line 3) are ``fields``."""
    text = "apps:\n  web:\n" + textwrap.indent(textwrap.dedent(fields), "    ")
    file = load_yaml_bytes(text.encode("utf-8"), "apps.yaml")
    app = ManifestApp("web", file.data["apps"]["web"], file)
    return [
        (d.rule, d.severity.value, f"{d.location.line}:{d.location.column}")
        for d in lint_app(app.key, app.data, app.locate, base_dir)
    ]


@functools.cache
def rsa_private_key(bits: int = 2048, index: int = 0) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def public_key_pem(index: int = 0) -> str:
    return (
        rsa_private_key(2048, index)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def inline_credential(pem: str) -> str:
    return "credentials:\n  - name: k1\n    pem: |\n" + textwrap.indent(pem, "      ")


WEB = "name: Web\ntype: regular_web\n"
SPA = "name: Web\ntype: spa\n"
NATIVE = "name: Web\ntype: native\n"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        # https: any host; a wildcard host is a warning
        (WEB + "callbacks: [https://a.example/cb]", []),
        (
            WEB + 'callbacks: [https://a.example/cb, "https://*.example/cb"]',
            [("redirect-uri-wildcard", "warning", "5:39")],
        ),
        (WEB + "callbacks: [https:///cb]", [("redirect-uri", "error", "5:17")]),
        (WEB + "callbacks: [https://a.example/cb#top]", [("redirect-uri", "error", "5:17")]),
        (WEB + "callbacks: ['https://a.example:99999/cb']", [("redirect-uri", "error", "5:17")]),
        (WEB + "callbacks: ['javascript:alert(1)']", [("redirect-uri", "error", "5:17")]),
        # plain http: loopback only, and a warning unless the app is native
        (
            SPA + "callbacks: ['http://localhost:3000/cb']",
            [("redirect-uri-loopback", "warning", "5:17")],
        ),
        (
            WEB + "allowed_logout_urls: [https://a.example/out, 'http://127.0.0.2/out']",
            [("redirect-uri-loopback", "warning", "5:50")],
        ),
        (NATIVE + "callbacks: ['http://[::1]:8080/cb', 'http://127.0.0.1/cb']", []),
        # custom schemes: native apps only, named by a reverse domain
        (NATIVE + "callbacks: ['com.example.app:/cb']", []),
        (NATIVE + "callbacks: ['myapp://cb']", [("redirect-uri-scheme", "warning", "5:17")]),
        (SPA + "callbacks: ['myapp://cb']", [("redirect-uri", "error", "5:17")]),
        # initiate_login_uri: https without a fragment
        (WEB + "initiate_login_uri: https://a.example/login", []),
        (
            WEB + "initiate_login_uri: http://a.example/login",
            [("initiate-login-uri", "error", "5:25")],
        ),
        (
            WEB + "initiate_login_uri: 'https://a.example/login#x'",
            [("initiate-login-uri", "error", "5:25")],
        ),
    ],
)
def test_redirect_uris(fields: str, expected: list[Finding]) -> None:
    assert lint(fields) == expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            WEB + "client_uri: https://a.example/\n"
            "policy_uri: https://a.example/privacy\n"
            "tos_uri: https://a.example/terms\n"
            "contacts: [ops@a.example, 'Dev.Team+oauth@mail.a.example']",
            [],
        ),
        (WEB + "policy_uri: http://a.example/privacy", [("page-uri", "error", "5:17")]),
        (WEB + "tos_uri: /terms", [("page-uri", "error", "5:14")]),
        (WEB + "client_uri: 'https:///nohost'", [("page-uri", "error", "5:17")]),
        (
            WEB + "contacts: [ops@a.example, 'ops@a.example, dev@a.example', ops]",
            [("contact", "error", "5:31"), ("contact", "error", "5:63")],
        ),
    ],
)
def test_registration_pages_and_contacts(fields: str, expected: list[Finding]) -> None:
    assert lint(fields) == expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (SPA + "web_origins: [https://a.example, 'http://localhost:3000']", []),
        (SPA + "web_origins: [https://a.example/app]", [("origin", "error", "5:19")]),
        (SPA + "web_origins: ['https://a.example?x=1']", [("origin", "error", "5:19")]),
        (SPA + "allowed_origins: [a.example]", [("origin", "error", "5:23")]),
        (SPA + "allowed_origins: [http://a.example]", [("origin", "error", "5:23")]),
        (
            SPA + "web_origins: [https://a.example, 'https://*.example']",
            [("origin-wildcard", "warning", "5:38")],
        ),
    ],
)
def test_origins(fields: str, expected: list[Finding]) -> None:
    assert lint(fields) == expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (SPA + "token_endpoint_auth_method: none", []),
        (
            NATIVE + "token_endpoint_auth_method: client_secret_basic",
            [("public-client", "error", "5:33")],
        ),
        (
            SPA + "grant_types: [authorization_code, client_credentials]",
            [("public-client", "error", "5:39")],
        ),
        (
            "name: M\ntype: m2m\ntoken_endpoint_auth_method: client_secret_post\n"
            "apis: [{audience: https://api.example/}]",
            [],
        ),
        # a CIMD app's kind comes from its document
        ("cimd: https://a.example/client.json\ntoken_endpoint_auth_method: client_secret_post", []),
    ],
)
def test_client_kind(fields: str, expected: list[Finding]) -> None:
    assert lint(fields) == expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (WEB + "grant_types: [authorization_code, refresh_token]", []),
        (
            WEB + "grant_types: [authorization_code, implicit, password]",
            [("legacy-grant", "error", "5:39"), ("legacy-grant", "error", "5:49")],
        ),
        (
            WEB
            + "grant_types: [implicit]\nallow_legacy_grants: true\n"
            + "legacy_grants_reason: the old portal signs in this way until June",
            [],
        ),
    ],
)
def test_grants(fields: str, expected: list[Finding]) -> None:
    assert lint(fields) == expected


M2M_JWT = (
    "name: M\ntype: m2m\ntoken_endpoint_auth_method: private_key_jwt\n"
    "apis: [{audience: https://api.example/}]\n"
)


def test_an_adopted_private_key_jwt_app_without_credentials_is_only_warned_about() -> None:
    found = lint(M2M_JWT + "client_id: abc123")
    assert found == [("credentials-unmanaged", "warning", "5:33")]


def test_credentials_without_private_key_jwt_are_unused() -> None:
    found = lint(WEB + inline_credential(public_key_pem()))
    assert found == [("credential-unused", "warning", "6:7")]


def test_a_credential_name_used_twice_is_pointed_at_the_second(tmp_path: Path) -> None:
    (tmp_path / "k.pem").write_text(public_key_pem())
    (tmp_path / "k2.pem").write_text(public_key_pem(1))
    credentials = "credentials:\n  - {name: k1, public_key_file: k.pem}\n"
    credentials += "  - {name: k1, public_key_file: k2.pem}\n"
    assert lint(M2M_JWT + credentials, tmp_path) == [("credential-name", "error", "9:16")]


def test_a_public_key_file_is_read_beside_the_manifest(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "k.pem").write_text(public_key_pem())
    credentials = "credentials:\n  - {name: k1, public_key_file: keys/k.pem}\n"
    assert lint(M2M_JWT + credentials, tmp_path) == []
    assert lint(M2M_JWT + credentials, tmp_path / "elsewhere") == [
        ("credential-key", "error", "8:37")
    ]


def test_a_private_key_is_refused_in_a_key_file_and_left_to_find_secrets_inline(
    tmp_path: Path,
) -> None:
    private = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    (tmp_path / "k.pem").write_bytes(private)
    in_file = "credentials:\n  - {name: k1, public_key_file: k.pem}\n"
    assert lint(M2M_JWT + in_file, tmp_path) == [("secret-in-manifest", "error", "8:37")]
    # Inline, find_secrets reports it once (tests/fixtures/bad/private-key.yaml).
    assert lint(M2M_JWT + inline_credential(private.decode("ascii")), tmp_path) == []


def test_a_public_key_inline_passes() -> None:
    assert lint(M2M_JWT + inline_credential(public_key_pem())) == []


def key_files(tmp_path: Path, **pems: str) -> str:
    """``credentials:`` naming one key file per entry of ``pems`` (name -> PEM)."""
    lines = ["credentials:"]
    for name, pem in pems.items():
        (tmp_path / f"{name}.pem").write_text(pem)
        lines.append(f"  - {{name: {name}, public_key_file: {name}.pem}}")
    return "\n".join(lines) + "\n"


def rsa_pem_of_size(bits: int) -> str:
    """A public RSA key of ``bits`` bits, made from its numbers (no key generation)."""
    key = rsa.RSAPublicNumbers(65537, (1 << (bits - 1)) | 1).public_key()
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def certificate_pem(bits: int = 2048) -> str:
    private = rsa_private_key(bits)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ledger-sync")])
    made = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(1)
        .not_valid_before(datetime(2025, 1, 1))
        .not_valid_after(datetime(2030, 1, 1))
        .sign(private, hashes.SHA256())
    )
    return made.public_bytes(serialization.Encoding.PEM).decode("ascii")


def test_auth0_holds_two_credentials_at_most(tmp_path: Path) -> None:
    # Source: configure-private-key-jwt.mdx ("Applications can have a maximum of two
    # credentials configured"); Terraform's private_key_jwt credentials: MaxItems 2.
    three = key_files(tmp_path, a=public_key_pem(), b=public_key_pem(1), c=public_key_pem(2))
    assert lint(M2M_JWT + three, tmp_path) == [("credential-limit", "error", "10:9")]


def test_the_keys_of_signed_request_objects_count_against_the_two(tmp_path: Path) -> None:
    # Source: configure-private-key-jwt.mdx ("Applications can have a maximum of two
    # credentials configured"): whatever each is used for (stricter reading).
    two = key_files(tmp_path, a=public_key_pem(), b=public_key_pem(1))
    (tmp_path / "jar.pem").write_text(public_key_pem(2))
    jar = "signed_request_object:\n  credentials:\n    - {name: jar, public_key_file: jar.pem}\n"
    assert lint(M2M_JWT + two + jar, tmp_path) == [("credential-limit", "error", "12:11")]
    one = key_files(tmp_path, a=public_key_pem())
    assert lint(M2M_JWT + one + jar, tmp_path) == []


def test_one_key_is_one_credential(tmp_path: Path) -> None:
    # Stricter reading of the SDKs' kid "used to uniquely identify the credential".
    (tmp_path / "k.pem").write_text(public_key_pem())
    twice = "credentials:\n  - {name: k1, public_key_file: k.pem}\n"
    twice += "  - {name: k2, pem: " + json.dumps(public_key_pem()) + "}\n"
    assert lint(M2M_JWT + twice, tmp_path) == [("credential-duplicate", "error", "9:9")]


def test_rsa_keys_of_2048_to_4096_bits(tmp_path: Path) -> None:
    # Source: configure-private-key-jwt.mdx, "Credential limits".
    fits = key_files(tmp_path, low=public_key_pem(), high=rsa_pem_of_size(4096))
    assert lint(M2M_JWT + fits, tmp_path) == []
    outside = key_files(tmp_path, small=rsa_pem_of_size(1024), large=rsa_pem_of_size(4104))
    assert lint(M2M_JWT + outside, tmp_path) == [
        ("credential-key", "error", "8:40"),
        ("credential-key", "error", "9:40"),
    ]
    elliptic = ec.generate_private_key(ec.SECP256R1()).public_key()
    ec_pem = elliptic.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")
    assert lint(M2M_JWT + key_files(tmp_path, e=ec_pem), tmp_path) == [
        ("credential-key", "error", "8:36")
    ]


def test_with_credentials_tokens_are_signed_with_rs256(tmp_path: Path) -> None:
    # Source: go-auth0 reference.md (Create a client): "To configure
    # client_authentication_methods, the property jwt_configuration.alg must be set to RS256".
    keys = key_files(tmp_path, k=public_key_pem())
    assert lint(M2M_JWT + "jwt_configuration: {alg: RS256}\n" + keys, tmp_path) == []
    assert lint(M2M_JWT + "jwt_configuration: {alg: PS256}\n" + keys, tmp_path) == [
        ("credential-alg", "error", "7:30")
    ]


@pytest.mark.parametrize(
    ("expires_at", "expected"),
    [
        ("2031-01-01T00:00:00Z", []),
        ("'2031-01-01T00:00:00.000+00:00'", []),
        ("'2031-01-01T00:00:00'", [("credential-expiry", "error", "8:55")]),
        ("'2031-01-01'", [("credential-expiry", "error", "8:55")]),
    ],
)
def test_an_expiry_is_a_date_time_with_an_offset(
    tmp_path: Path, expires_at: str, expected: list[Finding]
) -> None:
    (tmp_path / "k.pem").write_text(public_key_pem())
    credential = (
        f"credentials:\n  - {{name: k, public_key_file: k.pem, expires_at: {expires_at}}}\n"
    )
    assert lint(M2M_JWT + credential, tmp_path) == expected


MTLS = "name: M\ntype: m2m\napis: [{audience: https://api.example/}]\n"


def test_a_self_signed_mtls_app_lists_its_certificates(tmp_path: Path) -> None:
    method = MTLS + "token_endpoint_auth_method: self_signed_tls_client_auth\n"
    certificates = key_files(tmp_path, c=certificate_pem())
    assert lint(method + certificates, tmp_path) == []
    # Auth0 took a 1024-bit self-signed certificate (go-auth0 recording
    # Should_create_SelfSignedTLSClientAuth_Credential): the key-size limits are
    # private_key_jwt's.
    assert lint(method + key_files(tmp_path, c=certificate_pem(1024)), tmp_path) == []
    assert lint(method + key_files(tmp_path, k=public_key_pem()), tmp_path) == [
        ("credential-key", "error", "8:36")
    ]
    with_kid = "credentials:\n  - {name: c, public_key_file: c.pem, kid: c-2026-0001}\n"
    assert lint(method + with_kid, tmp_path) == [("credential-member", "error", "8:48")]
    assert lint(method, tmp_path) == [("credential-missing", "error", "6:33")]


def test_a_ca_signed_mtls_app_lists_subject_dns_or_certificates(tmp_path: Path) -> None:
    method = MTLS + "token_endpoint_auth_method: tls_client_auth\n"
    by_dn = "credentials:\n  - {name: ca, subject_dn: 'C=US\\nO=Example\\nCN=ledger-sync'}\n"
    assert lint(method + by_dn, tmp_path) == []
    assert lint(method + key_files(tmp_path, ca=certificate_pem()), tmp_path) == []
    on_a_key = M2M_JWT + "credentials:\n  - {name: k, subject_dn: CN=ledger-sync}\n"
    assert lint(on_a_key, tmp_path) == [("credential-member", "error", "8:31")]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (WEB + "metadata: {team: payments, 'cost center': '42'}", []),
        (WEB + "metadata: {reconciler_owner: me}", [("metadata-reserved", "error", "5:34")]),
        (WEB + "metadata: {'team!': x}", [("metadata-key", "error", "5:25")]),
        (
            WEB + f"metadata: {{{'k' * 256}: x}}",
            [("metadata-length", "error", "5:274")],
        ),
    ],
)
def test_metadata(fields: str, expected: list[Finding]) -> None:
    assert lint(fields) == expected


def test_texts_within_their_limits_pass() -> None:
    assert lint(f"name: Web (beta)\ntype: spa\ndescription: {'d' * 140}") == []


def test_find_secrets_points_at_the_key_anywhere_in_the_file() -> None:
    text = textwrap.dedent("""\
        apps:
          web:
            name: Web
            type: regular_web
            metadata: {signing_secret: x}
        notes:
          - registration_access_token: y
          - "-----BEGIN EC PRIVATE KEY-----"
    """)
    file = load_yaml_bytes(text.encode("utf-8"), "apps.yaml")
    found = [
        (d.rule, d.severity.value, f"{d.location.line}:{d.location.column}")
        for d in find_secrets(file.data, file.locate_key)
    ]
    assert found == [
        ("secret-in-manifest", "error", "5:16"),
        ("secret-in-manifest", "error", "7:5"),
        ("secret-in-manifest", "error", "8:5"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "apps: {web: {name: W, client_secret: x}}",
        "base: &b {signing_secret: x}\napps: {web: {<<: *b, name: W}}",
        "apps: {}\nnotes: [{registration_access_token: y}]",
        'apps: {}\nnote: "-----BEGIN RSA PRIVATE KEY-----"',
        "apps: {}\nnote: !!binary LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t",
    ],
)
def test_a_file_that_holds_a_secret_is_scanned(text: str) -> None:
    file = load_yaml_bytes(text.encode("utf-8"), "apps.yaml")
    assert file.may_hold_secrets
    rules = [d.rule for d in find_secrets(file.data, file.locate_key)]
    assert rules and set(rules) == {"secret-in-manifest"}


def test_a_file_that_only_names_secret_methods_and_tokens_is_not_scanned() -> None:
    text = (
        "apps:\n  web:\n    name: Web\n    type: regular_web\n"
        "    token_endpoint_auth_method: client_secret_post\n"
        "    refresh_token: {rotation_type: rotating}\n"
        "    description: keeps a secret, a private key, a token\n"
    )
    assert not load_yaml_bytes(text.encode("utf-8"), "apps.yaml").may_hold_secrets


@settings(max_examples=300)
@given(
    host=st.from_regex(r"[A-Za-z0-9.-]{1,20}", fullmatch=True),
    rest=st.text(max_size=20),
    native=st.booleans(),
)
def test_every_redirect_rule_passes_what_the_fast_path_skips(
    host: str, rest: str, native: bool
) -> None:
    for uri in (f"https://{host}/{rest}", f"https://{host}?{rest}", f"https://{host}"):
        if _PLAIN_HTTPS_URL.fullmatch(uri):
            assert list(_redirect_uri_rules(uri, native, Location("apps.yaml"))) == []


M2M = "name: M\ntype: m2m\n"
LEDGER = "https://ledger.example.com/"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (M2M + f"apis: [{{audience: {LEDGER}, scopes: [read:entries]}}]", []),
        # no client grant declared: a warning, where the app says it is m2m or lists its apis
        (M2M, [("m2m-without-api", "warning", "4:11")]),
        (M2M + "apis: []", [("m2m-without-api", "warning", "5:11")]),
        (
            M2M + f"apis: [{{audience: {LEDGER}, subject_type: user}}]",
            [("m2m-without-api", "warning", "5:11")],
        ),
        # one grant per (audience, subject_type), the error at the repeat
        (
            M2M + f"apis:\n  - audience: {LEDGER}\n  - audience: {LEDGER}\n",
            [("grant-duplicate", "error", "7:19")],
        ),
        (
            M2M + f"apis:\n  - {{audience: {LEDGER}, subject_type: client}}\n"
            f"  - {{audience: {LEDGER}}}\n",
            [("grant-duplicate", "error", "7:20")],
        ),
        (
            M2M + f"apis:\n  - {{audience: {LEDGER}}}\n"
            f"  - {{audience: {LEDGER}, subject_type: user}}\n",
            [],
        ),
        # a scope is one RFC 6749 token, listed once
        (
            M2M + f"apis: [{{audience: {LEDGER}, scopes: [read:entries, 'write entries']}}]",
            [("scope", "error", "5:75")],
        ),
        (
            M2M + f"apis: [{{audience: {LEDGER}, scopes: ['a\"b', 'c\\\\d']}}]",
            [("scope", "error", "5:61"), ("scope", "error", "5:68")],
        ),
        (
            M2M + f"apis:\n  - audience: {LEDGER}\n    scopes: [read:x, write:x, read:x]\n",
            [("scope-duplicate", "error", "7:35")],
        ),
    ],
)
def test_apis(fields: str, expected: list[Finding]) -> None:
    assert lint(fields) == expected


def test_the_error_for_a_second_grant_names_the_first() -> None:
    text = f"apps:\n  w:\n    {M2M.replace(chr(10), chr(10) + '    ')}apis:\n"
    text += f"      - audience: {LEDGER}\n      - audience: {LEDGER}\n"
    file = load_yaml_bytes(text.encode("utf-8"), "apps.yaml")
    app = ManifestApp("w", file.data["apps"]["w"], file)
    [problem] = lint_app(app.key, app.data, app.locate, Path("."))
    assert problem.rule == "grant-duplicate"
    assert problem.message.endswith("the first is at apps.yaml:6:19")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (WEB + "connections: [Username-Password-Authentication, google-oauth2]", []),
        (
            WEB + "connections: [google-oauth2, github, google-oauth2]",
            [("connection-duplicate", "error", "5:42")],
        ),
    ],
)
def test_connections(fields: str, expected: list[Finding]) -> None:
    assert lint(fields) == expected


MANAGEMENT = "https://acme.eu.auth0.com/api/v2/"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        # a third-party app needs a grant for every API it calls: apis is how it gets one
        (
            "cimd: https://a.example/client.json\n"
            f"apis: [{{audience: {LEDGER}, subject_type: user, scopes: [read:entries]}}]",
            [],
        ),
        # but never for the Management API, CIMD or not
        (
            f"cimd: https://a.example/client.json\napis: [{{audience: {MANAGEMENT}}}]",
            [("third-party-management-api", "error", "4:23")],
        ),
        (
            WEB + f"is_first_party: false\napis: [{{audience: {MANAGEMENT}}}]",
            [("third-party-management-api", "error", "6:23")],
        ),
        (M2M + f"apis: [{{audience: {MANAGEMENT}, scopes: [read:clients]}}]", []),
    ],
)
def test_apis_of_third_party_apps(fields: str, expected: list[Finding]) -> None:
    assert lint(fields) == expected


THIRD_PARTY = WEB + "is_first_party: false\n"
ADOPTED = THIRD_PARTY + "client_id: abc123\n"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        # Auth0's security controls for third-party apps, at the field that breaks them
        (THIRD_PARTY + "grant_types: [authorization_code, refresh_token]", []),
        (
            THIRD_PARTY + "grant_types: [authorization_code, implicit, password]",
            [("third-party", "error", "6:39"), ("third-party", "error", "6:49")],
        ),
        (
            THIRD_PARTY + "token_endpoint_auth_method: none\ngrant_types: [client_credentials]",
            [("third-party", "error", "7:19")],
        ),
        (THIRD_PARTY + "jwt_configuration: {alg: RS256, lifetime_in_seconds: 300}", []),
        (THIRD_PARTY + "jwt_configuration: {alg: HS256}", [("third-party", "error", "6:30")]),
        (THIRD_PARTY + "jwt_configuration: {scopes: {}}", [("third-party", "error", "6:33")]),
        (
            THIRD_PARTY + "refresh_token: {expiration_type: non-expiring}",
            [("third-party", "error", "6:38")],
        ),
        (
            THIRD_PARTY
            + "refresh_token: {rotation_type: rotating, infinite_idle_token_lifetime: true}",
            [("third-party", "error", "6:76")],
        ),
        (
            THIRD_PARTY + "allowed_logout_urls: [https://a.example/]\n"
            "cross_origin_authentication: false",
            [("third-party", "error", "6:26"), ("third-party", "error", "7:34")],
        ),
        (
            THIRD_PARTY + 'callbacks: ["https://*.a.example/cb"]',
            [("redirect-uri-wildcard", "warning", "6:17"), ("third-party", "error", "6:17")],
        ),
        # a CIMD app is third-party too
        (
            "cimd: https://a.example/client.json\njwt_configuration: {alg: PS256}",
            [("third-party", "error", "4:30")],
        ),
        # an adopted app may be an older, permissive third-party app: warnings
        (ADOPTED + "grant_types: [implicit]", [("third-party", "warning", "7:19")]),
        # a first-party app is not held to them
        (WEB + "grant_types: [implicit]\nallow_legacy_grants: true\nlegacy_grants_reason: x", []),
    ],
)
def test_third_party_apps(fields: str, expected: list[Finding]) -> None:
    assert lint(fields) == expected
