"""Registry -> manifests: one file per app, no secrets, no stamps.

An exported app written back by ``apply`` changes nothing: every owned field is written
with the value it has, so the type defaults never apply; unstamped apps carry their
``client_id`` so applying adopts them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from reconciler.core.fields import CIMD_MANIFEST_FIELDS, MANAGED_FIELDS, MANIFEST_TYPE_BY_APP_TYPE
from reconciler.core.model import App
from reconciler.manifests.lint import LEGACY_GRANTS

__all__ = ["SCHEMA_FILE", "export_apps", "manifest_for"]

#: Written beside the exported files, so the reference resolves offline and in editors.
SCHEMA_FILE = "manifest.schema.json"
_SCHEMA_LINE = f"# yaml-language-server: $schema=./{SCHEMA_FILE}\n"
_KEY_CHARACTERS = re.compile(r"[^a-z0-9._-]+")
_DROPPED_MEMBERS = {"jwt_configuration": {"secret_encoded"}}
_ORDER = ["client_id", "cimd", "name", "type", *MANAGED_FIELDS, "metadata"]


def export_apps(
    apps: Sequence[App], directory: Path, *, owner: str
) -> tuple[list[Path], list[str]]:
    """Write each app to ``directory/KEY.yaml``, and the manifest schema the files name
    beside them; return the files and what was skipped."""
    directory.mkdir(parents=True, exist_ok=True)
    schema = resources.files("reconciler.schemas").joinpath(SCHEMA_FILE).read_text("utf-8")
    (directory / SCHEMA_FILE).write_text(schema, encoding="utf-8")
    written: list[Path] = []
    skipped: list[str] = []
    used: set[str] = set()
    for app in apps:
        body = manifest_for(app, owner=owner)
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
    return written, skipped


def manifest_for(app: App, *, owner: str) -> dict[str, Any] | None:
    """The manifest body that declares ``app`` exactly as it is (None if it cannot)."""
    kind = MANIFEST_TYPE_BY_APP_TYPE.get(str(app.fields.get("app_type")))
    if kind is None and not app.is_cimd:
        return None
    body: dict[str, Any] = {}
    ours = app.owned_by(owner)
    private_key_jwt = app.fields.get("token_endpoint_auth_method") == "private_key_jwt"
    if not ours or private_key_jwt:
        body["client_id"] = app.client_id
    if app.is_cimd:
        body["cimd"] = app.external_client_id
    for name in MANAGED_FIELDS:
        value = app.fields.get(name)
        if value is None or name in ("credentials", "client_metadata"):
            continue
        if app.is_cimd and name not in CIMD_MANIFEST_FIELDS:
            continue
        if name == "app_type":
            body["type"] = kind
        elif isinstance(value, dict):
            dropped = _DROPPED_MEMBERS.get(name, set())
            body[name] = {k: v for k, v in value.items() if k not in dropped and v is not None}
        else:
            body[name] = value
    metadata = app.fields.get("client_metadata") or {}
    if metadata:
        body["metadata"] = dict(metadata)
    if set(body.get("grant_types", ())) & LEGACY_GRANTS:
        body["allow_legacy_grants"] = True
        body["legacy_grants_reason"] = "Exported with legacy grants in use: review before keeping."
    if app.stamp is not None and ours and app.stamp.protect:
        body["protect"] = True
    return {name: body[name] for name in sorted(body, key=_position)}


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
