"""Injected failures: the next N matching requests answer an error or arrive late.

Tests use them to prove that a client backs off on 429, retries a 5xx and gives up on
a slow answer, without waiting for a real outage. Faults are consumed in the order
they were added, each by the requests whose path starts with its ``path_prefix``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from reconciler.errors import ApiError
from reconciler.registries.tenant_rules import invalid_body, json_type
from reconciler.server.ratelimit import too_many_requests

__all__ = ["FAULT_STATUSES", "Fault", "FaultQueue", "fault_error", "parse_fault"]

#: The statuses a fault may answer, with hapi's error name and default message.
FAULT_STATUSES: dict[int, tuple[str, str]] = {
    500: ("Internal Server Error", "An internal server error occurred"),
    502: ("Bad Gateway", "Bad Gateway"),
    503: ("Service Unavailable", "Service Unavailable"),
}
_DEFAULT_PREFIX = "/api/v2"
_MAX_DELAY_SECONDS = 300.0


@dataclass(frozen=True)
class Fault:
    status: int | None  # None: answer normally, after the delay
    delay: float = 0.0
    path_prefix: str = _DEFAULT_PREFIX
    retry_after: int = 1  # 429 only: the Retry-After it announces

    def matches(self, path: str) -> bool:
        return path.startswith(self.path_prefix)


def fault_error(status: int) -> ApiError:
    if status == 429:
        return too_many_requests()
    error, message = FAULT_STATUSES[status]
    return ApiError(status, error, message)


@dataclass
class _Pending:
    fault: Fault
    requests_left: int


class FaultQueue:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[_Pending] = []

    def add(self, fault: Fault, count: int) -> None:
        with self._lock:
            self._pending.append(_Pending(fault, count))

    def take(self, path: str) -> Fault | None:
        """The first pending fault for ``path``, counted as spent by this request."""
        with self._lock:
            for pending in self._pending:
                if pending.fault.matches(path):
                    pending.requests_left -= 1
                    if pending.requests_left <= 0:
                        self._pending.remove(pending)
                    return pending.fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()


def parse_fault(body: object) -> tuple[Fault, int]:
    """``{"status"?, "count"?, "delay"?, "path_prefix"?, "retry_after"?}`` -> (fault, count)."""
    if not isinstance(body, dict):
        raise invalid_body(f"Expected type object but found type {json_type(body)}")
    unknown = set(body) - {"status", "count", "delay", "path_prefix", "retry_after"}
    if unknown:
        raise invalid_body(f"Additional properties not allowed: {', '.join(sorted(unknown))}")
    status = body.get("status")
    delay = body.get("delay", 0)
    if status is None and not delay:
        raise invalid_body("Give a status, a delay, or both")
    if status is not None and status != 429 and status not in FAULT_STATUSES:
        allowed = ", ".join(str(s) for s in (429, *FAULT_STATUSES))
        raise invalid_body(f"status must be one of {allowed}", "status")
    count = _number(body.get("count", 1), "count", minimum=1, integer=True)
    seconds = _number(delay, "delay", minimum=0, maximum=_MAX_DELAY_SECONDS)
    retry_after = _number(body.get("retry_after", 1), "retry_after", minimum=1, integer=True)
    prefix = body.get("path_prefix", _DEFAULT_PREFIX)
    if not isinstance(prefix, str) or not prefix.startswith("/"):
        raise invalid_body("path_prefix must be a path starting with /", "path_prefix")
    return Fault(status, float(seconds), prefix, int(retry_after)), int(count)


def _number(
    value: object,
    name: str,
    *,
    minimum: float,
    maximum: float | None = None,
    integer: bool = False,
) -> float:
    wanted = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, wanted):
        expected = "integer" if integer else "number"
        raise invalid_body(f"Expected type {expected} but found type {json_type(value)}", name)
    if value < minimum or (maximum is not None and value > maximum):
        limits = f"at least {minimum:g}" + (f" and at most {maximum:g}" if maximum else "")
        raise invalid_body(f"{name} must be {limits}", name)
    return float(value)
