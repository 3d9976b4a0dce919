"""The pull use case: edits made elsewhere (drift) written back into the manifests.

The registry is read and planned as ``plan`` does. Of each owned app the plan would
update, the fields whose only cause is drift (the stamp's hash says the manifest did not
change them) hold what the registry should keep: each is put into the manifest's own
spelling (``app_type`` is ``type``, ``grants`` are ``apis``, ``client_metadata`` is
``metadata``) and set in the file and at the app that declares it, through
``manifests/edit.py``, which leaves every other line as it was.

What cannot be pulled is said, not guessed, as a warning where it is declared: a field
the manifest changed as well (the plan puts the manifest's value back), one the manifests
have no spelling for (keys, a ``scope`` made from ``apis``), a value written with
``${VARIABLES}`` that no longer matches what they expand to in this environment (never
replaced by a literal), an edit that would leave the file refused by validate.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.core.changes import FieldChange, Reason, Refresh, Update
from reconciler.core.fields import MANIFEST_TYPE_BY_APP_TYPE, PARTIAL_OBJECTS, SET_LIKE_FIELDS
from reconciler.core.model import grant_name, grants_from_view
from reconciler.diagnostics import Diagnostic, Location, Severity
from reconciler.manifests.desired import TYPE_DEFAULTS
from reconciler.manifests.edit import EditError, ManifestText, Unkept, write_manifest
from reconciler.manifests.evaluation import ManifestApp, errors_in_text, relative_name
from reconciler.manifests.variables import Variables, substitute
from reconciler.manifests.workspace import Workspace
from reconciler.manifests.yamlfile import YamlFile
from reconciler.pipeline.console import Console
from reconciler.pipeline.planning import plan_workspace

__all__ = ["FileEdit", "Pulled", "pull_workspace"]

#: Warnings of what pull leaves as it is.
NOT_PULLED = "not-pulled"
_SPELLING = {"app_type": "type", "client_metadata": "metadata", "grants": "apis"}
_KEYS = frozenset({"credentials", "signed_request_object"})
_TYPE_DEFAULTED = frozenset({"grant_types", "token_endpoint_auth_method", "oidc_conformant"})


@dataclass(frozen=True)
class FileEdit:
    """One manifest file's text before and after, and the app fields it pulls."""

    path: Path
    name: str
    before: str
    after: str
    fields: tuple[str, ...]

    def diff(self) -> str:
        """The unified diff the edit makes, as ``git diff`` names the file."""
        lines = difflib.unified_diff(
            self.before.splitlines(keepends=True),
            self.after.splitlines(keepends=True),
            f"a/{self.name}",
            f"b/{self.name}",
        )
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


@dataclass
class Pulled:
    """What pull edited (written unless a dry run) and what it left as it is."""

    edits: list[FileEdit] = field(default_factory=list)
    left: list[Diagnostic] = field(default_factory=list)
    written: bool = False

    @property
    def exit_code(self) -> int:
        """0: the manifests now say what the registry holds (or there was no drift);
        2: drift is left (said as warnings), or a dry run found edits to make."""
        return 2 if self.left or (self.edits and not self.written) else 0


def pull_workspace(workspace: Workspace, console: Console, *, dry_run: bool = False) -> Pulled:
    """Plan, put the drifted fields into the manifests' spelling, edit each file that
    declares them, check that it still validates, then write (atomically) unless
    ``dry_run``."""
    planned = plan_workspace(workspace, console)
    environment = planned.desired.environment
    manifests = workspace.manifests(environment)
    variables = environment.variables
    pulled = Pulled()
    by_file: dict[str, list[tuple[ManifestApp, dict[str, Any]]]] = {}
    for change in planned.plan.changes:
        app = manifests.apps.get(change.key)
        if app is None or not isinstance(change, Update | Refresh):
            continue
        values = _drifted_values(change, app, pulled.left)
        if values:
            by_file.setdefault(app.file.path, []).append((app, values))
    for path, apps in sorted(by_file.items()):
        edit = _edit_file(Path(path), apps, variables, workspace.config.root, pulled.left)
        if edit is not None:
            pulled.edits.append(edit)
    if not dry_run:
        for edit in pulled.edits:
            write_manifest(edit.path, edit.after)
        pulled.written = True
    console.warn(pulled.left)
    return pulled


def _drifted_values(
    change: Update | Refresh, app: ManifestApp, left: list[Diagnostic]
) -> dict[str, Any]:
    """The registry's value of each field only drift changed, by its canonical name."""
    values: dict[str, Any] = {}
    for name, reasons in _field_reasons(change.diff).items():
        if Reason.DRIFT not in reasons:
            continue
        if Reason.MANIFEST in reasons:
            left.append(
                _warning(
                    app.locate((_SPELLING.get(name, name),)),
                    f"{app.key}: {name} was changed in the manifest and elsewhere; pull keeps "
                    "the manifest's (apply puts it back): take the registry's by hand if it "
                    "is the one to keep",
                )
            )
            continue
        values[name] = change.before.get(name)
    return values


def _field_reasons(diff: Sequence[FieldChange]) -> dict[str, tuple[Reason, ...]]:
    """Each top-level field of a change's diff, with what changed it."""
    found: dict[str, tuple[Reason, ...]] = {}
    for entry in diff:
        if entry.path.startswith("document."):
            continue
        top = entry.path.split(".", 1)[0].split("[", 1)[0]
        found.setdefault(top, tuple(entry.reasons))
    return found


def _edit_file(
    path: Path,
    apps: Sequence[tuple[ManifestApp, dict[str, Any]]],
    variables: Variables,
    root: Path,
    left: list[Diagnostic],
) -> FileEdit | None:
    before = path.read_text("utf-8")
    text = ManifestText(before, str(path), lambda value: _expand(value, variables))
    pulled: list[str] = []
    for app, values in apps:
        for name, value in values.items():
            spelled = _manifest_value(name, value, app)
            if isinstance(spelled, str):
                left.append(_warning(app.locate((_SPELLING.get(name, name),)), spelled))
                continue
            member, wanted = spelled
            member_path = ("apps", app.key, member)
            try:
                unkept = (
                    text.remove(member_path) if wanted is _ABSENT else text.set(member_path, wanted)
                )
            except EditError as exc:
                left.append(_warning(app.locate((member,)), f"{app.key}: {member}: {exc}"))
                continue
            if unkept:
                left.extend(_unkept_warning(app, member, u, value, variables) for u in unkept)
                continue
            pulled.append(f"{app.key}.{member}")
    if not pulled:
        return None
    try:
        after = text.result()
    except EditError as exc:
        left.append(_warning(Location(str(path)), f"{exc}: nothing pulled into this file"))
        return None
    refused = errors_in_text(after, str(path), variables)
    if refused:
        left.extend(
            _warning(
                d.location,
                f"{d.message} ({d.rule}): the registry holds what validate refuses; "
                "nothing pulled into this file",
            )
            for d in refused
        )
        return None
    return FileEdit(path, relative_name(path, root), before, after, tuple(pulled))


class _Absent:
    """The registry holds none of a field: the manifest stops declaring it."""


_ABSENT = _Absent()


def _manifest_value(name: str, value: Any, app: ManifestApp) -> tuple[str, Any] | str:
    """The manifest member and value that say ``value`` of canonical field ``name``; or why
    there is none."""
    data = app.data
    if name in _KEYS:
        return (
            f"{app.key}: {name} differs in the registry; keys are not pulled (they live in files)"
        )
    if name == "app_type":
        kind = MANIFEST_TYPE_BY_APP_TYPE.get(str(value))
        if kind is None:
            return f"{app.key}: the registry's app_type {value!r} has no manifest type"
        return "type", kind
    if name == "client_metadata":
        return "metadata", dict(value or {})
    if name == "grants":
        return "apis", _apis(value or {}, data.get("apis") or [])
    if name not in data and name not in _TYPE_DEFAULTED:
        return f"{app.key}: {name} has no spelling in the manifest; it is not pulled"
    if value is None:
        if name not in data or name in _TYPE_DEFAULTED:
            defaults = TYPE_DEFAULTS.get(str(data.get("type")), {})
            return (
                f"{app.key}: the registry holds no {name}, and the manifest's "
                f"{'type default' if name in defaults else 'value'} would put it back"
            )
        return name, _ABSENT
    held = data.get(name)
    if name in PARTIAL_OBJECTS and isinstance(value, dict) and isinstance(held, Mapping):
        members = {member: found for member, found in value.items() if found is not None}
        return (name, _keep_order(held, members)) if members else (name, _ABSENT)
    if name in SET_LIKE_FIELDS and isinstance(value, list) and isinstance(held, list):
        return name, _merge_in_order(held, value)
    return name, value


def _apis(view: Mapping[str, Mapping[str, Any]], entries: Sequence[Any]) -> list[dict[str, Any]]:
    """The ``apis`` entries that ask for exactly the grants ``view`` holds: the manifest's
    entries in their order (their scopes too), then the grants it does not list."""
    wanted = {
        grant_name(grant.key): (grant, view[grant_name(grant.key)])
        for grant in grants_from_view(view)
    }
    result: list[dict[str, Any]] = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        named = grant_name((str(entry["audience"]), str(entry.get("subject_type", "client"))))
        if named not in wanted:
            continue
        _, held = wanted.pop(named)
        updated = {**entry, **held}
        updated["scopes"] = _merge_in_order(list(entry.get("scopes", [])), list(held["scopes"]))
        if not updated["scopes"] and "scopes" not in entry:
            del updated["scopes"]
        result.append(updated)
    for grant, held in wanted.values():
        added: dict[str, Any] = {"audience": grant.audience}
        if grant.subject_type != "client":
            added["subject_type"] = grant.subject_type
        result.append({**added, **held})
    return result


def _merge_in_order(held: Sequence[Any], wanted: Sequence[Any]) -> list[Any]:
    """``wanted`` as a set, in the manifest's order: what it keeps, then what it adds."""
    kept = [item for item in held if item in wanted]
    return [*dict.fromkeys(kept), *(item for item in wanted if item not in held)]


def _keep_order(held: Mapping[str, Any], members: Mapping[str, Any]) -> dict[str, Any]:
    ordered = {name: members[name] for name in held if name in members}
    return {**ordered, **{name: value for name, value in members.items() if name not in held}}


def _unkept_warning(
    app: ManifestApp, member: str, unkept: Unkept, value: Any, variables: Variables
) -> Diagnostic:
    names = ", ".join(
        f"{name} = {variables.get(name)!r}" if variables.get(name) is not None else name
        for name in unkept.variables
    )
    where = f"in environment {variables.environment_name!r}" if variables.environment_name else ""
    return _warning(
        app.file.locate(unkept.path),
        f"{app.key}: {member} differs in the registry ({_shown(value)}), but the manifest "
        f"writes {unkept.expression!r} with variables ({names}{' ' if where else ''}{where}); "
        "pull does not replace a variable with a literal: change the variable or the "
        "manifest by hand",
    )


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _expand(value: str, variables: Variables) -> str:
    expanded, _ = substitute(YamlFile("", value, templated=[()]), variables)
    return str(expanded)


def _warning(where: Location, message: str) -> Diagnostic:
    return Diagnostic(where, NOT_PULLED, message, Severity.WARNING)
