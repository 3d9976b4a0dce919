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
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.errors import InputError
from reconciler.files import create_temporary, remove_temporaries, replace_atomically

__all__ = ["Delivery", "SecretsFile"]

#: What killed runs of older versions left behind: ``mkstemp(prefix=".secrets-")``.
_LEGACY_TEMPORARY = re.compile(r"^\.secrets-[A-Za-z0-9_]{8}$")


@dataclass(frozen=True)
class Delivery:
    """One secret on its way to the sink."""

    key: str
    client_id: str
    secret: str
    registry: str
    how: str = "created"


@dataclass
class SecretsFile:
    """The ``--secrets-out`` sink at ``path`` (created with mode 0600)."""

    path: Path
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    #: What was last read or written, and the file's identity then: re-read only if it moved.
    _entries: dict[str, Any] = field(default_factory=dict, repr=False)
    _lines: dict[str, str] = field(default_factory=dict, repr=False)
    _seen: tuple[int, int, int] | None = field(default=None, repr=False)
    _shown: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        self._shown = str(self.path)
        self.path = self.path.resolve()  # a link to the real sink: write the real one
        if self.path.is_dir():
            raise InputError(f"--secrets-out {self._shown}: is a directory")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._exclusive():
                self._sweep()
                self._read()
                descriptor, probe = create_temporary(self.path, self._label)
                os.close(descriptor)
                probe.unlink()
        except OSError as exc:
            raise InputError(
                f"--secrets-out {self._shown}: cannot write there ({exc.strerror})"
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
        self.add_many([Delivery(key, client_id, secret, registry, how)])

    def add_many(self, deliveries: Sequence[Delivery]) -> None:
        """Merge these secrets into the sink in one durable write, before returning."""
        if not deliveries:
            return
        created_at = datetime.now(UTC).isoformat(timespec="seconds")
        with self._lock, self._exclusive():
            entries = self._read()
            for delivery in deliveries:
                entries[delivery.key] = {
                    "client_id": delivery.client_id,
                    "client_secret": delivery.secret,
                    "registry": delivery.registry,
                    "created_at": created_at,
                    "how": delivery.how,
                }
                self._lines.pop(delivery.key, None)
            self._write(entries)

    def _read(self) -> dict[str, Any]:
        """The sink's entries; a sink that is not ours to rewrite is refused."""
        try:
            status = self.path.stat()
        except FileNotFoundError:
            self._entries, self._lines, self._seen = {}, {}, None
            return self._entries
        seen = (status.st_ino, status.st_size, status.st_mtime_ns)
        if seen == self._seen:
            return self._entries
        try:
            text = self.path.read_text("utf-8")
        except UnicodeDecodeError as exc:
            raise self._refused("it is not UTF-8 text") from exc
        entries: Any = {}
        if text.strip():
            try:
                entries = json.loads(text)
            except ValueError as exc:
                raise self._refused(f"it is not valid JSON ({exc})") from exc
        if not isinstance(entries, dict) or not all(
            isinstance(value, dict) for value in entries.values()
        ):
            raise self._refused("it is not a JSON object of {app key: {client_id, ...}}")
        self._entries, self._lines, self._seen = entries, {}, seen
        return self._entries

    def _refused(self, why: str) -> InputError:
        return InputError(
            f"--secrets-out {self._shown}: refusing to use this file: {why}; it may hold "
            "secrets, so it is never rewritten: move it away or name another file"
        )

    def _write(self, entries: Mapping[str, Any]) -> None:
        """One entry a line (each encoded once, by the C encoder), then fsync and rename."""
        for key in entries.keys() - self._lines.keys():
            self._lines[key] = (
                f"  {json.dumps(key, ensure_ascii=False)}: "
                f"{json.dumps(entries[key], sort_keys=True, ensure_ascii=False)}"
            )
        body = ",\n".join(self._lines[key] for key in sorted(entries))
        text = "{\n" + body + "\n}\n" if entries else "{}\n"
        try:
            replace_atomically(self.path, text, mode=0o600, label=self._label)
        except BaseException:
            self._seen = None
            raise
        status = self.path.stat()
        self._seen = (status.st_ino, status.st_size, status.st_mtime_ns)

    @property
    def _label(self) -> str:
        """Temporary files carry the writer's pid: ``.NAME.PID.XXXXXXXX.tmp``."""
        return f"{os.getpid()}."

    def _sweep(self) -> None:
        """Remove the temporary files of runs that died before renaming them.

        Called with the lock held, and every write holds it from the temporary file's
        creation to its rename: so any temporary file there now belongs to a dead run.
        """
        remove_temporaries(self.path)
        for candidate in self.path.parent.iterdir():
            if _LEGACY_TEMPORARY.match(candidate.name):
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
