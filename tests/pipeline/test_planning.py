"""The plan use case without the command line: what it reads, shows, and the exit it picks."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import UnsafePlanError
from reconciler.pipeline import ApplyRequest, apply_workspace, plan_exit_code, plan_workspace
from tests.pipeline.project import (
    PORTAL,
    SPA,
    WORKER,
    Recorder,
    open_workspace,
    stamps,
    write_apps,
    write_project,
)


def test_a_plan_shows_the_warnings_and_writes_nothing(root: Path) -> None:
    write_project(root, SPA, PORTAL)
    console = Recorder()

    planned = plan_workspace(open_workspace(), console)

    assert [change.ACTION for change in planned.plan.changes] == ["create", "create"]
    assert [warning.rule for warning in planned.warnings] == ["redirect-uri-wildcard"]
    assert console.kinds() == ["warn"]
    assert stamps(root) == {}
    assert plan_exit_code(planned.plan) == 0
    assert plan_exit_code(planned.plan, detailed=True) == 2


def test_a_plan_matching_the_registry_exits_0_even_detailed(root: Path) -> None:
    write_project(root, SPA)
    apply_workspace(open_workspace(), ApplyRequest(auto_approve=True), Recorder())

    planned = plan_workspace(open_workspace(), Recorder())

    assert plan_exit_code(planned.plan, detailed=True) == 0


def test_a_conflict_exits_3(root: Path) -> None:
    write_project(root, "  legacy:\n    name: Legacy\n    type: spa\n    client_id: nope0000\n")

    planned = plan_workspace(open_workspace(), Recorder())

    assert [c.message for c in planned.plan.conflicts] == [
        "client_id 'nope0000' is not in the registry"
    ]
    assert plan_exit_code(planned.plan, detailed=True) == 3


def test_a_plan_past_the_thresholds_is_refused_after_it_is_made(root: Path) -> None:
    write_project(root, SPA, WORKER, safety="{min_owned: 1, max_delete_fraction: 0.3}")
    apply_workspace(open_workspace(), ApplyRequest(auto_approve=True), Recorder())
    write_apps(root, SPA)

    planned = plan_workspace(open_workspace(), Recorder())

    with pytest.raises(UnsafePlanError, match="`apply --force` applies it anyway") as unsafe:
        plan_exit_code(planned.plan)
    assert unsafe.value.exit_code == 3
