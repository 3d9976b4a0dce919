"""The embedded tenant's client grants: which client may get tokens for which API, with
which scopes. What Auth0 accepts, fills in and answers.

Sources, cited again in tests/tenant/test_grants.py:
- the body and answer of POST /api/v2/client-grants (201, ``id`` ``cgr_`` and 16
  letters or digits, the answer echoing only what was set) and DELETE (204): go-auth0's
  recording ``test/data/recordings/TestClientGrantManager_Create.yaml``;
- the members (``client_id`` or ``default_for: third_party_clients``, ``audience``,
  ``scope`` items of 1 to 280 characters, ``organization_usage`` deny|allow|require,
  ``allow_any_organization``, ``subject_type`` client|user): Auth0's reference page
  ``create-client-grant`` and auth0-python ``types/client_grant_response_content.py``;
- the list's filters and its checkpoint paging ``from``/``take`` answering
  ``{client_grants, next}``: auth0-python ``management/client_grants/client.py``;
- PATCH changes only scope, organization_usage and allow_any_organization (audience,
  client_id, subject_type and default_for are immutable); one grant per client,
  audience and subject type; deleting a client deletes its grants:
  ``shared/reference/auth0-fidelity.md`` section 7 (Auth0's docs, deploy-cli
  ``handlers/clientGrants.ts:70``).

Two readings are stricter than some sources: a grant's scopes must be scopes its API
defines (Auth0's Dashboard offers only those; a third-party emulator says the API takes
any), and the 409 wording ``Client grant already exists`` is that emulator's, not a
recorded answer.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from reconciler.errors import ApiError
from reconciler.tenant.paging import paged_answer, parse_paging
from reconciler.tenant.query import query_error, query_text
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
from reconciler.tenant.store import TenantRows, TenantStore

__all__ = ["THIRD_PARTY_CLIENTS", "ClientGrants", "grantee_of"]

THIRD_PARTY_CLIENTS = "third_party_clients"
_ID_ALPHABET = string.ascii_letters + string.digits
_SCOPES = array_rule(Rule(type="string", min_length=1, max_length=280))
_MUTABLE: dict[str, Rule] = {
    "scope": _SCOPES,
    "organization_usage": enum_rule("deny", "allow", "require"),
    "allow_any_organization": FLAG,
}
_IMMUTABLE = ("audience", "client_id", "subject_type", "default_for")
_NEW = object_rule(
    {
        "client_id": NONEMPTY_TEXT,
        "default_for": enum_rule(THIRD_PARTY_CLIENTS),
        "audience": Rule(type="string", min_length=1),
        "subject_type": enum_rule("client", "user"),
        **_MUTABLE,
    },
    required=("audience", "scope"),
)
_PATCH = object_rule(_MUTABLE)
#: The list's filters, by the column each one selects.
_FILTER_COLUMNS = {"audience": "audience", "subject_type": "subject_type"}


def grantee_of(grant: JsonObject) -> str:
    """Who a grant is for, as the store keys it: a client id, or the default group."""
    default_for = grant.get("default_for")
    return f"default_for:{default_for}" if default_for else str(grant["client_id"])


class ClientGrants:
    """The /api/v2/client-grants routes as methods, over the tenant's store."""

    def __init__(self, store: TenantStore) -> None:
        self._store = store

    def list(
        self,
        *,
        audience: object = None,
        client_id: object = None,
        subject_type: object = None,
        default_for: object = None,
        page: object = None,
        per_page: object = None,
        include_totals: object = None,
        take: object = None,
        **checkpoint: object,
    ) -> JsonObject | list[JsonObject]:
        """A page of grants in creation order; ``from`` (a Python keyword) comes in
        ``checkpoint``."""
        paging = parse_paging(
            page=page,
            per_page=per_page,
            include_totals=include_totals,
            from_=checkpoint.pop("from", None),
            take=take,
        )
        for name in checkpoint:
            raise query_error(f"Additional properties not allowed: {name}", name)
        filters: dict[str, str] = {}
        for name, value in (("audience", audience), ("subject_type", subject_type)):
            text = query_text(value, name)
            if text is not None:
                filters[_FILTER_COLUMNS[name]] = text
        client = query_text(client_id, "client_id")
        group = query_text(default_for, "default_for")
        if client is not None and group is not None:
            raise query_error("client_id and default_for cannot be combined", "client_id")
        if client is not None:
            filters["grantee"] = client
        if group is not None:
            filters["grantee"] = f"default_for:{group}"
        with self._store.transaction(write=False) as rows:
            found, total = rows.client_grants(
                filters,
                after=paging.after,
                offset=paging.offset,
                limit=paging.limit + int(paging.checkpoint),
            )
        return paged_answer("client_grants", found, total, paging)

    def get(self, grant_id: str) -> JsonObject:
        with self._store.transaction(write=False) as rows:
            return _require(rows.client_grant(grant_id))

    def create(self, body: Any) -> JsonObject:
        check(body, _NEW)
        if ("client_id" in body) == ("default_for" in body):
            raise invalid_body("Exactly one of client_id and default_for is required")
        grant: JsonObject = {"id": "cgr_" + _random_id(), **body}
        subject_type = str(body.get("subject_type", "client"))
        with self._store.transaction(write=True) as rows:
            if "client_id" in body and rows.client(body["client_id"]) is None:
                raise ApiError(404, "Not Found", "The client does not exist", "inexistent_client")
            _check_scopes(rows, body["audience"], body["scope"])
            if not rows.insert_client_grant(grantee_of(grant), subject_type, grant):
                raise ApiError(
                    409, "Conflict", "Client grant already exists", "client_grant_conflict"
                )
        return grant

    def patch(self, grant_id: str, body: Any) -> JsonObject:
        if isinstance(body, dict):
            for name in _IMMUTABLE:
                if name in body:
                    raise invalid_body(f"Additional properties not allowed: {name}")
        check(body, _PATCH, patch=True)
        with self._store.transaction(write=True) as rows:
            current = _require(rows.client_grant(grant_id))
            updated = merge_patch(current, body)
            _check_scopes(rows, str(updated["audience"]), updated.get("scope") or [])
            rows.update_client_grant(updated)
        return updated

    def delete(self, grant_id: str) -> None:
        """204 also for one that is gone, as for clients."""
        with self._store.transaction(write=True) as rows:
            rows.delete_client_grant(grant_id)

    def for_client(self, client_id: str, audience: str) -> JsonObject | None:
        """The client's grant (subject type ``client``) for ``audience``, if any."""
        with self._store.transaction(write=False) as rows:
            return rows.client_grant_for(client_id, audience, "client")


def _check_scopes(rows: TenantRows, audience: str, scopes: list[str]) -> None:
    """The audience must be an API of the tenant, and every scope one it defines."""
    server = rows.resource_server(audience)
    if server is None or server.get("identifier") != audience:
        raise ApiError(
            404,
            "Not Found",
            f"No resource server with identifier {audience}",
            "inexistent_resource_server",
        )
    defined = {scope.get("value") for scope in server.get("scopes") or []}
    undefined = [scope for scope in scopes if scope not in defined]
    if undefined:
        raise invalid_body(
            f"Scopes not defined by the resource server {audience}: {', '.join(undefined)}",
            "scope",
        )
    if len(set(scopes)) != len(scopes):
        raise invalid_body("Array items are not unique", "scope")


def _random_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))


def _require(grant: JsonObject | None) -> JsonObject:
    if grant is None:
        raise ApiError(
            404, "Not Found", "The client grant does not exist", "inexistent_client_grant"
        )
    return grant
