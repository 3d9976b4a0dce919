"""The emulator as a function from ``Request`` to ``Response``, with no socket in sight.

A request to /api/v2 goes through the same steps as at Auth0, in this order: an
injected fault (if one is pending), the rate limit (every answer carries the
``x-ratelimit-*`` headers), the route (404 for none), the Bearer token (401), the
route's scope (403) and finally the tenant. ``/oauth/token`` issues the tokens and
``/__control/`` holds the test hooks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from reconciler.errors import ApiError, RegistryBusyError, RegistryError
from reconciler.server.auth import ManagementAuth
from reconciler.server.cimd_api import CimdRoutes
from reconciler.server.client_grants_api import ClientGrantsRoutes
from reconciler.server.clients_api import ClientsRoutes
from reconciler.server.connections_api import ConnectionsRoutes
from reconciler.server.control import CONTROL_PREFIX, ControlRoutes, RequestLog
from reconciler.server.documents import DocumentSource, FixtureDocuments
from reconciler.server.faults import FaultQueue, fault_error
from reconciler.server.messages import Request, Response, error_response, not_found
from reconciler.server.ratelimit import Decision, RateLimiter, RateLimitPolicy, too_many_requests
from reconciler.server.resource_servers_api import ResourceServersRoutes
from reconciler.server.routing import Call, Router
from reconciler.server.tenant_settings_api import TenantSettingsRoutes
from reconciler.tenant.engine import Tenant

__all__ = ["AppSettings", "ManagementApp"]

API_PREFIX = "/api/v2/"
TOKEN_PATH = "/oauth/token"


@dataclass(frozen=True)
class AppSettings:
    base_url: str  # e.g. "http://127.0.0.1:4010"
    client_id: str
    client_secret: str
    rate_limit: RateLimitPolicy
    token_lifetime: int = 86400
    allow_loopback_documents: bool = False


class ManagementApp:
    def __init__(
        self,
        tenant: Tenant,
        settings: AppSettings,
        documents: DocumentSource,
    ) -> None:
        self.settings = settings
        self.auth = ManagementAuth(
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            token_lifetime=settings.token_lifetime,
            tenant=tenant,
        )
        self.limiter = RateLimiter(settings.rate_limit)
        self.faults = FaultQueue()
        self.log = RequestLog()
        clients = ClientsRoutes(tenant)
        cimd = CimdRoutes(tenant, documents, allow_loopback=settings.allow_loopback_documents)
        # The CIMD routes come first: /clients/cimd/... must not be read as a client id.
        apis = ResourceServersRoutes(tenant)
        self._router = Router(
            [
                *cimd.routes(),
                *clients.routes(),
                *apis.routes(),
                *ClientGrantsRoutes(tenant).routes(),
                *ConnectionsRoutes(tenant).routes(),
                *TenantSettingsRoutes(tenant).routes(),
            ]
        )
        self.control = ControlRoutes(
            tenant,
            faults=self.faults,
            log=self.log,
            limiter=self.limiter,
            fixtures=documents if isinstance(documents, FixtureDocuments) else None,
        )

    def handle(self, request: Request) -> Response:
        if request.path.startswith(CONTROL_PREFIX):
            return self.control.handle(request)
        started = time.time()
        with self.log.answering():
            response = self._answer(request)
            self.log.record(request, response.status, started)
        return response

    def audiences(self, request: Request) -> set[str]:
        """The API identifiers a token may name: the server's own base URL, and the one
        the client reached it by (a server bound to 0.0.0.0 is reached by other names)."""
        accepted = {f"{self.settings.base_url}{API_PREFIX}"}
        host = request.header("host")
        if host:
            accepted.add(f"{request.scheme}://{host}{API_PREFIX}")
        return accepted

    def _answer(self, request: Request) -> Response:
        fault = self.faults.take(request.method, request.path)
        if fault is None or not fault.after:
            if fault is not None:
                time.sleep(fault.delay)
                if fault.status is not None:
                    return self._fault_response(request, fault.status, fault.retry_after)
            return self._handled(request)
        handled = self._handled(request)  # the write commits; the answer is what fails
        time.sleep(fault.delay)
        if fault.status is not None:
            return self._fault_response(request, fault.status, fault.retry_after)
        return handled

    def _handled(self, request: Request) -> Response:
        if request.path == TOKEN_PATH:
            return self.auth.token(request, self.audiences(request))
        if not request.path.startswith(API_PREFIX):
            return not_found()
        decision = self.limiter.take(request.method, request.path)
        headers = decision.headers(time.time()) if decision is not None else {}
        if decision is not None and not decision.allowed:
            return error_response(too_many_requests(), headers)
        response = self._api(request)
        response.headers.update(headers)
        return response

    def _api(self, request: Request) -> Response:
        try:
            route, params = self._router.match(request.method, request.path)
            grant = self.auth.authenticate(request, self.audiences(request))
            return route.handler(Call(request, grant, params))
        except ApiError as exc:
            return error_response(exc)
        except RegistryBusyError as exc:
            return error_response(ApiError(503, "Service Unavailable", str(exc)))
        except RegistryError as exc:
            return error_response(ApiError(500, "Internal Server Error", str(exc)))

    def _fault_response(self, request: Request, status: int, retry_after: int | None) -> Response:
        if status != 429:
            return error_response(fault_error(status))
        limit = self.limiter.limit_for(request.method, request.path)
        refusal = Decision(False, limit or 0, 0, float(retry_after or 1))
        headers = refusal.headers(time.time())
        if limit is None:
            del headers["x-ratelimit-limit"]  # no bucket applies: there is no limit to name
        if retry_after is None:
            headers.pop("retry-after", None)
            headers.pop("Retry-After", None)
        return error_response(too_many_requests(), headers)
