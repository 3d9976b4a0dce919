"""The emulator as a function from ``Request`` to ``Response``, with no socket in sight.

A request to /api/v2 goes through the same steps as at Auth0, in this order: an
injected fault (if one is pending), the rate limit (every answer carries the
``x-ratelimit-*`` headers), the route (404 for none), the Bearer token (401), the
route's scope (403) and finally the tenant. ``/oauth/token`` issues the tokens (faults
reach it too) and ``/__control/`` holds the test hooks, behind ``ControlAccess``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from reconciler.errors import ApiError, RegistryBusyError, RegistryError
from reconciler.server.auth import MANAGEMENT_SCOPES, ManagementAuth
from reconciler.server.cimd_api import CimdRoutes
from reconciler.server.client_grants_api import ClientGrantsRoutes
from reconciler.server.clients_api import ClientsRoutes
from reconciler.server.connections_api import ConnectionsRoutes
from reconciler.server.control import CONTROL_PREFIX, ControlAccess, ControlRoutes, RequestLog
from reconciler.server.documents import DocumentSource, FixtureDocuments
from reconciler.server.faults import FaultQueue, TenantChange, fault_error, token_fault_error
from reconciler.server.messages import Request, Response, error_response, not_found
from reconciler.server.ratelimit import Decision, RateLimiter, RateLimitPolicy, too_many_requests
from reconciler.server.resource_servers_api import ResourceServersRoutes
from reconciler.server.routing import Call, Router
from reconciler.server.tenant_settings_api import TenantSettingsRoutes
from reconciler.tenant.engine import Tenant
from reconciler.tenant.seeding import seed_tenant

__all__ = ["AppSettings", "ManagementApp"]

API_PREFIX = "/api/v2/"
TOKEN_PATH = "/oauth/token"


@dataclass(frozen=True)
class AppSettings:
    base_url: str  # e.g. "http://127.0.0.1:4010"
    client_id: str
    client_secret: str | None
    rate_limit: RateLimitPolicy
    token_lifetime: int = 86400
    allow_loopback_documents: bool = False
    #: The tenant's canonical domain (``tenant.eu.auth0.com``): the Management API audience
    #: is ``https://DOMAIN/api/v2/`` and the base URL plays a custom domain. None: the
    #: audience is the base URL's (or the one the client reached the server by).
    tenant_domain: str | None = None
    #: The management client's public key (PEM): it authenticates with private_key_jwt.
    client_public_key: bytes | None = None
    client_key_alg: str = "RS256"
    #: The scopes the management client is granted.
    management_scopes: tuple[str, ...] = MANAGEMENT_SCOPES
    #: A rate-limit refusal also carries Retry-After (Auth0 documents none).
    retry_after: bool = False
    #: The control routes' secret (None: open, on a loopback listener only).
    control_secret: str | None = None
    #: The server listens on a loopback address only.
    loopback: bool = True


class ManagementApp:
    def __init__(
        self,
        tenant: Tenant,
        settings: AppSettings,
        documents: DocumentSource,
    ) -> None:
        self.settings = settings
        self.tenant = tenant
        self.auth = ManagementAuth(
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            token_lifetime=settings.token_lifetime,
            tenant=tenant,
            client_public_key=settings.client_public_key,
            client_key_alg=settings.client_key_alg,
            management_scopes=settings.management_scopes,
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
            access=ControlAccess(settings.control_secret, settings.loopback),
            after_reset=self._hold_own_client,
        )
        self._hold_own_client()

    def _hold_own_client(self) -> None:
        """The management client is one of the tenant's applications, as on Auth0: listed
        by GET /clients and counted against the plan's limit on them (a free tenant holds
        nine more). A tenant already at its limit is left as it is."""
        client_id = self.settings.client_id
        try:
            self.tenant.get_client(client_id)
            return
        except ApiError:
            pass
        record: dict[str, Any] = {
            "client_id": client_id,
            "name": "reconciler serve (Management API)",
            "app_type": "non_interactive",
            "grant_types": ["client_credentials"],
        }
        if self.settings.client_secret:
            record["client_secret"] = self.settings.client_secret
        try:
            self.tenant.seed_client(record)
        except ApiError:
            pass

    def handle(self, request: Request) -> Response:
        if request.path.startswith(CONTROL_PREFIX):
            return self.control.handle(request)
        started = time.time()
        with self.log.answering():
            response = self._answer(request)
            self.log.record(request, response.status, started)
        return response

    def audiences(self, request: Request) -> set[str]:
        """The API identifiers a token may name: the tenant domain's, as at Auth0; without
        one, the server's own base URL and the one the client reached it by (a server
        bound to 0.0.0.0 is reached by other names)."""
        if self.settings.tenant_domain is not None:
            return {f"https://{self.settings.tenant_domain}{API_PREFIX}"}
        accepted = {f"{self.settings.base_url}{API_PREFIX}"}
        host = request.header("host")
        if host:
            accepted.add(f"{request.scheme}://{host}{API_PREFIX}")
        return accepted

    def _answer(self, request: Request) -> Response:
        fault = self.faults.take(request.method, request.path)
        if fault is None:
            return self._handled(request)
        handled = self._handled(request) if fault.after else None  # the write commits
        try:
            self._change_tenant(fault.meanwhile)
        except ApiError as exc:
            return error_response(exc)
        time.sleep(fault.delay)
        if fault.status is not None:
            return self._fault_response(request, fault.status, fault.retry_after)
        return handled if handled is not None else self._handled(request)

    def _change_tenant(self, change: TenantChange | None) -> None:
        """Another writer's change, made between this reader's requests."""
        if change is None:
            return
        for client_id in change.delete_clients:
            self.tenant.delete_client(client_id)
        if change.seed:
            seed_tenant(self.tenant, dict(change.seed), keep_existing=False)

    def _handled(self, request: Request) -> Response:
        if request.path == TOKEN_PATH:
            return self.auth.token(request, self.audiences(request))
        if not request.path.startswith(API_PREFIX):
            return not_found()
        decision = self.limiter.take(request.method, request.path)
        headers = (
            decision.headers(time.time(), retry_after=self.settings.retry_after)
            if decision is not None
            else {}
        )
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
        token = request.path == TOKEN_PATH  # Auth0's Authentication API: OAuth's errors
        if status != 429:
            return (
                token_fault_error(status).response()
                if token
                else error_response(fault_error(status))
            )
        limit = None if token else self.limiter.limit_for(request.method, request.path)
        refusal = Decision(False, limit or 0, 0, float(retry_after or 1))
        headers = refusal.headers(time.time(), retry_after=retry_after is not None)
        if limit is None:
            del headers["x-ratelimit-limit"]  # no bucket applies: there is no limit to name
        if token:
            answer = token_fault_error(status).response()
            answer.headers.update(headers)
            return answer
        return error_response(too_many_requests(), headers)
