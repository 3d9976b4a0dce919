"""What an apply did, for people: a line per change as it goes, and the closing summary."""

from __future__ import annotations

from reconciler.apply.applier import ApplyReport, ChangeResult
from reconciler.core.changes import Change

__all__ = ["progress_line", "render_report"]


def progress_line(index: int, total: int, result: ChangeResult) -> str:
    """``[3/10] + web (client id): created``, one line as each change finishes."""
    change = result.change
    outcome = change.WORDS.past if result.ok else f"FAILED: {result.error}"
    if result.ok and result.detail:
        outcome += f" ({result.detail})"
    where = f" ({result.client_id})" if result.client_id else ""
    return f"[{index}/{total}] {change.SYMBOL} {change.key}{where}: {outcome}"


def render_report(report: ApplyReport) -> str:
    """What an apply did, failed to do, and where the new secrets went."""
    done = [r for r in report.results if r.ok]
    counts: dict[type[Change], int] = {}
    for result in done:
        counts[type(result.change)] = counts.get(type(result.change), 0) + 1
    parts = ", ".join(kind.WORDS.counted(n) for kind, n in counts.items())
    lines = []
    failed = [r for r in report.results if not r.ok]
    if failed or report.skipped or report.interrupted:
        verdict = "Apply interrupted" if report.interrupted else "Apply failed"
        lines.append(
            f"{verdict}: {parts or 'nothing applied'}; "
            f"{len(failed)} failed, {len(report.skipped)} not attempted."
        )
        lines.extend(f"  {r.change.SYMBOL} {r.change.key}: {r.error}" for r in failed)
        if report.skipped:
            lines.append("  not attempted: " + _some_keys(report.skipped))
        lines.append(_next_step(failed))
    else:
        lines.append(f"Apply complete: {parts or 'no changes'}.")
    if report.secrets_saved:
        ways: dict[str, list[str]] = {}
        for key, how in sorted(report.secrets_saved.items()):
            ways.setdefault(how, []).append(key)
        detail = "; ".join(f"{how}: {', '.join(keys)}" for how, keys in ways.items())
        count = len(report.secrets_saved)
        lines.append(
            f"{count} client secret{'s' if count > 1 else ''} in the --secrets-out file ({detail})."
        )
    if report.secrets_unsaved:
        lines.append(
            "Secrets NOT delivered for: "
            + ", ".join(sorted(report.secrets_unsaved))
            + ". Their stamps say so: the next `apply --secrets-out FILE` delivers them "
            "(read back where the registry allows, else rotated)."
        )
    return "\n".join(lines)


def _next_step(failed: list[ChangeResult]) -> str:
    """Whether running again helps: not while a failure the registry would repeat (a
    refusal, a limit, a conflict) stands."""
    standing = [r.change for r in failed if r.persists]
    if not standing:
        return "Run apply again: it converges from wherever this run stopped."
    return (
        f"Running apply again fails the same way for {_some_keys(standing)} until what refused "
        "it changes (the manifest, the tenant, or the token's scopes: see each error); "
        "the rest converges from wherever this run stopped."
    )


def _some_keys(changes: list[Change], shown: int = 10) -> str:
    """``+ web, + api, ... and 28 more``: enough to see where the run stopped."""
    named = ", ".join(f"{c.SYMBOL} {c.key}" for c in changes[:shown])
    rest = len(changes) - shown
    return named + (f" and {rest} more" if rest > 0 else "")
