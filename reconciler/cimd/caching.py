"""How long a fetched document may be relied on, from its response's caching headers.

CIMD §5.2 lets a client's metadata be cached as HTTP caching allows; the answer is
clamped so a document is neither fetched on every request nor trusted for days.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["MAX_RECHECK_SECONDS", "MIN_RECHECK_SECONDS", "recheck_after_seconds"]

MIN_RECHECK_SECONDS = 30
MAX_RECHECK_SECONDS = 24 * 60 * 60


def recheck_after_seconds(headers: Mapping[str, str], *, now: datetime | None = None) -> int:
    """How long a fetched document may be relied on: 0 means fetch it again on every run.

    ``s-maxage``, then ``max-age``, then ``Expires`` (against ``Date``), clamped to 30 s-24 h;
    ``no-store`` and ``no-cache`` mean every run.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    directives = _cache_directives(lowered.get("cache-control", ""))
    if "no-store" in directives or "no-cache" in directives:
        return 0
    for name in ("s-maxage", "max-age"):
        value = directives.get(name, "")
        if value.isdigit():
            return _clamped(int(value))
    if "expires" in lowered:
        expires = _http_date(lowered["expires"])
        date = _http_date(lowered.get("date", "")) or now or datetime.now(UTC)
        seconds = (expires - date).total_seconds() if expires else 0
        return _clamped(int(seconds))
    return MIN_RECHECK_SECONDS


def _cache_directives(cache_control: str) -> dict[str, str]:
    directives: dict[str, str] = {}
    for part in cache_control.split(","):
        name, _, value = part.strip().partition("=")
        if name:
            directives[name.lower()] = value.strip().strip('"')
    return directives


def _http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _clamped(seconds: int) -> int:
    return max(MIN_RECHECK_SECONDS, min(MAX_RECHECK_SECONDS, seconds))
