from __future__ import annotations

from reconciler.core.changes import FieldChange
from reconciler.core.risks import RISK_DESCRIPTIONS, reverted_fields, risks

SPA = {"web_origins": ["https://app.example.com"], "allowed_origins": []}


def test_an_origin_added_to_an_app_is_labelled() -> None:
    after = {**SPA, "web_origins": ["https://app.example.com", "https://new.example.com"]}
    assert risks("update", SPA, after) == ("origin-added",)


def test_a_cors_origin_added_is_labelled_too() -> None:
    after = {**SPA, "allowed_origins": ["https://cors.example.com"]}
    assert risks("update", SPA, after) == ("origin-added",)


def test_an_origin_removed_is_a_change_not_an_addition() -> None:
    assert risks("update", SPA, {**SPA, "web_origins": []}) == ("origin-changed",)


def test_a_wildcard_origin_is_flagged_on_create_and_update() -> None:
    after = {**SPA, "web_origins": ["https://*.example.com"]}
    assert risks("create", None, after) == ("wildcard-origin",)
    assert risks("update", SPA, after) == ("origin-added", "wildcard-origin")


def test_origins_of_a_new_app_are_expected() -> None:
    assert risks("create", None, SPA) == ()


def test_a_plain_http_redirect_is_flagged_unless_on_a_loopback_host() -> None:
    def labels(uri: str) -> tuple[str, ...]:
        return risks("create", None, {"callbacks": [uri]})

    assert labels("http://app.example.com/cb") == ("http-redirect",)
    assert labels("http://dev.localhost/cb") == ("http-redirect",)
    for loopback in ("localhost", "127.0.0.1", "[::1]"):
        assert labels(f"http://{loopback}:8080/cb") == ()
    # Any 127.0.0.0/8 address is loopback, as the linter has it: this was flagged before.
    assert labels("http://127.0.0.2:8080/cb") == ()


def test_putting_back_drifted_redirect_uris_is_a_revert() -> None:
    before = {"callbacks": ["https://evil.example.com/cb"]}
    after = {"callbacks": ["https://web.example.com/cb"]}
    assert risks("update", before, after, {"callbacks"}) == ("redirect-uri-reverted",)
    assert risks("update", before, after) == ("redirect-uri-added",)


def test_putting_back_drifted_origins_is_a_revert() -> None:
    before = {**SPA, "web_origins": []}
    assert risks("update", before, SPA, {"web_origins"}) == ("origin-reverted",)


def test_a_wildcard_put_back_is_still_flagged() -> None:
    before = {"callbacks": []}
    after = {"callbacks": ["https://*.example.com/cb"]}
    assert risks("update", before, after, {"callbacks"}) == (
        "redirect-uri-reverted",
        "wildcard-redirect",
    )


def test_only_fields_changed_by_drift_alone_are_reverted() -> None:
    diff = [
        FieldChange("callbacks", [], ["https://a.example.com/cb"], ("drift",)),
        FieldChange("web_origins", [], ["https://a.example.com"], ("manifest", "drift")),
        FieldChange("refresh_token.rotation_type", "a", "b", ("drift",)),
        FieldChange("logo_uri", None, "https://a.example.com/l.png", ("manifest",)),
    ]
    assert reverted_fields(diff) == {"callbacks", "refresh_token"}


def test_every_label_has_a_description() -> None:
    labels = {
        *risks("update", {"callbacks": [], **SPA}, {"callbacks": ["http://*.x.com"], **SPA}),
        *risks("update", SPA, {**SPA, "web_origins": ["*"]}, {"web_origins"}),
    }
    assert labels <= set(RISK_DESCRIPTIONS)
