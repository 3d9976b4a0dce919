"""What a registry holds, read once per run: its apps and, where it holds them, the client
grants and connections that say what each app may access."""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.core.access import with_access
from reconciler.core.collector import collector_paused
from reconciler.core.model import App, Grant, LoginConnection
from reconciler.registries.base import HoldsGrants, Registry

__all__ = ["Holdings", "read_holdings"]


@dataclass(frozen=True)
class Holdings:
    """The apps, each with its ``grants`` and ``connections`` fields when the registry
    holds grants; the grants and connections themselves, for the writes that need ids."""

    apps: list[App]
    grants: list[Grant] = field(default_factory=list)
    connections: list[LoginConnection] = field(default_factory=list)
    holds_access: bool = False


def read_holdings(registry: Registry) -> Holdings:
    """Every app, then every grant and every connection, each in one paged pass.

    The grants are read even when no manifest names one, so that an app's fingerprint
    (which a saved plan is checked against) always covers what it may access.
    """
    with collector_paused():
        apps = registry.list_apps()
        if not isinstance(registry, HoldsGrants):
            return Holdings(apps)
        grants = registry.list_grants()
        connections = registry.list_connections()
    return Holdings(with_access(apps, grants, connections), grants, connections, True)
