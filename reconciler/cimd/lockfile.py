"""``reconciler.lock``: the digest of every Client ID Metadata Document a plan relied on.

The file is written for review in a diff: JSON with sorted keys, two-space indent, one
entry per URL, the document in full::

    {
      "documents": {
        "https://app.example/oauth/client.json": {
          "document": {...},
          "fetched_at": "2026-05-01T12:00:00Z",
          "sha256": "sha256:..."
        }
      },
      "version": 1
    }

Only documents that were fetched and validated belong here: an error or an invalid
document is never recorded (CIMD §5.2).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.errors import InputError, ReconcilerError
from reconciler.files import replace_atomically

__all__ = ["LOCK_FILE_VERSION", "LockEntry", "LockFile"]

LOCK_FILE_VERSION = 1
_NEW_FILE_MODE = 0o644


@dataclass(frozen=True)
class LockEntry:
    url: str
    sha256: str
    document: dict[str, Any]
    fetched_at: str

    def to_data(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "fetched_at": self.fetched_at, "document": self.document}


@dataclass(frozen=True)
class LockFile:
    path: Path
    entries: dict[str, LockEntry] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> LockFile:
        """The lock file at ``path``; a missing file is an empty lock."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot read the lock file: {exc}") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from exc
        return cls(path, _entries(path, data))

    def get(self, url: str) -> LockEntry | None:
        return self.entries.get(url)

    def with_entries(self, entries: Iterable[LockEntry]) -> LockFile:
        """A copy with ``entries`` added, each replacing any entry for the same URL."""
        return LockFile(self.path, {**self.entries, **{entry.url: entry for entry in entries}})

    def to_text(self) -> str:
        data = {
            "version": LOCK_FILE_VERSION,
            "documents": {url: entry.to_data() for url, entry in self.entries.items()},
        }
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def save(self) -> None:
        """Write the file atomically: readers see the old file or the new one, never half."""
        try:
            mode = self.path.stat().st_mode & 0o777 if self.path.exists() else _NEW_FILE_MODE
            replace_atomically(self.path, self.to_text(), mode=mode)
        except OSError as exc:
            raise ReconcilerError(f"{self.path}: cannot write the lock file: {exc}") from exc


def _entries(path: Path, data: object) -> dict[str, LockEntry]:
    if not isinstance(data, dict) or data.get("version") != LOCK_FILE_VERSION:
        raise InputError(
            f'{path}: not a version {LOCK_FILE_VERSION} lock file (expected {{"version": 1, ...}})'
        )
    documents = data.get("documents", {})
    if not isinstance(documents, dict):
        raise InputError(f'{path}: "documents" must be an object keyed by URL')
    return {url: _entry(path, url, value) for url, value in documents.items()}


def _entry(path: Path, url: str, value: object) -> LockEntry:
    if not isinstance(value, Mapping):
        raise InputError(f"{path}: the entry for {url} must be an object")
    sha256, fetched_at, document = (value.get(k) for k in ("sha256", "fetched_at", "document"))
    if not isinstance(sha256, str) or not sha256.startswith("sha256:"):
        raise InputError(f'{path}: the entry for {url} needs "sha256": "sha256:<hex>"')
    if not isinstance(fetched_at, str):
        raise InputError(f'{path}: the entry for {url} needs "fetched_at" (ISO 8601)')
    if not isinstance(document, dict):
        raise InputError(f'{path}: the entry for {url} needs "document" (an object)')
    return LockEntry(url, sha256, document, fetched_at)
