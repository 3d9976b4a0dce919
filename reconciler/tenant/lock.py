"""The lock one ``apply`` holds on an embedded registry across its many writes.

An advisory ``flock`` on ``PATH.lock``, so the kernel drops it if the process dies; a
thread lock in front of it makes it re-entrant within one thread and exclusive between
the threads of one process. It is separate from SQLite's own per-transaction lock.
"""

from __future__ import annotations

import fcntl
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from reconciler.errors import RegistryBusyError, RegistryError
from reconciler.files import wait_for_flock

__all__ = ["ApplyLock"]


class ApplyLock:
    """The apply lock on the registry file at ``path``."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._threads = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    @contextmanager
    def held(self, wait_seconds: float) -> Iterator[None]:
        """Hold the lock until the block ends, waiting at most ``wait_seconds`` for it."""
        if not self._threads.acquire(timeout=max(wait_seconds, 0.0)):
            raise self._busy()
        try:
            if self._depth == 0:
                self._fd = self._lock_file(wait_seconds)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._fd is not None:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
                    os.close(self._fd)
                    self._fd = None
        finally:
            self._threads.release()

    def _lock_file(self, wait_seconds: float) -> int:
        lock_path = f"{self._path}.lock"
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise RegistryError(f"cannot open the lock file {lock_path}: {exc.strerror}") from exc
        waited = False

        def announce_wait() -> None:
            nonlocal waited
            waited = True
            print(
                f"waiting for another apply holding {lock_path} "
                f"(up to {wait_seconds:g} s, --lock-timeout)",
                file=sys.stderr,
            )

        try:
            try:
                wait_for_flock(fd, wait_seconds, on_wait=announce_wait)
            except BlockingIOError:
                raise self._busy() from None
            except OSError as exc:
                raise RegistryError(f"cannot lock {lock_path}: {exc.strerror}") from exc
        except BaseException:
            os.close(fd)
            raise
        if waited:
            print(f"took the apply lock on {self._path}; reading it again", file=sys.stderr)
        return fd

    def _busy(self) -> RegistryBusyError:
        return RegistryBusyError(
            f"the registry is locked: another apply is running against {self._path}; "
            "try again when it ends"
        )
