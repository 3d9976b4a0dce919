"""The pull-request comment: it fits GitHub's limit, keeps what a reviewer needs, and says
where it was made (commit, time, registry as written, links to the manifests)."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt
from markdown_it.token import Token

from reconciler.cli import cli
from reconciler.core.changes import Change, Create, FieldChange, Update
from reconciler.core.comment import COMMENT_BUDGET, CommentContext
from reconciler.core.plan import Conflict, Notice, Plan, Safety
from reconciler.core.render import render_markdown
from reconciler.core.risks import RISK_DESCRIPTIONS
from reconciler.diagnostics import Diagnostic, Location, Severity
from reconciler.github import gather_comment_context

GITHUB_COMMENT_LIMIT = 65_536
SHA = "0123456789abcdef0123456789abcdef01234567"
FINGERPRINT = "sha256:" + "ef" * 32


def big_create(n: int) -> Create:
    after = {
        "name": f"App {n}",
        "callbacks": [f"https://app-{n}.example/cb", f"https://app-{n}.example/cb2"],
        "grant_types": ["authorization_code", "refresh_token"],
    }
    return Create(
        key=f"app-{n:04}",
        after=after,
        diff=tuple(FieldChange(name, None, value) for name, value in after.items()),
        reasons=("new",),
        risks=("redirect-uri-added",),
        location=f"apps/app-{n:04}.yaml:2:3",
    )


def big_update(n: int) -> Update:
    before = ["https://keep.example/cb", f"https://old-{n}.example/cb"]
    after = ["https://keep.example/cb", f"https://new-{n}.example/cb"]
    return Update(
        key=f"svc-{n:04}",
        client_id=f"id-{n:04}",
        before={"name": "Old", "callbacks": before},
        after={"name": "New", "callbacks": after},
        diff=(
            FieldChange("callbacks", before, after, ("manifest",)),
            FieldChange("name", "Old", "New", ("drift",)),
        ),
        reasons=("manifest", "drift"),
        risks=("redirect-uri-added", "grant-refresh_token") if n % 2 else ("redirect-uri-added",),
        location=f"apps/svc-{n:04}.yaml:7:3",
        fingerprint=FINGERPRINT,
    )


def big_plan(half: int = 1000) -> Plan:
    changes: list[Change] = [big_create(n) for n in range(half)]
    changes += [big_update(n) for n in range(half)]
    return Plan(
        owner="payments",
        registry="sqlite:/home/runner/work/repo/.reconciler/registry.db",
        environment="prod",
        changes=tuple(changes),
        owned=1200,
        safety=Safety(min_owned=1),
        notices=(Notice("protected", "pay (id-pay) is protected: kept.", "pay"),),
        conflicts=(Conflict("other", "client id-x is managed by owner 'web'", "apps/o.yaml:3:3"),),
    )


def lint_warning(n: int) -> Diagnostic:
    return Diagnostic(
        Location(f"apps/app-{n:04}.yaml", 4, 7),
        "redirect-uri-loopback",
        "redirect URI 'http://localhost/cb' is plain http on loopback",
        Severity.WARNING,
    )


def gfm() -> MarkdownIt:
    """CommonMark with GitHub's tables (the gfm-like preset also wants linkify-it-py)."""
    return MarkdownIt("commonmark").enable(["table", "strikethrough"])


def html_blocks(tokens: list[Token]) -> list[str]:
    return [token.content for token in tokens if token.type == "html_block"]


# The budget.


def test_a_2000_app_plan_fits_and_keeps_the_summary_the_verdict_and_every_risk() -> None:
    plan = big_plan()
    context = CommentContext(
        commit=SHA, made_at="2026-12-01T10:00:00Z", saved_plan="plan.json", registry="sqlite:db"
    )
    text = render_markdown(plan, context)

    assert len(text.encode("utf-8")) <= COMMENT_BUDGET < GITHUB_COMMENT_LIMIT
    assert "| + create | 1000 |" in text and "| ~ update | 1000 |" in text
    assert "**Plan: 1000 to create, 1000 to update, 0 to delete.**" in text
    assert "apply will refuse without --force: 1000 of 1200 owned apps would be updated" in text
    assert "`apply --force` would take the whole plan: 1000 to create, 1000 to update." in text
    assert "client id-x is managed by owner 'web'" in text
    assert "pay (id-pay) is protected: kept." in text
    shown = text.count("<details>")
    assert 0 < shown < len(plan.changes)
    assert (
        f"**{len(plan.changes) - shown} of {len(plan.changes)} changes are not detailed here**"
        in text
    )
    assert "the saved plan `plan.json` (`reconciler show plan.json`)" in text

    tokens = gfm().parse(text)
    tables = [t for t in tokens if t.type == "table_open"]
    assert len(tables) == 2  # the counts and the risks
    blocks = html_blocks(tokens)
    opened = sum(block.count("<details>") for block in blocks)
    closed = sum(block.count("</details>") for block in blocks)
    assert opened == closed == shown

    rendered = gfm().render(text)
    risk_table = rendered[rendered.index("<th>risk</th>") :]
    risk_table = risk_table[: risk_table.index("</table>")]
    rows = re.findall(r"<tr>(.*?)</tr>", risk_table[risk_table.index("<tbody>") :], re.S)
    cells = {
        re.findall(r"<td>(.*?)</td>", row, re.S)[0]: re.findall(r"<td>(.*?)</td>", row, re.S)
        for row in rows
    }
    assert set(cells) == {"redirect-uri-added", "grant-refresh_token"}
    for change in plan.changes:
        for label in change.risks:
            assert change.key in cells[label][1].split(", ")
            assert cells[label][2] == RISK_DESCRIPTIONS[label]


def test_details_follow_plan_order_and_stop_whole_at_the_budget() -> None:
    plan = big_plan(50)
    text = render_markdown(plan, CommentContext(budget=8_000))
    assert len(text.encode("utf-8")) <= 8_000
    summaries = re.findall(r"<summary>\S+ (\S+) —", text)
    assert summaries == [change.key for change in plan.changes[: len(summaries)]]
    assert text.count("<details>") == text.count("</details>") == len(summaries)
    assert "`reconciler plan --format text`" in text


def test_what_always_appears_may_pass_a_budget_too_small_for_it() -> None:
    text = render_markdown(big_plan(), CommentContext(budget=1_000))
    assert "svc-0999" in text and "<details>" not in text
    assert "2000 of 2000 changes are not detailed here" in text


def test_a_plan_that_fits_is_not_cut() -> None:
    plan = Plan(owner="o", registry="sqlite:db", changes=(big_create(1), big_update(2)))
    text = render_markdown(plan)
    assert text.count("<details>") == 2
    assert "not detailed here" not in text


def test_the_budget_counts_bytes_so_wide_characters_still_fit() -> None:
    change = Update(
        key="wide",
        client_id="id-wide",
        before={"name": "é" * 3000},
        after={"name": "漢" * 3000},
        diff=(FieldChange("name", "é" * 3000, "漢" * 3000),),
        reasons=("manifest",),
        fingerprint=FINGERPRINT,
    )
    plan = Plan(owner="o", registry="sqlite:db", changes=(change, big_create(1)))
    text = render_markdown(plan, CommentContext(budget=10_000))
    assert len(text.encode("utf-8")) <= 10_000
    assert "1 of 2 changes are not detailed here" in text


# Warnings, drift, provenance.


def test_warnings_of_the_run_appear_with_their_locations() -> None:
    plan = Plan(owner="o", registry="sqlite:db", changes=(big_create(1),))
    context = CommentContext(warnings=(lint_warning(1),))
    text = render_markdown(plan, context)
    assert "#### Warnings" in text
    assert (
        "- `apps/app-0001.yaml:4:7` warning[redirect-uri-loopback]: "
        "redirect URI 'http://localhost/cb' is plain http on loopback"
    ) in text
    assert text.index("#### Warnings") < text.index("<details>")


def test_too_many_warnings_are_cut_before_any_risk_is() -> None:
    context = CommentContext(warnings=tuple(lint_warning(n) for n in range(5000)))
    text = render_markdown(big_plan(), context)
    assert len(text.encode("utf-8")) <= COMMENT_BUDGET
    listed = text.count("warning[redirect-uri-loopback]")
    assert 0 < listed < 5000
    assert f"… and {5000 - listed} more warnings, left out to fit" in text
    assert "svc-0999" in text.split("#### Warnings")[0]  # the risks came first, complete


def test_each_drifted_field_is_marked_in_the_diff() -> None:
    text = render_markdown(Plan(owner="o", registry="sqlite:db", changes=(big_update(1),)))
    assert '- name: "Old"  (drift)' in text
    assert '+ name: "New"  (drift)' in text
    assert '+ callbacks: "https://new-1.example/cb"\n' in text  # from the manifest: unmarked


def test_the_comment_says_commit_time_and_the_registry_as_written() -> None:
    plan = Plan(owner="o", registry="sqlite:/home/runner/work/r/.reconciler/registry.db")
    context = CommentContext(
        commit=SHA,
        commit_url=f"https://github.com/acme/infra/commit/{SHA}",
        made_at="2026-12-01T10:00:00Z",
        registry="sqlite:.reconciler/registry.db",
    )
    text = render_markdown(plan, context)
    assert (
        "Registry `sqlite:.reconciler/registry.db` · commit "
        f"[`{SHA[:12]}`](https://github.com/acme/infra/commit/{SHA}) · "
        "planned 2026-12-01T10:00:00Z"
    ) in text
    assert "/home/runner" not in text
    assert "commit" not in render_markdown(plan).split("\n")[3]


def test_manifest_locations_become_links() -> None:
    plan = Plan(owner="o", registry="sqlite:db", changes=(big_create(7),))
    url = f"https://github.com/acme/infra/blob/{SHA}/apps/app-0007.yaml#L2"
    text = render_markdown(plan, CommentContext(links={"apps/app-0007.yaml:2:3": url}))
    assert f"Manifest [`apps/app-0007.yaml:2:3`]({url})" in text


# Gathering the context.


def github_environ(workspace: Path) -> dict[str, str]:
    return {
        "GITHUB_SHA": SHA,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/infra",
        "GITHUB_WORKSPACE": str(workspace),
    }


def test_on_github_locations_link_to_the_file_and_line_relative_to_the_workspace(
    tmp_path: Path,
) -> None:
    project = tmp_path / "oauth apps"
    project.mkdir()
    plan = Plan(owner="o", registry="sqlite:db", changes=(big_create(3),))
    outside = Diagnostic(Location(str(tmp_path.parent / "elsewhere.yaml"), 1, 1), "r", "m")
    context = gather_comment_context(
        plan,
        environ=github_environ(tmp_path),
        cwd=project,
        warnings=[outside],
        now=datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
    )
    assert context.commit == SHA
    assert context.made_at == "2026-12-01T10:00:00Z"
    assert context.commit_url == f"https://github.com/acme/infra/commit/{SHA}"
    assert context.links == {
        "apps/app-0003.yaml:2:3": (
            f"https://github.com/acme/infra/blob/{SHA}/oauth%20apps/apps/app-0003.yaml#L2"
        )
    }


def test_reconciler_commit_names_the_pull_request_head_over_the_merge_commit(
    tmp_path: Path,
) -> None:
    head = "0123456789abcdef0123456789abcdef01234567"
    plan = Plan(owner="o", registry="sqlite:db", changes=(big_create(3),))
    environ = {**github_environ(tmp_path), "RECONCILER_COMMIT": head}
    context = gather_comment_context(plan, environ=environ, cwd=tmp_path)
    assert context.commit == head
    assert context.commit_url == f"https://github.com/acme/infra/commit/{head}"
    assert context.links["apps/app-0003.yaml:2:3"].startswith(
        f"https://github.com/acme/infra/blob/{head}/"
    )


def test_without_github_the_commit_comes_from_git_and_nothing_links(tmp_path: Path) -> None:
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "x"], cwd=tmp_path, check=True)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=tmp_path, check=True, capture_output=True, text=True
    ).stdout.strip()
    plan = Plan(owner="o", registry="sqlite:db", changes=(big_create(3),))
    context = gather_comment_context(plan, environ={}, cwd=tmp_path)
    assert context.commit == head
    assert context.links == {} and context.commit_url == ""


def test_in_a_git_repository_links_are_relative_to_its_top_level(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "infra").mkdir()
    environ = github_environ(tmp_path)
    del environ["GITHUB_WORKSPACE"]
    plan = Plan(owner="o", registry="sqlite:db", changes=(big_create(3),))
    context = gather_comment_context(plan, environ=environ, cwd=tmp_path / "infra")
    assert context.links["apps/app-0003.yaml:2:3"].endswith("/infra/apps/app-0003.yaml#L2")


def test_outside_any_repository_there_is_no_commit(tmp_path: Path) -> None:
    plan = Plan(owner="o", registry="sqlite:db")
    assert gather_comment_context(plan, environ={}, cwd=tmp_path).commit == ""


# Through the CLI.


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name, value in github_environ(tmp_path).items():
        monkeypatch.setenv(name, value)
    (tmp_path / "apps").mkdir()
    (tmp_path / "reconciler.yaml").write_text(
        "owner: payments\nmanifests: [apps]\nregistry: sqlite:.reconciler/registry.db\n"
    )
    (tmp_path / "apps" / "web.yaml").write_text(
        "apps:\n  web:\n    name: Web\n    type: spa\n    callbacks: ['http://localhost:3000/cb']\n"
    )
    return tmp_path


def test_plan_markdown_shows_the_runs_warnings_links_and_the_written_registry(
    project: Path,
) -> None:
    result = CliRunner().invoke(
        cli, ["plan", "--format", "markdown", "-o", "plan.json"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "Registry `sqlite:.reconciler/registry.db` · commit" in text
    assert str(project) not in text
    blob = f"https://github.com/acme/infra/blob/{SHA}/apps/web.yaml"
    assert f"[`apps/web.yaml:5:17`]({blob}#L5) warning[redirect-uri-loopback]" in text
    assert f"Manifest [`apps/web.yaml:2:3`]({blob}#L2)" in text


def test_plan_comment_budget_option_cuts_details(project: Path) -> None:
    keys = [f"app-{n}" for n in range(40)]
    lines = ["apps:"] + [f"  {key}: {{name: {key}, type: spa}}" for key in keys]
    (project / "apps" / "web.yaml").write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(
        cli, ["plan", "--format", "markdown", "--comment-budget", "3000"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert len(result.stdout.encode("utf-8")) <= 3000
    assert "changes are not detailed here" in result.stdout
