"""The /api/v2/connections routes serve answers: the list, one connection, and the
clients each is enabled for.

Scopes as Auth0's reference pages give them (``get-connections``,
``get-connection-clients``, ``patch-clients``): read:connections for the reads,
update:connections for PATCH /connections/{id}/clients, which answers 204.
"""

from __future__ import annotations

from reconciler.server.auth import require_scope
from reconciler.server.clients_api import query_arguments
from reconciler.server.messages import Response, json_response, no_content, read_json
from reconciler.server.routing import Call, Route
from reconciler.tenant.engine import Tenant

__all__ = ["ConnectionsRoutes"]

LIST_PARAMETERS = (
    "name",
    "strategy",
    "fields",
    "include_fields",
    "page",
    "per_page",
    "include_totals",
    "from",
    "take",
)
CLIENTS_PARAMETERS = ("from", "take")


class ConnectionsRoutes:
    def __init__(self, tenant: Tenant) -> None:
        self.connections = tenant.connections

    def routes(self) -> list[Route]:
        connections = "/api/v2/connections"
        connection = f"{connections}/{{id}}"
        return [
            Route("GET", connections, self.list_connections),
            Route("GET", connection, self.get_connection),
            Route("GET", f"{connection}/clients", self.list_clients),
            Route("PATCH", f"{connection}/clients", self.update_clients),
        ]

    def list_connections(self, call: Call) -> Response:
        require_scope(call.grant, "read:connections")
        answer = self.connections.list(**query_arguments(call.request, LIST_PARAMETERS))
        return json_response(200, answer)

    def get_connection(self, call: Call) -> Response:
        require_scope(call.grant, "read:connections")
        return json_response(200, self.connections.get(call.params["id"]))

    def list_clients(self, call: Call) -> Response:
        require_scope(call.grant, "read:connections")
        answer = self.connections.clients(
            call.params["id"], **query_arguments(call.request, CLIENTS_PARAMETERS)
        )
        return json_response(200, answer)

    def update_clients(self, call: Call) -> Response:
        require_scope(call.grant, "update:connections")
        self.connections.update_clients(call.params["id"], read_json(call.request))
        return no_content()
