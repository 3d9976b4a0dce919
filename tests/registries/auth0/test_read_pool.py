"""The read pool (``registries/auth0/pool.py``) and ``ManagementApi.gather`` over it: at most
so many threads, daemons all, answers in order, the first failure raised once the calls
running have ended and the rest cancelled, and nothing run after a shutdown."""

from __future__ import annotations

import threading

import httpx
import pytest

from reconciler.errors import RegistryError
from reconciler.registries.auth0.pool import ReadPool
from reconciler.registries.auth0.registry import ManagementApi, TokenSource

WAIT_SECONDS = 20.0


def test_calls_run_on_at_most_so_many_daemon_threads() -> None:
    pool = ReadPool(3, name="test-read")
    started = threading.Barrier(3, timeout=WAIT_SECONDS)
    seen: list[threading.Thread] = []

    def call() -> int:
        seen.append(threading.current_thread())
        started.wait()  # three at once, or the barrier breaks
        return 1

    futures = [pool.submit(call) for _ in range(9)]
    assert [future.result(WAIT_SECONDS) for future in futures] == [1] * 9
    pool.shutdown()
    assert len(set(seen)) == 3
    assert all(thread.daemon for thread in seen)
    for thread in set(seen):
        thread.join(WAIT_SECONDS)
        assert not thread.is_alive()


def test_a_shutdown_cancels_what_has_not_started_and_refuses_more() -> None:
    pool = ReadPool(1, name="test-read")
    release = threading.Event()
    running = pool.submit(lambda: release.wait(WAIT_SECONDS))
    waiting = [pool.submit(lambda: True) for _ in range(3)]

    pool.shutdown()
    release.set()

    assert running.result(WAIT_SECONDS) is True
    assert all(future.cancelled() for future in waiting)
    with pytest.raises(RuntimeError):
        pool.submit(lambda: True)


def api() -> ManagementApi:
    http = httpx.Client()
    tokens = TokenSource(http, "https://tenant.test", token="ready")
    return ManagementApi(http, "https://tenant.test", tokens)


def test_gather_answers_in_order_and_raises_the_first_failure_after_the_rest() -> None:
    management = api()
    started: list[int] = []
    finished: list[int] = []
    release = threading.Event()

    def slow(number: int) -> int:
        started.append(number)
        release.wait(WAIT_SECONDS)
        finished.append(number)
        return number

    def failing() -> int:
        release.set()
        raise ValueError("page 2 failed")

    try:
        assert management.gather([lambda: 1, lambda: 2, lambda: 3]) == [1, 2, 3]
        with pytest.raises(ValueError, match="page 2 failed"):
            management.gather([lambda: slow(1), failing, lambda: slow(3)])
        # Raised once the calls that were running had ended.
        assert sorted(finished) == sorted(started)
    finally:
        management.close()


def test_a_closed_api_starts_no_pool_again() -> None:
    management = api()
    management.close()

    with pytest.raises(RegistryError, match="closed while it was read"):
        management.gather([lambda: 1, lambda: 2])
