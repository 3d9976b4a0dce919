"""Auth0's Management API rate limits: token buckets, and the tier presets that size them.

A bucket holds up to ``burst`` tokens and refills at ``per_second``; each request takes
one, and an empty bucket answers 429. Which bucket a request draws from depends on the
preset (``self_service`` keeps GET /clients apart from everything else). The buckets run
on a monotonic clock; only the ``x-ratelimit-reset`` header is converted to epoch seconds.

Auth0 documents ``x-ratelimit-limit``, ``-remaining`` and ``-reset`` on the Management
API and no ``Retry-After`` (docs ``rate-limit-policy.mdx``; go-auth0 waits for
``x-ratelimit-reset``, auth0/go-auth0#501), so a refusal carries ``Retry-After`` only
when asked (``serve --retry-after``).
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from reconciler.errors import ApiError

__all__ = [
    "PLAN_RATE_LIMITS",
    "PRESETS",
    "BucketSpec",
    "Decision",
    "RateLimitPolicy",
    "RateLimiter",
    "parse_rate_limit",
    "too_many_requests",
]

Clock = Callable[[], float]
RequestMatcher = Callable[[str, str], bool]


@dataclass(frozen=True)
class BucketSpec:
    burst: int
    per_second: float


@dataclass(frozen=True)
class BucketGroup:
    """The requests ``applies`` to draw from one bucket of size ``spec``."""

    name: str
    spec: BucketSpec
    applies: RequestMatcher


@dataclass(frozen=True)
class RateLimitPolicy:
    name: str
    groups: tuple[BucketGroup, ...] = ()  # first match wins; no groups: unlimited


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    #: Seconds until the bucket is full again (allowed) or holds the next token (refused).
    reset_after: float

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil(self.reset_after))

    def headers(self, now: float, *, retry_after: bool) -> dict[str, str]:
        """The ``x-ratelimit-*`` headers, with the reset as epoch seconds from ``now``;
        and a refusal's ``Retry-After`` if ``retry_after``."""
        headers = {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": str(math.ceil(now + self.reset_after)),
        }
        if retry_after and not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers


def too_many_requests() -> ApiError:
    """Auth0's answer when a bucket is empty."""
    return ApiError(429, "Too Many Requests", "Global limit has been reached", "too_many_requests")


class TokenBucket:
    def __init__(self, spec: BucketSpec, clock: Clock) -> None:
        self.spec = spec
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = float(spec.burst)
        self._updated = clock()

    def take(self) -> Decision:
        with self._lock:
            self._refill()
            allowed = self._tokens >= 1
            if allowed:
                self._tokens -= 1
                reset_after = (self.spec.burst - self._tokens) / self.spec.per_second
            else:
                reset_after = (1 - self._tokens) / self.spec.per_second
            return Decision(allowed, self.spec.burst, math.floor(self._tokens), reset_after)

    def refill_now(self) -> None:
        with self._lock:
            self._tokens = float(self.spec.burst)
            self._updated = self._clock()

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(float(self.spec.burst), self._tokens + elapsed * self.spec.per_second)
        self._updated = now


class RateLimiter:
    """One bucket per group of ``policy``; thread-safe."""

    def __init__(self, policy: RateLimitPolicy, clock: Clock = time.monotonic) -> None:
        self.policy = policy
        self._buckets = [(group, TokenBucket(group.spec, clock)) for group in policy.groups]

    def take(self, method: str, path: str) -> Decision | None:
        """Spend a token for this request; None when no limit applies to it."""
        bucket = self._bucket_for(method, path)
        return None if bucket is None else bucket.take()

    def limit_for(self, method: str, path: str) -> int | None:
        bucket = self._bucket_for(method, path)
        return None if bucket is None else bucket.spec.burst

    def reset(self) -> None:
        for _, bucket in self._buckets:
            bucket.refill_now()

    def _bucket_for(self, method: str, path: str) -> TokenBucket | None:
        for group, bucket in self._buckets:
            if group.applies(method, path):
                return bucket
        return None


def _every_request(method: str, path: str) -> bool:
    return True


def _list_clients(method: str, path: str) -> bool:
    return method == "GET" and path == "/api/v2/clients"


def _global(name: str, burst: int, per_second: float) -> RateLimitPolicy:
    return RateLimitPolicy(
        name, (BucketGroup("global", BucketSpec(burst, per_second), _every_request),)
    )


PRESETS: dict[str, RateLimitPolicy] = {
    "off": RateLimitPolicy("off"),
    "free": _global("free", 2, 2.0),
    "self_service": RateLimitPolicy(
        "self_service",
        (
            BucketGroup("GET /clients", BucketSpec(5, 100 / 60), _list_clients),
            BucketGroup("other endpoints", BucketSpec(10, 150 / 60), _every_request),
        ),
    ),
    "enterprise": _global("enterprise", 50, 16.0),
    "enterprise_non_production": _global("enterprise_non_production", 10, 2.0),
}
#: The rate limit each of Auth0's plans has (docs ``rate-limit-configurations/*.mdx``):
#: Essentials and Professional are its self-service plans.
PLAN_RATE_LIMITS = {
    "free": "free",
    "essentials": "self_service",
    "professional": "self_service",
    "enterprise": "enterprise",
}
_CUSTOM = re.compile(r"(?P<burst>[0-9]+)/(?P<rate>[0-9]+(?:\.[0-9]+)?)")


def parse_rate_limit(text: str) -> RateLimitPolicy:
    """A preset name or ``BURST/RATE`` (a bucket of BURST refilled at RATE per second)."""
    preset = PRESETS.get(text.strip().lower().replace("-", "_"))
    if preset is not None:
        return preset
    custom = _CUSTOM.fullmatch(text.strip())
    if custom is None:
        raise ValueError(
            f"unknown rate limit {text!r}: use {', '.join(PRESETS)} or BURST/RATE (e.g. 10/2.5)"
        )
    burst, rate = int(custom["burst"]), float(custom["rate"])
    if burst < 1 or rate <= 0:
        raise ValueError(f"rate limit {text!r}: BURST must be at least 1 and RATE above 0")
    return _global(text.strip(), burst, rate)
