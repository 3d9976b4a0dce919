"""The Management API scopes each operation needs, and the check that names, before a run
asks for anything, the ones its token lacks and what for.

The scopes are those Auth0's reference pages give the routes the backend calls
(``docs/api/management/v2/clients/*.mdx``, ``client-grants/*.mdx``, ``connections/*.mdx``,
``resource-servers/*.mdx``; go-auth0's ``reference.md``):

    operation         route                                  scope
    READ_APPS         GET /clients                           read:clients
    READ_KEYS         GET /clients/{id}/credentials          read:client_credentials
    READ_GRANTS       GET /client-grants                     read:client_grants
    READ_CONNECTIONS  GET /connections, .../{id}/clients     read:connections
    READ_APIS         GET /resource-servers                  read:resource_servers
    PREVIEW_CIMD      POST /clients/cimd/preview             read:clients
    READ_TENANT_SETTINGS GET /tenants/settings               read:tenant_settings
    LOCK              the lease (lease.py)                   the four *:resource_servers
    CREATE_APPS       POST /clients                          create:clients
    UPDATE_APPS       PATCH /clients/{id}                    update:clients
    DELETE_APPS       DELETE /clients/{id}                   delete:clients
    ADD_KEYS          POST .../credentials (or inline)       create:client_credentials
    SWITCH_KEYS       PATCH client_authentication_methods    update:client_credentials
    REMOVE_KEYS       DELETE .../credentials/{id}            delete:client_credentials
    DELIVER_SECRETS   GET /clients/{id}, else rotate-secret  read:client_keys or update:client_keys
    ROTATE_SECRETS    POST /clients/{id}/rotate-secret       update:client_keys
    REGISTER_CIMD     POST /clients/cimd/register (new)      create:clients
    REFRESH_CIMD      POST /clients/cimd/register (existing) update:clients
    CREATE_GRANTS     POST /client-grants                    create:client_grants
    UPDATE_GRANTS     PATCH /client-grants/{id}              update:client_grants
    DELETE_GRANTS     DELETE /client-grants/{id}             delete:client_grants
    LINK_CONNECTIONS  PATCH /connections/{id}/clients        update:connections

READ_KEYS matters beyond its route: without read:client_credentials (or read:client_keys)
Auth0 leaves ``client_authentication_methods`` out of every client it lists, so a
private_key_jwt app reads back as one without keys and every apply would add them again.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.registries.auth0.lease import LEASE_SCOPES
from reconciler.registries.base import Needs, Operation

__all__ = ["REQUIRED", "missing_scopes", "route_scope"]

#: Each operation's scopes: every group is needed; any one scope of a group will do.
REQUIRED: dict[Operation, tuple[tuple[str, ...], ...]] = {
    Operation.READ_APPS: (("read:clients",),),
    Operation.READ_KEYS: (("read:client_credentials",),),
    Operation.READ_GRANTS: (("read:client_grants",),),
    Operation.READ_CONNECTIONS: (("read:connections",),),
    Operation.READ_APIS: (("read:resource_servers",),),
    Operation.PREVIEW_CIMD: (("read:clients",),),
    Operation.READ_TENANT_SETTINGS: (("read:tenant_settings",),),
    Operation.LOCK: tuple((scope,) for scope in LEASE_SCOPES),
    Operation.CREATE_APPS: (("create:clients",),),
    Operation.UPDATE_APPS: (("update:clients",),),
    Operation.DELETE_APPS: (("delete:clients",),),
    Operation.ADD_KEYS: (("create:client_credentials",),),
    Operation.SWITCH_KEYS: (("update:client_credentials",),),
    Operation.REMOVE_KEYS: (("delete:client_credentials",),),
    Operation.DELIVER_SECRETS: (("read:client_keys", "update:client_keys"),),
    Operation.ROTATE_SECRETS: (("update:client_keys",),),
    Operation.REGISTER_CIMD: (("create:clients",),),
    Operation.REFRESH_CIMD: (("update:clients",),),
    Operation.CREATE_GRANTS: (("create:client_grants",),),
    Operation.UPDATE_GRANTS: (("update:client_grants",),),
    Operation.DELETE_GRANTS: (("delete:client_grants",),),
    Operation.LINK_CONNECTIONS: (("update:connections",),),
}
#: Why an operation's scope matters more than its route says.
_CONSEQUENCES = {
    Operation.READ_KEYS: (
        "without it Auth0 hides client_authentication_methods, so these apps would read "
        "back without their keys and every apply would add them again"
    ),
    Operation.LOCK: "or run with --no-lock",
}
_APPS_SHOWN = 5


def missing_scopes(granted: frozenset[str], needs: Needs) -> list[str]:
    """One line per scope (or choice of scopes) ``granted`` lacks for ``needs``: the
    scope, what for, and which apps need it, in the order of ``REQUIRED``."""
    lines: dict[str, list[str]] = {}
    for operation, groups in REQUIRED.items():
        if operation not in needs:
            continue
        for group in groups:
            if granted.intersection(group):
                continue
            scope = " or ".join(group)
            why = f"to {operation.value}{_apps(needs[operation])}"
            if operation in _CONSEQUENCES:
                why += f" ({_CONSEQUENCES[operation]})"
            lines.setdefault(scope, []).append(why)
    return [f"{scope}: {'; '.join(whys)}" for scope, whys in lines.items()]


def route_scope(method: str, path: str) -> str | None:
    """The scope a Management API route needs, for the hint on its 403."""
    if path.endswith("/cimd/preview"):
        return "read:clients"
    if path.endswith("/cimd/register"):
        return "create:clients (update:clients for an app registered before)"
    if path.endswith("/rotate-secret"):
        return "update:client_keys"
    verb = {"GET": "read", "POST": "create", "PATCH": "update", "DELETE": "delete"}.get(method)
    if "/credentials" in path:
        noun: str | None = "client_credentials"
    else:
        noun = next((noun for prefix, noun in _NOUNS if path.startswith(prefix)), None)
    return f"{verb}:{noun}" if verb and noun else None


_NOUNS = (
    ("/api/v2/resource-servers", "resource_servers"),
    ("/api/v2/client-grants", "client_grants"),
    ("/api/v2/connections", "connections"),
    ("/api/v2/tenants/settings", "tenant_settings"),
    ("/api/v2/clients", "clients"),
)


def _apps(keys: Sequence[str]) -> str:
    if not keys:
        return ""
    shown = ", ".join(sorted(keys)[:_APPS_SHOWN])
    more = len(keys) - _APPS_SHOWN
    return f" ({shown}{f' and {more} more' if more > 0 else ''})"
