"""Manifest files: found under the given paths, parsed, substituted, validated, linted."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.core.collector import collector_paused
from reconciler.diagnostics import Diagnostic, Location
from reconciler.errors import ManifestError
from reconciler.manifests.config import CONFIG_NAMES
from reconciler.manifests.lint import find_secrets, lint_app, lint_third_party_apis
from reconciler.manifests.schema import MANIFEST_SCHEMA, check_schema
from reconciler.manifests.variables import Variables, substitute
from reconciler.manifests.yamlfile import (
    DEFAULT_MAX_BYTES,
    SECRET_KEYS,
    JsonPath,
    YamlError,
    YamlFile,
    load_yaml_bytes,
    load_yaml_file,
)

__all__ = [
    "ManifestApp",
    "ManifestSet",
    "discover",
    "errors_in_text",
    "evaluate",
    "looks_like_manifest",
    "parse_files",
    "relative_name",
]

SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class ManifestApp:
    """One app as the manifests declare it, variables substituted, with its source."""

    key: str
    data: Mapping[str, Any]
    file: YamlFile

    @property
    def location(self) -> Location:
        return self.file.locate_key(("apps", self.key))

    def locate(self, path: JsonPath = ()) -> Location:
        return self.file.locate(("apps", self.key, *path))


@dataclass
class ManifestSet:
    files: list[YamlFile]
    apps: dict[str, ManifestApp] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: Each file's ``third_party_apis``, variables substituted, with the file.
    third_party_apis: list[tuple[Any, YamlFile]] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    def raise_for_errors(self) -> None:
        if self.errors:
            raise ManifestError(self.diagnostics)


def discover(paths: Iterable[Path], *, manifest_roots: Sequence[Path] = ()) -> list[Path]:
    """Manifest files under ``paths``: directories recursively, hidden entries and settings skipped.

    A file named in ``paths`` is always a manifest, and so is every YAML file under one of
    ``manifest_roots`` (the ``manifests:`` of reconciler.yaml). Elsewhere in a directory, a
    YAML file counts only when it looks like a manifest, so a docker-compose.yml, mkdocs.yml
    or CI workflow in the tree is no error.
    """
    roots = [root.resolve() for root in manifest_roots]
    found: list[Path] = []
    for path in paths:
        if not path.is_dir():
            found.append(path)
            continue
        for candidate in sorted(path.rglob("*")):
            relative = candidate.relative_to(path).parts
            if any(part.startswith(".") for part in relative):
                continue
            if candidate.suffix not in SUFFIXES or candidate.name in CONFIG_NAMES:
                continue
            if not candidate.is_file():
                continue
            if _under(candidate, roots) or looks_like_manifest(candidate):
                found.append(candidate)
    unique: dict[Path, None] = {}
    for path in found:
        unique.setdefault(path, None)
    return list(unique)


# A top-level ``apps`` key: at column 0 in block style (bare or quoted, after an optional
# BOM), or as the first key of a top-level flow mapping (``{"apps": ...}``, JSON as YAML).
_TOP_LEVEL_APPS = re.compile(
    rb"""^(?:\xef\xbb\xbf)?(?:apps|"apps"|'apps')[ \t]*:(?:[ \t\r]|$)""", re.MULTILINE
)
_FLOW_APPS = re.compile(rb"""\A(?:\xef\xbb\xbf)?(?:\s|#[^\n]*\n|---)*\{\s*["']?apps["']?\s*:""")


def looks_like_manifest(path: Path) -> bool:
    """A cheap test on the bytes: does the file have a top-level ``apps`` key?

    Text, not a parse, so a file that does not parse but looks like a manifest is still
    loaded and its syntax error reported. A file that cannot be read counts, so its error
    shows too.
    """
    try:
        raw = path.read_bytes()
    except OSError:
        return True
    return bool(_TOP_LEVEL_APPS.search(raw) or _FLOW_APPS.match(raw))


def relative_name(path: Path, root: Path) -> str:
    """How a run names a manifest file: relative to the project root, posix (else absolute)."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(root.resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


def _under(path: Path, roots: Sequence[Path]) -> bool:
    resolved = path.resolve()
    return any(resolved == root or resolved.is_relative_to(root) for root in roots)


def parse_files(
    paths: Sequence[Path], *, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[list[YamlFile], list[Diagnostic]]:
    files: list[YamlFile] = []
    problems: list[Diagnostic] = []
    with collector_paused():  # once for every file, not file by file
        for path in paths:
            if not path.exists():
                problems.append(
                    Diagnostic(Location(str(path)), "file-missing", "no such file or directory")
                )
                continue
            try:
                files.append(load_yaml_file(path, max_bytes=max_bytes))
            except YamlError as exc:
                problems.append(exc.diagnostic)
    return files, problems


def errors_in_text(text: str, name: str, variables: Variables) -> list[Diagnostic]:
    """The errors validate would find in a manifest's new ``text``, the file alone: what
    an edit is checked against before it is written."""
    try:
        file = load_yaml_bytes(text.encode("utf-8"), name)
    except YamlError as bad:
        return [bad.diagnostic]
    return [d for d in evaluate([file], variables).diagnostics if d.is_error]


def evaluate(
    files: Sequence[YamlFile], variables: Variables, *, strict: bool = False
) -> ManifestSet:
    """Substitute, validate and lint ``files`` for one environment's variables."""
    with collector_paused():
        return _evaluate(files, variables, strict=strict)


def _evaluate(files: Sequence[YamlFile], variables: Variables, *, strict: bool) -> ManifestSet:
    result = ManifestSet(list(files))
    for file in files:
        if file.may_hold_secrets:
            result.diagnostics.extend(find_secrets(file.data, file.locate_key))
        data, undefined = substitute(file, variables)
        result.diagnostics.extend(undefined)
        problems = check_schema(file, MANIFEST_SCHEMA, data=data, skip_keys=SECRET_KEYS)
        result.diagnostics.extend(problems)
        if isinstance(data, dict) and "third_party_apis" in data:
            result.third_party_apis.append((data["third_party_apis"], file))
        apps = data.get("apps") if isinstance(data, dict) else None
        if not isinstance(apps, dict):
            continue
        base_dir = Path(file.path).parent
        for key, body in apps.items():
            if not isinstance(body, dict):
                continue
            app = ManifestApp(str(key), body, file)
            result.diagnostics.extend(lint_app(app.key, body, app.locate, base_dir))
            earlier = result.apps.get(app.key)
            if earlier is not None:
                result.diagnostics.append(
                    Diagnostic(
                        app.location,
                        "duplicate-app",
                        f"app key {app.key!r} is also defined at {earlier.location}",
                    )
                )
                continue
            result.apps[app.key] = app
    result.diagnostics.extend(
        lint_third_party_apis((entries, file.locate) for entries, file in result.third_party_apis)
    )
    result.diagnostics.extend(_shared_identities(result.apps.values()))
    if strict:
        result.diagnostics = [d.as_error() for d in result.diagnostics]
    result.diagnostics.sort(key=Diagnostic.sort_key)
    return result


def _shared_identities(apps: Iterable[ManifestApp]) -> list[Diagnostic]:
    """Two keys naming the same registry app (client_id or CIMD URL) would fight over it."""
    problems: list[Diagnostic] = []
    for field_name in ("client_id", "cimd"):
        owners: dict[str, ManifestApp] = {}
        for app in apps:
            value = app.data.get(field_name)
            if not isinstance(value, str):
                continue
            earlier = owners.setdefault(value, app)
            if earlier is not app:
                problems.append(
                    Diagnostic(
                        app.locate((field_name,)),
                        f"duplicate-{field_name.replace('_', '-')}",
                        f"{field_name} {value!r} is also used by app {earlier.key!r} "
                        f"at {earlier.locate((field_name,))}",
                    )
                )
    return problems
