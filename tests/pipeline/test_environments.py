"""Planning every environment: what they find alike is found once, before the planning
processes fork, and each process plans a bounded number of environments at once."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from reconciler.core.environments import EnvironmentSection
from reconciler.manifests import workspace as workspace_module
from reconciler.pipeline import environments
from reconciler.pipeline.environments import EnvironmentsRequest, plan_environments
from tests.pipeline.project import SPA, WORKER, open_workspace, write_apps

NAMES = ("eu", "us", "ap")


@pytest.fixture
def project(root: Path) -> Path:
    declared = "".join(
        f"  {name}:\n    registry: sqlite:{name}.db\n    owner: team-{name}\n" for name in NAMES
    )
    (root / "reconciler.yaml").write_text(
        f"owner: team\nmanifests: [apps]\nenvironments:\n{declared}"
    )
    (root / "apps").mkdir()
    write_apps(root, SPA, WORKER)
    return root


def test_every_environment_is_planned_from_one_parse_made_before_the_fork(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parses = project / "parses.log"
    parse_files = workspace_module.parse_files

    def noted(*args: object, **kwargs: object) -> object:
        with parses.open("a") as log:  # a file: a forked process's calls count too
            log.write(f"{os.getpid()}\n")
        return parse_files(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(workspace_module, "parse_files", noted)
    sections = plan_environments(open_workspace(), EnvironmentsRequest())
    assert [section.name for section in sections] == list(NAMES)
    for section in sections:
        assert section.error is None and section.plan is not None
        assert {change.key for change in section.plan.changes} == {"spa", "worker"}
    assert parses.read_text().splitlines() == [str(os.getpid())]


def test_what_cannot_be_found_fails_in_each_environment_not_before(
    project: Path,
) -> None:
    (project / "apps" / "apps.yaml").unlink()
    sections = plan_environments(open_workspace(), EnvironmentsRequest())
    assert [section.exit_code for section in sections] == [1, 1, 1]
    assert all("no manifest files found" in (section.error or "") for section in sections)


def test_each_planning_process_runs_at_most_six_environments_at_once() -> None:
    names = [f"env{n}" for n in range(24)]
    running = 0
    peak = 0
    guard = threading.Lock()

    def work(name: str) -> EnvironmentSection:
        nonlocal running, peak
        with guard:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with guard:
            running -= 1
            seen = peak
        return EnvironmentSection(name, 0, error=f"{os.getpid()} {seen}")

    sections = environments._run_spread(names, work, parallel=32)
    assert [section.name for section in sections] == names
    peaks = [int((section.error or "").split()[1]) for section in sections]
    assert max(peaks) == 6
