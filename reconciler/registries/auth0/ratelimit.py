"""Client-side pacing for a rate-limited API: stay under the server's token bucket.

The server's ``x-ratelimit-remaining`` after each answered request is the truth about
its bucket. Between two answers ``i < j`` with ``n`` requests served in between, the
bucket refilled by ``remaining_j - remaining_i + n`` tokens, which gives its refill rate.
The governor sends while the bucket (as last seen, less what is in flight, plus what has
refilled since) holds a token, and otherwise waits for the next one. A fixed
``max_rps`` caps it further. A 429 blocks every sender until its Retry-After or, as
Auth0's Management API sends none, until its ``x-ratelimit-reset`` (epoch seconds): at
least one second, since that header counts whole seconds and a clock a little ahead of
Auth0's would read a reset already past (go-auth0 retried too soon so, auth0/go-auth0#501),
and at most a minute.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["RateGovernor"]

_WINDOW_SECONDS = 5.0
#: How far apart two answers may arrive out of the order their requests were served in.
_REORDER_SECONDS = 1.0
_MIN_SPAN_SECONDS = 0.25
_MIN_SLEEP_SECONDS = 0.001
# The estimate is trimmed a little, and more after each 429 (recovering slowly): truncated
# remaining counts make it noisy, and overshooting costs a 429 while undershooting costs
# only a few per cent of time.
_SAFETY_MARGIN = 0.97
_CAUTION_STEP = 0.85
_RECOVERY_STEP = 1.002
_MIN_CAUTION = 0.5
_MIN_RESET_WAIT_SECONDS = 1.0
_MAX_RESET_WAIT_SECONDS = 60.0


@dataclass(frozen=True)
class _Seen:
    at: float
    remaining: int
    served: int


class RateGovernor:
    def __init__(
        self,
        *,
        max_rps: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_rps = max_rps
        self._clock = clock
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self._seen: deque[_Seen] = deque()
        self._served = 0
        self._limit: int | None = None
        self._in_flight = 0
        self._blocked_until = 0.0
        self._next_slot = 0.0
        self._caution = _SAFETY_MARGIN
        self.waited = 0.0

    def acquire(self) -> None:
        """Block until a request may be sent; then count it as in flight."""
        while True:
            with self._lock:
                delay = self._delay(self._clock())
                if delay <= 0:
                    self._in_flight += 1
                    if self.max_rps:
                        self._next_slot = max(self._next_slot, self._clock()) + 1 / self.max_rps
                    return
            delay = max(delay, _MIN_SLEEP_SECONDS)
            self.waited += delay
            self._sleep(delay)

    def release(self, status: int | None, headers: Mapping[str, str]) -> None:
        """Record an answer (None when no answer came: a network failure)."""
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)
            now = self._clock()
            if status == 429:
                self._blocked_until = max(self._blocked_until, now + self.retry_after(headers))
                self._caution = max(_MIN_CAUTION, self._caution * _CAUTION_STEP)
                return
            if status is None:
                return
            self._served += 1
            self._caution = min(_SAFETY_MARGIN, self._caution * _RECOVERY_STEP)
            remaining = _int(headers.get("x-ratelimit-remaining"))
            limit = _int(headers.get("x-ratelimit-limit"))
            if limit is not None:
                self._limit = limit
            if remaining is None:
                return
            self._seen.append(_Seen(now, remaining, self._served))
            while len(self._seen) > 2 and now - self._seen[0].at > _WINDOW_SECONDS:
                self._seen.popleft()

    def retry_after(self, headers: Mapping[str, str]) -> float:
        """Seconds to wait after a 429: Retry-After, else until x-ratelimit-reset (1 to
        60 s), else 1."""
        after = _float(headers.get("retry-after"))
        if after is not None:
            return max(0.0, after)
        reset = _float(headers.get("x-ratelimit-reset"))
        if reset is not None:
            wait = reset - self._wall_clock()
            return min(max(wait, _MIN_RESET_WAIT_SECONDS), _MAX_RESET_WAIT_SECONDS)
        return _MIN_RESET_WAIT_SECONDS

    def refill_rate(self) -> float | None:
        """Tokens per second the server's bucket gains, from the answers seen lately."""
        if len(self._seen) < 2:
            return None
        first, last = self._seen[0], self._seen[-1]
        span = last.at - first.at
        if span < _MIN_SPAN_SECONDS:
            return None
        gained = last.remaining - first.remaining + (last.served - first.served)
        return max(gained / span * self._caution, 0.1)

    def _delay(self, now: float) -> float:
        if now < self._blocked_until:
            return self._blocked_until - now
        if self.max_rps and now < self._next_slot:
            return self._next_slot - now
        if not self._seen:
            return 0.0
        rate = self.refill_rate()
        available = self._bucket(now, rate) - self._in_flight
        if self._limit is not None:
            available = min(available, self._limit)
        if available >= 1:
            return 0.0
        if rate is None:
            return 0.0 if self._in_flight == 0 else 0.05  # a probe learns the refill rate
        return (1 - available) / rate

    def _bucket(self, now: float, rate: float | None) -> float:
        """The tokens the bucket holds now, as the answers of the last moments say it.

        Answers to requests sent together arrive in any order, so the last one to arrive
        may tell of a fuller bucket than one before it: each recent answer's count, less a
        token for every answer that came after it, plus what has refilled since, bounds
        the bucket, and the least of them is taken."""
        newest = self._seen[-1]
        return min(
            seen.remaining
            - (self._served - seen.served)
            + (rate * (now - seen.at) if rate else 0.0)
            for seen in self._seen
            if seen is newest or newest.at - seen.at <= _REORDER_SECONDS
        )


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
