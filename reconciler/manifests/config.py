"""Project settings: ``reconciler.yaml``, its environments, and the variables in force."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.cimd.policy import CimdPolicy
from reconciler.core.safety import Safety
from reconciler.errors import InputError, ManifestError
from reconciler.manifests.schema import CONFIG_SCHEMA, check_schema
from reconciler.manifests.variables import Variables
from reconciler.manifests.yamlfile import DEFAULT_MAX_BYTES, YamlError, YamlFile, load_yaml_file

__all__ = [
    "CONFIG_NAMES",
    "Config",
    "Environment",
    "find_config",
    "load_config",
    "load_var_file",
    "parse_var_assignments",
]

CONFIG_NAMES = ("reconciler.yaml", "reconciler.yml")
DEFAULT_REGISTRY = "sqlite:.reconciler/registry.db"
DEFAULT_OWNER = "reconciler"


@dataclass(frozen=True)
class Environment:
    """Everything one run needs from the settings, resolved for one environment."""

    name: str | None
    owner: str
    registry: str
    variables: Variables
    safety: Safety
    cimd: CimdPolicy
    #: ``registry`` as the flag or the settings file wrote it (a relative sqlite: path stays
    #: relative): what a pull-request comment shows instead of a runner's absolute path.
    written_registry: str = ""


@dataclass(frozen=True)
class Config:
    root: Path
    path: Path | None = None
    owner: str = DEFAULT_OWNER
    manifests: tuple[Path, ...] = ()
    registry: str = DEFAULT_REGISTRY
    vars: Mapping[str, str] = field(default_factory=dict)
    default_environment: str | None = None
    environments: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    safety: Safety = Safety()
    cimd: CimdPolicy = CimdPolicy()
    source: YamlFile | None = None
    max_manifest_bytes: int = DEFAULT_MAX_BYTES

    def environment_names(self) -> list[str]:
        return list(self.environments)

    def resolve(
        self,
        env_name: str | None = None,
        *,
        command_line_vars: Mapping[str, str] | None = None,
        registry_override: str | None = None,
        process_env: Mapping[str, str] | None = None,
    ) -> Environment:
        name = env_name or self.default_environment
        settings: Mapping[str, Any] = {}
        if name is not None:
            if name not in self.environments:
                known = ", ".join(self.environments) or "none are defined"
                where = f" ({self.path})" if self.path else ""
                raise InputError(f"unknown environment {name!r}{where}; environments: {known}")
            settings = self.environments[name] or {}
        env_vars = {**self.vars, **_stringify(settings.get("vars", {}))}
        registry = registry_override or settings.get("registry") or self.registry
        return Environment(
            name=name,
            owner=str(settings.get("owner", self.owner)),
            registry=self.resolve_registry(registry),
            variables=Variables(
                dict(command_line_vars or {}),
                env_vars,
                os.environ if process_env is None else process_env,
                name,
            ),
            safety=self.safety.merged(settings.get("safety")),
            cimd=self.cimd,
            written_registry=registry,
        )

    def resolve_registry(self, uri: str) -> str:
        """Relative ``sqlite:`` paths are relative to the settings file."""
        if uri.startswith("sqlite:"):
            path = Path(uri.removeprefix("sqlite:"))
            if not path.is_absolute():
                return f"sqlite:{self.root / path}"
        return uri


def find_config(start: Path) -> Path | None:
    """The nearest settings file in ``start`` or one of its parents."""
    here = start.resolve()
    if here.is_file():
        here = here.parent
    for directory in (here, *here.parents):
        for name in CONFIG_NAMES:
            candidate = directory / name
            if candidate.is_file():
                return candidate
    return None


def load_config(path: Path | None, *, root: Path | None = None) -> Config:
    """Read and validate a settings file; with no file, defaults rooted at ``root``."""
    if path is None:
        return Config(root=(root or Path.cwd()).resolve())
    try:
        source = load_yaml_file(path)
    except YamlError as exc:
        raise ManifestError([exc.diagnostic]) from exc
    problems = check_schema(source, CONFIG_SCHEMA)
    if problems:
        raise ManifestError(problems)
    data: dict[str, Any] = source.data
    base = path.resolve().parent
    cimd = data.get("cimd", {})
    config = Config(
        root=base,
        path=path,
        owner=data["owner"],
        manifests=tuple(base / p for p in data.get("manifests", [])),
        registry=data.get("registry", DEFAULT_REGISTRY),
        vars=_stringify(data.get("vars", {})),
        default_environment=data.get("default_environment"),
        environments=data.get("environments", {}),
        safety=Safety().merged(data.get("safety")),
        cimd=CimdPolicy(
            allow_domains=tuple(cimd.get("allow_domains", ())),
            timeout_seconds=float(cimd.get("timeout_seconds", 10.0)),
            parallelism=int(cimd.get("parallelism", 16)),
            insecure_allow_loopback_for_tests=bool(
                cimd.get("insecure_allow_loopback_for_tests", False)
            ),
        ),
        source=source,
        max_manifest_bytes=int(data.get("max_manifest_bytes", DEFAULT_MAX_BYTES)),
    )
    default = config.default_environment
    if default is not None and default not in config.environments:
        where = source.locate(("default_environment",))
        raise InputError(f"{where}: default_environment {default!r} is not among the environments")
    return config


def parse_var_assignments(assignments: Sequence[str]) -> dict[str, str]:
    result: dict[str, str] = {}
    for item in assignments:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise InputError(f"--var takes NAME=VALUE, got {item!r}")
        result[name] = value
    return result


def load_var_file(path: Path) -> dict[str, str]:
    """A YAML mapping of variable names to scalar values."""
    try:
        source = load_yaml_file(path)
    except YamlError as exc:
        raise ManifestError([exc.diagnostic]) from exc
    if not isinstance(source.data, dict):
        raise InputError(f"{source.locate(())}: a var file is a mapping of NAME: value")
    for name, value in source.data.items():
        if isinstance(value, dict | list) or value is None:
            raise InputError(f"{source.locate((name,))}: variable {name!r} must be a scalar value")
    return _stringify(source.data)


def _stringify(values: Mapping[str, Any]) -> dict[str, str]:
    def text(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return {str(k): text(v) for k, v in values.items()}
