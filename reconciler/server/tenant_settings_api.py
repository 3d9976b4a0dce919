"""``GET /api/v2/tenants/settings``: the tenant settings the embedded tenant holds.

Only ``client_id_metadata_document_supported`` (whether CIMD documents may be registered),
set with ``POST /__control/seed`` (``tenant_settings``). The scope is Auth0's
(``get-settings``): read:tenant_settings.
"""

from __future__ import annotations

from reconciler.server.auth import require_scope
from reconciler.server.messages import Response, json_response
from reconciler.server.routing import Call, Route
from reconciler.tenant.engine import Tenant

__all__ = ["TenantSettingsRoutes"]


class TenantSettingsRoutes:
    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant

    def routes(self) -> list[Route]:
        return [Route("GET", "/api/v2/tenants/settings", self.get_settings)]

    def get_settings(self, call: Call) -> Response:
        require_scope(call.grant, "read:tenant_settings")
        return json_response(200, self.tenant.tenant_settings())
