"""Reviewing a plan through the CLI: `show`, saved plans that refuse contradicting flags,
colour control, and GitHub workflow annotations; on a real embedded registry."""

from __future__ import annotations

import json
import os
import pty
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import reconciler.pipeline.planning
from reconciler.cimd.fetch import CimdFetcher, CimdPolicy
from reconciler.cli import cli
from reconciler.core.plan import Plan
from reconciler.core.render import color_wanted
from reconciler.tenant.engine import Tenant
from tests.helpers import copy_examples, seed

ANSI = "\x1b["
WORKTREE = Path(__file__).parent.parent


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False, env=env)


def offline_fetcher(policy: CimdPolicy) -> CimdFetcher:
    """No network here: every name fails to resolve (CIMD apps use their locked copy)."""

    def resolve(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    return CimdFetcher(policy, resolver=resolve)


def client_ids(db: Path) -> list[str]:
    with Tenant(db) as tenant:
        return sorted(str(c["client_id"]) for c in tenant.all_clients())


@pytest.fixture
def examples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The examples, seeded, with a saved dev plan (creates, an adoption, a risk) in plan.json."""
    monkeypatch.setattr(reconciler.pipeline.planning, "make_fetcher", offline_fetcher)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    root = tmp_path / "repo"
    copy_examples(root)
    monkeypatch.chdir(root)
    assert run("registry", "seed", "registry-seed.json").exit_code == 0
    planned = run("plan", "-o", "plan.json")
    assert planned.exit_code == 0, planned.output
    return root


# show


def test_show_renders_a_saved_plan_in_each_format_without_the_registry(examples: Path) -> None:
    saved = Plan.from_json((examples / "plan.json").read_text())
    (examples / ".reconciler" / "registry.db").unlink()  # show must not need it
    text = run("show", "plan.json")
    assert text.exit_code == 0, text.output
    assert "Plan: 6 to create, 0 to update, 0 to delete, 1 to adopt." in text.stdout
    assert "@ legacy-portal" in text.stdout and ANSI not in text.stdout
    shown = run("show", "plan.json", "--format", "json")
    assert shown.exit_code == 0, shown.output
    reloaded = Plan.from_json(shown.stdout)  # its own checksum holds (pem members dropped)
    assert [(c.ACTION, c.key) for c in reloaded.changes] == [
        (c.ACTION, c.key) for c in saved.changes
    ]
    markdown = run("show", "--format", "markdown", "plan.json")
    assert markdown.exit_code == 0, markdown.output
    assert markdown.stdout.startswith("<!-- reconciler-plan: platform-team/oauth-apps dev -->")
    assert "<details><summary>@ legacy-portal" in markdown.stdout
    assert not (examples / ".reconciler" / "registry.db").exists()


def test_show_refuses_an_edited_plan(examples: Path) -> None:
    path = examples / "plan.json"
    path.write_text(path.read_text().replace("legacy-portal", "legacy-portai"))
    result = run("show", "plan.json")
    assert result.exit_code == 1
    assert "checksum does not match" in result.stderr


# A saved plan and the flags that would change what it means.


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--env", "prod"], "--env prod (the plan is for dev)"),
        (["--var", "DOMAIN=example.com"], "--var (the plan's values are already substituted)"),
        (["--var-file", "prod.yaml"], "--var-file"),
        (["--registry", "sqlite:elsewhere.db"], "--registry sqlite:elsewhere.db"),
        (["--config", "other.yaml"], "--config other.yaml"),
    ],
)
@pytest.mark.parametrize("before_subcommand", [False, True])
def test_a_saved_plan_refuses_each_contradicting_flag(
    examples: Path, flags: list[str], named: str, before_subcommand: bool
) -> None:
    (examples / "prod.yaml").write_text("DOMAIN: example.com\n")
    settings = (examples / "reconciler.yaml").read_text()
    (examples / "other.yaml").write_text(settings.replace("platform-team", "someone-else"))
    before = client_ids(examples / ".reconciler" / "registry.db")
    args = [*flags, "apply", "plan.json"] if before_subcommand else ["apply", "plan.json", *flags]
    result = run(*args)
    assert result.exit_code == 1, result.output
    assert named in result.stderr
    assert "Plan again with these flags instead" in result.stderr
    assert client_ids(examples / ".reconciler" / "registry.db") == before


def test_a_saved_plan_names_every_refused_flag_at_once(examples: Path) -> None:
    (examples / "prod.yaml").write_text("DOMAIN: example.com\n")
    result = run(
        "apply", "plan.json", "--env", "prod", "--var", "DOMAIN=example.com",
        "--var-file", "prod.yaml", "--registry", "auth0://example.eu.auth0.com",
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    for named in ("--env prod", "--var (", "--var-file", "--registry auth0://"):
        assert named in result.stderr


def test_a_saved_plan_takes_flags_that_say_what_it_was_made_with(examples: Path) -> None:
    registry = "sqlite:.reconciler/registry.db"  # as reconciler.yaml writes it
    result = run(
        "apply", "plan.json", "--env", "dev", "--registry", registry, "--config", "reconciler.yaml"
    )
    assert result.exit_code == 0, result.output
    assert "Apply complete: 1 adopted, 6 created." in result.stdout


def test_plans_name_the_registry_as_the_settings_write_it(examples: Path) -> None:
    """No runner path in the text, the saved plan or show; relative to reconciler.yaml."""
    written = "sqlite:.reconciler/registry.db"
    assert json.loads((examples / "plan.json").read_text())["registry"] == written
    for shown in (run("plan"), run("show", "plan.json")):
        header = shown.stdout.splitlines()[0]
        assert header.endswith(f"registry {written}"), header
        assert str(examples) not in shown.stdout


def test_a_saved_plan_applied_from_another_directory_reaches_the_same_registry(
    examples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = examples.parent / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    before = client_ids(examples / ".reconciler" / "registry.db")
    result = run(
        "--config", str(examples / "reconciler.yaml"), "apply", str(examples / "plan.json")
    )
    assert result.exit_code == 0, result.output
    assert len(client_ids(examples / ".reconciler" / "registry.db")) == len(before) + 6
    assert not (elsewhere / ".reconciler").exists()


# Colour.


@pytest.mark.parametrize(
    ("flags", "env", "coloured"),
    [
        (["--color", "always"], {}, True),
        (["--color=always"], {"NO_COLOR": "1"}, True),  # the explicit flag wins
        (["--no-color"], {}, False),
        (["--color", "never"], {}, False),
        ([], {}, False),  # auto, and CliRunner's output is not a terminal
    ],
)
def test_colour_options_after_and_before_the_subcommand(
    examples: Path, flags: list[str], env: dict[str, str], coloured: bool
) -> None:
    for args in (["show", "plan.json", *flags], [*flags, "show", "plan.json"]):
        result = run(*args, env=env)
        assert result.exit_code == 0, result.output
        assert (ANSI in result.stdout) is coloured, args


def test_the_subcommand_colour_option_wins_over_the_global_one(examples: Path) -> None:
    assert ANSI not in run("--color", "always", "show", "plan.json", "--no-color").stdout
    assert ANSI in run("--no-color", "show", "plan.json", "--color", "always").stdout


def test_no_color_contradicting_color_always_is_a_usage_error(examples: Path) -> None:
    result = run("show", "plan.json", "--no-color", "--color", "always")
    assert result.exit_code == 1
    assert "--no-color contradicts --color always" in result.stderr


def test_apply_and_plan_follow_the_colour_options(examples: Path) -> None:
    assert ANSI in run("plan", "--color", "always").stdout
    applied = run("--color", "always", "apply", "plan.json")
    assert applied.exit_code == 0, applied.output
    assert ANSI in applied.stdout


def on_a_terminal(examples: Path, *args: str, no_color: str | None = None) -> str:
    """What `reconciler ARGS` prints with its stdout on a real pseudo-terminal."""
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["PYTHONPATH"] = str(WORKTREE)
    if no_color is not None:
        env["NO_COLOR"] = no_color
    leader, follower = pty.openpty()
    try:
        process = subprocess.run(
            [sys.executable, "-c", "from reconciler.cli import main; main()", *args],
            cwd=examples,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=follower,
            stderr=subprocess.PIPE,
            check=False,
            timeout=60,
        )
        os.close(follower)
        follower = -1
        assert process.returncode == 0, process.stderr
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other end is closed and drained
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks).decode()
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)


@pytest.mark.slow  # starts the CLI four times on a pseudo-terminal (the rule: test_color_wanted)
def test_on_a_terminal_colour_is_on_unless_no_color_is_set(examples: Path) -> None:
    """NO_COLOR as https://no-color.org defines it: any non-empty value turns colour off."""
    assert ANSI in on_a_terminal(examples, "show", "plan.json")
    assert ANSI in on_a_terminal(examples, "show", "plan.json", no_color="")  # empty: unset
    assert ANSI not in on_a_terminal(examples, "show", "plan.json", no_color="1")
    assert ANSI not in on_a_terminal(examples, "--no-color", "show", "plan.json")


def test_color_wanted() -> None:
    assert color_wanted("auto", environ={}, is_terminal=True)
    assert not color_wanted("auto", environ={}, is_terminal=False)
    assert not color_wanted("auto", environ={"NO_COLOR": "yes"}, is_terminal=True)
    assert color_wanted("auto", environ={"NO_COLOR": ""}, is_terminal=True)
    assert color_wanted("always", environ={"NO_COLOR": "1"}, is_terminal=False)
    assert not color_wanted("never", environ={}, is_terminal=True)


# GitHub workflow annotations.


def test_plan_annotates_risks_and_warnings_at_their_manifest_location(examples: Path) -> None:
    result = run("plan", "--format", "github")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert (
        "::warning file=apps/web.yaml,line=19,col=3,title=risk%3A redirect-uri-changed::"
        "legacy-portal: redirect URIs changed"
    ) in lines
    [fetch] = [line for line in lines if "title=cimd-fetch" in line]
    assert fetch.startswith("::warning file=apps/partners.yaml,line=")
    assert lines[-1].startswith("::notice title=reconciler plan::Plan: 6 to create")
    assert "title=cimd-fetch" not in result.stderr  # said once, as an annotation


def test_show_annotates_a_saved_plan(examples: Path) -> None:
    result = run("show", "plan.json", "--format", "github")
    assert result.exit_code == 0, result.output
    assert "::warning file=apps/web.yaml,line=19,col=3," in result.stdout


class Subproject:
    """A repository whose reconciler project lives in ``oauth/`` (a `working-directory:`)."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self.project = repo / "oauth"
        self.db = self.project / "registry.db"
        (self.project / "apps").mkdir(parents=True)
        (self.project / "reconciler.yaml").write_text(
            "owner: platform-team\nmanifests: [apps]\nregistry: sqlite:registry.db\n"
            "safety: {max_delete_fraction: 0.3, max_update_fraction: 0.3, min_owned: 1}\n"
        )

    def declare(self, text: str) -> None:
        (self.project / "apps" / "apps.yaml").write_text("apps:\n" + text)


@pytest.fixture
def subproject(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Subproject:
    here = Subproject(tmp_path / "repo")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(here.repo))
    monkeypatch.chdir(here.project)
    return here


def test_plan_annotates_conflicts_as_errors_relative_to_the_workspace(
    subproject: Subproject,
) -> None:
    with Tenant(subproject.db) as tenant:
        theirs = seed(tenant, name="Billing", owner="billing-team", key="billing")
    subproject.declare(f"  billing: {{client_id: {theirs}, name: Mine, type: spa}}\n")
    result = run("plan", "--format", "github")
    assert result.exit_code == 3, result.output
    [conflict] = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert conflict.startswith("::error file=oauth/apps/apps.yaml,line=2,col=3,title=conflict")
    assert "billing-team" in conflict


def test_plan_annotates_an_unsafe_plan_as_an_error(subproject: Subproject) -> None:
    subproject.declare("".join(f"  app-{n}: {{name: app-{n}, type: spa}}\n" for n in range(4)))
    assert run("apply", "--auto-approve").exit_code == 0
    subproject.declare("  app-0: {name: app-0, type: spa}\n")
    result = run("plan", "--format", "github")
    assert result.exit_code == 3, result.output
    assert (
        "::error title=refused::apply will refuse without --force: "
        "3 of 4 owned apps would be deleted"
    ) in result.stdout


def test_validate_annotations_are_relative_to_the_workspace(subproject: Subproject) -> None:
    subproject.declare("  web: {name: web, type: spa, callbacks: [http://example.com/cb]}\n")
    result = run("validate", "--format", "github")
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("::error file=oauth/apps/apps.yaml,line=2,")


def test_without_github_workspace_annotations_are_relative_to_the_git_top_level(
    subproject: Subproject, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_WORKSPACE")
    subprocess.run(["git", "init", "-q", str(subproject.repo)], check=True)
    subproject.declare("  web: {name: web, type: spa, callbacks: [http://example.com/cb]}\n")
    result = run("validate", "--format", "github")
    assert result.stdout.startswith("::error file=oauth/apps/apps.yaml,line=2,"), result.output


def test_outside_any_repository_annotation_paths_stay_as_they_are(
    subproject: Subproject, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_WORKSPACE")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(subproject.repo.parent))
    subproject.declare("  web: {name: web, type: spa, callbacks: [http://example.com/cb]}\n")
    result = run("validate", "--format", "github")
    assert result.stdout.startswith("::error file=apps/apps.yaml,line=2,"), result.output


def test_json_validate_output_is_unchanged(subproject: Subproject) -> None:
    subproject.declare("  web: {name: web, type: spa}\n")
    result = run("validate", "--format", "json")
    assert json.loads(result.stdout)["valid"] is True
