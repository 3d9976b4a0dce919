"""How often, and after how long, a registry request is tried again."""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["RetryPolicy"]


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with jittered exponential backoff (and a bound on rate-limit waits).

    ``in_doubt_wait`` bounds how long a write that was sent and never answered is looked
    for (it may still be running server-side) before it is reported as in doubt.
    """

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 10.0
    max_rate_limit_wait: float = 120.0
    in_doubt_wait: float = 30.0

    def backoff(self, attempt: int) -> float:
        ceiling = min(self.max_delay, self.base_delay * 2**attempt)
        return random.uniform(ceiling / 2, ceiling)
