"""Test hooks under ``/__control/``: reset, seed, document fixtures, faults, request log.

They sit outside /api/v2 and need no Management API token, so a test (or a rehearsal
script) can set the scene in one call. They are never rate limited, faulted or logged.
Anyone who can use them can empty or rewrite the tenant, so they answer (``ControlAccess``):

- with a control secret (``serve --control-secret``, generated when serve listens beyond
  loopback), only requests that carry it in ``X-Control-Secret``;
- without one, only on a loopback listener, and only requests that name a loopback host
  (not a name rebound to 127.0.0.1) and come from no web page (no ``Origin``).

``GET /__control/health`` answers everyone: it tells only that serve is up.

    POST   /__control/reset      empty tenant, no faults, full buckets, empty log
    POST   /__control/seed       {"resource_servers"?, "clients"?, "client_grants"?,
                                  "connections"?: [...], "tenant_settings"?: {...}}: as
                                  they exist elsewhere
    POST   /__control/documents  {URL: document | null}: CIMD document fixtures
    POST   /__control/inject     {"status"?, "count"?, "delay"?, "path_prefix"?, "method"?,
                                  "retry_after"?, "after"?}: the next ``count`` matching
                                  requests fail; ``after: true`` handles the request first
                                  (the write commits), then delays or fails the answer;
                                  ``retry_after: null`` sends a 429 without Retry-After;
                                  ``skip`` lets that many matching requests pass first;
                                  ``meanwhile: {"delete_clients"?, "seed"?}`` changes
                                  the tenant as the fault strikes (another writer)
    DELETE /__control/inject     drop every fault still pending
    GET    /__control/requests   the request log, and how many requests are being answered
                                 now ("in_flight", e.g. delayed by a fault); DELETE clears it
    GET    /__control/health     {"status": "ok"}
"""

from __future__ import annotations

import hmac
import ipaddress
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from reconciler.errors import ApiError
from reconciler.server.auth import Grant
from reconciler.server.documents import FixtureDocuments
from reconciler.server.faults import FaultQueue, parse_fault
from reconciler.server.messages import (
    Request,
    Response,
    error_response,
    json_response,
    no_content,
    read_json,
)
from reconciler.server.ratelimit import RateLimiter
from reconciler.server.routing import Call, Route, Router
from reconciler.tenant.engine import Tenant
from reconciler.tenant.rules import invalid_body, json_type
from reconciler.tenant.seeding import SETTINGS, seed_tenant

__all__ = [
    "CONTROL_PREFIX",
    "CONTROL_SECRET_HEADER",
    "ControlAccess",
    "ControlRoutes",
    "RequestLog",
    "is_loopback",
]

CONTROL_PREFIX = "/__control/"
CONTROL_SECRET_HEADER = "X-Control-Secret"
_HEALTH = "/__control/health"
_NOBODY = Grant("", frozenset())


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or a name, as given to listen on or in a Host
    header, without its port) reaches only this machine."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ControlAccess:
    """Who may use the control routes: see the module's docstring."""

    secret: str | None
    #: The server listens on a loopback address only.
    loopback: bool

    def check(self, request: Request) -> None:
        if self.secret is not None:
            given = request.header(CONTROL_SECRET_HEADER) or ""
            if not hmac.compare_digest(given.encode(), self.secret.encode()):
                raise ApiError(
                    401,
                    "Unauthorized",
                    f"The control routes need the {CONTROL_SECRET_HEADER} header with the "
                    "control secret serve was started with (--control-secret)",
                )
            return
        if not self.loopback:
            raise ApiError(
                403,
                "Forbidden",
                "The control routes are off: serve listens beyond loopback without a "
                "control secret (start it with --control-secret)",
            )
        if not is_loopback(_host_name(request.header("host") or "")):
            raise ApiError(
                403,
                "Forbidden",
                "The control routes answer only requests to a loopback host "
                "(127.0.0.1, ::1, localhost) unless serve has a --control-secret",
            )
        if request.header("origin") is not None:
            raise ApiError(
                403,
                "Forbidden",
                "The control routes answer no web page (the request has an Origin)",
            )


def _host_name(host: str) -> str:
    """The Host header without its port (``[::1]:4010`` -> ``::1``)."""
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class RequestLog:
    """The last ``limit`` requests the API answered, oldest first; thread-safe."""

    def __init__(self, limit: int = 10_000) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=limit)
        self._in_flight = 0

    @contextmanager
    def answering(self) -> Iterator[None]:
        """Count a request as in flight until its answer is ready (a client may be gone)."""
        with self._lock:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    def record(self, request: Request, status: int, started: float) -> None:
        entry = {
            "method": request.method,
            "path": request.path,
            "query": request.query,
            "status": status,
            "time": started,
        }
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class ControlRoutes:
    def __init__(
        self,
        tenant: Tenant,
        *,
        faults: FaultQueue,
        log: RequestLog,
        limiter: RateLimiter,
        fixtures: FixtureDocuments | None,
        access: ControlAccess,
        after_reset: Callable[[], None] = lambda: None,
    ) -> None:
        self.tenant = tenant
        self._after_reset = after_reset
        self.access = access
        self.faults = faults
        self.log = log
        self.limiter = limiter
        self.fixtures = fixtures
        self._router = Router(
            [
                Route("POST", "/__control/reset", self.reset),
                Route("POST", "/__control/seed", self.seed),
                Route("POST", "/__control/documents", self.documents),
                Route("POST", "/__control/inject", self.inject),
                Route("DELETE", "/__control/inject", self.clear_faults),
                Route("GET", "/__control/requests", self.requests),
                Route("DELETE", "/__control/requests", self.clear_requests),
                Route("GET", "/__control/health", self.health),
            ]
        )

    def handle(self, request: Request) -> Response:
        try:
            route, params = self._router.match(request.method, request.path)
            if request.path != _HEALTH:
                self.access.check(request)
            return route.handler(Call(request, _NOBODY, params))
        except ApiError as exc:
            return error_response(exc)

    def reset(self, call: Call) -> Response:
        self.tenant.reset()
        self._after_reset()
        self.faults.clear()
        self.limiter.reset()
        self.log.clear()
        return no_content()

    def seed(self, call: Call) -> Response:
        seeded = seed_tenant(self.tenant, read_json(call.request), keep_existing=False)
        settings = {} if seeded.settings is None else {SETTINGS: seeded.settings}
        return json_response(201, {**seeded.added, **settings})

    def documents(self, call: Call) -> Response:
        if self.fixtures is None:
            raise ApiError(
                409,
                "Conflict",
                "This server reads documents from a custom source: fixtures cannot be set",
            )
        self.fixtures.update(_document_map(read_json(call.request)))
        return no_content()

    def inject(self, call: Call) -> Response:
        fault, count, skip = parse_fault(read_json(call.request))
        self.faults.add(fault, count, skip=skip)
        return no_content()

    def clear_faults(self, call: Call) -> Response:
        self.faults.clear()
        return no_content()

    def requests(self, call: Call) -> Response:
        return json_response(200, {"requests": self.log.entries(), "in_flight": self.log.in_flight})

    def clear_requests(self, call: Call) -> Response:
        self.log.clear()
        return no_content()

    def health(self, call: Call) -> Response:
        return json_response(200, {"status": "ok", "time": time.time()})


def _document_map(body: object) -> Mapping[str, Mapping[str, Any] | None]:
    if not isinstance(body, dict):
        raise invalid_body(f"Expected type object but found type {json_type(body)}")
    for url, document in body.items():
        if document is not None and not isinstance(document, dict):
            raise invalid_body(
                f"Expected type object but found type {json_type(document)}", f"[{url!r}]"
            )
    return body
