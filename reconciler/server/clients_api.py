"""The /api/v2/clients routes: scopes, query strings and status codes around ``Tenant``.

What a client may be is the tenant's business (``Tenant`` raises Auth0's errors); this
module decides who may ask (scopes), what they may see of the answer (secrets only
with the keys scope) and how it goes over HTTP (status codes, query strings).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.errors import ApiError
from reconciler.server.auth import Grant, require_scope
from reconciler.server.messages import Request, Response, json_response, no_content, read_json
from reconciler.server.routing import Call, Route
from reconciler.tenant.engine import Tenant
from reconciler.tenant.rules import JsonObject

__all__ = ["ClientsRoutes", "query_arguments", "readable_client"]

#: GET /clients and GET /clients/{id} accept any of these.
READ_SCOPES = ("read:clients", "read:client_keys", "read:client_credentials", "read:client_summary")
SUMMARY_FIELDS = frozenset({"client_id", "app_type", "name", "description"})
KEY_FIELDS = frozenset({"client_secret", "encryption_key", "signing_keys"})
CREDENTIAL_FIELDS = frozenset({"client_authentication_methods"})
LIST_PARAMETERS = (
    "page",
    "per_page",
    "include_totals",
    "fields",
    "include_fields",
    "is_global",
    "is_first_party",
    "app_type",
    "external_client_id",
)
GET_PARAMETERS = ("fields", "include_fields")
CHECKPOINT_PARAMETERS = ("q", "from", "take")
#: PATCH members that need a scope beyond update:clients.
PATCH_FIELD_SCOPES = {
    "client_secret": "update:client_keys",
    "encryption_key": "update:client_keys",
    "client_authentication_methods": "update:client_credentials",
}


def readable_client(client: Mapping[str, Any], grant: Grant) -> JsonObject:
    """``client`` as a read with ``grant``'s scopes shows it: secrets need the keys scope."""
    if grant.has("read:client_keys"):
        return dict(client)
    credentials = grant.has("read:client_credentials")
    if not grant.has("read:clients"):
        shown = SUMMARY_FIELDS | (CREDENTIAL_FIELDS if credentials else frozenset())
        return {k: v for k, v in client.items() if k in shown}
    hidden = KEY_FIELDS | (frozenset() if credentials else CREDENTIAL_FIELDS)
    return {k: v for k, v in client.items() if k not in hidden}


class ClientsRoutes:
    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant

    def routes(self) -> list[Route]:
        clients = "/api/v2/clients"
        client = f"{clients}/{{client_id}}"
        credential = f"{client}/credentials/{{credential_id}}"
        return [
            Route("GET", clients, self.list_clients),
            Route("POST", clients, self.create_client),
            Route("GET", client, self.get_client),
            Route("PATCH", client, self.patch_client),
            Route("DELETE", client, self.delete_client),
            Route("POST", f"{client}/rotate-secret", self.rotate_secret),
            Route("GET", f"{client}/credentials", self.list_credentials),
            Route("POST", f"{client}/credentials", self.create_credential),
            Route("GET", credential, self.get_credential),
            Route("PATCH", credential, self.patch_credential),
            Route("DELETE", credential, self.delete_credential),
        ]

    # -- clients ------------------------------------------------------------------------------

    def list_clients(self, call: Call) -> Response:
        require_scope(call.grant, *READ_SCOPES)
        answer = self.tenant.list_clients(**query_arguments(call.request, LIST_PARAMETERS))
        if isinstance(answer, list):
            return json_response(200, [readable_client(c, call.grant) for c in answer])
        clients = [readable_client(c, call.grant) for c in answer["clients"]]
        return json_response(200, {**answer, "clients": clients})

    def get_client(self, call: Call) -> Response:
        require_scope(call.grant, *READ_SCOPES)
        client = self.tenant.get_client(
            call.params["client_id"], **query_arguments(call.request, GET_PARAMETERS)
        )
        return json_response(200, readable_client(client, call.grant))

    def create_client(self, call: Call) -> Response:
        require_scope(call.grant, "create:clients")
        body = read_json(call.request)
        if isinstance(body, dict) and "client_authentication_methods" in body:
            require_scope(call.grant, "create:client_credentials")
        return json_response(201, self.tenant.create_client(body))

    def patch_client(self, call: Call) -> Response:
        require_scope(call.grant, "update:clients")
        body = read_json(call.request)
        if isinstance(body, dict):
            _require_field_scopes(call.grant, body)
        return json_response(200, self.tenant.patch_client(call.params["client_id"], body))

    def delete_client(self, call: Call) -> Response:
        require_scope(call.grant, "delete:clients")
        self.tenant.delete_client(call.params["client_id"])
        return no_content()

    def rotate_secret(self, call: Call) -> Response:
        require_scope(call.grant, "update:client_keys")
        return json_response(200, self.tenant.rotate_secret(call.params["client_id"]))

    # -- credentials --------------------------------------------------------------------------

    def list_credentials(self, call: Call) -> Response:
        require_scope(call.grant, "read:client_credentials")
        return json_response(200, self.tenant.list_credentials(call.params["client_id"]))

    def create_credential(self, call: Call) -> Response:
        require_scope(call.grant, "create:client_credentials")
        body = read_json(call.request)
        return json_response(201, self.tenant.create_credential(call.params["client_id"], body))

    def get_credential(self, call: Call) -> Response:
        require_scope(call.grant, "read:client_credentials")
        credential = self.tenant.get_credential(
            call.params["client_id"], call.params["credential_id"]
        )
        return json_response(200, credential)

    def patch_credential(self, call: Call) -> Response:
        require_scope(call.grant, "update:client_credentials")
        body = read_json(call.request)
        credential = self.tenant.patch_credential(
            call.params["client_id"], call.params["credential_id"], body
        )
        return json_response(200, credential)

    def delete_credential(self, call: Call) -> Response:
        require_scope(call.grant, "delete:client_credentials")
        self.tenant.delete_credential(call.params["client_id"], call.params["credential_id"])
        return no_content()


def query_arguments(request: Request, allowed: tuple[str, ...]) -> dict[str, Any]:
    """The query string as the tenant's keyword arguments; a repeated parameter stays a
    list, so the tenant refuses it as Auth0's validator does (``found type array``)."""
    arguments: dict[str, Any] = {}
    for name, values in request.query_params().items():
        if name not in allowed:
            raise _query_error(_unknown_parameter(name, allowed))
        arguments[name] = values[0] if len(values) == 1 else values
    return arguments


def _unknown_parameter(name: str, allowed: tuple[str, ...]) -> str:
    if name in CHECKPOINT_PARAMETERS and allowed is LIST_PARAMETERS:
        return (
            f"{name} is not supported: the embedded registry does not search clients by "
            "client grant, so checkpoint pagination (q, from, take) is not served"
        )
    return f"Additional properties not allowed: {name}"


def _query_error(detail: str) -> ApiError:
    return ApiError(
        400, "Bad Request", f"Query validation error: '{detail}'.", "invalid_query_string"
    )


def _require_field_scopes(grant: Grant, body: Mapping[str, Any]) -> None:
    missing = sorted(
        {
            scope
            for name, scope in PATCH_FIELD_SCOPES.items()
            if name in body and not grant.has(scope)
        }
    )
    if missing:
        raise ApiError(
            403,
            "Forbidden",
            "Some fields cannot be updated with the permissions granted by the bearer token "
            f"scopes. The following scopes are needed: {', '.join(missing)}",
            "insufficient_scope",
        )
