"""The governor against a simulated token bucket, on a clock that moves only by sleeping."""

from __future__ import annotations

import math

from reconciler.registries.auth0.ratelimit import RateGovernor


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class Bucket:
    """Auth0's limiter: ``burst`` tokens, refilled at ``rate`` per second."""

    def __init__(self, clock: Clock, burst: int, rate: float) -> None:
        self.clock, self.burst, self.rate = clock, burst, rate
        self.tokens, self.at = float(burst), 0.0

    def take(self) -> tuple[int, dict[str, str]]:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            wait = (1 - self.tokens) / self.rate
            return 429, {
                "x-ratelimit-limit": str(self.burst),
                "x-ratelimit-remaining": "0",
                "retry-after": f"{wait:.3f}",
            }
        self.tokens -= 1
        return 200, {
            "x-ratelimit-limit": str(self.burst),
            "x-ratelimit-remaining": str(int(self.tokens)),
        }


def run(requests: int, burst: int, rate: float, max_rps: float | None = None) -> tuple[float, int]:
    clock = Clock()
    bucket = Bucket(clock, burst, rate)
    governor = RateGovernor(clock=clock, sleep=clock.sleep, wall_clock=clock, max_rps=max_rps)
    rejected = 0
    done = 0
    while done < requests:
        governor.acquire()
        clock.sleep(0.002)  # the request's own round trip
        status, headers = bucket.take()
        governor.release(status, headers)
        if status == 429:
            rejected += 1
        else:
            done += 1
    return clock(), rejected


def test_enterprise_preset_runs_near_the_floor_with_few_429s() -> None:
    elapsed, rejected = run(200, burst=50, rate=16)
    floor = (200 - 50) / 16
    assert elapsed <= floor * 1.15
    assert rejected <= 200 * 0.02


def test_free_preset() -> None:
    elapsed, rejected = run(40, burst=2, rate=2)
    assert elapsed <= (40 - 2) / 2 * 1.2
    assert rejected <= 3


def test_max_rps_caps_below_the_server() -> None:
    elapsed, rejected = run(50, burst=100, rate=100, max_rps=10)
    assert elapsed >= 4.8
    assert rejected == 0


class ResetOnlyBucket(Bucket):
    """Auth0's Management API: a 429 says when the bucket refills only as
    ``x-ratelimit-reset``, whole epoch seconds, and no Retry-After."""

    def take(self) -> tuple[int, dict[str, str]]:
        status, headers = super().take()
        if status == 429:
            wait = float(headers.pop("retry-after"))
            headers["x-ratelimit-reset"] = str(math.ceil(self.clock() + wait))
        return status, headers


def run_reset_only(requests: int, burst: int, rate: float) -> tuple[float, int]:
    clock = Clock()
    clock.now = 1_700_000_000.25  # epoch seconds, between two whole ones
    started = clock()
    bucket = ResetOnlyBucket(clock, burst, rate)
    governor = RateGovernor(clock=clock, sleep=clock.sleep, wall_clock=clock)
    rejected = done = 0
    while done < requests:
        governor.acquire()
        clock.sleep(0.002)
        status, headers = bucket.take()
        governor.release(status, headers)
        rejected += status == 429
        done += status != 429
    return clock() - started, rejected


def test_429s_without_retry_after_wait_for_the_reset_and_stay_few() -> None:
    # auth0-fidelity.md section 5: Auth0 sends x-ratelimit-reset and no Retry-After.
    elapsed, rejected = run_reset_only(200, burst=50, rate=16)
    assert elapsed <= (200 - 50) / 16 * 1.3
    assert rejected <= 200 * 0.02
    elapsed, rejected = run_reset_only(40, burst=2, rate=2)
    assert elapsed <= (40 - 2) / 2 * 1.3
    assert rejected <= 3


def test_the_wait_for_a_reset_is_at_least_a_second_and_at_most_a_minute() -> None:
    clock = Clock()
    clock.now = 1_000.0
    governor = RateGovernor(clock=clock, sleep=clock.sleep, wall_clock=clock)

    assert governor.retry_after({"x-ratelimit-reset": "1003"}) == 3.0
    assert governor.retry_after({"x-ratelimit-reset": "1000"}) == 1.0  # a clock running ahead
    assert governor.retry_after({"x-ratelimit-reset": "990"}) == 1.0
    assert governor.retry_after({"x-ratelimit-reset": "5000"}) == 60.0
    assert governor.retry_after({}) == 1.0
    assert governor.retry_after({"retry-after": "2", "x-ratelimit-reset": "1009"}) == 2.0
