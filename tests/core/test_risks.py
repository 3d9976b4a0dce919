from __future__ import annotations

import pytest

from reconciler.core.changes import Reason
from reconciler.core.risks import (
    RISK_DESCRIPTIONS,
    change_risks,
    creation_risks,
    deletion_risks,
)

SPA = {"web_origins": ["https://app.example.com"], "allowed_origins": []}


def test_an_origin_added_to_an_app_is_labelled() -> None:
    after = {**SPA, "web_origins": ["https://app.example.com", "https://new.example.com"]}
    assert change_risks(SPA, after) == ("origin-added",)


def test_a_cors_origin_added_is_labelled_too() -> None:
    after = {**SPA, "allowed_origins": ["https://cors.example.com"]}
    assert change_risks(SPA, after) == ("origin-added",)


def test_an_origin_removed_is_a_change_not_an_addition() -> None:
    assert change_risks(SPA, {**SPA, "web_origins": []}) == ("origin-changed",)


def test_a_wildcard_origin_is_flagged_on_create_and_update() -> None:
    after = {**SPA, "web_origins": ["https://*.example.com"]}
    assert creation_risks(after) == ("wildcard-origin",)
    assert change_risks(SPA, after) == ("origin-added", "wildcard-origin")


def test_origins_of_a_new_app_are_expected() -> None:
    assert creation_risks(SPA) == ()


def test_a_plain_http_redirect_is_flagged_unless_on_a_loopback_host() -> None:
    def labels(uri: str) -> tuple[str, ...]:
        return creation_risks({"callbacks": [uri]})

    assert labels("http://app.example.com/cb") == ("http-redirect",)
    assert labels("http://dev.localhost/cb") == ("http-redirect",)
    for loopback in ("localhost", "127.0.0.1", "[::1]"):
        assert labels(f"http://{loopback}:8080/cb") == ()
    # Any 127.0.0.0/8 address is loopback, as the linter has it: this was flagged before.
    assert labels("http://127.0.0.2:8080/cb") == ()


def test_putting_back_drifted_redirect_uris_is_a_revert() -> None:
    before = {"callbacks": ["https://evil.example.com/cb"]}
    after = {"callbacks": ["https://web.example.com/cb"]}
    assert change_risks(before, after, {"callbacks"}) == ("redirect-uri-reverted",)
    assert change_risks(before, after) == ("redirect-uri-added",)


def test_putting_back_drifted_origins_is_a_revert() -> None:
    before = {**SPA, "web_origins": []}
    assert change_risks(before, SPA, {"web_origins"}) == ("origin-reverted",)


def test_a_wildcard_put_back_is_still_flagged() -> None:
    before = {"callbacks": []}
    after = {"callbacks": ["https://*.example.com/cb"]}
    assert change_risks(before, after, {"callbacks"}) == (
        "redirect-uri-reverted",
        "wildcard-redirect",
    )


def test_a_new_app_is_flagged_for_legacy_grants_only_a_changed_one_for_all_watched() -> None:
    grants = {"grant_types": ["authorization_code", "client_credentials", "password"]}
    assert creation_risks(grants) == ("grant-password",)
    assert change_risks({"grant_types": ["authorization_code"]}, grants) == (
        "grant-client_credentials",
        "grant-password",
    )


def test_flips_are_flagged_on_changes_and_never_on_a_new_app() -> None:
    before = {
        "is_first_party": False,
        "token_endpoint_auth_method": "private_key_jwt",
        "refresh_token": {"rotation_type": "rotating"},
        "credentials": [{"name": "a", "kid": "1"}],
    }
    after = {
        "is_first_party": True,
        "token_endpoint_auth_method": "client_secret_post",
        "refresh_token": {"rotation_type": "non-rotating"},
        "credentials": [{"name": "a", "kid": "2"}],
    }
    assert change_risks(before, after) == (
        "first-party-flipped",
        "auth-method-weakened",
        "refresh-rotation-off",
        "keys-changed",
    )
    assert creation_risks(after) == ()


def test_a_plain_http_redirect_uri_is_flagged_on_a_new_app_too() -> None:
    assert creation_risks({"callbacks": ["http://web.example.com/cb"]}) == ("http-redirect",)


@pytest.mark.parametrize(
    ("reason", "labels"),
    [
        (Reason.REMOVED, ("deletion",)),
        (Reason.REPLACED, ("deletion",)),
        (Reason.URL_CHANGED, ("deletion", "url-changed")),
        (Reason.DUPLICATE, ("deletion", "duplicate")),
    ],
)
def test_a_delete_is_always_flagged_and_says_what_else_its_reason_means(
    reason: Reason, labels: tuple[str, ...]
) -> None:
    assert deletion_risks(reason) == labels


def test_every_label_has_a_description() -> None:
    labels = {
        *change_risks({"callbacks": [], **SPA}, {"callbacks": ["http://*.x.com"], **SPA}),
        *change_risks(SPA, {**SPA, "web_origins": ["*"]}, {"web_origins"}),
        *(label for reason in Reason for label in deletion_risks(reason)),
    }
    assert labels <= set(RISK_DESCRIPTIONS)


# What an app may access.

LEDGER = "https://ledger.example.com/"
REPORTS = "https://reports.example.com/"


def test_a_new_api_and_a_scope_added_to_an_m2m_app_are_flagged() -> None:
    before = {"app_type": "non_interactive", "grants": {LEDGER: {"scopes": ["read"]}}}
    wider = {**before, "grants": {LEDGER: {"scopes": ["read", "write"]}}}
    assert change_risks(before, wider) == ("m2m-scope-added",)
    another = {**before, "grants": {**before["grants"], REPORTS: {"scopes": []}}}
    assert change_risks(before, another) == ("api-added",)
    narrower = {**before, "grants": {LEDGER: {"scopes": []}}}
    assert change_risks(before, narrower) == ()


def test_a_scope_added_to_an_interactive_app_is_not_the_m2m_label() -> None:
    before = {"app_type": "spa", "grants": {LEDGER: {"scopes": ["read"]}}}
    assert change_risks(before, {**before, "grants": {LEDGER: {"scopes": ["read", "x"]}}}) == ()


def test_a_grant_for_any_organization_is_flagged_when_turned_on_and_on_a_new_app() -> None:
    on = {"grants": {LEDGER: {"scopes": [], "allow_any_organization": True}}}
    off = {"grants": {LEDGER: {"scopes": [], "allow_any_organization": False}}}
    assert change_risks(off, on) == ("any-organization",)
    assert change_risks(on, on) == ()
    assert creation_risks(on) == ("any-organization",)
    assert creation_risks({"grants": {LEDGER: {"scopes": ["read"]}}}) == ()


def test_connections_added_are_flagged_and_reverts_either_way_say_so() -> None:
    assert change_risks({"connections": ["db"]}, {"connections": ["db", "github"]}) == (
        "connection-added",
    )
    assert change_risks({"connections": ["db", "github"]}, {"connections": ["db"]}) == ()
    reverted = {"connections"}
    for before, after in ((["db"], ["db", "github"]), (["db", "github"], ["db"])):
        assert change_risks({"connections": before}, {"connections": after}, reverted) == (
            "connections-reverted",
        )


def test_grants_put_back_are_a_revert_not_a_new_api() -> None:
    before = {"app_type": "non_interactive", "grants": {}}
    after = {"app_type": "non_interactive", "grants": {LEDGER: {"scopes": ["read"]}}}
    assert change_risks(before, after, {"grants"}) == ("grants-reverted",)
