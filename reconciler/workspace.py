"""A run's inputs: the settings file found, the manifest paths, the environment in force."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.config import (
    Config,
    Environment,
    find_config,
    load_config,
    load_var_file,
    parse_var_assignments,
)
from reconciler.diagnostics import Diagnostic
from reconciler.manifest import ManifestSet, discover, evaluate, parse_files
from reconciler.registries import Connection
from reconciler.yamlfile import YamlFile

__all__ = ["Options", "ValidationReport", "Workspace"]


@dataclass(frozen=True)
class Options:
    """What the command line said; every field is optional."""

    paths: tuple[Path, ...] = ()
    config: Path | None = None
    env: str | None = None
    vars: tuple[str, ...] = ()
    var_files: tuple[Path, ...] = ()
    registry: str | None = None
    auth0_base_url: str | None = None
    max_rps: float | None = None
    parallelism: int | None = None
    timeout: float | None = None
    lock_timeout: float | None = None
    no_lock: bool = False


@dataclass
class ValidationReport:
    files: int
    apps: int
    environments: list[str | None]
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


@dataclass
class Workspace:
    config: Config
    manifest_paths: list[Path]
    options: Options

    @classmethod
    def open(cls, options: Options) -> Workspace:
        config_path = options.config
        if config_path is None:
            start = options.paths[0] if options.paths else Path.cwd()
            config_path = find_config(start) or (find_config(Path.cwd()) if options.paths else None)
        config = load_config(config_path)
        if options.paths:
            roots: Sequence[Path] = options.paths
        elif config.manifests:
            roots = config.manifests
        else:
            roots = (config.root if config.path else Path.cwd(),)
        return cls(config, [_shown(path) for path in discover(roots)], options)

    def connection(self, *, read_only: bool = False) -> Connection:
        """How to reach the registry: command-line settings, and the project root."""
        return Connection(
            auth0_base_url=self.options.auth0_base_url,
            max_rps=self.options.max_rps,
            root=self.config.root,
            read_only=read_only,
            **_given(timeout=self.options.timeout, lock_timeout=self.options.lock_timeout),
            lock=not self.options.no_lock,
        )

    def environment(self, name: str | None = None) -> Environment:
        command_line: dict[str, str] = {}
        for var_file in self.options.var_files:
            command_line.update(load_var_file(var_file))
        command_line.update(parse_var_assignments(self.options.vars))
        return self.config.resolve(
            name or self.options.env,
            command_line_vars=command_line,
            registry_override=self.options.registry,
        )

    def parse(self) -> tuple[list[YamlFile], list[Diagnostic]]:
        return parse_files(self.manifest_paths, max_bytes=self.config.max_manifest_bytes)

    def manifests(self, environment: Environment, *, strict: bool = False) -> ManifestSet:
        """Parsed, substituted and checked manifests; parse errors become diagnostics."""
        files, problems = self.parse()
        result = evaluate(files, environment.variables, strict=strict)
        result.diagnostics = sorted(problems + result.diagnostics, key=Diagnostic.sort_key)
        return result

    def validate(self, *, all_envs: bool = False, strict: bool = False) -> ValidationReport:
        files, problems = self.parse()
        names: list[str | None]
        if all_envs and self.config.environments:
            names = list(self.config.environment_names())
        else:
            names = [self.environment().name]
        seen: dict[str, Diagnostic] = {str(d): d for d in problems}
        apps = 0
        for name in names:
            result = evaluate(files, self.environment(name).variables, strict=strict)
            apps = max(apps, len(result.apps))
            for diagnostic in result.diagnostics:
                seen.setdefault(str(diagnostic), diagnostic)
        diagnostics = sorted(seen.values(), key=Diagnostic.sort_key)
        if strict:
            diagnostics = [d.as_error() for d in diagnostics]
        return ValidationReport(len(self.manifest_paths), apps, names, diagnostics)


def _shown(path: Path) -> Path:
    """Paths under the working directory are shown relative to it, as people typed them."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


def _given(**settings: float | None) -> dict[str, float]:
    """The settings the command line gave (the rest keep Connection's defaults)."""
    return {name: value for name, value in settings.items() if value is not None}
