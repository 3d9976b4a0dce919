"""What a registry holds, read once per run: its apps and, where it holds them, the client
grants and connections that say what each app may access."""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.core.access import with_access
from reconciler.core.collector import collector_paused
from reconciler.core.model import App, Grant, LoginConnection
from reconciler.errors import ApiError
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


def read_holdings(registry: Registry, *, needs_access: bool = True) -> Holdings:
    """Every app, then every grant and every connection, each in one paged pass.

    The grants are read even when no manifest names one, so that an app's fingerprint
    (which a saved plan is checked against) covers what it may access. A run that does
    not ``need_access`` (no manifest manages grants or connections) goes on without them
    when the registry refuses them to these credentials (a token without
    read:client_grants or read:connections, as tokens made before grants were managed).
    """
    with collector_paused():
        apps = registry.list_apps()
        if not isinstance(registry, HoldsGrants):
            return Holdings(apps)
        try:
            grants = registry.list_grants()
            connections = registry.list_connections()
        except ApiError as exc:
            if exc.status != 403 or needs_access:
                raise
            return Holdings(apps)
    return Holdings(with_access(apps, grants, connections), grants, connections, True)
