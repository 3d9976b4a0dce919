"""Plan: whether the registry matches the manifests, and what refuses its creates."""

from __future__ import annotations

import pytest

from reconciler.core.changes import Create
from reconciler.core.plan import MISMATCH_NOTICES, Notice, Plan


def plan_with(*notices: Notice, creates: int = 0) -> Plan:
    changes = tuple(Create(key=f"app-{n}", after={"name": "A"}) for n in range(creates))
    return Plan(owner="team", registry="sqlite:r.db", changes=changes, notices=notices)


def test_no_change_and_no_notice_matches() -> None:
    assert plan_with().matches_registry
    assert plan_with(Notice("protected", "kept", "old")).matches_registry
    assert plan_with(Notice("rename", "looks renamed", "new")).matches_registry


@pytest.mark.parametrize("kind", sorted(MISMATCH_NOTICES))
def test_a_notice_that_the_registry_differs_is_no_match(kind: str) -> None:
    plan = plan_with(Notice(kind, "the registry differs", "web"))
    assert plan.is_empty and not plan.matches_registry
    assert plan.to_data()["matches_registry"] is False


def test_changes_are_no_match() -> None:
    assert not plan_with(creates=1).matches_registry


def test_a_missing_state_refuses_creates_only() -> None:
    missing = Notice("missing-state", "DCR state x not found")
    assert plan_with(missing, creates=2).registration_refusals() == ["DCR state x not found"]
    assert plan_with(missing).registration_refusals() == []
    accepted = Notice("first-run", "DCR state x not found, first run")
    assert plan_with(accepted, creates=2).registration_refusals() == []


def test_matches_registry_is_in_the_saved_plan_and_survives_loading() -> None:
    plan = plan_with(Notice("unreachable", "web (id): 401", "web"))
    loaded = Plan.from_json(plan.to_json())
    assert loaded.to_data()["matches_registry"] is False
    assert loaded.to_data()["checksum"] == plan.to_data()["checksum"]
