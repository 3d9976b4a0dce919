"""Registry -> manifests: the apps as manifest entries, no secrets, no stamps.

``export`` writes a file per app with every owned field as it is, so the type defaults
never apply; ``adopt`` (``minimal_manifest_for``) writes only what differs from what an
omitted field means: the type defaults the manifest fills (``manifests/desired.py``) and
the server defaults a new app gets (``SERVER_DEFAULTS``). Unstamped apps carry their
``client_id`` so applying adopts them.

From a registry that holds client grants, an app's grants are its ``apis`` and the
connections enabled for it its ``connections``, each written only when the app has some:
left out, they are not managed, which plans no change on an app that has none, just as
``[]`` would, without claiming for Git what nobody declared (an m2m app with no API is
still warned of, as it can get a token for no API). The tenant's grants for every
third-party app go to ``third_party_apis.yaml``, a name no app key can take.

What is written never clobbers: apps already declared (``Declared``) are refused, or left
out under ``merge``; strings that hold a value of the environment's ``vars`` are written
with the ``${NAME}`` it comes from; the text is made by ``manifests/edit.py`` (a new file,
or appended to one in its style) in a layout that passes yamllint's default rules: block
collections, and a string that would pass 80 columns folded (``>-``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import FoldedScalarString

from reconciler.core.access import grants_by_client
from reconciler.core.defaults import (
    NEW_CLIENT_DEFAULTS,
    PUBLIC_APP_TYPES,
    THIRD_PARTY_JWT_LIFETIME_SECONDS,
    third_party_refresh_token,
)
from reconciler.core.fields import CIMD_MANIFEST_FIELDS, MANAGED_FIELDS, MANIFEST_TYPE_BY_APP_TYPE
from reconciler.core.model import CREDENTIAL_METHODS, App, Grant, LoginConnection
from reconciler.core.third_party import THIRD_PARTY_CLIENT_MEMBERS
from reconciler.errors import InputError
from reconciler.manifests.desired import TYPE_DEFAULTS
from reconciler.manifests.edit import ManifestText, write_manifest
from reconciler.manifests.evaluation import discover
from reconciler.manifests.lint import LEGACY_GRANTS
from reconciler.manifests.yamlfile import YamlError, load_yaml_file

__all__ = [
    "SCHEMA_FILE",
    "SERVER_DEFAULTS",
    "THIRD_PARTY_FILE",
    "Declared",
    "Exported",
    "app_key",
    "append_apps",
    "export_apps",
    "manifest_for",
    "minimal_manifest_for",
    "new_manifest",
    "schema_line_for",
    "with_variables",
    "written_layout",
]

#: Written beside the exported files, so the reference resolves offline and in editors.
SCHEMA_FILE = "manifest.schema.json"
#: Holds ``third_party_apis``; an app key has no underscore, so no app's file is named so.
THIRD_PARTY_FILE = "third_party_apis.yaml"
_SCHEMA_PREFIX = "# yaml-language-server: $schema="
_THIRD_PARTY_CLIENTS = "third_party_clients"
_KEY_CHARACTERS = re.compile(r"[^a-z0-9._-]+")
_SLUG_CHARACTERS = re.compile(r"[^a-z0-9]+")
#: yamllint's default ``line-length``.
LINE_WIDTH = 80
#: Members never written: read-only ones, and keys an export cannot give (no public key
#: material is read back), which stay unmanaged as an app's ``credentials`` do.
_DROPPED_MEMBERS = {
    "jwt_configuration": {"secret_encoded"},
    "signed_request_object": {"credentials"},
}
_ORDER = ["client_id", "cimd", "name", "type", *MANAGED_FIELDS, "apis", "connections", "metadata"]
#: The server defaults (``core/defaults.py``) of the fields a manifest may set.
_SHOWN_DEFAULTS = ("is_first_party", "sso_disabled", "cross_origin_authentication", "refresh_token")
#: What a new app holds when its body leaves a field out, as a live Auth0 tenant fills it
#: (``core/defaults.py``, which the embedded tenant makes its clients from): a field of
#: this value says nothing a minimal entry needs to say. A strict third-party app gets its
#: own (``_third_party_defaults``).
SERVER_DEFAULTS: Mapping[str, Any] = {
    **{name: NEW_CLIENT_DEFAULTS[name] for name in _SHOWN_DEFAULTS},
    "require_pushed_authorization_requests": False,
    "require_proof_of_possession": False,
    "jwt_configuration": {"alg": "RS256", **NEW_CLIENT_DEFAULTS["jwt_configuration"]},
}


def _third_party_defaults(app_type: object) -> Mapping[str, Any]:
    return {
        **SERVER_DEFAULTS,
        "jwt_configuration": {
            **SERVER_DEFAULTS["jwt_configuration"],
            "lifetime_in_seconds": THIRD_PARTY_JWT_LIFETIME_SECONDS,
        },
        "refresh_token": third_party_refresh_token(rotating=app_type in PUBLIC_APP_TYPES),
    }


#: Entry members a minimal entry always keeps: identity, and what is not a client field.
_ALWAYS_KEPT = frozenset(
    {"client_id", "cimd", "name", "type", "apis", "connections", "metadata", "protect"}
    | {"allow_legacy_grants", "legacy_grants_reason"}
)
#: The members whose strings may hold a value of a variable: text and addresses, never an
#: identifier or a keyword (``type``, ``grant_types``, ``client_id``).
_TEMPLATED_MEMBERS = frozenset(
    {
        "name",
        "description",
        "callbacks",
        "allowed_origins",
        "web_origins",
        "allowed_logout_urls",
        "initiate_login_uri",
        "logo_uri",
        "client_uri",
        "policy_uri",
        "tos_uri",
        "contacts",
        "oidc_logout",
        "metadata",
        "apis",
    }
)
#: A variable's value this short is too common a word to stand for it.
_SHORTEST_VALUE = 3


@dataclass(frozen=True)
class Declared:
    """The apps that manifests declare already: each key where it is declared, and the
    clients they adopt (``client_id``) or register (``cimd``), by the key that does."""

    keys: Mapping[str, str] = field(default_factory=dict)
    client_ids: Mapping[str, str] = field(default_factory=dict)
    cimd: Mapping[str, str] = field(default_factory=dict)
    third_party_apis: str | None = None

    @classmethod
    def read(cls, paths: Iterable[Path]) -> Declared:
        """What the manifest files at ``paths`` declare (a file that does not parse declares
        nothing here: validate reports it)."""
        keys: dict[str, str] = {}
        client_ids: dict[str, str] = {}
        cimd: dict[str, str] = {}
        third_party: str | None = None
        for path in paths:
            try:
                source = load_yaml_file(path)
            except (OSError, YamlError):
                continue
            data = source.data if isinstance(source.data, dict) else {}
            apps = data.get("apps")
            for key, body in (apps if isinstance(apps, dict) else {}).items():
                keys.setdefault(str(key), str(source.locate_key(("apps", key))))
                body = body if isinstance(body, dict) else {}
                if isinstance(body.get("client_id"), str):
                    client_ids.setdefault(body["client_id"], str(key))
                if isinstance(body.get("cimd"), str):
                    cimd.setdefault(body["cimd"], str(key))
            if "third_party_apis" in data and third_party is None:
                third_party = str(source.locate_key(("third_party_apis",)))
        return cls(keys, client_ids, cimd, third_party)

    def key_of(self, app: App, owner: str) -> str | None:
        """The key of the entry that declares ``app`` (None: none does)."""
        if app.client_id in self.client_ids:
            return self.client_ids[app.client_id]
        if app.external_client_id and app.external_client_id in self.cimd:
            return self.cimd[app.external_client_id]
        if app.stamp is not None and app.owned_by(owner) and app.stamp.key in self.keys:
            return app.stamp.key
        return None


@dataclass(frozen=True)
class Exported:
    """What an export wrote: a file per app, the file of the tenant's grants for third-party
    apps (None: it has none), why each app not written was skipped, and (under ``merge``)
    the apps left out as declared already."""

    apps: list[Path] = field(default_factory=list)
    third_party_apis: Path | None = None
    skipped: list[str] = field(default_factory=list)
    declared: list[str] = field(default_factory=list)

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
    variables: Mapping[str, str] | None = None,
    declared: Declared | None = None,
    merge: bool = False,
) -> Exported:
    """Write each app to ``directory/KEY.yaml``, the tenant's grants for third-party apps
    to ``THIRD_PARTY_FILE`` if it has any, and the manifest schema the files name (unless
    the manifests there name one already).

    ``grants`` and ``connections`` are every client grant and connection the registry
    holds (none from a registry that holds no grants). ``declared`` is what the project's
    manifests declare besides those in ``directory``. A ``directory`` that holds manifests
    is refused (InputError naming them and the apps declared twice), unless ``merge``:
    then only the apps no manifest declares are written, each to a new file."""
    held = discover([directory]) if directory.is_dir() else []
    here = Declared.read(held)
    known = _joined(here, declared or Declared())
    twice = [(app, key) for app in apps if (key := known.key_of(app, owner)) is not None]
    if (held or twice) and not merge:
        raise InputError(_clash_message(directory, held, twice, known))
    directory.mkdir(parents=True, exist_ok=True)
    schema_line = schema_line_for(directory, held)
    by_client = grants_by_client(grants)
    enabled = _enabled_connections(connections)
    exported = Exported()
    used = set(known.keys) | {path.stem for path in directory.iterdir()}
    for app in apps:
        key_declared = known.key_of(app, owner)
        if key_declared is not None:
            exported.declared.append(f"{app.client_id} ({key_declared})")
            continue
        body = manifest_for(
            app,
            owner=owner,
            grants=by_client.get(app.client_id, ()),
            connections=enabled.get(app.client_id, ()),
        )
        if body is None:
            exported.skipped.append(
                f"{app.client_id} ({app.fields.get('name')!s}): app type "
                f"{app.fields.get('app_type')!r} has no manifest type; not exported"
            )
            continue
        key = _unique(_export_key(app, owner), used)
        path = directory / f"{key}.yaml"
        text = new_manifest({key: with_variables(body, variables or {})}, schema_line, path)
        write_manifest(path, text)
        exported.apps.append(path)
    third_party = [grant for grant in grants if grant.default_for == _THIRD_PARTY_CLIENTS]
    if third_party and known.third_party_apis is None:
        path = directory / THIRD_PARTY_FILE
        entries = [_api_entry(grant) for grant in sorted(third_party, key=lambda g: g.key)]
        entries = with_variables({"apis": entries}, variables or {})["apis"]
        write_manifest(path, _third_party_text(entries, schema_line))
        exported = Exported(exported.apps, path, exported.skipped, exported.declared)
    return exported


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
    for name in MANAGED_FIELDS:
        value = app.fields.get(name)
        if value is None or name in ("credentials", "client_metadata"):
            continue
        if app.is_cimd and name not in CIMD_MANIFEST_FIELDS:
            continue
        if _strict_third_party(app) and name not in THIRD_PARTY_CLIENT_MEMBERS:
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


def minimal_manifest_for(
    app: App,
    *,
    owner: str,
    grants: Iterable[Grant] = (),
    connections: Iterable[str] = (),
) -> dict[str, Any] | None:
    """The manifest body that adopts ``app`` (its ``client_id`` always) and says only what
    differs from what leaving a field out means: the manifest's type defaults (which it
    would set: a field that differs from one is written, else the plan would change it)
    and the server defaults of a new app (which an unowned field keeps)."""
    body = manifest_for(app, owner=owner, grants=grants, connections=connections)
    if body is None:
        return None
    kind = body.get("type")
    implied: dict[str, Any] = {}
    if isinstance(kind, str) and not app.is_cimd:
        implied = {**TYPE_DEFAULTS[kind], "oidc_conformant": True}
    third_party = app.fields.get("is_first_party") is False
    server = _third_party_defaults(app.fields.get("app_type")) if third_party else SERVER_DEFAULTS
    minimal: dict[str, Any] = {"client_id": app.client_id}
    for name, value in body.items():
        if name in _ALWAYS_KEPT:
            minimal[name] = value
        elif name in implied:
            if _comparable(name, value) != _comparable(name, implied[name]):
                minimal[name] = value
        elif isinstance(value, dict) and isinstance(server.get(name), dict) and value:
            differing = {k: v for k, v in value.items() if server[name].get(k) != v}
            if differing:
                minimal[name] = differing
        elif value not in (None, "", [], {}) and server.get(name, _ABSENT) != value:
            minimal[name] = value
    return {name: minimal[name] for name in sorted(minimal, key=_position)}


def app_key(app: App, owner: str, used: set[str]) -> str:
    """A key for adopting ``app`` that ``used`` does not hold (and is then added to it): its
    stamp's key when it is ours, else its name as a slug (``Billing API`` -> ``billing-api``,
    then ``billing-api-2``)."""
    if app.stamp is not None and app.owned_by(owner):
        return _unique(app.stamp.key, used)
    name = str(app.fields.get("name") or app.client_id).lower()
    return _unique(_SLUG_CHARACTERS.sub("-", name).strip("-")[:60] or "app", used)


def with_variables(body: Mapping[str, Any], variables: Mapping[str, str]) -> dict[str, Any]:
    """``body`` with each value of ``variables`` that a string holds (whole words of it,
    the longest first) written as ``${NAME}``, and every literal ``${`` as ``$${``, in the
    members that hold text or addresses."""
    values = {
        value: name
        for name, value in sorted(variables.items(), key=lambda item: -len(item[1]))
        if len(value) >= _SHORTEST_VALUE and "\n" not in value
    }
    pattern = (
        re.compile(
            r"(?<![A-Za-z0-9])(?:"
            + "|".join(re.escape(value) for value in values)
            + r")(?![A-Za-z0-9])"
        )
        if values
        else None
    )

    def templated(value: Any) -> Any:
        if isinstance(value, str):
            escaped = value.replace("${", "$${")
            if pattern is None:
                return escaped
            parts = pattern.split(escaped)
            found = pattern.findall(escaped)
            out = parts[0]
            for match, rest in zip(found, parts[1:], strict=True):
                out += "${" + values[match] + "}" + rest
            return out
        if isinstance(value, dict):
            return {key: templated(member) for key, member in value.items()}
        if isinstance(value, list):
            return [templated(item) for item in value]
        return value

    return {
        name: templated(value) if name in _TEMPLATED_MEMBERS else value
        for name, value in body.items()
    }


def schema_line_for(directory: Path, held: Sequence[Path], *, write: bool = True) -> str:
    """The ``# yaml-language-server: $schema=`` line for a new file in ``directory``: the
    one the manifests there have (when it resolves), else ``./manifest.schema.json``,
    written there from the installed package (if ``write``) unless it is there."""
    for path in held:
        if path.parent.resolve() != directory.resolve():
            continue
        first = path.read_text("utf-8", errors="replace").split("\n", 1)[0]
        reference = first.removeprefix(_SCHEMA_PREFIX).strip()
        if first.startswith(_SCHEMA_PREFIX) and (directory / reference).is_file():
            return first + "\n"
    target = directory / SCHEMA_FILE
    if write and not target.exists():
        schema = resources.files("reconciler.schemas").joinpath(SCHEMA_FILE).read_text("utf-8")
        target.write_text(schema, encoding="utf-8")
    return f"{_SCHEMA_PREFIX}./{SCHEMA_FILE}\n"


def new_manifest(apps: Mapping[str, Mapping[str, Any]], schema_line: str, path: Path) -> str:
    """The text of a new manifest file declaring ``apps``, headed by ``schema_line``."""
    return append_apps(f"{schema_line}---\napps: {{}}\n", str(path), apps)


def append_apps(text: str, name: str, apps: Mapping[str, Mapping[str, Any]]) -> str:
    """``text`` (the manifest file ``name``) with ``apps`` appended, one after the other, in
    its style (``written_layout``)."""
    for key, body in apps.items():
        edit = ManifestText(text, name)
        edit.append_app(key, written_layout(body, edit))
        text = edit.result()
    return text


def written_layout(body: Mapping[str, Any], text: ManifestText) -> CommentedMap:
    """An app's body laid out for appending to ``text`` within yamllint's default rules:
    every collection in block style (one value a line, so a later edit touches one line),
    a string that would pass ``LINE_WIDTH`` folded at its spaces."""
    mapping, offset = text.style.mapping, text.style.offset
    laid = _laid_out(dict(body), 2 * mapping, mapping, offset)
    assert isinstance(laid, CommentedMap)
    return laid


def _laid_out(value: Any, column: int, mapping: int, offset: int, prefix: int = 0) -> Any:
    """``value`` at ``column`` (its first line after ``prefix`` characters)."""
    if isinstance(value, dict) and value:
        laid = CommentedMap()
        for key, member in value.items():
            if isinstance(member, dict):
                laid[key] = _laid_out(member, column + mapping, mapping, offset)
            elif isinstance(member, list):
                laid[key] = _laid_out(member, column + offset, mapping, offset)
            else:
                laid[key] = _fitted(member, column + len(str(key)) + 2, column + mapping)
        laid.fa.set_block_style()
        return laid
    if isinstance(value, list) and value:
        items = CommentedSeq()
        for item in value:
            if isinstance(item, dict | list):
                items.append(_laid_out(item, column + 2, mapping, offset))
            else:
                items.append(_fitted(item, column + 2, column + 2 + mapping))
        items.fa.set_block_style()
        return items
    return value


def _fitted(value: Any, start: int, continuation: int) -> Any:
    """A string that would end past ``LINE_WIDTH`` from column ``start``, as a folded block
    scalar whose lines start at ``continuation``; any other value as it is."""
    if not isinstance(value, str) or start + len(value) + 2 <= LINE_WIDTH:
        return value
    if value != value.strip() or "\n" in value or "  " in value or not value.isprintable():
        return value  # folding would change it
    width = max(LINE_WIDTH - continuation, 20)
    folds: list[int] = []
    line_start = 0
    position = value.find(" ")
    while position >= 0:
        following = value.find(" ", position + 1)
        word_end = len(value) if following < 0 else following
        if word_end - line_start > width and position > line_start:
            folds.append(position)
            line_start = position + 1
        position = following
    folded = FoldedScalarString(value)
    folded.fold_pos = folds
    return folded


def _third_party_text(entries: list[dict[str, Any]], schema_line: str) -> str:
    text = ManifestText(f"{schema_line}---\napps: {{}}\n", THIRD_PARTY_FILE)
    text.set(("third_party_apis",), _laid_out(entries, text.style.offset, 2, text.style.offset))
    return text.result()


def _export_key(app: App, owner: str) -> str:
    """An exported app's key: its stamp's when it is ours, else its name as a slug with the
    start of its client id (names repeat across a tenant; file names must not)."""
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


def _clash_message(
    directory: Path, held: Sequence[Path], twice: Sequence[tuple[App, str]], known: Declared
) -> str:
    """Why an export is refused: the manifests the folder holds, and each app it would
    declare a second time, with where it is declared."""
    lines = [f"export to {directory}/ refused: it would write beside manifests"]
    if held:
        shown = ", ".join(str(path) for path in held[:10])
        lines.append(f"  {directory}/ holds {len(held)} manifest(s): {shown}")
    for app, key in twice:
        lines.append(f"  {app.client_id} is declared already as {key} ({known.keys[key]})")
    lines.append(
        "Export into a folder without manifests, or add --merge to write only the apps no "
        "manifest declares yet"
    )
    return "\n".join(lines)


def _joined(first: Declared, second: Declared) -> Declared:
    return Declared(
        {**second.keys, **first.keys},
        {**second.client_ids, **first.client_ids},
        {**second.cimd, **first.cimd},
        first.third_party_apis or second.third_party_apis,
    )


def _strict_third_party(app: App) -> bool:
    return (
        app.fields.get("is_first_party") is False
        and app.record.get("third_party_security_mode") != "permissive"
    )


def _comparable(name: str, value: Any) -> Any:
    return sorted(value) if name == "grant_types" and isinstance(value, list) else value


_ABSENT = object()


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


def _position(name: str) -> int:
    return _ORDER.index(name) if name in _ORDER else len(_ORDER)
