"""Durable local files for the DCR backend: atomic replace, fsync'd appends, flock locks.

A process may be killed (SIGKILL) at any instant. A file replaced here is either the old
one or the new one, never a mix; an appended line is on disk before the call returns.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from reconciler.errors import RegistryBusyError, RegistryError

__all__ = [
    "TEMPORARY_SUFFIX",
    "FileMutex",
    "append_durably",
    "exclusive_flock",
    "make_private_directory",
    "remove_stale_temporaries",
    "replace_atomically",
]

TEMPORARY_SUFFIX = ".tmp"
_POLL_SECONDS = 0.05


def make_private_directory(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise RegistryError(f"cannot create {directory}: {exc.strerror}") from exc


def replace_atomically(path: Path, text: str) -> None:
    """Temporary file (0600) in the same directory, fsync, rename over ``path``, fsync dir."""
    make_private_directory(path.parent)
    try:
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX, dir=path.parent
        )
    except OSError as exc:
        raise RegistryError(f"cannot write {path}: {exc.strerror}") from exc
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        _fsync_directory(path.parent)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise RegistryError(f"cannot write {path}: {exc.strerror}") from exc
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def append_durably(path: Path, line: str) -> None:
    """Append one line (mode 0600 on creation) and fsync it before returning."""
    make_private_directory(path.parent)
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    except OSError as exc:
        raise RegistryError(f"cannot write {path}: {exc.strerror}") from exc
    try:
        size = os.fstat(descriptor).st_size
        # A line torn by a kill mid-write must not swallow the line appended after it.
        torn = size > 0 and os.pread(descriptor, 1, size - 1) != b"\n"
        text = ("\n" if torn else "") + line.rstrip("\n") + "\n"
        os.write(descriptor, text.encode("utf-8"))
        os.fsync(descriptor)
    except OSError as exc:
        raise RegistryError(f"cannot write {path}: {exc.strerror}") from exc
    finally:
        os.close(descriptor)
    _fsync_directory(path.parent)


def remove_stale_temporaries(path: Path) -> None:
    """Temporary files a killed writer left beside ``path`` (call with writers excluded)."""
    for leftover in path.parent.glob(f".{path.name}.*{TEMPORARY_SUFFIX}"):
        leftover.unlink(missing_ok=True)


@contextmanager
def exclusive_flock(
    path: Path, wait_seconds: float, busy: str, *, on_wait: Callable[[], None] | None = None
) -> Iterator[None]:
    """Hold an advisory flock on ``path``; after ``wait_seconds`` raise RegistryBusyError.

    ``on_wait`` is called once, when the lock is first found held by someone else.
    """
    descriptor = _open_lock_file(path)
    deadline = time.monotonic() + wait_seconds
    waited = False
    try:
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise RegistryBusyError(busy) from None
                if not waited and on_wait is not None:
                    on_wait()
                waited = True
                time.sleep(_POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


class FileMutex:
    """Mutual exclusion for short read-modify-write steps, across threads and processes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._threads = threading.Lock()

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._threads:
            descriptor = _open_lock_file(self.path)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
                yield
            finally:
                os.close(descriptor)  # closing the descriptor releases the flock


def _open_lock_file(path: Path) -> int:
    make_private_directory(path.parent)
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise RegistryError(f"cannot open the lock file {path}: {exc.strerror}") from exc


def _fsync_directory(directory: Path) -> None:
    """Makes a rename or a new file's directory entry durable."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    except OSError as exc:
        raise RegistryError(f"cannot sync {directory}: {exc.strerror}") from exc
