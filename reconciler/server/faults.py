"""Injected failures: the next N matching requests answer an error or arrive late.

Tests use them to prove that a client backs off on 429, retries a 5xx and gives up on
a slow answer, without waiting for a real outage. Faults are consumed in the order
they were added, each by the requests whose path starts with its ``path_prefix``
(and, if it names one, whose ``method`` it is).

By default a fault strikes before the request is handled: the delay passes, then the
error is answered and nothing was written. With ``after`` the request is handled first
(its write commits) and only then is the answer delayed, or replaced by the error:
an answer that comes after the client's timeout, or a 5xx for a write that took place,
which is what an outage between the database and the edge looks like.

A fault for ``/oauth/token`` (``path_prefix``) answers as the authentication API does, in
OAuth's ``{error, error_description}`` shape.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from reconciler.errors import ApiError
from reconciler.server.messages import Response, json_response
from reconciler.server.ratelimit import too_many_requests
from reconciler.tenant.rules import invalid_body, json_type

__all__ = ["FAULT_STATUSES", "Fault", "FaultQueue", "fault_error", "parse_fault", "token_fault"]

#: The statuses a fault may answer, with hapi's error name and default message.
FAULT_STATUSES: dict[int, tuple[str, str]] = {
    500: ("Internal Server Error", "An internal server error occurred"),
    502: ("Bad Gateway", "Bad Gateway"),
    503: ("Service Unavailable", "Service Unavailable"),
    504: ("Gateway Timeout", "Gateway Timeout"),
}
_FIELDS = {"status", "count", "delay", "path_prefix", "retry_after", "after", "method"}
_DEFAULT_PREFIX = "/api/v2"
_MAX_DELAY_SECONDS = 300.0


@dataclass(frozen=True)
class Fault:
    status: int | None  # None: answer normally, after the delay
    delay: float = 0.0
    path_prefix: str = _DEFAULT_PREFIX
    retry_after: int | None = 1  # 429 only: the Retry-After it announces (None: no header)
    after: bool = False  # strike after the request was handled (its write committed)
    method: str | None = None  # only requests with this method (None: any)

    def matches(self, method: str, path: str) -> bool:
        return path.startswith(self.path_prefix) and self.method in (None, method)


def fault_error(status: int) -> ApiError:
    if status == 429:
        return too_many_requests()
    error, message = FAULT_STATUSES[status]
    return ApiError(status, error, message)


def token_fault(status: int, retry_after: int | None) -> Response:
    """A fault of ``POST /oauth/token``, in OAuth's ``{error, error_description}`` (the
    authentication API's shape); a 429 carries ``Retry-After`` unless told not to, as
    Auth0's M2M token quotas answer (``fine-grained-m2m-token-quotas.mdx``)."""
    if status == 429:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        body = {"error": "too_many_requests", "error_description": "Too Many Requests"}
        return json_response(429, body, headers)
    _, message = FAULT_STATUSES[status]
    return json_response(status, {"error": "server_error", "error_description": message})


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

    def take(self, method: str, path: str) -> Fault | None:
        """The first pending fault for this request, counted as spent by it."""
        with self._lock:
            for pending in self._pending:
                if pending.fault.matches(method, path):
                    pending.requests_left -= 1
                    if pending.requests_left <= 0:
                        self._pending.remove(pending)
                    return pending.fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()


def parse_fault(body: object) -> tuple[Fault, int]:
    """``{"status"?, "count"?, "delay"?, "path_prefix"?, "method"?, "retry_after"?,
    "after"?}`` -> (fault, count). ``retry_after: null`` answers a 429 without the header;
    ``after: true`` strikes once the request has been handled."""
    if not isinstance(body, dict):
        raise invalid_body(f"Expected type object but found type {json_type(body)}")
    unknown = set(body) - _FIELDS
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
    fault = Fault(status, float(seconds), prefix, retry_after, after, method)
    return fault, int(count)


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
