"""Registry -> manifests: one file per app, no secrets, no stamps.

An exported app written back by ``apply`` changes nothing: every owned field is written
with the value it has, so the type defaults never apply; unstamped apps carry their
``client_id`` so applying adopts them.

From a registry that holds client grants, an app's grants are its ``apis`` and the
connections enabled for it its ``connections``, each written only when the app has some:
left out, they are not managed, which plans no change on an app that has none, just as
``[]`` would, without claiming for Git what nobody declared (an m2m app with no API is
still warned of, as it can get a token for no API). The tenant's grants for every
third-party app go to ``third_party_apis.yaml``, a name no app key can take.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from reconciler.core.access import grants_by_client
from reconciler.core.fields import CIMD_MANIFEST_FIELDS, MANAGED_FIELDS, MANIFEST_TYPE_BY_APP_TYPE
from reconciler.core.model import CREDENTIAL_METHODS, App, Grant, LoginConnection
from reconciler.core.third_party import THIRD_PARTY_CLIENT_MEMBERS
from reconciler.manifests.lint import LEGACY_GRANTS

__all__ = ["SCHEMA_FILE", "THIRD_PARTY_FILE", "Exported", "export_apps", "manifest_for"]

#: Written beside the exported files, so the reference resolves offline and in editors.
SCHEMA_FILE = "manifest.schema.json"
#: Holds ``third_party_apis``; an app key has no underscore, so no app's file is named so.
THIRD_PARTY_FILE = "third_party_apis.yaml"
_SCHEMA_LINE = f"# yaml-language-server: $schema=./{SCHEMA_FILE}\n"
_THIRD_PARTY_CLIENTS = "third_party_clients"
_KEY_CHARACTERS = re.compile(r"[^a-z0-9._-]+")
#: Members never written: read-only ones, and keys an export cannot give (no public key
#: material is read back), which stay unmanaged as an app's ``credentials`` do.
_DROPPED_MEMBERS = {
    "jwt_configuration": {"secret_encoded"},
    "signed_request_object": {"credentials"},
}
_ORDER = ["client_id", "cimd", "name", "type", *MANAGED_FIELDS, "apis", "connections", "metadata"]


@dataclass(frozen=True)
class Exported:
    """What an export wrote: a file per app, the file of the tenant's grants for third-party
    apps (None: it has none), and why each app not written was skipped."""

    apps: list[Path] = field(default_factory=list)
    third_party_apis: Path | None = None
    skipped: list[str] = field(default_factory=list)

    @property
    def files(self) -> list[Path]:
        return [*self.apps, *([self.third_party_apis] if self.third_party_apis else [])]


def export_apps(
    apps: Sequence[App],
    directory: Path,
    *,
    owner: str,
    grants: Sequence[Grant] = (),
    connections: Sequence[LoginConnection] = (),
) -> Exported:
    """Write each app to ``directory/KEY.yaml``, the tenant's grants for third-party apps
    to ``THIRD_PARTY_FILE`` if it has any, and the manifest schema the files name beside
    them.

    ``grants`` and ``connections`` are every client grant and connection the registry
    holds (none from a registry that holds no grants)."""
    directory.mkdir(parents=True, exist_ok=True)
    schema = resources.files("reconciler.schemas").joinpath(SCHEMA_FILE).read_text("utf-8")
    (directory / SCHEMA_FILE).write_text(schema, encoding="utf-8")
    held = grants_by_client(grants)
    enabled = _enabled_connections(connections)
    written: list[Path] = []
    skipped: list[str] = []
    used: set[str] = set()
    for app in apps:
        body = manifest_for(
            app,
            owner=owner,
            grants=held.get(app.client_id, ()),
            connections=enabled.get(app.client_id, ()),
        )
        if body is None:
            skipped.append(
                f"{app.client_id} ({app.fields.get('name')!s}): app type "
                f"{app.fields.get('app_type')!r} has no manifest type; not exported"
            )
            continue
        key = _unique(_key_for(app, owner), used)
        path = directory / f"{key}.yaml"
        text = yaml.safe_dump({"apps": {key: body}}, sort_keys=False, allow_unicode=True, width=100)
        path.write_text(_SCHEMA_LINE + text, encoding="utf-8")
        written.append(path)
    third_party = [grant for grant in grants if grant.default_for == _THIRD_PARTY_CLIENTS]
    shared = _write_third_party(third_party, directory / THIRD_PARTY_FILE) if third_party else None
    return Exported(written, shared, skipped)


def manifest_for(
    app: App,
    *,
    owner: str,
    grants: Iterable[Grant] = (),
    connections: Iterable[str] = (),
) -> dict[str, Any] | None:
    """The manifest body that declares ``app`` exactly as it is (None if it cannot), with
    ``grants`` (the app's client grants) as its ``apis`` and ``connections`` (the names of
    those enabled for it), each only when there is one."""
    kind = MANIFEST_TYPE_BY_APP_TYPE.get(str(app.fields.get("app_type")))
    if kind is None and not app.is_cimd:
        return None
    body: dict[str, Any] = {}
    ours = app.owned_by(owner)
    # Credentials cannot be exported (Auth0 never answers their PEM): the app is adopted.
    with_credentials = app.fields.get("token_endpoint_auth_method") in CREDENTIAL_METHODS
    if not ours or with_credentials:
        body["client_id"] = app.client_id
    if app.is_cimd:
        body["cimd"] = app.external_client_id
    strict_third_party = (
        app.fields.get("is_first_party") is False
        and app.record.get("third_party_security_mode") != "permissive"
    )
    for name in MANAGED_FIELDS:
        value = app.fields.get(name)
        if value is None or name in ("credentials", "client_metadata"):
            continue
        if app.is_cimd and name not in CIMD_MANIFEST_FIELDS:
            continue
        if strict_third_party and name not in THIRD_PARTY_CLIENT_MEMBERS:
            continue  # a server default (cross_origin_authentication: false) nobody can set
        if name == "app_type":
            body["type"] = kind
        elif isinstance(value, dict):
            dropped = _DROPPED_MEMBERS.get(name, set())
            kept = {k: v for k, v in value.items() if k not in dropped and v is not None}
            if kept or not value:
                body[name] = kept
        else:
            body[name] = value
    apis = [_api_entry(grant) for grant in sorted(grants, key=lambda grant: grant.key)]
    if apis:
        body["apis"] = apis
    names = sorted(set(connections))
    if names:
        body["connections"] = names
    metadata = app.fields.get("client_metadata") or {}
    if metadata:
        body["metadata"] = dict(metadata)
    if set(body.get("grant_types", ())) & LEGACY_GRANTS:
        body["allow_legacy_grants"] = True
        body["legacy_grants_reason"] = "Exported with legacy grants in use: review before keeping."
    if app.stamp is not None and ours and app.stamp.protect:
        body["protect"] = True
    return {name: body[name] for name in sorted(body, key=_position)}


def _api_entry(grant: Grant) -> dict[str, Any]:
    """A grant as an ``apis`` entry: what it sets, and no default written out."""
    entry: dict[str, Any] = {"audience": grant.audience, "scopes": list(grant.scopes)}
    if grant.subject_type != "client":
        entry["subject_type"] = grant.subject_type
    if grant.organization_usage is not None:
        entry["organization_usage"] = grant.organization_usage
    if grant.allow_any_organization is not None:
        entry["allow_any_organization"] = grant.allow_any_organization
    return entry


def _enabled_connections(connections: Iterable[LoginConnection]) -> dict[str, list[str]]:
    """The names of the connections enabled for each client."""
    enabled: dict[str, list[str]] = {}
    for connection in connections:
        for client_id in connection.enabled_clients:
            enabled.setdefault(client_id, []).append(connection.name)
    return enabled


def _write_third_party(grants: Iterable[Grant], path: Path) -> Path:
    entries = [_api_entry(grant) for grant in sorted(grants, key=lambda grant: grant.key)]
    document = {"apps": {}, "third_party_apis": entries}
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    path.write_text(_SCHEMA_LINE + text, encoding="utf-8")
    return path


def _key_for(app: App, owner: str) -> str:
    if app.stamp is not None and app.owned_by(owner):
        return app.stamp.key
    name = str(app.fields.get("name") or app.client_id).lower()
    slug = _KEY_CHARACTERS.sub("-", name).strip("-._")[:50] or "app"
    return f"{slug}-{app.client_id[:8].lower()}"


def _unique(key: str, used: set[str]) -> str:
    candidate, number = key, 2
    while candidate in used:
        candidate, number = f"{key[:58]}-{number}", number + 1
    used.add(candidate)
    return candidate


def _position(name: str) -> int:
    return _ORDER.index(name) if name in _ORDER else len(_ORDER)
