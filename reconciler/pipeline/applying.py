"""The apply use case: a plan made afresh or saved, its gates, the writes, the lock file.

Both ways take the registry's lock before reading it, so nothing changes between the
read that the plan (or its freshness check) rests on and the writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reconciler.apply.applier import ApplyReport, apply_plan, check_fresh
from reconciler.apply.interrupts import Stop, stop_on_signals
from reconciler.apply.secrets import SecretsFile
from reconciler.cimd.sources import Fetcher
from reconciler.core.changes import Create, Refresh
from reconciler.core.model import Source
from reconciler.core.plan import Plan
from reconciler.errors import InputError, RegistryError, UnsafePlanError
from reconciler.manifests.workspace import Workspace
from reconciler.pipeline.console import Console
from reconciler.pipeline.holdings import Holdings, read_holdings
from reconciler.pipeline.needs import (
    WRITE_OPERATIONS,
    applying_needs,
    combined,
    reading_needs,
    saved_plan_reading_needs,
)
from reconciler.pipeline.planning import (
    LOCK_NAME,
    check_registration_allowed,
    connection_for,
    load_desired,
    manifest_digest,
    open_for,
    read_and_plan,
    update_lock,
)
from reconciler.registries import Registry, open_registry
from reconciler.registries.base import Needs, Operation

__all__ = [
    "ApplyRequest",
    "Applied",
    "applied_sources",
    "apply_workspace",
    "refuse_contradicting_flags",
]

#: Reads the registry under its lock: the plan to apply, and what it applies to.
PlanUnderLock = Callable[[], tuple[Plan, Holdings]]


@dataclass(frozen=True)
class ApplyRequest:
    """How to apply, as the command line said it."""

    #: A saved plan (``apply PLAN.json``) to apply as it was made; else plan afresh.
    saved: Path | None = None
    #: The --secrets-out file; without it, secrets due are named in the report, not delivered.
    secrets_out: Path | None = None
    auto_approve: bool = False
    force: bool = False
    continue_on_error: bool = False
    strict: bool = False
    locked: bool = False
    first_run: bool = False


@dataclass(frozen=True)
class Applied:
    """What an apply did, and the exit code that says so."""

    plan: Plan
    #: None when the plan had no changes: nothing was written.
    report: ApplyReport | None
    #: The CIMD documents this run registered, now recorded in the lock file.
    locked_urls: list[str]
    exit_code: int


def apply_workspace(
    workspace: Workspace,
    request: ApplyRequest,
    console: Console,
    *,
    stop: Stop | None = None,
    fetcher: Fetcher | None = None,
) -> Applied:
    """The apply use case: read, show the plan, pass its gates, confirm, write, record.

    A saved plan is checked against the registry as it is now (StalePlanError, exit 4) and
    is not confirmed again; a fresh one is confirmed unless ``auto_approve``. A plan past
    the safety thresholds (without ``force``), or with creates the registry says could
    duplicate apps, is refused with UnsafePlanError (exit 3). Ctrl-C or SIGTERM during the
    writes sets ``stop``: the writes in flight finish and the exit code names the signal.
    What the registry's credentials cannot do is said before the lock is taken (the reads,
    and a saved plan's writes) and before the first write (a fresh plan's writes).
    ``fetcher`` stands in for the safe CIMD fetcher the settings would make.
    """
    stop = stop or Stop()
    secrets = SecretsFile(request.secrets_out) if request.secrets_out else None
    delivers = secrets is not None
    if request.saved is not None:
        registry, read, needs = _saved_plan(workspace, request.saved, delivers=delivers)
    else:
        registry, read, needs = _fresh_plan(workspace, request, console, fetcher)
    options = workspace.options
    try:
        registry.check_permissions(combined(needs, {Operation.LOCK: []}))
        if request.saved is None:
            _scout_writes(registry, read, delivers=delivers)
        with registry.lock():
            plan, holdings = read()
            console.show_plan(plan)
            plan.raise_if_unsafe(force=request.force)
            _check_registration(plan, registry, first_run=request.first_run)
            if plan.is_empty:
                return Applied(plan, None, [], 0)
            registry.check_permissions(applying_needs(plan, delivers=delivers))
            if request.saved is None and not request.auto_approve:
                console.confirm()
            with stop_on_signals(stop):
                report = apply_plan(
                    plan,
                    registry,
                    holdings.apps,
                    grants=holdings.grants if holdings.holds_access else None,
                    connections=holdings.connections if holdings.holds_access else None,
                    secrets=secrets,
                    continue_on_error=request.continue_on_error,
                    progress=console.progress,
                    parallelism=options.parallelism or registry.write_parallelism,
                    stop=stop,
                )
    finally:
        registry.close()
    console.show_report(report)
    locked_urls = update_lock(workspace.config.root / LOCK_NAME, applied_sources(report))
    if report.interrupted:
        return Applied(plan, report, locked_urls, stop.exit_code)
    return Applied(plan, report, locked_urls, 0 if report.ok else 1)


def _scout_writes(registry: Registry, read: PlanUnderLock, *, delivers: bool) -> None:
    """A token that lacks a scope some write may need: plan once before the lease is
    taken (itself a write to the tenant), so that a run whose plan needs that scope stops
    before its first write. A token that holds every write scope costs nothing more."""
    try:
        registry.check_permissions({operation: [] for operation in WRITE_OPERATIONS})
    except RegistryError:
        plan, _ = read()
        registry.check_permissions(applying_needs(plan, delivers=delivers))


def _saved_plan(
    workspace: Workspace, path: Path, *, delivers: bool
) -> tuple[Registry, PlanUnderLock, Needs]:
    """The saved plan's registry, its freshness check against what that holds now, and
    all it asks of the registry (its writes are known before anything is read)."""
    plan = Plan.from_json(path.read_text("utf-8"), str(path))
    refuse_contradicting_flags(path, plan, workspace)
    registry = open_registry(
        workspace.config.resolve_registry(workspace.options.registry or plan.registry),
        connection_for(workspace),
    )
    digest = manifest_digest(workspace.paths_with(plan.scope.files), workspace.config.root)

    def read() -> tuple[Plan, Holdings]:
        holdings = read_holdings(registry, needs_access=plan.writes_access)
        check_fresh(plan, holdings.apps, digest, holdings.grants)
        return plan, holdings

    needs = combined(saved_plan_reading_needs(plan), applying_needs(plan, delivers=delivers))
    return registry, read, needs


def _fresh_plan(
    workspace: Workspace, request: ApplyRequest, console: Console, fetcher: Fetcher | None
) -> tuple[Registry, PlanUnderLock, Needs]:
    """The manifests (their warnings shown now), their registry, the plan read under lock,
    and what reading for it asks of the registry."""
    desired = load_desired(workspace, strict=request.strict)
    console.warn(desired.warnings)
    registry = open_for(desired.environment, connection_for(workspace))

    def read() -> tuple[Plan, Holdings]:
        reading = read_and_plan(
            desired,
            registry,
            fetcher=fetcher,
            locked=request.locked,
            first_run=request.first_run,
        )
        console.warn(reading.sources.diagnostics)
        return reading.plan, reading.holdings

    return registry, read, reading_needs(desired)


def _check_registration(plan: Plan, registry: Registry, *, first_run: bool) -> None:
    try:
        check_registration_allowed(plan, registry, first_run=first_run)
    except UnsafePlanError as refused:
        if any(notice.kind == "first-run" for notice in plan.notices):
            raise UnsafePlanError(
                f"{refused}; this saved plan was made with --first-run: apply it with "
                "--first-run as well, as the state is still missing"
            ) from refused
        raise


def refuse_contradicting_flags(saved: Path, plan: Plan, workspace: Workspace) -> None:
    """A saved plan means what it was made with: flags that would change that are refused.

    --var and --var-file are refused whenever given: the plan's values are substituted
    already. --env, --registry and --config are refused when they name another environment,
    registry, or settings in which the plan's environment is another owner or registry.
    """
    options, config = workspace.options, workspace.config
    refused: list[str] = []
    if options.env is not None and options.env != plan.environment:
        refused.append(f"--env {options.env} (the plan is for {plan.environment or 'default'})")
    if options.vars:
        refused.append("--var (the plan's values are already substituted)")
    if options.var_files:
        refused.append("--var-file (the plan's values are already substituted)")
    planned_registry = config.resolve_registry(plan.registry)
    if options.registry and config.resolve_registry(options.registry) != planned_registry:
        refused.append(f"--registry {options.registry} (the plan is for {plan.registry})")
    if options.config is not None:
        try:
            environment = config.resolve(plan.environment)
            same = (environment.owner, environment.registry) == (plan.owner, planned_registry)
        except InputError:
            same = False
        if not same:
            refused.append(
                f"--config {options.config} (its environment {plan.environment or 'default'} "
                f"is not owner {plan.owner} on {plan.registry})"
            )
    if refused:
        raise InputError(
            f"{saved}: a saved plan applies as it was made; refused: "
            + "; ".join(refused)
            + ". Plan again with these flags instead"
        )


def applied_sources(report: ApplyReport) -> list[Source]:
    """The CIMD documents this apply registered or refreshed from, and only those."""
    return [
        Source.from_data(result.change.source)
        for result in report.results
        if result.ok
        and isinstance(result.change, Create | Refresh)
        and result.change.source is not None
    ]
