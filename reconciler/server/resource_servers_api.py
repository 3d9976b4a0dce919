"""The /api/v2/resource-servers routes (APIs): scopes and status codes around the tenant.

Scopes as Auth0's reference pages give them (``get-resource-servers``,
``post-resource-servers``, ``patch-resource-servers-by-id``,
``delete-resource-servers-by-id``): read:, create:, update:, delete:resource_servers.
"""

from __future__ import annotations

from reconciler.server.auth import require_scope
from reconciler.server.clients_api import query_arguments
from reconciler.server.messages import Response, json_response, no_content, read_json
from reconciler.server.routing import Call, Route
from reconciler.tenant.engine import Tenant

__all__ = ["ResourceServersRoutes"]

LIST_PARAMETERS = ("identifiers", "page", "per_page", "include_totals")


class ResourceServersRoutes:
    def __init__(self, tenant: Tenant) -> None:
        self.servers = tenant.resource_servers

    def routes(self) -> list[Route]:
        servers = "/api/v2/resource-servers"
        server = f"{servers}/{{id}}"
        return [
            Route("GET", servers, self.list_servers),
            Route("POST", servers, self.create_server),
            Route("GET", server, self.get_server),
            Route("PATCH", server, self.patch_server),
            Route("DELETE", server, self.delete_server),
        ]

    def list_servers(self, call: Call) -> Response:
        require_scope(call.grant, "read:resource_servers")
        return json_response(
            200, self.servers.list(**query_arguments(call.request, LIST_PARAMETERS))
        )

    def get_server(self, call: Call) -> Response:
        require_scope(call.grant, "read:resource_servers")
        return json_response(200, self.servers.get(call.params["id"]))

    def create_server(self, call: Call) -> Response:
        require_scope(call.grant, "create:resource_servers")
        return json_response(201, self.servers.create(read_json(call.request)))

    def patch_server(self, call: Call) -> Response:
        require_scope(call.grant, "update:resource_servers")
        return json_response(200, self.servers.patch(call.params["id"], read_json(call.request)))

    def delete_server(self, call: Call) -> Response:
        require_scope(call.grant, "delete:resource_servers")
        self.servers.delete(call.params["id"])
        return no_content()
