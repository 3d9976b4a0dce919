"""What apps may access, written beside their clients: client grants, and the apps each
login connection is enabled for.

An app's grants are written right after its client (a new app's need its client id),
with only their mutable members, and deleted before it; connection links are queued and
sent at the end of each kind of change, so that a run that creates 200 apps enables a
connection for them in batches (Auth0 takes 50 clients a request) rather than one by one.
What is to be written is worked out against what the registry holds now, read once
under the apply's lock, so a grant is never created twice nor a scope lost to a stale
plan (a saved plan whose grants changed is refused as stale before this runs).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.core.access import diff_grants, grants_by_client
from reconciler.core.changes import Change
from reconciler.core.model import Grant, LoginConnection, grants_from_view
from reconciler.errors import RegistryError
from reconciler.registries.base import HoldsGrants, Registry

__all__ = ["AccessWriter", "LinkFailure"]


@dataclass(frozen=True)
class LinkFailure:
    """Connection links that could not be written, and the changes that asked for them."""

    changes: tuple[Change, ...]
    error: str
    persists: bool = False


@dataclass
class AccessWriter:
    """Writes grants and connection links for one apply, from many threads."""

    registry: Registry
    #: What the registry holds now; None: read it the first time it is needed.
    grants: Sequence[Grant] | None = None
    connections: Sequence[LoginConnection] | None = None
    _by_client: dict[str, list[Grant]] = field(init=False, default_factory=dict)
    _by_group: dict[str, list[Grant]] = field(init=False, default_factory=dict)
    _by_name: dict[str, LoginConnection] = field(init=False, default_factory=dict)
    _queued: dict[str, dict[str, tuple[bool, Change]]] = field(
        init=False, default_factory=lambda: defaultdict(dict)
    )
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _read: bool = field(init=False, default=False)

    def write(self, change: Change, client_id: str, after: Mapping[str, Any]) -> None:
        """Make the registry's grants and links of ``client_id`` what ``after`` says, for
        the fields it holds (an app that does not manage its grants keeps them)."""
        if "grants" not in after and "connections" not in after:
            return
        self._holder()
        if "grants" in after:
            held = self._by_client.get(client_id, [])
            self._by_client[client_id] = self._converge(after, held, client_id=client_id)
        if "connections" in after:
            self._queue_links(change, client_id, set(after["connections"]))

    def write_group(self, group: str, after: Mapping[str, Any]) -> None:
        """Make the tenant's grants for a group of apps (``default_for``) what ``after``
        says, as ``write`` does an app's."""
        self._holder()
        held = self._by_group.get(group, [])
        self._by_group[group] = self._converge(after, held, default_for=group)

    def _converge(
        self,
        after: Mapping[str, Any],
        held: Sequence[Grant],
        *,
        client_id: str | None = None,
        default_for: str | None = None,
    ) -> list[Grant]:
        """Delete, update in place, then create, so that ``held`` becomes the ``grants``
        of ``after``; return the grants the grantee now has."""
        holder = self._holder()
        found = diff_grants(grants_from_view(after["grants"]), held)
        for grant in found.delete:
            holder.delete_grant(grant)
        updated = [holder.update_grant(u.current, u.wanted) for u in found.update]
        created = [
            holder.create_grant(grant, client_id=client_id, default_for=default_for)
            for grant in found.create
        ]
        changed = {grant.id for grant in found.delete} | {u.current.id for u in found.update}
        return [*(g for g in held if g.id not in changed), *updated, *created]

    def before_delete(self, client_id: str) -> None:
        """Remove the grants of an app about to be deleted, so none outlives it."""
        if not isinstance(self.registry, HoldsGrants):
            return
        holder = self._holder()
        for grant in self._by_client.pop(client_id, []):
            holder.delete_grant(grant)

    def flush(self) -> list[LinkFailure]:
        """Send the queued connection links, each connection's in as few requests as the
        registry allows; say which changes' links failed."""
        with self._lock:
            queued, self._queued = self._queued, defaultdict(dict)
        failures = []
        for name, links in sorted(queued.items()):
            connection = self._by_name[name]
            enable = sorted(client for client, (on, _) in links.items() if on)
            disable = sorted(client for client, (on, _) in links.items() if not on)
            try:
                self._holder().update_connection_clients(connection, enable=enable, disable=disable)
            except RegistryError as exc:
                changes = tuple(dict.fromkeys(change for _, change in links.values()))
                failures.append(
                    LinkFailure(changes, f"connection {name}: {exc}", persists=exc.persists)
                )
                continue
            clients = (set(connection.enabled_clients) | set(enable)) - set(disable)
            self._by_name[name] = LoginConnection(connection.id, name, tuple(sorted(clients)))
        return failures

    def _queue_links(self, change: Change, client_id: str, wanted: set[str]) -> None:
        missing = sorted(wanted - self._by_name.keys())
        if missing:
            raise RegistryError(
                f"{self.registry.uri} has no connection {', '.join(missing)}: plan again"
            )
        with self._lock:
            for name, connection in self._by_name.items():
                enabled = client_id in connection.enabled_clients
                if (name in wanted) != enabled:
                    self._queued[name][client_id] = (name in wanted, change)

    def _holder(self) -> HoldsGrants:
        registry = self.registry
        if not isinstance(registry, HoldsGrants):
            raise RegistryError(f"{registry.uri} holds no client grants or connections")
        with self._lock:
            if not self._read:
                grants = self.grants if self.grants is not None else registry.list_grants()
                connections = (
                    self.connections
                    if self.connections is not None
                    else registry.list_connections()
                )
                self._by_client = grants_by_client(grants)
                for grant in grants:
                    if grant.default_for is not None:
                        self._by_group.setdefault(grant.default_for, []).append(grant)
                self._by_name = {c.name: c for c in connections}
                self._read = True
        return registry
