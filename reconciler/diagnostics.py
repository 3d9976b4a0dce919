"""Located findings: what validation reports, one line each."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Diagnostic", "Location", "Severity", "render_diagnostics"]


@dataclass(frozen=True, order=True)
class Location:
    """A place in an input file; line and column count from 1."""

    file: str
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    location: Location
    rule: str
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        message = " ".join(self.message.splitlines())
        return f"{self.location}: {self.severity.value}[{self.rule}]: {message}"

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def as_error(self) -> Diagnostic:
        return Diagnostic(self.location, self.rule, self.message, Severity.ERROR)

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.location.file, self.location.line, self.location.column, self.rule)


def render_diagnostics(diagnostics: list[Diagnostic], fmt: str, summary: dict[str, object]) -> str:
    """Findings as ``text`` (one per line), ``json`` or ``github`` workflow commands."""
    errors = sum(1 for d in diagnostics if d.is_error)
    warnings = len(diagnostics) - errors
    if fmt == "json":
        return json.dumps(
            {
                "valid": errors == 0,
                **summary,
                "errors": errors,
                "warnings": warnings,
                "diagnostics": [
                    {
                        "file": d.location.file,
                        "line": d.location.line,
                        "column": d.location.column,
                        "severity": d.severity.value,
                        "rule": d.rule,
                        "message": d.message,
                    }
                    for d in diagnostics
                ],
            },
            indent=2,
        )
    if fmt == "github":
        lines = [
            f"::{d.severity.value} file={_gh(d.location.file)},line={d.location.line},"
            f"col={d.location.column},title={_gh(d.rule)}::{_gh_message(d.message)}"
            for d in diagnostics
        ]
        return "\n".join(lines)
    lines = [str(d) for d in diagnostics]
    counted = f"{_count(errors, 'error')}, {_count(warnings, 'warning')}"
    files, apps = summary.get("files", 0), summary.get("apps", 0)
    verdict = "invalid" if errors else "valid"
    lines.append(f"{verdict}: {counted} in {files} files ({apps} apps)")
    return "\n".join(lines)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _gh(value: str) -> str:
    return (
        value.replace("%", "%25")
        .replace("\r", "%0D")
        .replace("\n", "%0A")
        .replace(",", "%2C")
        .replace(":", "%3A")
    )


def _gh_message(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
