"""How often, and after how long, a registry request is tried again."""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["RetryPolicy"]


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with jittered exponential backoff (and a bound on rate-limit waits)."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 10.0
    max_rate_limit_wait: float = 120.0

    def backoff(self, attempt: int) -> float:
        ceiling = min(self.max_delay, self.base_delay * 2**attempt)
        return random.uniform(ceiling / 2, ceiling)
