"""The /api/v2/client-grants routes: scopes and status codes around the tenant's grants.

Scopes and codes as Auth0's reference pages give them (``get-client-grants``,
``post-client-grants``, ``patch-client-grants-by-id``, ``delete-client-grants-by-id``):
read:, create:, update:, delete:client_grants; POST answers 201, PATCH 200, DELETE 204
(go-auth0 recording ``TestClientGrantManager_Create.yaml``).
"""

from __future__ import annotations

from reconciler.server.auth import require_scope
from reconciler.server.clients_api import query_arguments
from reconciler.server.messages import Response, json_response, no_content, read_json
from reconciler.server.routing import Call, Route
from reconciler.tenant.engine import Tenant

__all__ = ["ClientGrantsRoutes"]

LIST_PARAMETERS = (
    "audience",
    "client_id",
    "subject_type",
    "default_for",
    "page",
    "per_page",
    "include_totals",
    "from",
    "take",
)


class ClientGrantsRoutes:
    def __init__(self, tenant: Tenant) -> None:
        self.grants = tenant.client_grants

    def routes(self) -> list[Route]:
        grants = "/api/v2/client-grants"
        grant = f"{grants}/{{id}}"
        return [
            Route("GET", grants, self.list_grants),
            Route("POST", grants, self.create_grant),
            Route("GET", grant, self.get_grant),
            Route("PATCH", grant, self.patch_grant),
            Route("DELETE", grant, self.delete_grant),
        ]

    def list_grants(self, call: Call) -> Response:
        require_scope(call.grant, "read:client_grants")
        return json_response(
            200, self.grants.list(**query_arguments(call.request, LIST_PARAMETERS))
        )

    def get_grant(self, call: Call) -> Response:
        require_scope(call.grant, "read:client_grants")
        return json_response(200, self.grants.get(call.params["id"]))

    def create_grant(self, call: Call) -> Response:
        require_scope(call.grant, "create:client_grants")
        return json_response(201, self.grants.create(read_json(call.request)))

    def patch_grant(self, call: Call) -> Response:
        require_scope(call.grant, "update:client_grants")
        return json_response(200, self.grants.patch(call.params["id"], read_json(call.request)))

    def delete_grant(self, call: Call) -> Response:
        require_scope(call.grant, "delete:client_grants")
        self.grants.delete(call.params["id"])
        return no_content()
