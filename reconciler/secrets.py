"""Where new client secrets go: a JSON file readable by its owner only, and nowhere else."""

from __future__ import annotations

import json
import os
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.errors import InputError

__all__ = ["SecretsFile"]


@dataclass
class SecretsFile:
    """Keeps ``{app key: {client_id, client_secret, registry, created_at}}`` in ``path``.

    The file is created with mode 0600 and rewritten atomically after every secret, so a
    run that dies part way keeps every secret it had received.
    """

    path: Path
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._check_writable()
        if self.path.exists():
            try:
                existing = json.loads(self.path.read_text("utf-8"))
            except (OSError, ValueError):
                existing = {}
            if isinstance(existing, dict):
                self.entries.update(existing)

    def add(self, key: str, client_id: str, secret: str, registry: str) -> None:
        with self._lock:
            self.entries[key] = {
                "client_id": client_id,
                "client_secret": secret,
                "registry": registry,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            self._write()

    def _check_writable(self) -> None:
        """Refuse before anything is created: a secret with nowhere to go would be lost."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            descriptor, probe = tempfile.mkstemp(prefix=".secrets-", dir=self.path.parent)
            os.close(descriptor)
            Path(probe).unlink()
        except OSError as exc:
            raise InputError(
                f"--secrets-out {self.path}: cannot write there ({exc.strerror})"
            ) from exc
        if self.path.is_dir():
            raise InputError(f"--secrets-out {self.path}: is a directory")

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=".secrets-", dir=self.path.parent)
        try:
            os.fchmod(descriptor, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(self.entries, handle, indent=2, sort_keys=True)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
