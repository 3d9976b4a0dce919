"""What a pull-request comment tells beyond the plan: commit, time, registry, warnings, links.

The CLI gathers it (environment variables, git, the clock) into a ``CommentContext`` so that
``render_markdown`` stays a pure function of its arguments.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from reconciler.core.plan import Plan
from reconciler.diagnostics import Diagnostic

__all__ = ["COMMENT_BUDGET", "CommentContext", "gather_comment_context", "plan_locations"]

#: Under GitHub's 65,536-character limit on a comment body, with room for what a workflow
#: adds around it.
COMMENT_BUDGET = 60_000

_LOCATION = re.compile(r"^(?P<file>.+?):(?P<line>\d+)(?::\d+)?$")
_GIT_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class CommentContext:
    """Everything ``render_markdown`` shows that is not in the plan itself."""

    #: The commit the plan was made from: ``RECONCILER_COMMIT`` (on a pull request, its head:
    #: there ``GITHUB_SHA`` is the merge commit GitHub made), else ``GITHUB_SHA``, else
    #: ``git rev-parse HEAD``.
    commit: str = ""
    #: When the plan was made, ISO 8601 in UTC.
    made_at: str = ""
    #: The registry as the user wrote it; empty shows the plan's own.
    registry: str = ""
    #: The run's warnings (lint, CIMD fetches): they would otherwise reach stderr only.
    warnings: tuple[Diagnostic, ...] = ()
    #: A location as rendered (``apps/x.yaml:2:3``) -> its URL at ``commit``.
    links: Mapping[str, str] = field(default_factory=dict)
    #: A link to the commit itself, when the repository is known.
    commit_url: str = ""
    #: UTF-8 bytes the comment may take; details past it are left out.
    budget: int = COMMENT_BUDGET
    #: Where the full plan was saved (``plan -o``), to point readers of a cut comment at it.
    saved_plan: str = ""


def plan_locations(plan: Plan, warnings: Iterable[Diagnostic]) -> list[str]:
    """Every location the comment can show, as rendered."""
    found = [change.location for change in plan.changes]
    found += [conflict.location for conflict in plan.conflicts]
    found += [notice.location for notice in plan.notices]
    found += [str(warning.location) for warning in warnings]
    return sorted({location for location in found if location})


def gather_comment_context(
    plan: Plan,
    *,
    environ: Mapping[str, str],
    cwd: Path,
    warnings: Iterable[Diagnostic] = (),
    registry: str = "",
    budget: int = COMMENT_BUDGET,
    saved_plan: str = "",
    now: datetime | None = None,
) -> CommentContext:
    warnings = tuple(warnings)
    commit = (
        environ.get("RECONCILER_COMMIT")
        or environ.get("GITHUB_SHA")
        or _git(cwd, "rev-parse", "HEAD")
    )
    repository_url = _repository_url(environ)
    links: dict[str, str] = {}
    commit_url = ""
    if repository_url and commit:
        commit_url = f"{repository_url}/commit/{commit}"
        root = _repository_root(environ, cwd)
        if root is not None:
            for location in plan_locations(plan, warnings):
                url = _location_url(location, f"{repository_url}/blob/{commit}", root, cwd)
                if url:
                    links[location] = url
    made_at = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return CommentContext(
        commit=commit,
        made_at=made_at,
        registry=registry,
        warnings=warnings,
        links=links,
        commit_url=commit_url,
        budget=budget,
        saved_plan=saved_plan,
    )


def _repository_url(environ: Mapping[str, str]) -> str:
    server, repository = environ.get("GITHUB_SERVER_URL"), environ.get("GITHUB_REPOSITORY")
    return f"{server.rstrip('/')}/{repository}" if server and repository else ""


def _repository_root(environ: Mapping[str, str], cwd: Path) -> Path | None:
    root = environ.get("GITHUB_WORKSPACE") or _git(cwd, "rev-parse", "--show-toplevel")
    return Path(root).resolve() if root else None


def _location_url(location: str, blob_url: str, root: Path, cwd: Path) -> str:
    match = _LOCATION.match(location)
    if match is None:
        return ""
    try:
        relative = (cwd / match["file"]).resolve().relative_to(root)
    except ValueError:  # outside the repository: nothing to link to
        return ""
    return f"{blob_url}/{quote(relative.as_posix())}#L{match['line']}"


def _git(cwd: Path, *args: str) -> str:
    """One line of git's output, or "" when git is missing or this is not a repository."""
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""
