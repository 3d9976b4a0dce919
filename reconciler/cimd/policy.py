"""CimdPolicy: what the settings file allows the CIMD fetcher (a value, without the fetcher)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CimdPolicy"]


@dataclass(frozen=True)
class CimdPolicy:
    allow_domains: tuple[str, ...] = ()
    timeout_seconds: float = 10.0
    parallelism: int = 16
    insecure_allow_loopback_for_tests: bool = False
