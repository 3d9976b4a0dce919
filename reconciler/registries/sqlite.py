"""``sqlite:PATH``: the embedded registry, an Auth0-like tenant in one SQLite file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.errors import InputError
from reconciler.registries.clients import ClientsRegistry
from reconciler.tenant.engine import MEMORY, Tenant
from reconciler.tenant.seeding import Seeded, seed_tenant

__all__ = ["open_sqlite", "seed_sqlite"]

LOCK_WAIT_SECONDS = 5.0
#: How the embedded tenant's setting is turned on, as a plan that needs it says.
CIMD_SETTING_HINT = (
    "`reconciler registry seed` a file holding "
    "tenant_settings: {client_id_metadata_document_supported: true}"
)


def open_sqlite(
    uri: str, *, create: bool = True, lock_timeout: float | None = LOCK_WAIT_SECONDS
) -> ClientsRegistry:
    """The embedded registry in the file the URI names; ``create=False`` reads a missing
    file as an empty registry instead of creating it (a plan leaves no file behind).
    An apply waits up to ``lock_timeout`` for another one's lock (None: takes no lock)."""
    path = Path(uri.removeprefix("sqlite:"))
    tenant = Tenant(path if create or path.exists() else MEMORY)
    if lock_timeout is None:
        return ClientsRegistry(tenant, uri, cimd_setting_hint=CIMD_SETTING_HINT)
    wait = lock_timeout
    return ClientsRegistry(
        tenant, uri, lock=lambda: tenant.exclusive(wait), cimd_setting_hint=CIMD_SETTING_HINT
    )


def seed_sqlite(uri: str, document: Mapping[str, Any]) -> Seeded:
    """Load APIs, clients, grants and connections as they already exist elsewhere
    (``tenant/seeding.py``); ones the registry already has are kept as they are."""
    if not uri.startswith("sqlite:"):
        raise InputError(f"seeding needs the embedded registry (sqlite:PATH), not {uri!r}")
    tenant = Tenant(Path(uri.removeprefix("sqlite:")))
    try:
        with tenant.exclusive(LOCK_WAIT_SECONDS):
            return seed_tenant(tenant, dict(document), keep_existing=True)
    finally:
        tenant.close()
