"""What differs between a declared app and its registry app, decided from canonical values."""

from __future__ import annotations

from typing import Any

from reconciler.core.changes import FieldChange, Reason
from reconciler.core.comparison import Comparison
from reconciler.core.model import App, DesiredApp, Source, SourceOrigin
from reconciler.core.stamp import Stamp

URL = "https://partner.example/client.json"


def applied(fields: dict[str, Any], *, holds: dict[str, Any], **stamp: Any) -> App:
    """An app applied with ``fields`` (its stamp hashes them) that now holds ``holds``."""
    return App("id-web", holds, Stamp.for_fields("team", "web", fields, **stamp))


def test_an_app_that_holds_what_is_declared_does_not_differ_whatever_its_order() -> None:
    declared = {"name": "Web", "callbacks": ["https://b.example/cb", "https://a.example/cb"]}
    held = {"callbacks": ["https://a.example/cb", "https://b.example/cb"], "name": "Web"}
    found = Comparison.of(DesiredApp("web", declared), applied(held, holds=held))
    assert not found.differs and found.describe() == ()


def test_each_field_that_differs_is_named_with_what_changed_it() -> None:
    last = {"name": "Web", "logo_uri": "https://web.example/a.png", "description": "Old"}
    now = {**last, "logo_uri": "https://evil.example/a.png", "description": "Edited"}
    wanted = {**last, "description": "New"}
    found = Comparison.of(DesiredApp("web", wanted), applied(last, holds=now))
    assert found.fields == {
        "description": (Reason.MANIFEST, Reason.DRIFT),
        "logo_uri": (Reason.DRIFT,),
    }
    assert found.reverted() == {"logo_uri"}
    assert found.reasons() == (Reason.MANIFEST, Reason.DRIFT)


def test_an_unstamped_app_differs_by_adoption() -> None:
    found = Comparison.of(DesiredApp("web", {"name": "New"}), App("id-web", {"name": "Old"}))
    assert found.fields == {"name": (Reason.ADOPT,)} and found.stamp == {}


def test_the_diff_is_made_for_people_from_what_was_found() -> None:
    last = {"name": "Web", "refresh_token": {"rotation_type": "rotating", "leeway": 0}}
    wanted = {"name": "Web", "refresh_token": {"rotation_type": "non-rotating", "leeway": 0}}
    spec = DesiredApp("web", wanted, protect=True)
    found = Comparison.of(spec, applied(last, holds=last))
    assert found.stamp == {"protect": (False, True)}
    assert found.describe() == (
        FieldChange("refresh_token.rotation_type", "rotating", "non-rotating", (Reason.MANIFEST,)),
        FieldChange("protect", False, True, (Reason.MANIFEST,)),
    )
    assert found.reasons() == (Reason.MANIFEST,)


def test_a_cimd_app_differs_where_it_no_longer_matches_its_document() -> None:
    document = {"client_name": "Partner Pro", "redirect_uris": ["https://p.example/cb"]}
    source = Source(URL, document, "sha256:x", "2026-01-01", SourceOrigin.FETCHED)
    record = {
        "name": "Partner",
        "callbacks": ["https://p.example/cb"],
        "app_type": "regular_web",
        "grant_types": ["authorization_code"],
        "token_endpoint_auth_method": "none",
    }
    app = App(URL, {}, Stamp.for_fields("team", "p", {}), external_client_id=URL, record=record)
    found = Comparison.of(DesiredApp("p", {}, cimd=URL), app, source)
    assert found.document == {"name": ("Partner", "Partner Pro")}
    assert found.differs and found.reasons() == (Reason.UPSTREAM,)
    assert found.describe() == (
        FieldChange("document.name", "Partner", "Partner Pro", (Reason.UPSTREAM,)),
    )
