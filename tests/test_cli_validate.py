from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import cli


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_examples_validate(examples: Path) -> None:
    code, output = run("validate", str(examples))
    assert code == 0, output
    assert "valid: 0 errors" in output


def test_examples_validate_every_environment(examples: Path) -> None:
    code, output = run("validate", str(examples), "--all-envs", "--format", "json")
    assert code == 0, output
    assert json.loads(output)["environments"] == ["dev", "prod"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "reconciler.yaml").write_text(
        "owner: team\n"
        "manifests: [apps]\n"
        "environments:\n"
        "  dev: {vars: {DOMAIN: dev.example.com}}\n"
        "  prod: {vars: {}}\n"
        "  stage: {vars: {DOMAIN: stage.example.com}}\n"
    )
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "web.yaml").write_text(
        "apps:\n"
        "  web:\n"
        "    name: Web\n"
        "    type: spa\n"
        '    callbacks: ["https://${DOMAIN}/cb", "https://${REGION}.${DOMAIN}/cb"]\n'
    )
    return tmp_path


def test_all_envs_lists_every_missing_variable(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    monkeypatch.delenv("REGION", raising=False)
    monkeypatch.delenv("DOMAIN", raising=False)
    code, output = run("validate", "--all-envs", "--format", "json")
    assert code == 1
    found = [
        (d["rule"], d["line"], d["column"], d["message"]) for d in json.loads(output)["diagnostics"]
    ]
    messages = sorted(m for _, _, _, m in found)
    assert messages == sorted(
        [
            "variable 'DOMAIN' is not defined in environment 'prod'",
            "variable 'DOMAIN' is not defined in environment 'prod'",
            "variable 'REGION' is not defined in environment 'dev'",
            "variable 'REGION' is not defined in environment 'prod'",
            "variable 'REGION' is not defined in environment 'stage'",
        ]
    )
    assert sorted({(r, ln, c) for r, ln, c, _ in found}) == [
        ("undefined-variable", 5, 26),
        ("undefined-variable", 5, 50),
        ("undefined-variable", 5, 60),
    ]


def test_var_on_command_line_and_process_environment(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    monkeypatch.setenv("REGION", "eu")
    code, output = run("validate", "--env", "prod", "--var", "DOMAIN=example.com")
    assert code == 0, output


def test_global_options_before_or_after_the_subcommand(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    monkeypatch.delenv("REGION", raising=False)
    before = run("--env", "dev", "--var", "REGION=eu", "validate")
    after = run("validate", "--env", "dev", "--var", "REGION=eu")
    assert before == after
    assert before[0] == 0


def test_var_file(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    (project / "vars.yaml").write_text("REGION: eu\nDOMAIN: example.com\n")
    assert run("validate", "--env", "prod", "--var-file", "vars.yaml")[0] == 0


def test_unknown_environment_is_a_clear_error(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    code, output = run("validate", "--env", "qa")
    assert code == 1
    assert "unknown environment 'qa'" in output
    assert "dev, prod, stage" in output


def test_github_format(fixtures: Path, tmp_path: Path) -> None:
    shutil.copy(fixtures / "bad" / "unknown-field.yaml", tmp_path / "web.yaml")
    code, output = run("validate", str(tmp_path / "web.yaml"), "--format", "github")
    assert code == 1
    assert output.startswith(
        f"::error file={tmp_path / 'web.yaml'},line=5,col=5,title=unknown-field::"
    )


def test_bad_config_is_located(tmp_path: Path) -> None:
    (tmp_path / "reconciler.yaml").write_text("owner: team\nsafety:\n  max_delete_fraction: 2\n")
    (tmp_path / "a.yaml").write_text("apps: {}\n")
    code, output = run("validate", str(tmp_path / "a.yaml"))
    assert code == 1
    assert "reconciler.yaml:3:24: error[maximum]" in output


def test_usage_error_exits_1_not_2() -> None:
    assert run("validate", "--no-such-flag")[0] == 1


def test_missing_path_is_reported(tmp_path: Path) -> None:
    code, output = run("validate", str(tmp_path / "nope.yaml"))
    assert code == 1
    assert "file-missing" in output


def test_the_size_limit_comes_from_the_settings(tmp_path: Path) -> None:
    (tmp_path / "reconciler.yaml").write_text("owner: team\nmax_manifest_bytes: 2048\n")
    (tmp_path / "a.yaml").write_text("apps: {}\n# " + "x" * 3000 + "\n")
    code, output = run("validate", str(tmp_path / "a.yaml"))
    assert code == 1
    assert "error[file-too-large]: file is 3012 bytes, over the limit of 2048 bytes" in output


def test_variables_without_settings_say_where_to_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No reconciler.yaml above the working directory: one line saying so, not one per use."""
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "web.yaml").write_text(
        "apps:\n  web:\n    name: Web\n    type: spa\n"
        "    callbacks: ['https://${DOMAIN}/cb', 'https://${DOMAIN}/cb2']\n"
    )
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["validate", "--all-envs"])
    assert result.exit_code == 1
    assert "no reconciler.yaml found" in result.output
    assert "args: [--config, path/to/reconciler.yaml]" in result.output
    assert "is not defined" not in result.output
