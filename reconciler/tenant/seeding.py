"""Seeding: a tenant's things as they already exist elsewhere, loaded in one call.

A seed document holds any of ``resource_servers``, ``clients``, ``client_grants`` and
``connections`` (each a list of Auth0 objects), loaded in that order so a grant can name
a seeded client (by its ``client_id``) and a seeded API (by its ``identifier``), and a
connection its ``enabled_clients``. Each object is checked as Auth0 checks a create; a
problem names the object at fault (``client_grants[2]: ...``). ``tenant_settings`` (an
object) sets the tenant settings the tenant holds, first: for instance
``{"client_id_metadata_document_supported": true}`` lets it register CIMD documents.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import ApiError
from reconciler.tenant.engine import Tenant
from reconciler.tenant.grants import grantee_of
from reconciler.tenant.schema import JsonObject, invalid_body, json_type

__all__ = ["SEED_KINDS", "SETTINGS", "Seeded", "seed_tenant"]

SEED_KINDS = ("resource_servers", "clients", "client_grants", "connections")
SETTINGS = "tenant_settings"


@dataclass
class Seeded:
    """What a seed added, and what it kept because the tenant already had it, by kind."""

    added: dict[str, list[JsonObject]] = field(default_factory=dict)
    kept: dict[str, list[str]] = field(default_factory=dict)
    #: The tenant settings as the seed left them; None when it set none.
    settings: JsonObject | None = None


def seed_tenant(tenant: Tenant, document: object, *, keep_existing: bool) -> Seeded:
    """Load ``document`` into ``tenant``. With ``keep_existing``, an object the tenant has
    (same client_id, API identifier, grant for the same client and audience, connection
    name) is kept as it is; without, it is refused as a create would be (409)."""
    if not isinstance(document, dict):
        raise invalid_body(f"Expected type object but found type {json_type(document)}")
    unknown = sorted(set(document) - set(SEED_KINDS) - {"description", SETTINGS})
    if unknown:
        raise invalid_body(f"Additional properties not allowed: {unknown[0]}")
    for kind in SEED_KINDS:
        if kind in document and not isinstance(document[kind], list):
            found = json_type(document[kind])
            raise invalid_body(f"Expected type array but found type {found}", kind)
    existing = _existing(tenant) if keep_existing else {kind: set() for kind in SEED_KINDS}
    creators: dict[str, Callable[[Any], JsonObject]] = {
        "resource_servers": tenant.resource_servers.create,
        "clients": tenant.seed_client,
        "client_grants": tenant.client_grants.create,
        "connections": tenant.connections.create,
    }
    seeded = Seeded()
    if SETTINGS in document:
        try:
            seeded.settings = tenant.update_tenant_settings(document[SETTINGS])
        except ApiError as exc:
            raise ApiError(
                exc.status, exc.error, f"{SETTINGS}: {exc.message}", exc.error_code
            ) from exc
    for kind in SEED_KINDS:
        added = seeded.added.setdefault(kind, [])
        kept = seeded.kept.setdefault(kind, [])
        for index, item in enumerate(document.get(kind, [])):
            key = _key(kind, item)
            if key is not None and key in existing[kind]:
                kept.append(key)
                continue
            try:
                added.append(creators[kind](item))
            except ApiError as exc:
                raise ApiError(
                    exc.status, exc.error, f"{kind}[{index}]: {exc.message}", exc.error_code
                ) from exc
    return seeded


def _key(kind: str, item: object) -> str | None:
    """What makes a seeded object the same as one the tenant has."""
    if not isinstance(item, Mapping):
        return None
    if kind == "client_grants":
        if "audience" not in item or ("client_id" not in item and "default_for" not in item):
            return None
        return f"{grantee_of(dict(item))} {item['audience']} {item.get('subject_type', 'client')}"
    name = {"resource_servers": "identifier", "clients": "client_id", "connections": "name"}
    value = item.get(name[kind])
    return value if isinstance(value, str) else None


def _existing(tenant: Tenant) -> dict[str, set[str]]:
    clients = {str(c["client_id"]) for c in tenant.all_clients(include_global=True)}
    return {
        "resource_servers": {str(s["identifier"]) for s in _every(tenant.resource_servers.list)},
        "clients": clients,
        "client_grants": {str(_key("client_grants", g)) for g in _every(tenant.client_grants.list)},
        "connections": {str(c["name"]) for c in _every(tenant.connections.list)},
    }


def _every(list_page: Callable[..., JsonObject | list[JsonObject]]) -> list[JsonObject]:
    """Every item of an offset-paged list, page by page."""
    found: list[JsonObject] = []
    page = 0
    while True:
        answer = list_page(page=page, per_page=100, include_totals=False)
        items = answer if isinstance(answer, list) else []
        found += items
        if len(items) < 100:
            return found
        page += 1
