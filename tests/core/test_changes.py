"""Change kinds: each holds its own shape, says its own words, and reads back from a plan."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from reconciler.core.changes import (
    CHANGE_TYPES,
    Adopt,
    Change,
    Create,
    Delete,
    Deliver,
    FieldChange,
    Reason,
    Refresh,
    Rotate,
    TenantGrants,
    Update,
)
from reconciler.core.plan import Plan
from reconciler.core.render import render_text
from reconciler.manifests.schema import PLAN_SCHEMA, load_schema

FINGERPRINT = "sha256:" + "5c" * 32
URL = "https://partner.example/client.json"
SOURCE = {
    "url": URL,
    "sha256": "sha256:" + "7b" * 32,
    "fetched_at": "2026-01-01T00:00:00+00:00",
    "origin": "fetched",
    "document": {"client_name": "Partner"},
}
KEY = {"name": "signing", "kid": "k1", "alg": "RS256", "pem": "PEM"}
DIFF = (FieldChange("name", "Old", "New", (Reason.MANIFEST, Reason.DRIFT)),)

COMMON = {"key", "reasons", "risks", "notes", "location"}
REGISTERED = {"client_id", "fingerprint"}
DECLARED = {"after", "diff", "protect", "cimd", "file", "keys"}


def every_kind() -> list[Change]:
    """One change of each kind, every member it holds set."""
    people = {"risks": ("redirect-uri-added",), "notes": ("a note",)}
    registered = {"client_id": "id-app", "fingerprint": FINGERPRINT, **people}
    declared = {
        "after": {"name": "New"},
        "diff": DIFF,
        "protect": True,
        "location": "apps/app.yaml:2:3",
        "file": "apps/app.yaml",
    }
    return [
        Adopt(
            key="adopt", before={"name": "Old"}, reasons=(Reason.ADOPT,), **declared, **registered
        ),
        Create(
            key="create", reasons=(Reason.NEW,), keys=(KEY,), cimd=URL, source=SOURCE, **declared
        ),
        Update(
            key="update",
            before={"name": "Old"},
            reasons=(Reason.MANIFEST,),
            **declared,
            **registered,
        ),
        Refresh(
            key="refresh",
            before={"name": "Old"},
            cimd=URL,
            source=SOURCE,
            reasons=(Reason.UPSTREAM,),
            **declared,
            **registered,
        ),
        Deliver(
            key="deliver",
            reasons=(Reason.SECRET_NOT_DELIVERED,),
            protect=True,
            location="apps/app.yaml:2:3",
            **registered,
        ),
        Rotate(key="rotate", reasons=(Reason.ROTATE_SECRET,), protect=True, **registered),
        TenantGrants(
            key="third_party_apis",
            group="third_party_clients",
            before={"grants": {}},
            after={"grants": {URL: {"scopes": ["read"]}}},
            diff=DIFF,
            reasons=(Reason.MANIFEST,),
            location="apps/app.yaml:9:5",
            **people,
        ),
        Delete(
            key="delete", before={"name": "Old"}, cimd=URL, reasons=(Reason.REMOVED,), **registered
        ),
    ]


# Shapes.


@pytest.mark.parametrize(
    ("kind", "members"),
    [
        (Adopt, COMMON | REGISTERED | DECLARED | {"before"}),
        (Create, COMMON | DECLARED | {"source"}),
        (Update, COMMON | REGISTERED | DECLARED | {"before"}),
        (Refresh, COMMON | REGISTERED | DECLARED | {"before", "source"}),
        (Deliver, COMMON | REGISTERED | {"protect"}),
        (Rotate, COMMON | REGISTERED | {"protect"}),
        (Delete, COMMON | REGISTERED | {"before", "cimd"}),
    ],
)
def test_each_kind_holds_what_it_needs_and_nothing_else(
    kind: type[Change], members: set[str]
) -> None:
    assert {member.name for member in dataclasses.fields(kind)} == members


def test_a_create_has_no_client_id_until_applied_and_a_delete_no_after() -> None:
    with pytest.raises(TypeError, match="client_id"):
        Create(key="web", after={}, client_id="id-web")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="after"):
        Delete(key="web", client_id="id", fingerprint=FINGERPRINT, before={}, after={})  # type: ignore[call-arg]


def test_what_a_kind_needs_cannot_be_left_out() -> None:
    with pytest.raises(TypeError, match="fingerprint"):
        Update(key="api", client_id="id-api", before={}, after={})  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="source"):
        Refresh(key="p", client_id=URL, fingerprint=FINGERPRINT, before={}, after={}, cimd=URL)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="before"):
        Delete(key="gone", client_id="id-gone", fingerprint=FINGERPRINT)  # type: ignore[call-arg]


def test_the_stamp_records_the_declaring_file_by_its_hash() -> None:
    created = Create(key="web", after={}, file="apps/web.yaml")
    assert created.stamp_source and created.stamp_source != "apps/web.yaml"
    assert Create(key="web", after={}).stamp_source == ""


# Symbols, order, words.


def test_every_kind_is_known_by_its_action_in_the_order_a_summary_counts_them() -> None:
    assert list(CHANGE_TYPES) == [
        "adopt",
        "create",
        "update",
        "refresh",
        "deliver",
        "rotate",
        "tenant-grants",
        "delete",
    ]
    assert [type(change) for change in every_kind()] == list(CHANGE_TYPES.values())


def test_actions_and_symbols_are_the_pairs_the_plan_schema_allows() -> None:
    pairs = load_schema(PLAN_SCHEMA)["$defs"]["change"]["oneOf"]
    allowed = {
        p["properties"]["action"]["const"]: p["properties"]["symbol"]["const"] for p in pairs
    }
    assert {kind.ACTION: kind.SYMBOL for kind in CHANGE_TYPES.values()} == allowed


def test_a_plan_runs_deliveries_first_and_deletes_last() -> None:
    plan = Plan(owner="o", registry="r", changes=tuple(reversed(every_kind())))
    assert [change.ACTION for change in plan.changes] == [
        "deliver",
        "rotate",
        "adopt",
        "create",
        "update",
        "refresh",
        "tenant-grants",
        "delete",
    ]


@pytest.mark.parametrize(
    ("kind", "phrase", "one", "two"),
    [
        (Adopt, "will be adopted", "1 adopted", "2 adopted"),
        (Create, "will be created", "1 created", "2 created"),
        (Update, "will be updated in place", "1 updated", "2 updated"),
        (Refresh, "will be re-registered from its metadata document", "1 refreshed", "2 refreshed"),
        (
            Deliver,
            "will have its secret delivered to --secrets-out (it may never have been)",
            "1 secret delivered",
            "2 secrets delivered",
        ),
        (
            Rotate,
            "will have its secret rotated and delivered to --secrets-out",
            "1 secret rotated",
            "2 secrets rotated",
        ),
        (Delete, "will be deleted", "1 deleted", "2 deleted"),
    ],
)
def test_each_kind_says_what_it_will_do_and_what_it_did(
    kind: type[Change], phrase: str, one: str, two: str
) -> None:
    assert (kind.WORDS.phrase, kind.WORDS.counted(1), kind.WORDS.counted(2)) == (phrase, one, two)


def test_creates_updates_and_deletes_are_always_counted_the_others_when_present() -> None:
    always = [kind.ACTION for kind in CHANGE_TYPES.values() if kind.ALWAYS_COUNTED]
    assert always == ["create", "update", "delete"]


@pytest.mark.parametrize("change", every_kind(), ids=lambda change: change.ACTION)
def test_each_kind_has_a_colour_the_text_renderer_knows(change: Change) -> None:
    coloured = render_text(Plan(owner="o", registry="r", changes=(change,)), color=True)
    assert f"m  {change.SYMBOL} {change.key}" in coloured


# The plan file's form.


@pytest.mark.parametrize("change", every_kind(), ids=lambda change: change.ACTION)
def test_each_kind_reads_back_from_its_plan_file_form(change: Change) -> None:
    data = json.loads(json.dumps(change.to_data()))
    assert Change.from_data(data) == change
    assert Change.from_data(data).to_data() == data


def test_every_kind_writes_the_members_in_one_order() -> None:
    order = [
        "action",
        "symbol",
        "key",
        "client_id",
        "cimd",
        "location",
        "file",
        "fingerprint",
        "group",
        "protect",
        "reasons",
        "risks",
        "notes",
        "before",
        "after",
        "diff",
        "keys",
        "source",
    ]
    for change in every_kind():
        members = list(change.to_data())
        assert members == [name for name in order if name in members], change.ACTION


def test_members_a_kind_does_not_hold_are_written_empty_or_left_out() -> None:
    by_action = {change.ACTION: change.to_data() for change in every_kind()}
    assert "client_id" not in by_action["create"] and "fingerprint" not in by_action["create"]
    assert by_action["create"]["before"] is None
    assert (by_action["delete"]["after"], by_action["delete"]["diff"]) == (None, [])
    assert by_action["delete"]["protect"] is False and "location" not in by_action["delete"]
    for action in ("deliver", "rotate"):
        data = by_action[action]
        assert (data["before"], data["after"], data["diff"]) == (None, None, [])
        assert "keys" not in data and "source" not in data


def test_reasons_are_written_as_their_plain_values() -> None:
    data = every_kind()[2].to_data()
    assert data["reasons"] == ["manifest"] and type(data["reasons"][0]) is str
    assert data["diff"] == [
        {"path": "name", "before": "Old", "after": "New", "reasons": ["manifest", "drift"]}
    ]


def test_a_member_a_kind_does_not_hold_is_ignored_on_reading() -> None:
    data: dict[str, Any] = {**every_kind()[-1].to_data(), "after": {"name": "x"}, "file": "a.yaml"}
    assert Change.from_data(data) == every_kind()[-1]


def test_a_member_a_kind_needs_that_is_missing_cannot_be_read() -> None:
    data = every_kind()[-1].to_data()
    del data["before"]
    with pytest.raises(TypeError, match="before"):
        Change.from_data(data)


def test_an_unknown_reason_or_action_cannot_be_read() -> None:
    data = every_kind()[2].to_data()
    with pytest.raises(ValueError, match="guess"):
        Change.from_data({**data, "reasons": ["guess"]})
    with pytest.raises(KeyError, match="merge"):
        Change.from_data({**data, "action": "merge"})


def test_reasons_keep_the_values_plan_files_use() -> None:
    assert sorted(reason.value for reason in Reason) == [
        "adopt",
        "drift",
        "duplicate",
        "manifest",
        "new",
        "removed from manifests",
        "replaced",
        "rotate-secret",
        "secret not delivered",
        "upstream",
        "url-changed",
    ]
