"""Where new client secrets go: a JSON file readable by its owner only, and nowhere else.

The sink is ``{app key: {client_id, client_secret, registry, created_at, how}}``. Every
secret is merged into it as soon as it arrives: the file is re-read and rewritten under
an exclusive lock (so two runs writing one sink never drop each other's entries), through
a temporary file that is fsync'd and renamed over the sink, then the directory is
fsync'd. Only then is the secret counted as delivered and the app's ``pending`` flag
cleared. A temporary file left by a run that was killed is removed by the next run that
opens the sink; an existing sink that is not such a JSON object is refused and never
rewritten.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.errors import InputError

__all__ = ["SecretsFile"]

#: What killed runs of older versions left behind: ``mkstemp(prefix=".secrets-")``.
_LEGACY_TEMPORARY = re.compile(r"^\.secrets-[A-Za-z0-9_]{8}$")


@dataclass
class SecretsFile:
    """The ``--secrets-out`` sink at ``path`` (created with mode 0600)."""

    path: Path
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.path.is_dir():
            raise InputError(f"--secrets-out {self.path}: is a directory")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._exclusive():
                self._sweep()
                self._read()
                descriptor, probe = self._temporary()
                os.close(descriptor)
                Path(probe).unlink()
        except OSError as exc:
            raise InputError(
                f"--secrets-out {self.path}: cannot write there ({exc.strerror})"
            ) from exc

    def entry(self, key: str) -> Mapping[str, Any] | None:
        """What the sink holds for ``key`` now (re-read: another run may have written it)."""
        with self._lock, self._exclusive():
            found = self._read().get(key)
        return found if isinstance(found, Mapping) else None

    def holds(self, key: str, client_id: str) -> bool:
        """Whether the secret of this very client is already in the sink."""
        found = self.entry(key)
        return bool(found and found.get("client_id") == client_id and found.get("client_secret"))

    def add(
        self, key: str, client_id: str, secret: str, registry: str, how: str = "created"
    ) -> None:
        """Merge one secret into the sink, durably, before returning."""
        with self._lock, self._exclusive():
            entries = self._read()
            entries[key] = {
                "client_id": client_id,
                "client_secret": secret,
                "registry": registry,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "how": how,
            }
            self._write(entries)

    def _read(self) -> dict[str, Any]:
        """The sink's entries; a sink that is not ours to rewrite is refused."""
        try:
            text = self.path.read_text("utf-8")
        except FileNotFoundError:
            return {}
        except UnicodeDecodeError as exc:
            raise self._refused("it is not UTF-8 text") from exc
        if not text.strip():
            return {}
        try:
            entries = json.loads(text)
        except ValueError as exc:
            raise self._refused(f"it is not valid JSON ({exc})") from exc
        if not isinstance(entries, dict) or not all(
            isinstance(value, dict) for value in entries.values()
        ):
            raise self._refused("it is not a JSON object of {app key: {client_id, ...}}")
        return entries

    def _refused(self, why: str) -> InputError:
        return InputError(
            f"--secrets-out {self.path}: refusing to use this file: {why}; it may hold "
            "secrets, so it is never rewritten: move it away or name another file"
        )

    def _write(self, entries: Mapping[str, Any]) -> None:
        descriptor, temporary = self._temporary()
        try:
            os.fchmod(descriptor, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(entries, handle, indent=2, sort_keys=True)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def _temporary(self) -> tuple[int, str]:
        return tempfile.mkstemp(
            prefix=f".{self.path.name}.{os.getpid()}.", suffix=".tmp", dir=self.path.parent
        )

    def _sweep(self) -> None:
        """Remove the temporary files of runs that died before renaming them.

        Called with the lock held, and every write holds it from the temporary file's
        creation to its rename: so any temporary file there now belongs to a dead run.
        """
        prefix = f".{self.path.name}."
        for candidate in self.path.parent.iterdir():
            name = candidate.name
            ours = name.startswith(prefix) and name.endswith(".tmp")
            if ours or _LEGACY_TEMPORARY.match(name):
                candidate.unlink(missing_ok=True)

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """An flock on ``.NAME.lock`` beside the sink, across processes."""
        lock_path = self.path.parent / f".{self.path.name}.lock"
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)
