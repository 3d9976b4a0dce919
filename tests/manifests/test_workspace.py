"""A run's manifests: the project's, the files the paths name, and the scope between them."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import InputError
from reconciler.manifests.workspace import Options, Workspace

APPS = "apps:\n  {key}:\n    name: App\n    type: spa\n"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    (root / "apps").mkdir(parents=True)
    (root / "reconciler.yaml").write_text("owner: team\n")
    for name in ("one", "two", "three"):
        (root / "apps" / f"{name}.yaml").write_text(APPS.format(key=name))
    (root / "docker-compose.yml").write_text("services: {}\n")
    monkeypatch.chdir(root)
    return root


def test_paths_narrow_the_scope_but_every_manifest_is_read(repo: Path) -> None:
    workspace = Workspace.open(Options(paths=(Path("apps/one.yaml"),), targets=("o*",)))
    assert len(workspace.manifest_paths) == 3
    scope = workspace.scope
    assert (scope.files, scope.project_files, scope.targets) == (("apps/one.yaml",), 3, ("o*",))


def test_paths_that_cover_the_project_are_a_full_run(repo: Path) -> None:
    assert not Workspace.open(Options(paths=(Path("apps"),))).scope.is_partial
    assert not Workspace.open(Options()).scope.is_partial


def test_a_named_file_outside_the_project_joins_the_run(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "extra.yaml"
    outside.write_text(APPS.format(key="extra"))
    workspace = Workspace.open(Options(paths=(outside,), config=repo / "reconciler.yaml"))
    assert len(workspace.manifest_paths) == 4
    assert workspace.scope.files == (outside.resolve().as_posix(),)


def test_validate_checks_the_named_files_only(repo: Path) -> None:
    (repo / "apps" / "two.yaml").write_text("apps:\n  two: {type: nope}\n")
    assert Workspace.open(Options(paths=(Path("apps/one.yaml"),))).validate().ok
    assert not Workspace.open(Options()).validate().ok


def test_no_manifests_is_an_error_naming_where_it_looked(tmp_path: Path, repo: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "mkdocs.yml").write_text("site_name: Docs\n")
    workspace = Workspace.open(Options(paths=(empty,)))
    with pytest.raises(InputError, match=f"no manifest files found in {empty}"):
        workspace.manifests(workspace.environment())
    with pytest.raises(InputError, match=f"no manifest files found in {empty}"):
        workspace.validate()


def test_a_project_without_manifests_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docker-compose.yml").write_text("services: {}\n")
    workspace = Workspace.open(Options())
    with pytest.raises(InputError, match=f"no manifest files found in {tmp_path}"):
        workspace.validate()


def test_an_empty_apps_mapping_is_a_real_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "apps.yaml").write_text("apps: {}\n")
    workspace = Workspace.open(Options())
    result = workspace.manifests(workspace.environment())
    assert (len(result.files), result.apps, result.errors) == (1, {}, [])
