"""The rotate-secret use case: new client secrets for owned apps, delivered to a sink."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.apply.applier import ApplyReport, apply_plan
from reconciler.apply.secrets import SecretsFile
from reconciler.core.plan import Plan
from reconciler.core.planner import plan_rotation
from reconciler.manifests.workspace import Workspace
from reconciler.pipeline.console import Console
from reconciler.pipeline.planning import connection_for, open_for
from reconciler.registries.base import Operation

__all__ = ["Rotated", "rotate_secrets"]


@dataclass(frozen=True)
class Rotated:
    """What a rotation did, and the exit code that says so."""

    plan: Plan
    report: ApplyReport
    exit_code: int


def rotate_secrets(
    workspace: Workspace,
    keys: Sequence[str],
    secrets_out: Path,
    console: Console,
    *,
    auto_approve: bool = False,
) -> Rotated:
    """Rotate the secret of each owned app whose key matches one of ``keys`` (globs).

    The plan is made and applied under the registry's lock, and confirmed in between
    unless ``auto_approve``; a key that matches no owned app with a secret is an InputError.
    """
    environment = workspace.environment()
    secrets = SecretsFile(secrets_out)
    registry = open_for(environment, connection_for(workspace))
    try:
        registry.check_permissions(
            {
                Operation.READ_APPS: [],
                Operation.LOCK: [],
                Operation.ROTATE_SECRETS: [],
                Operation.UPDATE_APPS: [],
            }
        )
        with registry.lock():
            current = registry.list_apps()
            plan = plan_rotation(keys, current, owner=environment.owner, registry=registry.uri)
            console.show_plan(plan)
            if not auto_approve:
                console.confirm()
            report = apply_plan(plan, registry, current, secrets=secrets, progress=console.progress)
    finally:
        registry.close()
    console.show_report(report)
    return Rotated(plan, report, 0 if report.ok else 1)
