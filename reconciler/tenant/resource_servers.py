"""The embedded tenant's resource servers (APIs): what Auth0 accepts, fills in and answers.

Sources, cited in tests/registries/test_tenant_resource_servers.py:
- the body of POST /api/v2/resource-servers and its defaults: go-auth0's recording
  ``test/data/recordings/TestResourceServer_Create.yaml`` (201 with a 24-hex ``id``,
  ``allow_offline_access: false``, ``skip_consent_for_verifiable_first_party_clients:
  false``; DELETE answers 204);
- the members, the unique ``identifier`` ("Can not be changed once set") and the ``name``
  ("Can not contain < or > characters"): auth0-python ``management/resource_servers/
  raw_client.py`` and Auth0's reference page ``post-resource-servers``;
- a second API with the same identifier: 409 (auth0-python raises ``ConflictError`` for
  it); the list takes ``identifiers`` (repeatable, at most 10), ``page``, ``per_page``
  and ``include_totals`` and answers ``{resource_servers, start, limit, total}``.

The tenant's own Management API (a system API, ``is_system``) is not modelled.
"""

from __future__ import annotations

import secrets
from typing import Any

from reconciler.errors import ApiError
from reconciler.tenant.query import query_boolean, query_error, query_integer
from reconciler.tenant.schema import (
    FLAG,
    NONEMPTY_TEXT,
    JsonObject,
    Rule,
    array_rule,
    check,
    enum_rule,
    invalid_body,
    merge_patch,
    object_rule,
)
from reconciler.tenant.store import TenantStore

__all__ = ["ResourceServers"]

_MAX_IDENTIFIERS = 10
_NAME = Rule(type="string", min_length=1, pattern=r"^[^<>]+$")
_SCOPE = object_rule(
    {"value": NONEMPTY_TEXT, "description": Rule(type="string")}, required=("value",)
)
_LIFETIME = Rule(type="integer", minimum=0, maximum=2592000)
_MEMBERS: dict[str, Rule] = {
    "name": _NAME,
    "scopes": array_rule(_SCOPE),
    "signing_alg": enum_rule("HS256", "RS256", "RS512", "PS256"),
    "signing_secret": Rule(type="string", min_length=16),
    "allow_offline_access": FLAG,
    "token_lifetime": _LIFETIME,
    "token_lifetime_for_web": _LIFETIME,
    "skip_consent_for_verifiable_first_party_clients": FLAG,
    "enforce_policies": FLAG,
    "token_dialect": enum_rule(
        "access_token", "access_token_authz", "rfc9068_profile", "rfc9068_profile_authz"
    ),
}
_NEW = object_rule(
    {"identifier": Rule(type="string", min_length=1, max_length=600), **_MEMBERS},
    required=("identifier",),
)
_PATCH = object_rule(_MEMBERS)
_DEFAULTS: JsonObject = {
    "scopes": [],
    "signing_alg": "RS256",
    "allow_offline_access": False,
    "token_lifetime": 86400,
    "token_lifetime_for_web": 7200,
    "skip_consent_for_verifiable_first_party_clients": False,
}


class ResourceServers:
    """The /api/v2/resource-servers routes as methods, over the tenant's store."""

    def __init__(self, store: TenantStore) -> None:
        self._store = store

    def list(
        self,
        *,
        identifiers: str | list[str] | None = None,
        page: object = None,
        per_page: object = None,
        include_totals: object = None,
    ) -> JsonObject | list[JsonObject]:
        wanted = (identifiers,) if isinstance(identifiers, str) else tuple(identifiers or ())
        if len(wanted) > _MAX_IDENTIFIERS:
            raise query_error(
                f"Array is too long ({len(wanted)}), maximum {_MAX_IDENTIFIERS}", "identifiers"
            )
        first = query_integer(page, "page", default=0, minimum=0)
        size = query_integer(per_page, "per_page", default=50, minimum=1, maximum=100)
        totals = query_boolean(include_totals, "include_totals")
        with self._store.transaction(write=False) as rows:
            servers, total = rows.resource_servers(wanted, offset=first * size, limit=size)
        if totals is False:
            return servers
        return {"total": total, "start": first * size, "limit": size, "resource_servers": servers}

    def get(self, server_id: str) -> JsonObject:
        """By its ``id`` or by its ``identifier``, as Auth0's GET accepts either."""
        with self._store.transaction(write=False) as rows:
            return _require(rows.resource_server(server_id))

    def create(self, body: Any) -> JsonObject:
        check(body, _NEW)
        server = {"id": secrets.token_hex(12), "name": body["identifier"], **_DEFAULTS, **body}
        with self._store.transaction(write=True) as rows:
            if not rows.insert_resource_server(server):
                raise ApiError(
                    409,
                    "Conflict",
                    "A resource server with the same identifier already exists",
                    "conflict",
                )
        return server

    def patch(self, server_id: str, body: Any) -> JsonObject:
        if isinstance(body, dict) and "identifier" in body:
            raise invalid_body("Additional properties not allowed: identifier")
        check(body, _PATCH, patch=True)
        with self._store.transaction(write=True) as rows:
            current = _require(rows.resource_server(server_id))
            updated = merge_patch(current, body)
            rows.update_resource_server(updated)
        return updated

    def delete(self, server_id: str) -> None:
        """204 also for one that is gone, as for clients (for APIs no source says)."""
        with self._store.transaction(write=True) as rows:
            found = rows.resource_server(server_id)
            if found is not None:
                rows.delete_resource_server(str(found["id"]))


def _require(server: JsonObject | None) -> JsonObject:
    if server is None:
        raise ApiError(
            404, "Not Found", "The resource server does not exist", "inexistent_resource_server"
        )
    return server
