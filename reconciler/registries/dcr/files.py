"""The DCR backend's local files: in a private directory, every failure a RegistryError.

The writing itself (atomic replace, fsync'd append, the flock wait) is ``reconciler.files``.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from reconciler import files
from reconciler.errors import RegistryBusyError, RegistryError

__all__ = [
    "FileMutex",
    "append_durably",
    "exclusive_flock",
    "replace_atomically",
]


def _make_private_directory(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise RegistryError(f"cannot create {directory}: {exc.strerror}") from exc


def replace_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (mode 0600), atomically and durably."""
    _make_private_directory(path.parent)
    try:
        files.replace_atomically(path, text, mode=0o600)
    except OSError as exc:
        raise RegistryError(f"cannot write {path}: {exc.strerror}") from exc


def append_durably(path: Path, line: str) -> None:
    """Append one line (mode 0600 on creation) and fsync it before returning."""
    _make_private_directory(path.parent)
    try:
        files.append_durably(path, line, mode=0o600)
    except OSError as exc:
        raise RegistryError(f"cannot write {path}: {exc.strerror}") from exc


@contextmanager
def exclusive_flock(
    path: Path, wait_seconds: float, busy: str, *, on_wait: Callable[[], None] | None = None
) -> Iterator[None]:
    """Hold an advisory flock on ``path``; after ``wait_seconds`` raise RegistryBusyError.

    ``on_wait`` is called once, when the lock is first found held by someone else.
    """
    descriptor = _open_lock_file(path)
    try:
        try:
            files.wait_for_flock(descriptor, wait_seconds, on_wait=on_wait)
        except BlockingIOError:
            raise RegistryBusyError(busy) from None
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
    _make_private_directory(path.parent)
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise RegistryError(f"cannot open the lock file {path}: {exc.strerror}") from exc
