"""Located findings: what validation reports, one line each."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

__all__ = [
    "Diagnostic",
    "Location",
    "Severity",
    "github_annotation",
    "render_diagnostics",
]

_LOCATION = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<column>\d+)$")


@dataclass(frozen=True, order=True, slots=True)
class Location:
    """A place in an input file; line and column count from 1."""

    file: str
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    @classmethod
    def parse(cls, text: str) -> Location | None:
        """``file:line:column`` as ``__str__`` writes it; None for anything else."""
        found = _LOCATION.match(text)
        if found is None:
            return None
        return cls(found["file"], int(found["line"]), int(found["column"]))


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


def render_diagnostics(
    diagnostics: list[Diagnostic],
    fmt: str,
    summary: dict[str, object],
    *,
    root: Path | None = None,
) -> str:
    """Findings as ``text`` (one per line), ``json`` or ``github`` workflow commands (files
    relative to ``root``, the repository)."""
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
            github_annotation(d.severity.value, d.message, d.location, title=d.rule, root=root)
            for d in diagnostics
        ]
        return "\n".join(lines)
    lines = [str(d) for d in diagnostics]
    counted = f"{_count(errors, 'error')}, {_count(warnings, 'warning')}"
    files, apps = summary.get("files", 0), summary.get("apps", 0)
    verdict = "invalid" if errors else "valid"
    lines.append(f"{verdict}: {counted} in {files} files ({apps} apps)")
    return "\n".join(lines)


def github_annotation(
    level: str,
    message: str,
    location: Location | None = None,
    *,
    title: str = "",
    root: Path | None = None,
) -> str:
    """A workflow command (``::warning file=...,line=...,col=...::message``).

    The file is named relative to ``root`` (the repository), as GitHub attaches annotations
    by repository path whatever directory the job step ran in.
    """
    properties = []
    if location is not None:
        properties += [
            f"file={_gh(_repository_path(location.file, root))}",
            f"line={location.line}",
            f"col={location.column}",
        ]
    if title:
        properties.append(f"title={_gh(title)}")
    joined = " " + ",".join(properties) if properties else ""
    return f"::{level}{joined}::{_gh_message(message)}"


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


def _repository_path(file: str, root: Path | None) -> str:
    """``file`` (relative to the working directory) relative to ``root``; as it is if outside."""
    if root is None:
        return file
    try:
        return Path(file).resolve().relative_to(root).as_posix()
    except ValueError:
        return file
