"""One report for a run over every environment (``--all-envs``): a section each.

Each section is what that environment's own run shows (its plan rendered as ever, or the
error that stopped it), in the settings file's order, then one line per environment and
the run's exit code. The JSON is ``{"exit_code": N, "environments": {NAME: {"exit_code":
N, "plan": <the plan's own JSON>} or {"exit_code": N, "error": "..."}}}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from reconciler.core.comment import COMMENT_BUDGET, CommentContext
from reconciler.core.plan import Plan
from reconciler.core.render import (
    plan_summary,
    render_github,
    render_json,
    render_markdown,
    render_text,
)
from reconciler.diagnostics import Diagnostic, github_annotation

__all__ = [
    "EnvironmentSection",
    "distinct_warnings",
    "render_environments_github",
    "render_environments_json",
    "render_environments_markdown",
    "render_environments_text",
]


@dataclass(frozen=True)
class EnvironmentSection:
    """What one environment's run came to."""

    name: str
    exit_code: int
    #: None when the run stopped before it had a plan.
    plan: Plan | None = None
    #: Why the run stopped, as its own run would have said it (no secret is ever in it).
    error: str | None = None
    warnings: tuple[Diagnostic, ...] = ()
    #: The registry as the settings wrote it.
    registry: str = ""
    #: Apply: what it did, rendered; None when nothing was written.
    report: str | None = None
    #: Apply: the CIMD documents it registered, now in the lock file.
    locked_urls: tuple[str, ...] = ()

    def outcome(self) -> str:
        if self.error is not None:
            first = self.error.splitlines()[0] if self.error else "failed"
            return f"error: {first}"
        if self.report is not None:
            return self.report.splitlines()[0]
        return plan_summary(self.plan) if self.plan is not None else ""


def distinct_warnings(sections: Sequence[EnvironmentSection]) -> list[Diagnostic]:
    """Every environment's warnings, each once: most are the manifests', shared by all."""
    seen: dict[str, Diagnostic] = {}
    for section in sections:
        for warning in section.warnings:
            seen.setdefault(str(warning), warning)
    return list(seen.values())


def render_environments_github(
    sections: Sequence[EnvironmentSection], *, root: Path | None = None
) -> str:
    """Workflow commands: each plan's (``render_github``, files relative to ``root``), and
    an error per environment that stopped, titled by its name."""
    lines: list[str] = []
    for section in sections:
        if section.plan is not None:
            lines.append(render_github(section.plan, root=root))
        if section.error is not None:
            title = f"reconciler: environment {section.name}"
            lines.append(github_annotation("error", section.error, title=title) + "\n")
    return "".join(lines)


def render_environments_text(
    sections: Sequence[EnvironmentSection],
    exit_code: int,
    *,
    color: bool = False,
    plans: bool = True,
) -> str:
    """Each environment's plan (``plans``), report or error, then a line per environment."""
    lines: list[str] = []
    for section in sections:
        lines.append(f"=== environment {section.name} ===")
        if plans and section.plan is not None:
            lines.append(render_text(section.plan, color=color).rstrip("\n"))
        if section.report is not None:
            lines.append(section.report)
        if section.error is not None:
            lines.extend(f"error: {line}" for line in section.error.splitlines())
        lines.append("")
    lines.extend(_summary(sections, exit_code))
    return "\n".join(lines) + "\n"


def _summary(sections: Sequence[EnvironmentSection], exit_code: int) -> list[str]:
    width = max((len(section.name) for section in sections), default=0)
    rows = [
        f"  {section.name:<{width}}  exit {section.exit_code}  {section.outcome()}"
        for section in sections
    ]
    count = len(sections)
    return [
        f"{count} environment{'s' if count != 1 else ''}:",
        *rows,
        f"Exit {exit_code}: the worst of them.",
    ]


def render_environments_json(sections: Sequence[EnvironmentSection], exit_code: int) -> str:
    environments: dict[str, object] = {}
    for section in sections:
        entry: dict[str, object] = {"exit_code": section.exit_code}
        if section.plan is not None:
            entry["plan"] = json.loads(render_json(section.plan))
        if section.error is not None:
            entry["error"] = section.error
        environments[section.name] = entry
    data = {"exit_code": exit_code, "environments": environments}
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_environments_markdown(
    sections: Sequence[EnvironmentSection],
    exit_code: int,
    contexts: Mapping[str, CommentContext],
    *,
    budget: int = COMMENT_BUDGET,
    shard: str = "",
) -> str:
    """One pull-request comment: a table of the environments, then each one's own comment
    (its plan as ``render_markdown`` shows it, within an equal share of ``budget``). Its
    marker names the ``shard`` (``2/4``), so each job of a matrix updates its own comment."""
    marker = f"all-envs {shard}" if shard else "all-envs"
    lines = [
        f"<!-- reconciler-plan: {marker} -->",
        f"## reconciler plan: {len(sections)} environments (exit {exit_code})",
        "",
        "| environment | exit | result |",
        "| --- | ---: | --- |",
        *(f"| {_cell(s.name)} | {s.exit_code} | {_cell(s.outcome())} |" for s in sections),
        "",
    ]
    share = max(1000, (budget - len("\n".join(lines).encode("utf-8"))) // max(1, len(sections)))
    for section in sections:
        if section.plan is not None:
            context = replace(contexts.get(section.name, CommentContext()), budget=share)
            lines.append(render_markdown(section.plan, context))
        if section.error is not None:
            lines.extend([f"### {_cell(section.name)}: error", "", "```", section.error, "```", ""])
    return "\n".join(lines).rstrip("\n") + "\n"


def _cell(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("|", "\\|")
        .replace("\n", " ")
    )
