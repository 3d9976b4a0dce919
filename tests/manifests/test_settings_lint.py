"""Lint of the login, native, organization, request-security and token settings: each
rule's findings, their severity and where they point (line:column, as a person sees it)."""

from __future__ import annotations

import pytest

from tests.manifests.test_lint import NATIVE, SPA, WEB, inline_credential, lint, public_key_pem

M2M = "name: Worker\ntype: m2m\napis: [{audience: 'https://ledger.example.com/'}]\n"
FINGERPRINT = ":".join(["AB"] * 32)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (WEB + "oidc_logout: {backchannel_logout_urls: [https://pay.example.com/bcl]}", []),
        (
            WEB + "oidc_logout: {backchannel_logout_urls: [http://pay.example.com/bcl]}",
            [("backchannel-logout-url", "error", "5:45")],
        ),
        (
            WEB + "oidc_logout: {backchannel_logout_urls: [https://x.eu.auth0.com/bcl]}",
            [("backchannel-logout-url", "error", "5:45")],
        ),
        (
            WEB + "oidc_logout: {backchannel_logout_urls: [https://10.0.0.7/bcl]}",
            [("backchannel-logout-url", "error", "5:45")],
        ),
        (
            WEB + "oidc_logout:\n  backchannel_logout_initiators:\n"
            "    mode: custom\n    selected_initiators: [rp-logout, password-changed]",
            [("logout-initiators", "error", "8:30")],
        ),
        (
            WEB + "oidc_logout:\n  backchannel_logout_initiators:\n"
            "    mode: all\n    selected_initiators: [rp-logout]",
            [("logout-initiators", "warning", "8:30")],
        ),
        (
            WEB + "oidc_logout:\n  backchannel_logout_initiators:\n"
            "    mode: custom\n    selected_initiators: [idp-logout, rp-logout]",
            [],
        ),
    ],
)
def test_back_channel_logout(fields: str, expected: list[tuple[str, str, str]]) -> None:
    assert lint(fields) == expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            NATIVE + "mobile:\n  ios: {team_id: ABCDE12345, app_bundle_identifier: com.x.pay}\n"
            "  android:\n    app_package_name: com.x.pay\n"
            f"    sha256_cert_fingerprints: [{FINGERPRINT!r}]",
            [],
        ),
        (
            NATIVE + "mobile:\n  android: {sha256_cert_fingerprints: [ab-cd]}",
            [("mobile-fingerprint", "error", "6:44")],
        ),
        (NATIVE + "mobile: {ios: {team_id: abc}}", [("mobile-team-id", "warning", "5:29")]),
        (SPA + "mobile: {ios: {team_id: ABCDE12345}}", [("mobile-not-native", "warning", "5:13")]),
        (NATIVE + "native_social_login: {apple: {enabled: true}}", []),
        (
            SPA + "native_social_login: {apple: {enabled: true}, google: {enabled: false}}",
            [("native-social-login", "error", "5:26")],
        ),
        (SPA + "native_social_login: {apple: {enabled: false}}", []),
    ],
)
def test_native_settings(fields: str, expected: list[tuple[str, str, str]]) -> None:
    assert lint(fields) == expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            WEB + "organization_usage: require\norganization_require_behavior: pre_login_prompt\n"
            "organization_discovery_methods: [email]",
            [],
        ),
        (
            WEB + "organization_require_behavior: post_login_prompt\n"
            "organization_discovery_methods: [email]",
            [("organization-discovery", "error", "6:37")],
        ),
        (
            WEB + "organization_require_behavior: no_prompt\norganization_discovery_methods: []",
            [],
        ),
        (
            WEB + "oidc_conformant: false\norganization_require_behavior: post_login_prompt",
            [("organization-prompt", "error", "6:36")],
        ),
        (M2M + "default_organization: {organization_id: org_1, flows: [client_credentials]}", []),
        (
            WEB + "default_organization: {organization_id: org_1, flows: [client_credentials]}",
            [("default-organization-unused", "warning", "5:27")],
        ),
    ],
)
def test_organization_settings(fields: str, expected: list[tuple[str, str, str]]) -> None:
    assert lint(fields) == expected


def test_a_fapi_level_says_what_the_app_lacks() -> None:
    # Auth0 docs configure-fapi-compliance.mdx: FAPI 1 forbids wildcard callbacks and
    # enforces JAR; the _pkj_ levels authenticate with private_key_jwt, the mtls ones
    # with mTLS; every level needs oidc_conformant.
    found = lint(
        WEB + 'oidc_conformant: false\ncallbacks: ["https://*.example.com/cb"]\n'
        "compliance_level: fapi1_adv_pkj_par"
    )
    assert ("compliance-level", "error", "5:22") in found  # oidc_conformant
    assert ("compliance-level", "error", "6:17") in found  # the wildcard
    assert ("compliance-level", "error", "7:23") in found  # private_key_jwt
    assert ("compliance-level-jar", "warning", "7:23") in found
    assert lint(WEB + "compliance_level: fapi2_sp_mtls_mtls") == [
        ("compliance-level", "error", "5:23")
    ]
    assert lint(WEB + "compliance_level: none") == []


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            WEB + "refresh_token:\n  rotation_type: rotating\n  expiration_type: expiring\n"
            "  policies:\n    - {audience: 'https://billing.example.com/', scope: [read]}",
            [],
        ),
        (
            WEB + "is_first_party: false\nrefresh_token:\n  policies:\n"
            "    - {audience: 'https://billing.example.com/', scope: [read]}",
            [("refresh-token-policies", "error", "8:9")],
        ),
        (
            WEB + "refresh_token:\n  policies:\n"
            "    - {audience: 'https://t.eu.auth0.com/api/v2/', scope: [read:users]}",
            [("refresh-token-policies", "error", "7:22")],
        ),
        (
            WEB + "refresh_token:\n  policies:\n    - {audience: a, scope: [x]}\n"
            "    - {audience: a, scope: [y]}",
            [("refresh-token-policies", "error", "8:22")],
        ),
        (
            M2M + "token_exchange: {allow_any_profile_of_type: [on_behalf_of_token_exchange]}",
            [("token-exchange-obo", "warning", "6:49")],
        ),
        (M2M + "token_exchange: {allow_any_profile_of_type: [custom_authentication]}", []),
    ],
)
def test_token_settings(fields: str, expected: list[tuple[str, str, str]]) -> None:
    assert lint(fields) == expected


def test_the_keys_of_signed_request_objects_are_checked_as_credentials_are() -> None:
    assert lint(WEB + "signed_request_object: {required: true, credentials: []}") == [
        ("request-object-keys", "error", "5:58")
    ]
    pem = public_key_pem()
    keys = inline_credential(pem).replace("credentials:\n", "")
    body = "signed_request_object:\n  required: true\n  credentials:\n" + "\n".join(
        "  " + line for line in (keys + keys).splitlines()
    )
    assert ("credential-name", "error") in [(rule, level) for rule, level, _ in lint(WEB + body)]
    broken = "signed_request_object:\n  credentials:\n    - {name: k, pem: not-a-key}"
    assert lint(WEB + broken) == [("credential-key", "error", "7:26")]
