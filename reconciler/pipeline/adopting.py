"""The adopt and export use cases: apps of the registry written into manifests.

``adopt`` appends the entries of existing apps that no manifest manages to one manifest
file (made if missing), through ``manifests/edit.py``, so every line already there stays
as it was; each entry has ``client_id:``, so the next apply adopts the app, and says only
what differs from the defaults (``minimal_manifest_for``). A client id is refused, with
why, when no app of the registry has it, when it is the tenant's global client or the
management client reconciler signs in with, when a manifest declares it already, or when
another owner's stamp says another project manages it.

Keys cannot be adopted as files: Auth0 never answers a credential's key material, only
its name, kid and algorithm. A ``private_key_jwt`` app is adopted with its method and
without ``credentials``: its keys stay as they are, unmanaged (validate says so, as
``credentials-unmanaged``), until the entry lists the public keys' files.

``export`` writes a file per app into a folder; one that holds manifests is refused
unless ``merge``, and so is an app declared elsewhere in the project when the folder is
one of its manifest folders.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from reconciler.core.access import grants_by_client
from reconciler.core.model import App
from reconciler.diagnostics import Diagnostic
from reconciler.errors import ApiError, InputError
from reconciler.manifests.edit import write_manifest
from reconciler.manifests.evaluation import discover, errors_in_text
from reconciler.manifests.export import (
    Declared,
    Exported,
    app_key,
    append_apps,
    export_apps,
    minimal_manifest_for,
    new_manifest,
    schema_line_for,
    with_variables,
)
from reconciler.manifests.workspace import Workspace
from reconciler.pipeline.holdings import Holdings, read_holdings
from reconciler.pipeline.planning import connection_for, open_for
from reconciler.registries.base import Registry
from reconciler.registries.clients import ClientsRegistry

__all__ = ["Adopted", "adopt_apps", "export_workspace"]

_APP_KEY = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


@dataclass
class Adopted:
    """The manifest file's text before and after, the key each client id was given, what
    validate says of the file, and whether it was written."""

    path: Path
    before: str
    after: str
    keys: dict[str, str] = field(default_factory=dict)
    warnings: list[Diagnostic] = field(default_factory=list)
    written: bool = False

    def diff(self) -> str:
        lines = difflib.unified_diff(
            self.before.splitlines(keepends=True),
            self.after.splitlines(keepends=True),
            f"a/{self.path}",
            f"b/{self.path}",
        )
        return "".join(lines)


def adopt_apps(
    workspace: Workspace,
    client_ids: Sequence[str],
    into: Path,
    *,
    key: str | None = None,
    write: bool = True,
) -> Adopted:
    """Append an entry adopting each of ``client_ids`` to ``into``; ``key`` names the app
    of the one client id given (else each key is its name as a slug, unique in the
    project). Refused (InputError, every reason at once) before anything is written."""
    wanted = list(dict.fromkeys(client_ids))
    if key is not None and len(wanted) != 1:
        raise InputError(f"--key names one app: give one CLIENT_ID with it ({len(wanted)} given)")
    if key is not None and not _APP_KEY.match(key):
        raise InputError(f"--key {key!r} is not an app key (^[a-z0-9][a-z0-9._-]{{0,62}}$)")
    environment = workspace.environment()
    owner = environment.owner
    paths = [*workspace.manifest_paths, *([into] if into.is_file() else [])]
    declared = Declared.read(paths)
    holdings, unlisted = _read(workspace, wanted)
    by_id = {app.client_id: app for app in holdings.apps}
    grants = grants_by_client(holdings.grants)
    enabled: dict[str, list[str]] = {}
    for connection in holdings.connections:
        for client_id in connection.enabled_clients:
            enabled.setdefault(client_id, []).append(connection.name)
    refusals = [f"{client_id} {why}" for client_id, why in unlisted.items()]
    used = set(declared.keys)
    if key is not None and key in used:
        refusals.append(f"--key {key}: the key is declared already ({declared.keys[key]})")
    entries: dict[str, dict[str, object]] = {}
    keys: dict[str, str] = {}
    for client_id in wanted:
        app = by_id.get(client_id)
        if app is None:
            continue
        why = _why_not_adoptable(app, owner, declared)
        body = minimal_manifest_for(
            app,
            owner=owner,
            grants=grants.get(client_id, ()),
            connections=enabled.get(client_id, ()),
        )
        if why is None and body is None:
            why = (
                f"({app.fields.get('name')!s}) is of app type {app.fields.get('app_type')!r}, "
                "which no manifest type declares"
            )
        if why is not None or body is None:
            refusals.append(f"{client_id} {why}")
            continue
        app_name = key or app_key(app, owner, used)
        keys[client_id] = app_name
        entries[app_name] = with_variables(body, environment.variables.environment)
    if refusals:
        raise InputError("adopt refused:\n  " + "\n  ".join(refusals))
    before = into.read_text("utf-8") if into.is_file() else ""
    if into.is_file():
        after = append_apps(before, str(into), entries)
    else:
        directory = into.parent
        held = discover([directory]) if directory.is_dir() else []
        if write:
            directory.mkdir(parents=True, exist_ok=True)
        after = new_manifest(entries, schema_line_for(directory, held, write=write), into)
    adopted = Adopted(into, before, after, keys)
    refused = errors_in_text(after, str(into), environment.variables)
    if refused:
        raise InputError(
            f"adopt refused: {into} would not validate, so it is left as it was:\n  "
            + "\n  ".join(str(d) for d in refused)
        )
    if write:
        write_manifest(into, after)
        adopted.written = True
        checked = replace(workspace.options, paths=(into,), config=workspace.config.path)
        adopted.warnings = Workspace.open(checked).validate().diagnostics
    return adopted


def export_workspace(workspace: Workspace, out: Path, *, merge: bool = False) -> Exported:
    """Export every app of the registry into ``out`` (``export_apps``), the project's
    declared apps counted when ``out`` is one of its manifest folders."""
    environment = workspace.environment()
    registry = open_for(environment, connection_for(workspace, read_only=True))
    try:
        holdings = read_holdings(registry)
    finally:
        registry.close()
    inside = any(_under(out, root) for root in workspace.project_roots)
    declared = Declared.read(workspace.project_paths) if inside else Declared()
    return export_apps(
        holdings.apps,
        out,
        owner=environment.owner,
        grants=holdings.grants,
        connections=holdings.connections,
        variables=environment.variables.environment,
        declared=declared,
        merge=merge,
    )


def _read(workspace: Workspace, wanted: Sequence[str]) -> tuple[Holdings, dict[str, str]]:
    """What the registry holds, and why each wanted client id it does not list is not there."""
    registry = open_for(workspace.environment(), connection_for(workspace, read_only=True))
    try:
        holdings = read_holdings(registry)
        listed = {app.client_id for app in holdings.apps}
        unlisted = {
            client_id: _why_unlisted(registry, client_id)
            for client_id in wanted
            if client_id not in listed
        }
    finally:
        registry.close()
    return holdings, unlisted


def _why_unlisted(registry: Registry, client_id: str) -> str:
    if isinstance(registry, ClientsRegistry):
        if client_id in registry.hidden_client_ids:
            return "is the management client reconciler signs in with: it is never managed"
        try:
            client = registry.api.get_client(client_id)
        except ApiError as exc:
            if exc.status not in (400, 404):
                raise
        else:
            if client.get("global"):
                return "is the tenant's global client (All Applications): it is never managed"
    return f"is not in the registry ({registry.uri})"


def _why_not_adoptable(app: App, owner: str, declared: Declared) -> str | None:
    found = declared.key_of(app, owner)
    if found is not None:
        return f"is declared already, as {found} ({declared.keys[found]})"
    if app.stamp is not None and not app.owned_by(owner):
        return (
            f"is managed by owner {app.stamp.owner!r} (app key {app.stamp.key!r}): adopt "
            "declares only apps no project manages"
        )
    return None


def _under(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root.resolve())
