"""Injected failures: the next N matching requests answer an error or arrive late, or
someone else changes the tenant while they are handled.

Tests use them to prove that a client backs off on 429, retries a 5xx, gives up on a
slow answer and reads a list that moves under it, without waiting for a real outage or
a busy tenant. Faults are consumed in the order they were added, each by the requests
whose path starts with its ``path_prefix`` (and, if it names one, whose ``method`` it
is), once the first ``skip`` of them have passed untouched.

By default a fault strikes before the request is handled: the tenant changes, the delay
passes, then the error is answered and nothing was written. With ``after`` the request
is handled first (its write commits) and only then is the tenant changed and the answer
delayed, or replaced by the error: an answer that comes after the client's timeout, or
a 5xx for a write that took place, which is what an outage between the database and the
edge looks like; or a page answered just before another writer deletes a client.

On the token endpoint (``/oauth/token``, Auth0's Authentication API) an error has OAuth's
``{error, error_description}`` shape: a 429 is Auth0's quota answer ("Client quota
exceeded", docs ``fine-grained-m2m-token-quotas.mdx``), a 5xx RFC 6749's
``server_error`` or ``temporarily_unavailable``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import ApiError
from reconciler.server.auth import TokenError
from reconciler.server.ratelimit import too_many_requests
from reconciler.tenant.rules import invalid_body, json_type

__all__ = [
    "FAULT_STATUSES",
    "Fault",
    "FaultQueue",
    "TenantChange",
    "fault_error",
    "parse_fault",
    "token_fault_error",
]

#: The statuses a fault may answer, with hapi's error name and default message.
FAULT_STATUSES: dict[int, tuple[str, str]] = {
    500: ("Internal Server Error", "An internal server error occurred"),
    502: ("Bad Gateway", "Bad Gateway"),
    503: ("Service Unavailable", "Service Unavailable"),
    504: ("Gateway Timeout", "Gateway Timeout"),
}
#: The token endpoint's OAuth error for each status a fault may answer there.
TOKEN_FAULT_ERRORS: dict[int, tuple[str, str]] = {
    429: ("too_many_requests", "Client quota exceeded"),
    500: ("server_error", "The authorization server encountered an unexpected condition"),
    502: ("temporarily_unavailable", "The authorization server is temporarily unavailable"),
    503: ("temporarily_unavailable", "The authorization server is temporarily unavailable"),
    504: ("temporarily_unavailable", "The authorization server is temporarily unavailable"),
}
_FIELDS = {
    "status",
    "count",
    "skip",
    "delay",
    "path_prefix",
    "retry_after",
    "after",
    "method",
    "meanwhile",
}
_CHANGE_FIELDS = {"delete_clients", "seed"}
_DEFAULT_PREFIX = "/api/v2"
_MAX_DELAY_SECONDS = 300.0


@dataclass(frozen=True)
class TenantChange:
    """What another writer does to the tenant while a request is handled: delete these
    clients, then add what a seed document holds (``/__control/seed``'s shape)."""

    delete_clients: tuple[str, ...] = ()
    seed: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Fault:
    status: int | None  # None: answer normally, after the delay
    delay: float = 0.0
    path_prefix: str = _DEFAULT_PREFIX
    retry_after: int | None = 1  # 429 only: the Retry-After it announces (None: no header)
    after: bool = False  # strike after the request was handled (its write committed)
    method: str | None = None  # only requests with this method (None: any)
    meanwhile: TenantChange | None = None  # another writer's change, made as it strikes

    def matches(self, method: str, path: str) -> bool:
        return path.startswith(self.path_prefix) and self.method in (None, method)


def fault_error(status: int) -> ApiError:
    if status == 429:
        return too_many_requests()
    error, message = FAULT_STATUSES[status]
    return ApiError(status, error, message)


def token_fault_error(status: int) -> TokenError:
    """The token endpoint's answer for a fault of ``status``."""
    error, description = TOKEN_FAULT_ERRORS[status]
    return TokenError(status, error, description)


@dataclass
class _Pending:
    fault: Fault
    requests_left: int
    skips_left: int


class FaultQueue:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[_Pending] = []

    def add(self, fault: Fault, count: int, *, skip: int = 0) -> None:
        with self._lock:
            self._pending.append(_Pending(fault, count, skip))

    def take(self, method: str, path: str) -> Fault | None:
        """The first pending fault for this request, counted as spent by it; a fault
        still skipping lets the request pass to the faults after it."""
        with self._lock:
            for pending in self._pending:
                if pending.fault.matches(method, path):
                    if pending.skips_left > 0:
                        pending.skips_left -= 1
                        continue
                    pending.requests_left -= 1
                    if pending.requests_left <= 0:
                        self._pending.remove(pending)
                    return pending.fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()


def parse_fault(body: object) -> tuple[Fault, int, int]:
    """``{"status"?, "count"?, "skip"?, "delay"?, "path_prefix"?, "method"?,
    "retry_after"?, "after"?, "meanwhile"?}`` -> (fault, count, skip). ``retry_after: null``
    answers a 429 without the header; ``after: true`` strikes once the request has been
    handled; ``meanwhile: {"delete_clients"?: [id, ...], "seed"?: {...}}`` changes the
    tenant as the fault strikes."""
    if not isinstance(body, dict):
        raise invalid_body(f"Expected type object but found type {json_type(body)}")
    unknown = set(body) - _FIELDS
    if unknown:
        raise invalid_body(f"Additional properties not allowed: {', '.join(sorted(unknown))}")
    status = body.get("status")
    delay = body.get("delay", 0)
    meanwhile = _tenant_change(body["meanwhile"]) if "meanwhile" in body else None
    if status is None and not delay and meanwhile is None:
        raise invalid_body("Give a status, a delay, a meanwhile change, or several")
    if status is not None and status != 429 and status not in FAULT_STATUSES:
        allowed = ", ".join(str(s) for s in (429, *FAULT_STATUSES))
        raise invalid_body(f"status must be one of {allowed}", "status")
    count = _number(body.get("count", 1), "count", minimum=1, integer=True)
    skip = _number(body.get("skip", 0), "skip", minimum=0, integer=True)
    seconds = _number(delay, "delay", minimum=0, maximum=_MAX_DELAY_SECONDS)
    announced = body.get("retry_after", 1)
    retry_after = (
        None
        if announced is None
        else int(_number(announced, "retry_after", minimum=1, integer=True))
    )
    prefix = body.get("path_prefix", _DEFAULT_PREFIX)
    if not isinstance(prefix, str) or not prefix.startswith("/"):
        raise invalid_body("path_prefix must be a path starting with /", "path_prefix")
    after = body.get("after", False)
    if not isinstance(after, bool):
        raise invalid_body(f"Expected type boolean but found type {json_type(after)}", "after")
    method = body.get("method")
    if method is not None and method not in ("GET", "POST", "PATCH", "PUT", "DELETE"):
        raise invalid_body("method must be one of GET, POST, PATCH, PUT, DELETE", "method")
    fault = Fault(status, float(seconds), prefix, retry_after, after, method, meanwhile)
    return fault, int(count), int(skip)


def _tenant_change(body: object) -> TenantChange:
    if not isinstance(body, dict):
        raise invalid_body(f"Expected type object but found type {json_type(body)}", "meanwhile")
    unknown = set(body) - _CHANGE_FIELDS
    if unknown:
        raise invalid_body(
            f"Additional properties not allowed: {', '.join(sorted(unknown))}", "meanwhile"
        )
    deleted = body.get("delete_clients", [])
    if not isinstance(deleted, list) or not all(isinstance(i, str) and i for i in deleted):
        raise invalid_body("Expected an array of client ids", "meanwhile.delete_clients")
    seed = body.get("seed", {})
    if not isinstance(seed, dict):
        raise invalid_body(
            f"Expected type object but found type {json_type(seed)}", "meanwhile.seed"
        )
    if not deleted and not seed:
        raise invalid_body("Give delete_clients, a seed, or both", "meanwhile")
    return TenantChange(tuple(deleted), seed)


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
