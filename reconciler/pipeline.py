"""One run's reads, in order: manifests, then the registry; then the pure planner.

Plan and apply share this path, so what apply does is exactly what plan showed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.config import Environment
from reconciler.desired import desired_apps
from reconciler.diagnostics import Diagnostic
from reconciler.model import App, DesiredApp
from reconciler.plan import Plan
from reconciler.planner import plan
from reconciler.registries import Connection, Registry, open_registry
from reconciler.workspace import Workspace

__all__ = ["Desired", "load_desired", "manifest_digest", "read_and_plan"]


@dataclass
class Desired:
    environment: Environment
    apps: list[DesiredApp]
    warnings: list[Diagnostic]
    digest: str


def load_desired(workspace: Workspace, *, strict: bool = False) -> Desired:
    """Validated manifests as desired apps; any error stops here (exit 1)."""
    environment = workspace.environment()
    manifests = workspace.manifests(environment, strict=strict)
    manifests.raise_for_errors()
    return Desired(
        environment,
        desired_apps(manifests.apps.values()),
        [d for d in manifests.diagnostics if not d.is_error],
        manifest_digest(workspace.manifest_paths, workspace.config.root),
    )


def read_and_plan(desired: Desired, registry: Registry) -> tuple[Plan, list[App]]:
    """Read every app once, then plan."""
    current = registry.list_apps()
    environment = desired.environment
    result = plan(
        desired.apps,
        current,
        owner=environment.owner,
        registry=registry.uri,
        environment=environment.name,
        safety=environment.safety,
        manifest_digest=desired.digest,
    )
    return result, current


def open_for(environment: Environment, connection: Connection | None = None) -> Registry:
    return open_registry(environment.registry, connection)


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
