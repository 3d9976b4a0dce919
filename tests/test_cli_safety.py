"""The safety gate through the CLI, on a real embedded registry: nothing refused is written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from reconciler.cli import cli
from reconciler.core.model import digest
from reconciler.tenant.engine import Tenant
from tests.helpers import seed

OWNER = "platform-team"


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.db = root / ".reconciler" / "registry.db"

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    def configure(self, *, min_owned: int) -> None:
        (self.root / "reconciler.yaml").write_text(
            f"owner: {OWNER}\nmanifests: [apps]\nregistry: sqlite:{self.db}\n"
            f"safety: {{max_delete_fraction: 0.3, max_update_fraction: 0.3, "
            f"min_owned: {min_owned}}}\n"
        )

    def declare(self, *keys: str, extra: str = "") -> None:
        lines = ["apps:"] + [f"  {key}: {{name: {key}, type: spa}}" for key in keys]
        (self.root / "apps" / "apps.yaml").write_text("\n".join(lines) + "\n" + extra)

    def clients(self) -> list[dict[str, Any]]:
        with Tenant(self.db) as tenant:
            return sorted(tenant.all_clients(), key=lambda c: str(c["client_id"]))

    def keys(self) -> list[str]:
        return sorted(
            str((c.get("client_metadata") or {}).get("reconciler_key")) for c in self.clients()
        )


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "apps").mkdir()
    (tmp_path / ".reconciler").mkdir()
    here = Project(tmp_path)
    here.configure(min_owned=4)
    return here


def apply_five(project: Project) -> list[str]:
    keys = [f"app-{n}" for n in range(5)]
    project.declare(*keys)
    result = project.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    return keys


# The thresholds and their min_owned exemption.


def test_at_min_owned_a_big_delete_is_refused_by_plan_and_apply_until_forced(
    project: Project,
) -> None:
    keys = apply_five(project)
    project.declare(*keys[:3])  # 2 of 5 owned apps deleted: 40% > 30%
    planned = project.run("plan", "--detailed-exitcode")
    assert planned.exit_code == 3, planned.output
    assert "- app-3" in planned.stdout and "- app-4" in planned.stdout  # the plan, in full
    assert "2 of 5 owned apps would be deleted (more than 30%)" in planned.stderr
    assert "apply --force" in planned.stderr
    before = project.clients()
    refused = project.run("apply", "--auto-approve")
    assert refused.exit_code == 3, refused.output
    assert "2 of 5 owned apps would be deleted" in refused.output
    assert project.clients() == before
    forced = project.run("apply", "--auto-approve", "--force")
    assert forced.exit_code == 0, forced.output
    assert project.keys() == keys[:3]


def test_below_min_owned_a_big_delete_is_planned_and_applied(project: Project) -> None:
    project.configure(min_owned=6)
    keys = apply_five(project)
    project.declare(keys[0])  # 4 of 5 deleted, but only 5 < 6 apps are owned
    planned = project.run("plan", "--detailed-exitcode")
    assert planned.exit_code == 2, planned.output
    assert "Unsafe" not in planned.output
    applied = project.run("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert project.keys() == [keys[0]]


def test_a_saved_plan_past_the_thresholds_is_refused_at_apply_until_forced(
    project: Project,
) -> None:
    keys = apply_five(project)
    project.declare(*keys[:3])
    assert project.run("plan", "-o", "plan.json").exit_code == 3
    before = project.clients()
    refused = project.run("apply", "plan.json")
    assert refused.exit_code == 3, refused.output
    assert project.clients() == before
    forced = project.run("apply", "plan.json", "--force")
    assert forced.exit_code == 0, forced.output
    assert project.keys() == keys[:3]


# Apps another owner manages.


def other_owners_app(project: Project) -> dict[str, Any]:
    with Tenant(project.db) as tenant:
        client_id = seed(tenant, name="Billing", owner="billing-team", key="billing")
    [client] = [c for c in project.clients() if c["client_id"] == client_id]
    adopt = f"  billing: {{client_id: {client_id}, name: Mine, type: spa}}\n"
    project.declare("fresh", extra=adopt)
    return client


def test_apply_refuses_an_app_of_another_owner_and_writes_nothing(project: Project) -> None:
    theirs = other_owners_app(project)
    for force in ((), ("--force",)):
        result = project.run("apply", "--auto-approve", *force)
        assert result.exit_code == 3, result.output
        assert "billing-team" in result.output and OWNER in result.output
        assert project.clients() == [theirs]  # "fresh" not created, theirs untouched


def test_plan_exits_3_for_an_app_of_another_owner(project: Project) -> None:
    other_owners_app(project)
    for flags in ((), ("--detailed-exitcode",), ("--format", "json")):
        result = project.run("plan", *flags)
        assert result.exit_code == 3, result.output
    conflicts = json.loads(project.run("plan", "--format", "json").stdout)["conflicts"]
    assert [c["key"] for c in conflicts] == ["billing"]


def test_a_saved_plan_with_a_conflict_is_refused_at_apply(project: Project) -> None:
    theirs = other_owners_app(project)
    assert project.run("plan", "-o", "plan.json").exit_code == 3
    result = project.run("apply", "plan.json", "--force")
    assert result.exit_code == 3, result.output
    assert project.clients() == [theirs]


# Loading a saved plan.


def saved_plan(project: Project) -> dict[str, Any]:
    project.declare("web", "api")
    assert project.run("plan", "-o", "plan.json").exit_code == 0
    data: dict[str, Any] = json.loads((project.root / "plan.json").read_text())
    return data


def test_a_tampered_plan_file_is_refused_and_nothing_is_written(project: Project) -> None:
    data = saved_plan(project)
    data["changes"][0]["after"]["callbacks"] = ["https://attacker.example/cb"]
    (project.root / "plan.json").write_text(json.dumps(data))
    result = project.run("apply", "plan.json")
    assert result.exit_code == 1
    assert "plan.json: the plan's checksum does not match" in result.output
    assert not project.db.exists() or project.clients() == []


@pytest.mark.parametrize("text", ['{"web": {"client_secret": "x"}}', '{"web": client_secret}'])
def test_a_json_file_that_is_not_a_plan_is_refused(project: Project, text: str) -> None:
    (project.root / "secrets.json").write_text(text)
    result = project.run("apply", "secrets.json")
    assert result.exit_code == 1
    assert "secrets.json" in result.output and ": not a plan file" in result.output
    assert "client_secret" not in result.output


def test_a_plan_of_an_unknown_format_version_is_refused(project: Project) -> None:
    data = saved_plan(project)
    data.pop("checksum")
    data["format_version"] = "2.0"
    data["checksum"] = "sha256:" + digest(data)
    (project.root / "plan.json").write_text(json.dumps(data))
    result = project.run("apply", "plan.json")
    assert result.exit_code == 1
    assert "plan format '2.0' is not supported" in result.output
    assert not project.db.exists() or project.clients() == []
