"""The safety gate of a plan: the saved form's checks, the thresholds, ownership conflicts."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.core import plan as plan_module
from reconciler.core.changes import (
    CHANGE_TYPES,
    Adopt,
    Create,
    Delete,
    Deliver,
    Reason,
    Refresh,
    Rotate,
    Update,
)
from reconciler.core.model import digest
from reconciler.core.plan import Conflict, Notice, NoticeKind, Plan, Safety
from reconciler.errors import InputError, UnsafePlanError

FINGERPRINT = "sha256:" + "cd" * 32
#: A plan saved by reconciler before change kinds were types owning their shapes: every
#: kind, field reasons, keys, CIMD sources, every notice kind, a conflict, a partial scope.
SAVED_BEFORE = Path(__file__).parent.parent / "fixtures" / "plans" / "every-kind-1.1.json"


def deletes(count: int) -> tuple[Delete, ...]:
    return tuple(
        Delete(key=f"gone-{n}", client_id=f"id-gone-{n}", before={}, fingerprint=FINGERPRINT)
        for n in range(count)
    )


def updates(count: int) -> tuple[Update, ...]:
    return tuple(
        Update(
            key=f"moved-{n}",
            client_id=f"id-moved-{n}",
            before={"name": "Old"},
            after={"name": "New"},
            fingerprint=FINGERPRINT,
        )
        for n in range(count)
    )


def owned_plan(owned: int, *changes: Any, min_owned: int = 10) -> Plan:
    return Plan(
        owner="team",
        registry="sqlite:r.db",
        changes=changes,
        owned=owned,
        safety=Safety(max_delete_fraction=0.3, max_update_fraction=0.3, min_owned=min_owned),
    )


def saved(plan: Plan) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(plan.to_json())
    return data


def resealed(data: dict[str, Any]) -> str:
    """The plan file as an editor who knows the checksum rule would write it."""
    body = {k: v for k, v in data.items() if k != "checksum"}
    return json.dumps({**body, "checksum": "sha256:" + digest(body)})


# The saved form.


def test_a_saved_plan_loads_back_unchanged() -> None:
    plan = owned_plan(12, Create(key="web", after={"name": "Web"}), *deletes(1))
    assert Plan.from_json(plan.to_json()).to_data() == plan.to_data()


def test_a_plan_edited_after_it_was_saved_is_refused() -> None:
    data = saved(owned_plan(12, Create(key="web", after={"callbacks": ["https://web.example/cb"]})))
    data["changes"][0]["after"]["callbacks"] = ["https://attacker.example/cb"]
    with pytest.raises(InputError, match="plan.json: the plan's checksum does not match"):
        Plan.from_json(json.dumps(data), "plan.json")


def test_a_plan_whose_safety_settings_were_loosened_is_refused() -> None:
    data = saved(owned_plan(10, *deletes(5)))
    assert data["unsafe"]
    data["safety"]["max_delete_fraction"] = 1.0
    data["unsafe"] = []
    with pytest.raises(InputError, match="checksum does not match"):
        Plan.from_json(json.dumps(data))


def test_a_plan_without_its_checksum_is_refused() -> None:
    data = saved(owned_plan(1))
    del data["checksum"]
    with pytest.raises(InputError, match="checksum does not match"):
        Plan.from_json(json.dumps(data))


def test_text_that_is_not_json_is_not_a_plan_file_and_says_where() -> None:
    with pytest.raises(InputError, match=r"^notes\.json:1:10: not a plan file: "):
        Plan.from_json('{"apps": nope}', "notes.json")


@pytest.mark.parametrize("text", ['["changes"]', '{"apps": {}}', '"a plan"', "null"])
def test_json_that_is_no_plan_is_not_a_plan_file(text: str) -> None:
    with pytest.raises(InputError, match=r"^other\.json: not a plan file$"):
        Plan.from_json(text, "other.json")


@pytest.mark.parametrize("version", ["2.0", "0.9", "", None])
def test_a_plan_of_another_format_version_is_refused_naming_both(version: str | None) -> None:
    data = saved(owned_plan(1))
    if version is None:
        del data["format_version"]
    else:
        data["format_version"] = version
    with pytest.raises(InputError, match=r"plan\.json: plan format .* is not supported \(need 1"):
        Plan.from_json(resealed(data), "plan.json")


def test_a_later_minor_format_version_still_loads() -> None:
    data = saved(owned_plan(1))
    data["format_version"] = "1.7"
    assert Plan.from_json(resealed(data)).owner == "team"


def test_a_sealed_plan_with_broken_fields_is_an_input_error() -> None:
    data = saved(owned_plan(1))
    del data["owner"]
    with pytest.raises(InputError, match="not a valid plan file"):
        Plan.from_json(resealed(data))


# A plan saved by an earlier reconciler.


def test_a_plan_saved_before_kinds_were_types_loads_with_its_checksum() -> None:
    plan = Plan.from_json(SAVED_BEFORE.read_text(encoding="utf-8"), "plan.json")
    assert [(type(c), c.key) for c in plan.changes] == [
        (Rotate, "batch"),
        (Deliver, "worker"),
        (Adopt, "legacy"),
        (Create, "ledger"),
        (Create, "tool"),
        (Update, "api"),
        (Refresh, "partner"),
        (Delete, "api"),
        (Delete, "gone"),
        (Delete, "old-tool"),
    ]
    update = next(c for c in plan.changes if isinstance(c, Update))
    assert update.reasons == (Reason.MANIFEST, Reason.DRIFT)
    assert [d.reasons for d in update.diff][1] == (Reason.MANIFEST, Reason.DRIFT)
    assert {n.kind for n in plan.notices} == set(NoticeKind) - {
        NoticeKind.FIRST_RUN,
        NoticeKind.UNHELD,
    }
    ledger = next(c for c in plan.changes if isinstance(c, Create) and c.key == "ledger")
    assert "BEGIN PUBLIC KEY" in ledger.keys[0]["pem"]
    refresh = next(c for c in plan.changes if isinstance(c, Refresh))
    assert refresh.source["origin"] == "fetched" and refresh.cimd == refresh.client_id


def test_a_plan_saved_before_kinds_were_types_saves_again_byte_for_byte(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Byte for byte but for the summary's count of the kind added since (tenant-grants),
    and so the checksum."""
    text = SAVED_BEFORE.read_text(encoding="utf-8")
    monkeypatch.setattr(plan_module, "__version__", json.loads(text)["reconciler_version"])
    saved, again = json.loads(text), json.loads(Plan.from_json(text).to_json())
    assert again["summary"] == {**saved["summary"], "tenant-grants": 0}
    for member in ("summary", "checksum"):
        del saved[member], again[member]
    assert again == saved


def test_a_plan_saved_before_kinds_were_types_is_still_refused_once_edited() -> None:
    data = json.loads(SAVED_BEFORE.read_text(encoding="utf-8"))
    delete = next(c for c in data["changes"] if c["action"] == "delete")
    delete["client_id"] = "id-someone-else"
    with pytest.raises(InputError, match="checksum does not match"):
        Plan.from_json(json.dumps(data))


def test_the_checksum_covers_every_other_member_in_canonical_json() -> None:
    data = saved(owned_plan(12, Create(key="web", after={"name": "Web"}), *deletes(2)))
    body = {k: v for k, v in data.items() if k != "checksum"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert data["checksum"] == "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


# The summary.


def test_the_summary_counts_every_kind_by_its_action_in_the_kinds_order() -> None:
    plan = owned_plan(12, Create(key="web", after={}), *deletes(2), *updates(1))
    assert plan.counts() == {
        "adopt": 0,
        "create": 1,
        "update": 1,
        "refresh": 0,
        "deliver": 0,
        "rotate": 0,
        "tenant-grants": 0,
        "delete": 2,
    }
    assert list(saved(plan)["summary"]) == list(CHANGE_TYPES)


def test_people_read_the_kinds_always_counted_then_the_others_the_plan_has() -> None:
    rotate = Rotate(key="batch", client_id="id-batch", fingerprint=FINGERPRINT)
    plan = owned_plan(12, rotate, *deletes(1))
    assert [(kind.ACTION, count) for kind, count in plan.tally()] == [
        ("create", 0),
        ("update", 0),
        ("delete", 1),
        ("rotate", 1),
    ]
    assert [kind.ACTION for kind, _ in owned_plan(0).tally()] == ["create", "update", "delete"]


def test_count_tells_one_kind_from_another() -> None:
    plan = owned_plan(12, *deletes(2), *updates(3))
    assert (plan.count(Delete), plan.count(Update), plan.count(Adopt)) == (2, 3, 0)


# Notices.


def test_notice_kinds_keep_the_values_plan_files_use_and_read_back() -> None:
    assert sorted(kind.value for kind in NoticeKind) == [
        "first-run",
        "missing-state",
        "orphan",
        "out-of-scope",
        "protected",
        "rename",
        "unheld",
        "unreachable",
    ]
    notice = Notice(NoticeKind.RENAME, "looks renamed", "web", "apps/web.yaml:1:3")
    loaded = Plan.from_json(Plan(owner="o", registry="r", notices=(notice,)).to_json())
    assert loaded.notices == (notice,) and type(loaded.notices[0].kind) is NoticeKind


def test_a_notice_of_an_unknown_kind_is_not_a_valid_plan_file() -> None:
    data = saved(Plan(owner="o", registry="r", notices=(Notice(NoticeKind.ORPHAN, "x"),)))
    data["notices"][0]["kind"] = "gossip"
    with pytest.raises(InputError, match="not a valid plan file"):
        Plan.from_json(resealed(data))


# The thresholds.


def test_below_min_owned_a_plan_may_delete_most_apps() -> None:
    plan = owned_plan(9, *deletes(9), *updates(0))
    assert plan.unsafe_reasons() == []
    plan.raise_if_unsafe()


def test_below_min_owned_a_plan_may_update_every_app() -> None:
    owned_plan(4, *updates(4), min_owned=5).raise_if_unsafe()


def test_at_min_owned_the_delete_threshold_refuses_unless_forced() -> None:
    plan = owned_plan(10, *deletes(4))
    assert plan.unsafe_reasons() == ["4 of 10 owned apps would be deleted (more than 30%)"]
    with pytest.raises(UnsafePlanError, match="safety thresholds .*4 of 10 owned apps"):
        plan.raise_if_unsafe()
    plan.raise_if_unsafe(force=True)


def test_above_min_owned_the_update_threshold_refuses_unless_forced() -> None:
    plan = owned_plan(20, *updates(7))
    assert plan.unsafe_reasons() == ["7 of 20 owned apps would be updated (more than 30%)"]
    with pytest.raises(UnsafePlanError):
        plan.raise_if_unsafe()
    plan.raise_if_unsafe(force=True)


def test_exactly_the_threshold_is_allowed() -> None:
    owned_plan(10, *deletes(3), *updates(3)).raise_if_unsafe()


def test_thresholds_survive_the_saved_form() -> None:
    loaded = Plan.from_json(owned_plan(10, *deletes(4)).to_json())
    with pytest.raises(UnsafePlanError):
        loaded.raise_if_unsafe()


# Ownership.


def test_a_conflict_is_refused_even_when_forced() -> None:
    conflict = Conflict("web", "app 'web' is owned by other-team", "apps/web.yaml:3:3")
    plan = Plan(owner="team", registry="sqlite:r.db", conflicts=(conflict,))
    for force in (False, True):
        with pytest.raises(UnsafePlanError, match="apps/web.yaml:3:3: app 'web' is owned by"):
            plan.raise_if_unsafe(force=force)
    with pytest.raises(UnsafePlanError):
        Plan.from_json(plan.to_json()).raise_if_unsafe(force=True)
