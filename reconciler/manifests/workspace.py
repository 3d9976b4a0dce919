"""A run's inputs: the settings file found, the manifest paths, the environment in force."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from reconciler.core.scope import Scope
from reconciler.diagnostics import Diagnostic
from reconciler.errors import InputError
from reconciler.manifests.config import (
    Config,
    Environment,
    find_config,
    load_config,
    load_var_file,
    parse_var_assignments,
)
from reconciler.manifests.evaluation import (
    ManifestSet,
    discover,
    evaluate,
    parse_files,
    relative_name,
)
from reconciler.manifests.yamlfile import YamlFile

__all__ = ["Options", "ValidationReport", "Workspace", "manifest_digest"]


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
    auth0_audience: str | None = None
    max_rps: float | None = None
    parallelism: int | None = None
    timeout: float | None = None
    lock_timeout: float | None = None
    no_lock: bool = False
    targets: tuple[str, ...] = ()
    #: The process environment the registry's credentials come from; None: ``os.environ``.
    environ: Mapping[str, str] | None = None


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
    """The settings, and the manifest files: the project's, and those the paths name.

    The project's manifests are those under ``manifests:`` in reconciler.yaml, else under
    the project root. PATH arguments narrow a run to the files they name, but the run
    still reads every manifest of the project, so it knows what is declared elsewhere.
    """

    config: Config
    #: The files the PATH arguments name (directories discovered); None when none are given.
    named_paths: list[Path] | None
    options: Options

    @classmethod
    def open(cls, options: Options) -> Workspace:
        config_path = options.config
        if config_path is None:
            start = options.paths[0] if options.paths else Path.cwd()
            config_path = find_config(start) or (find_config(Path.cwd()) if options.paths else None)
        config = load_config(config_path)
        named = None
        if options.paths:
            named = [_shown(p) for p in discover(options.paths, manifest_roots=config.manifests)]
        return cls(config, named, options)

    @property
    def project_roots(self) -> tuple[Path, ...]:
        if self.config.manifests:
            return self.config.manifests
        return (self.config.root if self.config.path else Path.cwd(),)

    @cached_property
    def project_paths(self) -> list[Path]:
        """Every manifest file of the project."""
        found = discover(self.project_roots, manifest_roots=self.config.manifests)
        return [_shown(path) for path in found]

    @cached_property
    def manifest_paths(self) -> list[Path]:
        """Every manifest file a plan reads: the project's, and any file named outside it."""
        return _union(self.project_paths, self.named_paths or [])

    @cached_property
    def digest(self) -> str:
        """The digest of the manifest files a plan reads (``manifest_digest``)."""
        return manifest_digest(self.manifest_paths, self.config.root)

    def paths_with(self, files: Sequence[str]) -> list[Path]:
        """The manifest files, with these (relative to the project root) if they are not."""
        return _union(self.manifest_paths, [self.config.root / name for name in files])

    @cached_property
    def scope(self) -> Scope:
        """What this run plans: the files named (if not the whole project), the targets."""
        files: tuple[str, ...] = ()
        if self.named_paths is not None:
            named = {path.resolve() for path in self.named_paths}
            if not {path.resolve() for path in self.project_paths} <= named:
                root = self.config.root
                files = tuple(sorted({relative_name(path, root) for path in self.named_paths}))
        return Scope(files, len(self.manifest_paths), tuple(self.options.targets))

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

    def parse(self, paths: Sequence[Path]) -> tuple[list[YamlFile], list[Diagnostic]]:
        if not paths:
            raise InputError(self.nothing_found())
        return parse_files(paths, max_bytes=self.config.max_manifest_bytes)

    def nothing_found(self) -> str:
        """Why there is nothing to do: which places held no manifest file."""
        searched = self.options.paths or tuple(root.resolve() for root in self.project_roots)
        where = ", ".join(str(path) for path in searched)
        return (
            f"no manifest files found in {where} (a manifest is a YAML file with a top-level "
            "`apps:` key); check the paths, the working directory, or `manifests:` in "
            "reconciler.yaml"
        )

    def manifests(self, environment: Environment, *, strict: bool = False) -> ManifestSet:
        """Every manifest a plan reads, parsed, substituted and checked (errors as diagnostics)."""
        if self.named_paths == []:
            raise InputError(self.nothing_found())
        files, problems = self.parse(self.manifest_paths)
        result = evaluate(files, environment.variables, strict=strict)
        result.diagnostics = sorted(problems + result.diagnostics, key=Diagnostic.sort_key)
        return result

    def validate(self, *, all_envs: bool = False, strict: bool = False) -> ValidationReport:
        """Check the files the paths name (else the project's), for one or every environment."""
        paths = self.named_paths if self.named_paths is not None else self.project_paths
        files, problems = self.parse(paths)
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
        return ValidationReport(len(paths), apps, names, diagnostics)


def manifest_digest(paths: Sequence[Path], root: Path) -> str:
    """Changes when any manifest file's bytes, its path under ``root``, or the set changes."""
    hasher = hashlib.sha256()
    for path in sorted(paths):
        try:
            name = str(path.resolve().relative_to(root))
        except ValueError:
            name = str(path)
        hasher.update(name.encode("utf-8") + b"\0")
        try:
            hasher.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError:
            hasher.update(b"unreadable")
    return "sha256:" + hasher.hexdigest()


def _union(first: Sequence[Path], second: Sequence[Path]) -> list[Path]:
    seen = {path.resolve() for path in first}
    return [*first, *(path for path in second if path.resolve() not in seen)]


def _shown(path: Path) -> Path:
    """Paths under the working directory are shown relative to it, as people typed them."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path
