"""Ctrl-C and SIGTERM during apply's writes: finish the writes in flight, start no new one.

The first signal sets the ``Stop`` the applier checks before each change, and says so at
once; the run then ends with its usual summary and exit 128 + the signal (130 for
Ctrl-C). A second signal ends the process on the spot, as SIGKILL would: each create
carries its ownership stamp in the same request, so the next apply converges from there.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["Stop", "stop_on_signals"]

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stop:
    """Once set, no new change starts; counts the changes in flight, to say how many."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._in_flight = 0
        self.signal: int | None = None

    def is_set(self) -> bool:
        return self._event.is_set()

    def set(self, signum: int | None = None) -> None:
        if self.signal is None:
            self.signal = signum
        self._event.set()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def exit_code(self) -> int:
        """What a shell reports for a process ended by this signal (130 for Ctrl-C)."""
        return 128 + (self.signal or signal.SIGINT)

    def begin(self) -> bool:
        """Count one more change in flight; False, and nothing counted, once set."""
        with self._lock:
            if self._event.is_set():
                return False
            self._in_flight += 1
            return True

    def end(self) -> None:
        with self._lock:
            self._in_flight -= 1


@contextmanager
def stop_on_signals(stop: Stop) -> Iterator[None]:
    """Route SIGINT and SIGTERM to ``stop`` inside the block; the old handlers after it.

    Signals reach only the main thread, so elsewhere (a test runner's worker thread)
    nothing is installed.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            _say(
                f"Interrupted again: stopped at once, {_writes(stop.in_flight)} in flight may or "
                "may not have been made; run apply again, it converges from here"
            )
            _exit_now(128 + signum)
        stop.set(signum)
        by_ctrl_c = signum == signal.SIGINT
        name = "" if by_ctrl_c else f" ({signal.Signals(signum).name})"
        again = "Ctrl-C again" if by_ctrl_c else "a second signal"
        doing = (
            f"finishing the {_writes(stop.in_flight)} in flight, starting no new ones"
            if stop.in_flight
            else "starting no new writes"
        )
        _say(f"Interrupted{name}: {doing} ({again} to stop at once)")

    previous = {signum: signal.signal(signum, handle) for signum in SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _writes(count: int) -> str:
    return f"{count} write" if count == 1 else f"{count} writes"


def _say(line: str) -> None:
    """Straight to the descriptor: the handler may run inside a write to sys.stderr."""
    data = (line + "\n").encode("utf-8")
    try:
        os.write(sys.stderr.fileno(), data)
    except (OSError, ValueError, AttributeError, RuntimeError):
        try:
            sys.stderr.write(line + "\n")
        except (OSError, ValueError, RuntimeError):
            pass


def _exit_now(code: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, RuntimeError):
            pass
    os._exit(code)
