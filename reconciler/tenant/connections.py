"""The embedded tenant's connections (how users log in) and the clients each one is
enabled for. What Auth0 accepts and answers.

Sources, cited again in tests/tenant/test_connections.py:
- ``GET /api/v2/connections`` pages by checkpoint (``from``/``take``, answering
  ``{connections, next}``) or by offset (``page``/``per_page``/``include_totals``) and
  filters by ``strategy`` and ``name``: auth0-python ``management/connections/client.py``
  ("This endpoint supports two types of pagination") and
  ``types/list_connections_checkpoint_paginated_response_content.py``;
- ``GET /api/v2/connections/{id}/clients`` answers ``{clients: [{client_id}], next}``
  with ``from``/``take`` (default 50): ``management/connections/clients/client.py`` and
  ``types/get_connection_enabled_clients_response_content.py``;
- ``PATCH /api/v2/connections/{id}/clients`` takes a list of ``{client_id, status}``,
  at most 50 (``types/update_enabled_client_connections_request_content_item.py``;
  ``shared/reference/auth0-fidelity.md``, "Ranked: biggest missing capabilities" 2) and
  answers 204;
- a connection's ``name`` ("^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$", at most 128) and
  its ``con_`` id: Auth0's reference page ``post-connections``.

Connections are made by seeding (``reconciler registry seed``, ``/__control/seed``):
serve has no POST /connections.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from reconciler.errors import ApiError
from reconciler.tenant.paging import next_token, paged_answer, parse_paging
from reconciler.tenant.query import parse_projection, query_text
from reconciler.tenant.schema import (
    FLAG,
    NONEMPTY_TEXT,
    JsonObject,
    Rule,
    array_rule,
    check,
    object_rule,
)
from reconciler.tenant.store import TenantRows, TenantStore

__all__ = ["MAX_CLIENTS_PER_PATCH", "Connections"]

MAX_CLIENTS_PER_PATCH = 50
_ID_ALPHABET = string.ascii_letters + string.digits
_NEW = object_rule(
    {
        "name": Rule(
            type="string",
            min_length=1,
            max_length=128,
            pattern=r"^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$",
        ),
        "strategy": NONEMPTY_TEXT,
        "display_name": Rule(type="string"),
        "options": Rule(type="object"),
        "enabled_clients": array_rule(NONEMPTY_TEXT),
    },
    required=("name", "strategy"),
)
_CLIENT_STATUS = object_rule(
    {"client_id": NONEMPTY_TEXT, "status": FLAG}, required=("client_id", "status")
)
_CLIENT_STATUSES = array_rule(_CLIENT_STATUS, min_items=1)


class Connections:
    """The /api/v2/connections routes serve answers, as methods over the tenant's store."""

    def __init__(self, store: TenantStore) -> None:
        self._store = store

    def list(
        self,
        *,
        name: object = None,
        strategy: object = None,
        fields: object = None,
        include_fields: object = None,
        page: object = None,
        per_page: object = None,
        include_totals: object = None,
        take: object = None,
        **checkpoint: object,
    ) -> JsonObject | list[JsonObject]:
        """A page of connections in creation order; ``from`` comes in ``checkpoint``."""
        paging = parse_paging(
            page=page,
            per_page=per_page,
            include_totals=include_totals,
            from_=checkpoint.pop("from", None),
            take=take,
        )
        projection = parse_projection(fields, include_fields)
        filters: dict[str, str] = {}
        for column, value in (("name", name), ("strategy", strategy)):
            text = query_text(value, column)
            if text is not None:
                filters[column] = text
        with self._store.transaction(write=False) as rows:
            found, total = rows.connections(
                filters,
                after=paging.after,
                offset=paging.offset,
                limit=paging.limit + int(paging.checkpoint),
            )
        if projection is not None:
            found = [(seq, projection.apply(connection)) for seq, connection in found]
        return paged_answer("connections", found, total, paging)

    def get(self, connection_id: str) -> JsonObject:
        with self._store.transaction(write=False) as rows:
            return _require(rows, connection_id)

    def create(self, body: Any) -> JsonObject:
        """A connection as it exists in the tenant, with the clients it is enabled for."""
        check(body, _NEW)
        fields = {k: v for k, v in body.items() if k != "enabled_clients"}
        connection: JsonObject = {"id": "con_" + _random_id(), "options": {}, **fields}
        connection.setdefault("realms", [connection["name"]])
        with self._store.transaction(write=True) as rows:
            if not rows.insert_connection(connection):
                raise ApiError(
                    409, "Conflict", "A connection with the same name already exists", "conflict"
                )
            for client_id in body.get("enabled_clients", []):
                _require_client(rows, client_id)
                rows.enable_client(connection["id"], client_id)
        return connection

    def clients(
        self, connection_id: str, *, take: object = None, **checkpoint: object
    ) -> JsonObject:
        """The clients the connection is enabled for, by checkpoint (``from``, ``take``)."""
        paging = parse_paging(
            page=None,
            per_page=None,
            include_totals=None,
            from_=checkpoint.pop("from", None),
            take=take if take is not None else 50,
        )
        with self._store.transaction(write=False) as rows:
            _require(rows, connection_id)
            enabled = rows.connection_clients(
                connection_id, after=paging.after, limit=paging.limit + 1
            )
        page = enabled[: paging.limit]
        answer: JsonObject = {"clients": [{"client_id": client_id} for _, client_id in page]}
        if len(enabled) > paging.limit:
            answer["next"] = next_token(page[-1][0])
        return answer

    def update_clients(self, connection_id: str, body: Any) -> None:
        """Enable (``status: true``) or disable each listed client; at most 50 a request."""
        check(body, _CLIENT_STATUSES)
        if len(body) > MAX_CLIENTS_PER_PATCH:
            raise ApiError(
                400,
                "Bad Request",
                f"Payload validation error: 'Array is too long ({len(body)}), maximum "
                f"{MAX_CLIENTS_PER_PATCH}'.",
                "invalid_body",
            )
        with self._store.transaction(write=True) as rows:
            _require(rows, connection_id)
            for change in body:
                if change["status"]:
                    _require_client(rows, change["client_id"])
                    rows.enable_client(connection_id, change["client_id"])
                else:
                    rows.disable_client(connection_id, change["client_id"])


def _random_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))


def _require(rows: TenantRows, connection_id: str) -> JsonObject:
    connection = rows.connection(connection_id)
    if connection is None:
        raise ApiError(404, "Not Found", "The connection does not exist", "inexistent_connection")
    return connection


def _require_client(rows: TenantRows, client_id: str) -> None:
    if rows.client(client_id) is None:
        raise ApiError(404, "Not Found", "The client does not exist", "inexistent_client")
