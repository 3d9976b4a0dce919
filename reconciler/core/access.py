"""What must change for apps' access to match the manifests: their client grants (the
APIs they may call) and their login connections, as data for the planner.

Only what a manifest manages is compared: an app whose ``grants`` (or ``connections``)
is None keeps whatever the registry holds, and an organization member a wanted grant
leaves None is the registry's to decide.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from reconciler.core.model import (
    ApiGrant,
    App,
    Grant,
    LoginConnection,
    access_fields,
    project,
)

__all__ = [
    "GrantChanges",
    "GrantUpdate",
    "LinkChange",
    "diff_connection_links",
    "diff_grants",
    "grants_by_client",
    "group_grants",
    "with_access",
]


@dataclass(frozen=True)
class GrantUpdate:
    """A grant kept, with new scopes or organization members."""

    current: Grant
    wanted: ApiGrant

    @property
    def added_scopes(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.wanted.scopes) - set(self.current.scopes)))

    @property
    def removed_scopes(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.current.scopes) - set(self.wanted.scopes)))

    @property
    def organization_changes(self) -> tuple[str, ...]:
        """The organization members that change, by name."""
        return tuple(
            name
            for name in ("organization_usage", "allow_any_organization")
            if getattr(self.wanted, name) is not None
            and getattr(self.wanted, name) != getattr(self.current, name)
        )


@dataclass(frozen=True)
class GrantChanges:
    """One app's grants to create, update in place and delete, each sorted by key."""

    create: tuple[ApiGrant, ...] = ()
    update: tuple[GrantUpdate, ...] = ()
    delete: tuple[Grant, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.create or self.update or self.delete)


@dataclass(frozen=True)
class LinkChange:
    """The clients a connection is to be enabled and disabled for (sorted ids)."""

    connection: LoginConnection
    enable: tuple[str, ...] = ()
    disable: tuple[str, ...] = ()


def grants_by_client(grants: Iterable[Grant]) -> dict[str, list[Grant]]:
    """The grants of each client (a ``default_for`` group's grants are under no client)."""
    found: dict[str, list[Grant]] = defaultdict(list)
    for grant in grants:
        if grant.client_id is not None:
            found[grant.client_id].append(grant)
    return dict(found)


def group_grants(wanted: Mapping[str, Any], grants: Iterable[Grant], group: str) -> dict[str, Any]:
    """The tenant's grants for a group of apps (``default_for``) as ``wanted`` (an app's
    ``grants`` field, under ``grants``) would compare them: the planner's ``before``, and
    what a saved plan's is checked against."""
    held = [grant for grant in grants if grant.default_for == group]
    return project(wanted, access_fields(held, None))


def with_access(
    apps: Sequence[App], grants: Iterable[Grant], connections: Iterable[LoginConnection]
) -> list[App]:
    """The apps with what each may access as the fields ``grants`` and ``connections``,
    so that they are compared, fingerprinted and shown as the client's own fields are."""
    held = grants_by_client(grants)
    enabled: dict[str, list[str]] = defaultdict(list)
    for connection in connections:
        for client_id in connection.enabled_clients:
            enabled[client_id].append(connection.name)
    return [
        replace(
            app,
            fields={
                **app.fields,
                **access_fields(held.get(app.client_id, ()), enabled.get(app.client_id, ())),
            },
        )
        for app in apps
    ]


def diff_grants(wanted: Sequence[ApiGrant], current: Sequence[Grant]) -> GrantChanges:
    """The changes that make ``current`` (one grantee's grants) be ``wanted``, matched by
    (audience, subject type): Auth0 cannot change either, so another audience is a
    delete and a create, never an update."""
    held = {grant.key: grant for grant in current}
    asked = {grant.key: grant for grant in wanted}
    updates = []
    for key in sorted(asked.keys() & held.keys()):
        update = GrantUpdate(held[key], asked[key])
        if update.added_scopes or update.removed_scopes or update.organization_changes:
            updates.append(update)
    return GrantChanges(
        create=tuple(asked[key] for key in sorted(asked.keys() - held.keys())),
        update=tuple(updates),
        delete=tuple(held[key] for key in sorted(held.keys() - asked.keys())),
    )


def diff_connection_links(
    wanted: Mapping[str, Iterable[str]], connections: Sequence[LoginConnection]
) -> list[LinkChange]:
    """For each client id in ``wanted`` (the apps that manage their connections, with
    the names they want), the connections to enable it for and those to disable it for,
    one change per connection, sorted by connection name. A name the registry lacks is
    left to ``references.check_references`` to report."""
    names = {client_id: set(wanted_names) for client_id, wanted_names in wanted.items()}
    changes = []
    for connection in sorted(connections, key=lambda c: c.name):
        enabled = set(connection.enabled_clients)
        enable = sorted(c for c, n in names.items() if connection.name in n and c not in enabled)
        disable = sorted(c for c, n in names.items() if connection.name not in n and c in enabled)
        if enable or disable:
            changes.append(LinkChange(connection, tuple(enable), tuple(disable)))
    return changes
