"""A run's scope: the manifest files and app keys it was shown. Empty means everything.

A partial run still reads every manifest of the project, so it knows what is declared
elsewhere; it plans only the apps the scope covers. An owned app that no manifest
declares any more is deleted by a partial run only when its stamp says it was last
applied from one of the files in scope (and its key matches the targets, if any).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from reconciler.core.stamp import file_hash

__all__ = ["Scope"]

_LISTED_FILES = 5


@dataclass(frozen=True)
class Scope:
    #: Manifest files in scope, relative to the project root (posix); empty: every file.
    files: tuple[str, ...] = ()
    #: How many manifest files the project has (what ``files`` is a part of).
    project_files: int = 0
    #: ``--target`` patterns (``*`` and ``?`` globs) for app keys; empty: every key.
    targets: tuple[str, ...] = ()

    @property
    def is_partial(self) -> bool:
        return bool(self.files or self.targets)

    def covers(self, key: str, file: str) -> bool:
        """Whether an app declared under ``key`` in ``file`` is planned."""
        return (not self.files or file in self.files) and self.targets_key(key)

    def targets_key(self, key: str) -> bool:
        return not self.targets or any(fnmatchcase(key, target) for target in self.targets)

    def may_delete(self, key: str, source: str) -> bool:
        """Whether an owned app no manifest declares, last applied from ``source``, goes."""
        if not self.targets_key(key):
            return False
        if not self.files:
            return True
        return bool(source) and source in {file_hash(file) for file in self.files}

    def unmatched(self, keys: Iterable[str]) -> list[str]:
        """The targets that match none of ``keys``."""
        known = set(keys)
        return [t for t in self.targets if not any(fnmatchcase(k, t) for k in known)]

    def describe(self) -> list[str]:
        """The header lines a plan shows for a partial run (none for a full one)."""
        lines = []
        if self.files:
            shown = ", ".join(self.files[:_LISTED_FILES])
            if len(self.files) > _LISTED_FILES:
                shown += f", and {len(self.files) - _LISTED_FILES} more"
            pronoun = "it" if len(self.files) == 1 else "them"
            lines.append(
                f"Partial run: {len(self.files)} of {self.project_files} manifest files "
                f"({shown}); apps outside {pronoun} are not planned."
            )
        if self.targets:
            lines.append(
                f"Targets: {', '.join(self.targets)}; apps whose key does not match "
                "are not planned."
            )
        return lines

    def to_data(self) -> dict[str, Any]:
        return {
            "files": list(self.files),
            "project_files": self.project_files,
            "targets": list(self.targets),
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | None) -> Scope:
        if not data:
            return cls()
        return cls(
            files=tuple(str(f) for f in data.get("files", ())),
            project_files=int(data.get("project_files", 0)),
            targets=tuple(str(t) for t in data.get("targets", ())),
        )
