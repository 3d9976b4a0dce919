"""Partial runs through the CLI: paths and --target never touch what they were not shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reconciler.cli import cli
from reconciler.core.stamp import Stamp, file_hash
from reconciler.tenant.engine import Tenant

MANIFESTS = {
    "apps/one.yaml": ["one-a", "one-b"],
    "apps/two.yaml": ["two-a", "two-b"],
    "apps/three.yaml": ["three-a"],
}


def manifest(keys: list[str], names: dict[str, str] | None = None) -> str:
    names = names or {}
    if not keys:
        return "apps: {}\n"
    body = "".join(
        f"  {key}:\n    name: {names.get(key, key)}\n    type: spa\n"
        f'    callbacks: ["https://{key}.example.com/cb"]\n'
        for key in keys
    )
    return "apps:\n" + body


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    def write(self, relative: str, keys: list[str], names: dict[str, str] | None = None) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(manifest(keys, names))

    def clients(self) -> dict[str, dict[str, object]]:
        """Registry apps by key, read from the database file itself."""
        tenant = Tenant(self.root / ".reconciler" / "registry.db")
        try:
            found = list(tenant.all_clients())
        finally:
            tenant.close()
        return {str(c["client_metadata"]["reconciler_key"]): c for c in found}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """Three manifest files, beside a docker-compose.yml and a mkdocs.yml; all applied."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "reconciler.yaml").write_text("owner: team\n")
    (root / "docker-compose.yml").write_text("services:\n  db:\n    image: postgres:16\n")
    (root / "mkdocs.yml").write_text("site_name: Docs\nnav:\n  - Home: index.md\n")
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "ci.yml").write_text("on: push\njobs: {}\n")
    monkeypatch.chdir(root)
    here = Project(root)
    for relative, keys in MANIFESTS.items():
        here.write(relative, keys)
    applied = here.run("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert set(here.clients()) == {"one-a", "one-b", "two-a", "two-b", "three-a"}
    return here


def edit_two_files(project: Project) -> None:
    """Rename one app and remove another in each of one.yaml and two.yaml."""
    project.write("apps/one.yaml", ["one-a"], {"one-a": "One A v2"})
    project.write("apps/two.yaml", ["two-a"], {"two-a": "Two A v2"})


def actions(result: Result) -> set[tuple[str, str]]:
    return {(c["action"], c["key"]) for c in json.loads(result.stdout)["changes"]}


def test_every_stamp_names_the_file_it_was_applied_from(project: Project) -> None:
    for key, client in project.clients().items():
        stamp = Stamp.read(client["client_metadata"])  # type: ignore[arg-type]
        assert stamp is not None
        [file] = [f for f, keys in MANIFESTS.items() if key in keys]
        assert stamp.source == file_hash(file)


def test_apply_of_one_file_touches_only_that_file(project: Project) -> None:
    edit_two_files(project)
    before = project.clients()
    result = project.run("apply", "apps/one.yaml", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert (
        "Partial run: 1 of 3 manifest files (apps/one.yaml); apps outside it are not planned."
        in result.output
    )
    assert "out-of-scope: two-b" in result.output
    after = project.clients()
    assert after["one-a"]["name"] == "One A v2"
    assert "one-b" not in after, "removed from the file in scope: deleted"
    assert after["two-b"] == before["two-b"], "removed from another file: kept"
    assert after["two-a"] == before["two-a"], "changed in another file: not updated"
    assert after["three-a"] == before["three-a"]

    full = project.run("plan", "--format", "json", "--detailed-exitcode")
    assert full.exit_code == 2
    assert actions(full) == {("update", "two-a"), ("delete", "two-b")}
    assert "scope" not in json.loads(full.stdout)


def test_target_globs_plan_only_matching_keys(project: Project) -> None:
    edit_two_files(project)
    planned = project.run("plan", "--target", "two-*", "--format", "json")
    assert planned.exit_code == 0, planned.output
    assert actions(planned) == {("update", "two-a"), ("delete", "two-b")}
    assert json.loads(planned.stdout)["scope"]["targets"] == ["two-*"]
    text = project.run("plan", "--target", "two-?", "--target", "one-a").output
    assert "Targets: two-?, one-a; apps whose key does not match are not planned." in text
    applied = project.run("apply", "--target", "one-a", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    after = project.clients()
    assert after["one-a"]["name"] == "One A v2"
    assert {"one-b", "two-b"} <= set(after)


def test_a_target_that_matches_nothing_is_an_error(project: Project) -> None:
    result = project.run("plan", "--target", "one-a", "--target", "nope-*")
    assert result.exit_code == 1
    assert "--target matches no app" in result.output
    assert result.output.rstrip().endswith(": nope-*"), "only the unmatched target is named"


def test_wrong_paths_and_directories_are_errors_that_delete_nothing(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project.root / "docs").mkdir()
    (project.root / "docs" / "mkdocs.yml").write_text("site_name: x\n")
    missing = project.run("apply", "apps/missing.yaml", "--auto-approve")
    assert missing.exit_code == 1
    assert "apps/missing.yaml" in missing.output and "file-missing" in missing.output
    empty = project.run("apply", "docs", "--auto-approve")
    assert empty.exit_code == 1
    assert "no manifest files found in docs" in empty.output
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    registry = f"sqlite:{project.root / '.reconciler' / 'registry.db'}"
    for command in ("validate", "plan", "apply", "lock"):
        result = project.run(command, "--registry", registry)
        assert result.exit_code == 1, (command, result.output)
        assert f"no manifest files found in {elsewhere}" in result.output, command
    assert len(project.clients()) == 5


def test_a_file_emptied_to_no_apps_deletes_what_it_declared(project: Project) -> None:
    project.write("apps/one.yaml", [])
    result = project.run("plan", "apps/one.yaml", "--format", "json")
    assert result.exit_code == 0, result.output
    assert actions(result) == {("delete", "one-a"), ("delete", "one-b")}


def test_yaml_that_is_not_a_manifest_is_skipped_but_a_broken_manifest_is_reported(
    project: Project,
) -> None:
    assert project.run("validate").exit_code == 0
    assert project.run("plan", "--detailed-exitcode").exit_code == 0
    (project.root / "apps" / "broken.yaml").write_text("apps:\n  web: [unclosed\n")
    result = project.run("validate")
    assert result.exit_code == 1
    assert "apps/broken.yaml" in result.output and "yaml-syntax" in result.output


def test_a_saved_partial_plan_keeps_its_scope_and_applies_only_it(project: Project) -> None:
    edit_two_files(project)
    saved = project.run("plan", "apps/one.yaml", "-o", "plan.json", "--format", "markdown")
    assert saved.exit_code == 0, saved.output
    assert "> Partial run: 1 of 3 manifest files (apps/one.yaml)" in saved.output
    data = json.loads((project.root / "plan.json").read_text())
    assert data["scope"] == {"files": ["apps/one.yaml"], "project_files": 3, "targets": []}
    assert {c.get("file") for c in data["changes"] if c["action"] != "delete"} == {"apps/one.yaml"}
    refused = project.run("apply", "plan.json", "--target", "one-a")
    assert refused.exit_code == 1 and "saved plan" in refused.output
    applied = project.run("apply", "plan.json")
    assert applied.exit_code == 0, applied.output
    assert "Partial run: 1 of 3 manifest files" in applied.output
    after = project.clients()
    assert after["one-a"]["name"] == "One A v2" and "one-b" not in after
    assert after["two-a"]["name"] == "two-a" and "two-b" in after
