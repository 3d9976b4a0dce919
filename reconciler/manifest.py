"""Manifest files: found under the given paths, parsed, substituted, validated, linted."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.config import CONFIG_NAMES
from reconciler.diagnostics import Diagnostic, Location
from reconciler.errors import ManifestError
from reconciler.lint import find_secrets, lint_app
from reconciler.schema import MANIFEST_SCHEMA, check_schema
from reconciler.variables import Variables, substitute
from reconciler.yamlfile import DEFAULT_MAX_BYTES, JsonPath, YamlError, YamlFile, load_yaml_file

__all__ = ["ManifestApp", "ManifestSet", "discover", "evaluate", "parse_files"]

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

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    def raise_for_errors(self) -> None:
        if self.errors:
            raise ManifestError(self.diagnostics)


def discover(paths: Iterable[Path]) -> list[Path]:
    """YAML files under ``paths``: directories recursively, hidden entries and settings skipped."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            for candidate in sorted(path.rglob("*")):
                relative = candidate.relative_to(path).parts
                if any(part.startswith(".") for part in relative):
                    continue
                if candidate.suffix in SUFFIXES and candidate.is_file():
                    if candidate.name not in CONFIG_NAMES:
                        found.append(candidate)
        else:
            found.append(path)
    unique: dict[Path, None] = {}
    for path in found:
        unique.setdefault(path, None)
    return list(unique)


def parse_files(
    paths: Sequence[Path], *, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[list[YamlFile], list[Diagnostic]]:
    files: list[YamlFile] = []
    problems: list[Diagnostic] = []
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


def evaluate(
    files: Sequence[YamlFile], variables: Variables, *, strict: bool = False
) -> ManifestSet:
    """Substitute, validate and lint ``files`` for one environment's variables."""
    result = ManifestSet(list(files))
    first_seen: dict[str, ManifestApp] = {}
    for file in files:
        if file.may_hold_secrets:
            result.diagnostics.extend(find_secrets(file.data, file.locate_key))
        data, undefined = substitute(file, variables)
        result.diagnostics.extend(undefined)
        skip = frozenset({"client_secret", "signing_secret", "registration_access_token"})
        problems = check_schema(file, MANIFEST_SCHEMA, data=data, skip_keys=skip)
        result.diagnostics.extend(problems)
        apps = data.get("apps") if isinstance(data, dict) else None
        if not isinstance(apps, dict):
            continue
        base_dir = Path(file.path).parent
        for key, body in apps.items():
            if not isinstance(body, dict):
                continue
            app = ManifestApp(str(key), body, file)
            result.diagnostics.extend(lint_app(app.key, body, app.locate, base_dir))
            earlier = first_seen.get(app.key)
            if earlier is not None:
                result.diagnostics.append(
                    Diagnostic(
                        app.location,
                        "duplicate-app",
                        f"app key {app.key!r} is also defined at {earlier.location}",
                    )
                )
                continue
            first_seen[app.key] = app
            result.apps[app.key] = app
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
