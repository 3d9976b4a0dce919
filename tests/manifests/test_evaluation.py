"""Finding manifests in a tree: only YAML files that are manifests count."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.manifests.evaluation import discover, looks_like_manifest, relative_name

APPS = "apps:\n  web:\n    name: Web\n    type: spa\n"


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text",
    [
        APPS,
        "# a comment\napps: {}\n",
        '"apps": {}\n',
        "apps:\r\n  web: {}\r\n",
        "\ufeffapps: {}\n",
        "---\nowner: x\napps:\n",
        '{"apps": {"web": {"name": "Web"}}}\n',
        "# yaml\n{apps: {}}\n",
        "apps:\n  web: [unclosed\n",  # broken, but a manifest: its syntax error is reported
    ],
)
def test_a_top_level_apps_key_is_a_manifest(tmp_path: Path, text: str) -> None:
    assert looks_like_manifest(write(tmp_path, "x.yaml", text))


@pytest.mark.parametrize(
    "text",
    [
        "services:\n  web:\n    image: nginx\n",
        "site_name: Docs\nnav:\n  - apps: apps.md\n",
        "on: push\njobs:\n  apps:\n    runs-on: ubuntu-latest\n",
        "# apps:\nrepos: []\n",
        "applications: {}\n",
        "apps_extra: 1\n",
        "",
    ],
)
def test_other_yaml_is_not_a_manifest(tmp_path: Path, text: str) -> None:
    assert not looks_like_manifest(write(tmp_path, "x.yaml", text))


def test_discovery_skips_yaml_that_is_not_a_manifest(tmp_path: Path) -> None:
    one = write(tmp_path, "apps/one.yaml", APPS)
    broken = write(tmp_path, "apps/broken.yml", "apps:\n  web: [\n")
    write(tmp_path, "docker-compose.yml", "services:\n  db:\n    image: postgres\n")
    write(tmp_path, "mkdocs.yml", "site_name: Docs\n")
    write(tmp_path, "deploy/values.yaml", "replicas: 2\n")
    write(tmp_path, ".github/workflows/ci.yml", APPS)
    write(tmp_path, ".pre-commit-config.yaml", "repos: []\n")
    write(tmp_path, "reconciler.yaml", "owner: x\napps: {}\n")
    assert discover([tmp_path]) == [broken, one]


def test_named_files_and_files_under_manifest_roots_always_count(tmp_path: Path) -> None:
    odd = write(tmp_path, "odd.yaml", "services: {}\n")
    under = write(tmp_path, "apps/empty.yaml", "# nothing yet\n")
    write(tmp_path, "other/values.yaml", "replicas: 2\n")
    assert discover([odd]) == [odd]
    assert discover([tmp_path / "apps"], manifest_roots=[tmp_path / "apps"]) == [under]
    assert discover([tmp_path], manifest_roots=[tmp_path / "apps"]) == [under]


def test_relative_name_is_posix_under_the_root_else_absolute(tmp_path: Path) -> None:
    inside = write(tmp_path, "repo/apps/one.yaml", APPS)
    outside = write(tmp_path, "elsewhere.yaml", APPS)
    assert relative_name(inside, tmp_path / "repo") == "apps/one.yaml"
    assert relative_name(outside, tmp_path / "repo") == outside.resolve().as_posix()
