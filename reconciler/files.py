"""Durable local files: atomic replace, fsync'd append, an flock taken with a deadline.

A process may be killed (SIGKILL) at any instant. A file replaced here is either the old
one or the new one, never a mix, and the rename is on disk before the call returns; an
appended line is on disk before the call returns. A replace writes a temporary file
``.NAME.<label><random>.tmp`` beside its target: a writer that excludes the others (by a
lock of its own) sweeps up what killed writers left with ``remove_temporaries``.

Every failure is an ``OSError``: each caller says what it meant for it.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "append_durably",
    "create_temporary",
    "remove_temporaries",
    "replace_atomically",
    "wait_for_flock",
]

_TEMPORARY_SUFFIX = ".tmp"
_POLL_SECONDS = 0.05


def create_temporary(path: Path, label: str = "") -> tuple[int, Path]:
    """A new, empty temporary file beside ``path`` (mode 0600): its descriptor and path."""
    descriptor, name = tempfile.mkstemp(
        prefix=f".{path.name}.{label}", suffix=_TEMPORARY_SUFFIX, dir=path.parent
    )
    return descriptor, Path(name)


def replace_atomically(path: Path, text: str, *, mode: int = 0o600, label: str = "") -> None:
    """Write ``text`` (UTF-8) to a temporary file beside ``path``, fsync it, give it ``mode``,
    rename it over ``path``, fsync the directory. On failure ``path`` is left as it was and
    the temporary file is removed."""
    descriptor, temporary = create_temporary(path, label)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def append_durably(path: Path, line: str, *, mode: int = 0o600) -> None:
    """Append one line (the file gets ``mode`` if this creates it); fsync it before returning."""
    descriptor = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, mode)
    try:
        size = os.fstat(descriptor).st_size
        # A line torn by a kill mid-write must not swallow the line appended after it.
        torn = size > 0 and os.pread(descriptor, 1, size - 1) != b"\n"
        text = ("\n" if torn else "") + line.rstrip("\n") + "\n"
        os.write(descriptor, text.encode("utf-8"))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory``, or a file created there, durable."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def remove_temporaries(path: Path) -> None:
    """Remove the temporary files that replaces of ``path`` left behind.

    Call it only while no other writer of ``path`` can be between creating its temporary
    file and renaming it: then every temporary file there belongs to a writer that died.
    """
    prefix = f".{path.name}."
    for candidate in path.parent.iterdir():
        if candidate.name.startswith(prefix) and candidate.name.endswith(_TEMPORARY_SUFFIX):
            candidate.unlink(missing_ok=True)


def wait_for_flock(
    descriptor: int, wait_seconds: float, *, on_wait: Callable[[], None] | None = None
) -> None:
    """Take an exclusive flock on ``descriptor``, waiting at most ``wait_seconds`` for it.

    Raises ``BlockingIOError`` (as a non-blocking flock does at once) if another holder
    still has it then. ``on_wait`` is called once, when the lock is first found held.
    """
    deadline = time.monotonic() + wait_seconds
    waited = False
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise
            if not waited and on_wait is not None:
                on_wait()
            waited = True
            time.sleep(min(_POLL_SECONDS, remaining))
