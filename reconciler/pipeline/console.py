"""What a use case shows and asks while it runs; the command line's terminal is one.

A use case calls these at the moments the output must appear, so the caller keeps the
order people see: warnings as they are found, the plan before the prompt, a line per
change as it finishes, the summary once the registry is released.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from reconciler.apply.applier import ApplyReport, ChangeResult
from reconciler.core.plan import Plan
from reconciler.diagnostics import Diagnostic

__all__ = ["Console"]


class Console(Protocol):
    def warn(self, diagnostics: Sequence[Diagnostic]) -> None:
        """Warnings found so far (none is fine: show nothing)."""

    def show_plan(self, plan: Plan) -> None:
        """The plan about to be applied, before any gate or prompt."""

    def confirm(self) -> None:
        """Return to go on; raise InputError to refuse (nothing is written then)."""

    def progress(self, index: int, total: int, result: ChangeResult) -> None:
        """Change ``index`` of ``total`` finished (or failed)."""

    def show_report(self, report: ApplyReport) -> None:
        """What the run did, after the registry is closed and before the lock file is written."""
