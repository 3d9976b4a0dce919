"""Renderers: Plan -> text (a terminal), json (machines), markdown (a pull-request comment).

Pure functions of the plan. Each one first drops anything secret-shaped (a ``client_secret``
member, a ``pem`` member): a plan should never hold a secret, and a renderer should never
be the place where one leaks if it ever does.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from reconciler.core.changes import (
    Change,
    Create,
    Declared,
    Delete,
    FieldChange,
    Reason,
    Registered,
)
from reconciler.core.color import COLOR_CHOICES, color_wanted
from reconciler.core.comment import CommentContext
from reconciler.core.plan import HEADER_NOTICES, Notice, Plan
from reconciler.core.risks import RISK_DESCRIPTIONS
from reconciler.diagnostics import Diagnostic, Location, github_annotation

__all__ = [
    "COLOR_CHOICES",
    "RENDERERS",
    "color_wanted",
    "plan_summary",
    "render_github",
    "render_json",
    "render_markdown",
    "render_text",
]

_HIDDEN_MEMBERS = frozenset({"client_secret", "pem"})

_DRIFT_PHRASE = "drift: edited outside reconciler"

_ANSI_CODES = {"bold": "1", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}
_FIELD_INDENT = " " * 6
_ITEM_INDENT = " " * 8


# Shared: redaction, values, counts.


def _without_hidden(plan: Plan) -> Plan:
    return dataclasses.replace(plan, changes=tuple(_scrub_change(c) for c in plan.changes))


def _scrub_change(change: Change) -> Change:
    """The change with its members that can hold field values scrubbed, whatever its kind."""
    scrubbers: dict[str, Callable[[Any], Any]] = {
        "before": _scrub,
        "after": _scrub,
        "diff": lambda diff: tuple(_scrub_field(f) for f in diff if not _is_hidden_path(f.path)),
        "keys": lambda keys: tuple(_scrub(dict(k)) for k in keys),
    }
    members = {member.name for member in dataclasses.fields(change)}
    return dataclasses.replace(
        change,
        **{
            name: scrub(getattr(change, name))
            for name, scrub in scrubbers.items()
            if name in members
        },
    )


def _scrub_field(field: FieldChange) -> FieldChange:
    return dataclasses.replace(field, before=_scrub(field.before), after=_scrub(field.after))


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if k not in _HIDDEN_MEMBERS}
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


def _is_hidden_path(path: str) -> bool:
    return any(part in _HIDDEN_MEMBERS for part in path.split("."))


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _list_edits(before: Any, after: Any) -> tuple[list[Any], list[Any]] | None:
    """(removed, added) items when a list field changed membership; None otherwise."""
    if not all(v is None or isinstance(v, list) for v in (before, after)):
        return None
    old, new = before or [], after or []
    removed = [item for item in old if item not in new]
    added = [item for item in new if item not in old]
    return (removed, added) if removed or added else None


def _action_phrase(change: Change) -> str:
    phrase = change.WORDS.phrase
    return f"{phrase} ({_DRIFT_PHRASE})" if Reason.DRIFT in change.reasons else phrase


def _client_id(change: Change) -> str | None:
    return change.client_id if isinstance(change, Registered) else None


def _cimd(change: Change) -> str | None:
    return change.cimd if isinstance(change, Declared | Delete) else None


def _environment(plan: Plan) -> str:
    return plan.environment or "default"


def _closing_line(plan: Plan) -> str:
    if plan.is_empty and plan.conflicts:
        return "No changes, but the plan is refused: see the conflicts."
    if plan.is_empty and not plan.matches_registry:
        return (
            "No changes to apply, but the registry does not match the manifests: see the notices."
        )
    if plan.is_empty and plan.scope.is_partial:
        return "No changes within this partial run (apps outside it were not compared)."
    if plan.is_empty:
        return "No changes. The registry matches the manifests."
    counted = ", ".join(f"{count} to {kind.ACTION}" for kind, count in plan.tally())
    return f"Plan: {counted}."


def plan_summary(plan: Plan) -> str:
    """The plan's closing line: its counts, or why there is nothing to apply."""
    return _closing_line(_without_hidden(plan))


def _header_notices(plan: Plan) -> list[Notice]:
    return [notice for notice in plan.notices if notice.kind in HEADER_NOTICES]


def _refusal(plan: Plan) -> str:
    return "apply will refuse without --force: " + "; ".join(plan.unsafe_reasons())


# Text.


class _Palette:
    """ANSI styling, or none at all when the output is not a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def paint(self, text: str, *styles: str) -> str:
        if not self.enabled:
            return text
        codes = ";".join(_ANSI_CODES[style] for style in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"

    def bold(self, text: str) -> str:
        return self.paint(text, "bold")


def render_text(plan: Plan, *, color: bool = False) -> str:
    """The plan as Terraform shows one: each change, its diff, then what to watch, then a count."""
    plan = _without_hidden(plan)
    palette = _Palette(color)
    header = (
        f"Plan for owner {plan.owner}, environment {_environment(plan)}, registry {plan.registry}"
    )
    lines = [palette.bold(header), *plan.scope.describe(), ""]
    for notice in _header_notices(plan):
        lines.extend([palette.paint(f"{notice.kind}: {notice.message}", "yellow", "bold"), ""])
    for change in plan.changes:
        lines.extend(_text_change(change, palette))
        lines.append("")
    notices = [_text_notice(n) for n in plan.notices if n.kind not in HEADER_NOTICES]
    lines.extend(_text_section("Notices:", notices, palette))
    conflicts = [_text_where(c.location or c.key, c.message) for c in plan.conflicts]
    lines.extend(_text_section("Conflicts (refused: apply exits 3):", conflicts, palette))
    if plan.unsafe_reasons():
        lines.extend([palette.paint("Unsafe: " + _refusal(plan), "red"), ""])
    lines.append(palette.bold(_closing_line(plan)))
    return "\n".join(lines) + "\n"


def _text_change(change: Change, palette: _Palette) -> list[str]:
    client_id = _client_id(change)
    client = f" ({client_id})" if client_id else ""
    title = f"  {change.SYMBOL} {change.key}{client}"
    lines = [f"{palette.paint(title, change.COLOUR, 'bold')} {_action_phrase(change)}"]
    if change.reasons:
        lines.append(f"{_FIELD_INDENT}reasons: {', '.join(change.reasons)}")
    if change.location:
        lines.append(f"{_FIELD_INDENT}location: {change.location}")
    cimd = _cimd(change)
    if cimd:
        lines.append(f"{_FIELD_INDENT}cimd: {cimd}")
    lines.extend(f"{_FIELD_INDENT}note: {note}" for note in change.notes)
    for label in change.risks:
        risk = f"{_FIELD_INDENT}! {label}: {RISK_DESCRIPTIONS.get(label, label)}"
        lines.append(palette.paint(risk, "red"))
    lines.extend(_text_fields(change, palette))
    return lines


def _text_fields(change: Change, palette: _Palette) -> Iterator[str]:
    if isinstance(change, Delete):
        name = change.before.get("name")
        if name is not None:
            yield f"{_FIELD_INDENT}name: {_value(name)}"
        return
    if not isinstance(change, Declared):
        return
    for field in change.diff:
        if isinstance(change, Create):
            yield from _text_assignment(field.path, field.after)
        else:
            yield from _text_field_change(field, palette)


def _text_assignment(path: str, value: Any) -> Iterator[str]:
    if not isinstance(value, list) or not value:
        yield f"{_FIELD_INDENT}{path} = {_value(value)}"
        return
    yield f"{_FIELD_INDENT}{path} = ["
    yield from (f"{_ITEM_INDENT}{_value(item)}," for item in value)
    yield f"{_FIELD_INDENT}]"


def _text_field_change(field: FieldChange, palette: _Palette) -> Iterator[str]:
    cause = "  (drift)" if Reason.DRIFT in field.reasons else ""
    edits = _list_edits(field.before, field.after)
    if edits is None:
        yield f"{_FIELD_INDENT}{field.path}: {_value(field.before)} -> {_value(field.after)}{cause}"
        return
    removed, added = edits
    yield f"{_FIELD_INDENT}{field.path}:{cause}"
    yield from (palette.paint(f"{_ITEM_INDENT}- {_value(item)}", "red") for item in removed)
    yield from (palette.paint(f"{_ITEM_INDENT}+ {_value(item)}", "green") for item in added)


def _text_notice(notice: Notice) -> str:
    return _text_where(notice.location, f"{notice.kind}: {notice.message}")


def _text_where(where: str, message: str) -> str:
    return f"  {where}: {message}" if where else f"  {message}"


def _text_section(title: str, entries: Sequence[str], palette: _Palette) -> list[str]:
    return [palette.bold(title), *entries, ""] if entries else []


# JSON.


def render_json(plan: Plan) -> str:
    """``Plan.to_data()`` (see schemas/plan.schema.json), keys sorted so output is byte-stable.

    The checksum is computed over what is printed (hidden members already dropped), so the
    output loads with ``Plan.from_json``; a plan to apply later is saved with ``Plan.to_json``.
    """
    data = _without_hidden(plan).to_data()
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# GitHub workflow annotations.


def render_github(plan: Plan, *, root: Path | None = None) -> str:
    """Workflow commands: a warning per risk, an error per conflict and per refusal.

    Each is placed at the app's manifest location, its file relative to ``root`` (the
    repository); a refusal of the plan as a whole has no location.
    """
    plan = _without_hidden(plan)
    lines = [
        github_annotation(
            "warning",
            f"{change.key}: {RISK_DESCRIPTIONS.get(label, label)}",
            Location.parse(change.location),
            title=f"risk: {label}",
            root=root,
        )
        for change in plan.changes
        for label in change.risks
    ]
    lines.extend(
        github_annotation(
            "error",
            f"{conflict.key}: {conflict.message}",
            Location.parse(conflict.location),
            title="conflict (refused: apply exits 3)",
            root=root,
        )
        for conflict in plan.conflicts
    )
    refusals = [*plan.registration_refusals(), *([_refusal(plan)] if plan.unsafe_reasons() else [])]
    lines.extend(github_annotation("error", reason, title="refused") for reason in refusals)
    lines.append(github_annotation("notice", _closing_line(plan), title="reconciler plan"))
    return "\n".join(lines) + "\n"


# Markdown.


def render_markdown(plan: Plan, context: CommentContext | None = None) -> str:
    """A pull-request comment; its first line is a marker CI uses to update it in place.

    The summary, the safety verdict, conflicts, notices and every risk always appear; the
    warnings and then each change's details follow in plan order while they fit in
    ``context.budget`` UTF-8 bytes, and a closing line says what was left out and where the
    full plan is. Only the parts that always appear can take a comment past the budget.
    """
    plan = _without_hidden(plan)
    context = context or CommentContext()
    head = _markdown_head(plan, context)
    warnings = [_markdown_warning(w, context) for w in context.warnings]
    details = [_markdown_change(change, context) for change in plan.changes]
    reserve = _size(_warnings_left_out(len(warnings))) + _size(
        _details_left_out(len(details), len(details), context)
    )
    room = context.budget - _size(head) - reserve
    lines = list(head)
    if warnings:
        room -= _size(_WARNINGS_HEADING) + _size([""])
        shown_warnings = _fitting([_size([w]) for w in warnings], room)
        room -= _size(warnings[:shown_warnings])
        lines.extend([*_WARNINGS_HEADING, *warnings[:shown_warnings]])
        lines.extend([*_warnings_left_out(len(warnings) - shown_warnings), ""])
    shown_details = _fitting([_size(block) for block in details], room)
    for block in details[:shown_details]:
        lines.extend(block)
    lines.extend(_details_left_out(len(details) - shown_details, len(details), context))
    return "\n".join(lines).rstrip("\n") + "\n"


_WARNINGS_HEADING = ["#### Warnings", ""]


def _markdown_head(plan: Plan, context: CommentContext) -> list[str]:
    marker = f"<!-- reconciler-plan: {_html(plan.owner)} {_html(_environment(plan))} -->"
    heading = f"### reconciler plan: {_html(plan.owner)} / {_html(_environment(plan))}"
    lines = [marker, heading, "", _markdown_provenance(plan, context), ""]
    lines.extend(f"> {_html(line)}\n" for line in plan.scope.describe())
    for notice in _header_notices(plan):
        lines.extend([f"> [!WARNING]\n> {_html(notice.kind)}: {_html(notice.message)}", ""])
    if not plan.is_empty:
        lines.extend(_markdown_counts(plan))
    lines.extend([f"**{_closing_line(plan)}**", ""])
    if plan.unsafe_reasons():
        lines.extend([_markdown_refusal(plan), ""])
    lines.extend(_markdown_risks(plan))
    lines.extend(_markdown_conflicts(plan, context))
    lines.extend(_markdown_notices(plan, context))
    return lines


def _markdown_provenance(plan: Plan, context: CommentContext) -> str:
    parts = [f"Registry {_code(context.registry or plan.registry)}"]
    if context.commit:
        commit = _code(context.commit[:12])
        parts.append(
            f"commit [{commit}]({context.commit_url})" if context.commit_url else f"commit {commit}"
        )
    if context.made_at:
        parts.append(f"planned {context.made_at}")
    return " · ".join(parts)


def _markdown_refusal(plan: Plan) -> str:
    counted = ", ".join(f"{count} to {kind.ACTION}" for kind, count in plan.tally() if count)
    return (
        f"> [!WARNING]\n> {_html(_refusal(plan))}.\n"
        f"> `apply --force` would take the whole plan: {counted}."
    )


def _markdown_counts(plan: Plan) -> list[str]:
    rows = [f"| {kind.SYMBOL} {kind.ACTION} | {count} |" for kind, count in plan.tally()]
    return ["| action | count |", "| --- | ---: |", *rows, ""]


def _markdown_risks(plan: Plan) -> list[str]:
    """One row per risk, naming every app it applies to: all of them, however many."""
    apps: dict[str, list[str]] = {}
    for change in plan.changes:
        for label in change.risks:
            apps.setdefault(label, []).append(change.key)
    rows = [
        f"| {_cell(label)} | {', '.join(_cell(key) for key in keys)} "
        f"| {_cell(RISK_DESCRIPTIONS.get(label, ''))} |"
        for label, keys in apps.items()
    ]
    if not rows:
        return []
    return ["#### Risks", "", "| risk | apps | description |", "| --- | --- | --- |", *rows, ""]


def _markdown_conflicts(plan: Plan, context: CommentContext) -> list[str]:
    if not plan.conflicts:
        return []
    items = [
        f"- **{_html(c.key)}**: {_html(c.message)}"
        + (f" ({_located(c.location, context)})" if c.location else "")
        for c in plan.conflicts
    ]
    return ["#### Conflicts: refused (apply exits 3)", "", *items, ""]


def _markdown_notices(plan: Plan, context: CommentContext) -> list[str]:
    notices = [n for n in plan.notices if n.kind not in HEADER_NOTICES]
    if not notices:
        return []
    items = [
        f"- {_html(n.kind)}: {_html(n.message)}"
        + (f" ({_located(n.location, context)})" if n.location else "")
        for n in notices
    ]
    return ["#### Notices", "", *items, ""]


def _markdown_warning(warning: Diagnostic, context: CommentContext) -> str:
    message = _html(" ".join(warning.message.splitlines()))
    where = _located(str(warning.location), context)
    return f"- {where} {warning.severity.value}[{_html(warning.rule)}]: {message}"


def _warnings_left_out(count: int) -> list[str]:
    if not count:
        return []
    return ["", f"… and {count} more warnings, left out to fit: the job's log lists them all."]


def _details_left_out(count: int, total: int, context: CommentContext) -> list[str]:
    if not count:
        return []
    if context.saved_plan:
        saved = _code(context.saved_plan)
        where = f"the saved plan {saved} ({_code(f'reconciler show {context.saved_plan}')})"
    else:
        where = "`reconciler plan --format text` (or `plan -o plan.json`, then `reconciler show`)"
    return [
        f"**{count} of {total} changes are not detailed here**, to keep this comment under "
        f"{context.budget:,} bytes; the counts, the verdict and every risk above cover them all. "
        f"The full plan: {where}.",
        "",
    ]


def _fitting(sizes: Sequence[int], room: int) -> int:
    """How many leading entries of these sizes fit in ``room`` bytes."""
    shown = 0
    for size in sizes:
        room -= size
        if room < 0:
            break
        shown += 1
    return shown


def _size(lines: Sequence[str]) -> int:
    """UTF-8 bytes of ``lines`` joined by newlines: at least GitHub's count of characters."""
    return sum(len(line.encode("utf-8")) + 1 for line in lines)


def _located(location: str, context: CommentContext) -> str:
    url = context.links.get(location)
    return f"[{_code(location)}]({url})" if url else _code(location)


def _markdown_change(change: Change, context: CommentContext) -> list[str]:
    reasons = f" ({', '.join(change.reasons)})" if change.reasons else ""
    summary = _html(f"{change.SYMBOL} {change.key} — {change.ACTION}{reasons}")
    diff = list(_markdown_diff(change))
    return [
        f"<details><summary>{summary}</summary>",
        "",
        *_markdown_identity(change, context),
        *[line for note in change.notes for line in (f"> {_html(note)}", "")],
        *(_fenced("diff", diff) if diff else []),
        "",
        "</details>",
        "",
    ]


def _markdown_identity(change: Change, context: CommentContext) -> list[str]:
    client_id = _client_id(change)
    parts = [f"Client {_code(client_id)}"] if client_id else []
    if change.location:
        parts.append(f"Manifest {_located(change.location, context)}")
    if not parts:
        return []
    return [" · ".join(parts), ""]


def _markdown_diff(change: Change) -> Iterator[str]:
    if isinstance(change, Delete):
        name = change.before.get("name")
        if name is not None:
            yield f"- name: {_value(name)}"
        return
    if not isinstance(change, Declared):
        return
    for field in change.diff:
        mark = "  (drift)" if Reason.DRIFT in field.reasons else ""
        edits = _list_edits(field.before, field.after)
        if edits is not None:
            removed, added = edits
            yield from (f"- {field.path}: {_value(item)}{mark}" for item in removed)
            yield from (f"+ {field.path}: {_value(item)}{mark}" for item in added)
            continue
        if field.before is not None:
            yield f"- {field.path}: {_value(field.before)}{mark}"
        if field.after is not None:
            yield f"+ {field.path}: {_value(field.after)}{mark}"


def _html(text: str) -> str:
    return html.escape(text, quote=False)


def _cell(text: str) -> str:
    return _html(text).replace("|", "\\|")


def _code(text: str) -> str:
    """An inline code span that survives backticks inside ``text``."""
    ticks = "`" * (_longest_backtick_run(text) + 1)
    padding = " " if "`" in text else ""
    return f"{ticks}{padding}{text}{padding}{ticks}"


def _fenced(language: str, lines: list[str]) -> list[str]:
    fence = "`" * max(3, _longest_backtick_run("\n".join(lines)) + 1)
    return [f"{fence}{language}", *lines, fence]


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall("`+", text)), default=0)


RENDERERS: dict[str, Callable[[Plan], str]] = {
    "text": render_text,
    "json": render_json,
    "markdown": render_markdown,
}
