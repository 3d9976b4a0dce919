"""What a pull-request comment tells beyond the plan: commit, time, registry, warnings, links.

``reconciler.github`` gathers it (environment variables, git, the clock) into a
``CommentContext`` so that ``render_markdown`` stays a pure function of its arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reconciler.diagnostics import Diagnostic

if TYPE_CHECKING:
    from reconciler.core.plan import Plan

__all__ = ["COMMENT_BUDGET", "CommentContext", "plan_locations"]

#: Under GitHub's 65,536-character limit on a comment body, with room for what a workflow
#: adds around it.
COMMENT_BUDGET = 60_000


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
