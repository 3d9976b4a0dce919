"""The rotate-secret use case without the command line, against the embedded registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.errors import InputError
from reconciler.pipeline import ApplyRequest, apply_workspace, rotate_secrets
from tests.pipeline.project import SPA, WORKER, Recorder, open_workspace, write_project


def test_a_rotation_shows_confirms_writes_then_reports(root: Path) -> None:
    write_project(root, WORKER, SPA)
    sink = root / "secrets.json"
    apply_workspace(open_workspace(), ApplyRequest(auto_approve=True, secrets_out=sink), Recorder())
    before = json.loads(sink.read_text())["worker"]["client_secret"]
    console = Recorder()

    rotated = rotate_secrets(open_workspace(), ["work*"], sink, console)

    assert rotated.exit_code == 0
    assert [(c.ACTION, c.key) for c in rotated.plan.changes] == [("rotate", "worker")]
    assert console.kinds() == ["plan", "confirm", "progress", "report"]
    assert json.loads(sink.read_text())["worker"]["client_secret"] != before


def test_a_key_no_owned_app_has_is_refused_before_anything_is_shown(root: Path) -> None:
    write_project(root, WORKER)
    console = Recorder()

    with pytest.raises(InputError, match="no app of owner 'team' has the key 'nope'"):
        rotate_secrets(open_workspace(), ["nope"], root / "secrets.json", console)

    assert console.events == []
