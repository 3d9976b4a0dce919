"""The threads that run a read's requests side by side.

A ``ThreadPoolExecutor`` would do but for the end: the interpreter joins its threads
before it exits, so a Ctrl-C during a read against a slow tenant would wait for every
request in flight to answer or time out. These threads are daemons: once the run has
said "Interrupted." it exits at once, and the requests in flight are dropped with it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

__all__ = ["ReadPool"]

_Answer = TypeVar("_Answer")
_Job = tuple["Future[Any]", Callable[[], Any]]


class ReadPool:
    """Up to ``workers`` daemon threads, started as calls come, running them in turn."""

    def __init__(self, workers: int, *, name: str) -> None:
        self._workers = workers
        self._name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        #: Threads waiting for a job that no submitted job has been counted against yet.
        self._unclaimed = 0
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, call: Callable[[], _Answer]) -> Future[_Answer]:
        future: Future[_Answer] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the read pool is shut down")
            self._jobs.put((future, call))
            if self._unclaimed:
                self._unclaimed -= 1
            elif len(self._threads) < self._workers:
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}_{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
        return future

    def shutdown(self) -> None:
        """Cancel the calls not yet started; each thread ends after the call it runs."""
        with self._lock:
            self._closed = True
            threads = len(self._threads)
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job[0].cancel()
        for _ in range(threads):
            self._jobs.put(None)

    def _work(self) -> None:
        while True:  # the submit that started the thread counted its first job against it
            job = self._jobs.get()
            if job is None:
                return
            future, call = job
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(call())
                except BaseException as exc:  # the caller's to raise
                    future.set_exception(exc)
            with self._lock:
                self._unclaimed += 1
