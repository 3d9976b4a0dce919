"""Every environment of reconciler.yaml in one run (``--all-envs``).

Each environment is planned (or applied) as ``--env NAME`` would: its own registry, owner,
variables and safety, its own registry connection, and so its own rate-limit governor and
apply lease. Environments run concurrently, at most ``parallel`` at a time: a plan over
one forked process per core (parsing and planning take the CPU), an apply in daemon
threads of this process (its leases, signals and secrets files stay in one place). The
manifests are parsed once for all. Ctrl-C while planning ends the run at once, as for one
environment; during an apply it stops every environment as it stops one. One
environment's failure (bad credentials, a 5xx past its retries, a refused plan) is its
outcome; the others go on. The run's exit code is the worst of theirs
(``worst_exit_code``).

Credentials: an environment NAME reads the process variables ``NAME_AUTH0_...`` (NAME in
capitals, ``-`` and ``.`` as ``_``) as ``AUTH0_...`` when any is set, and then none of
the plain ``AUTH0_...``, so two tenants' credentials are never mixed; else the plain ones.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from functools import cached_property
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from reconciler.apply.applier import ApplyReport, ChangeResult
from reconciler.apply.interrupts import Stop, stop_on_signals
from reconciler.apply.report import progress_line, render_report
from reconciler.cimd.sources import Fetcher
from reconciler.core.collector import collector_paused
from reconciler.core.environments import EnvironmentSection
from reconciler.core.plan import Plan
from reconciler.diagnostics import Diagnostic
from reconciler.errors import InputError, ManifestError, ReconcilerError, UnsafePlanError
from reconciler.manifests.schema import load_checks
from reconciler.manifests.workspace import Workspace
from reconciler.manifests.yamlfile import YamlFile
from reconciler.pipeline.applying import ApplyRequest, apply_workspace
from reconciler.pipeline.planning import make_fetcher, plan_exit_code, plan_workspace
from reconciler.registries import load_registry_code

__all__ = [
    "DEFAULT_PARALLEL_ENVS",
    "EnvironmentsRequest",
    "apply_environments",
    "credentials_for",
    "environment_names",
    "in_shard",
    "plan_environments",
    "saved_plans_dir",
    "saved_plans_in",
    "worst_exit_code",
]

#: Environments run at once. Each spends most of its time waiting on its own tenant,
#: whose rate limit is its own, so this is far more than the cores: 20 tenants 80 ms away
#: take one round, not three. Bounded all the same: a hundred tenants do not open a hundred
#: connections (and a hundred management tokens) in the same second.
DEFAULT_PARALLEL_ENVS = 32

#: Plans at once in each process planning forks: while one takes the CPU, the others wait
#: on their tenants (a plan of 500 apps 80 ms away is a third CPU). More only take turns at
#: the interpreter lock, and the turns cost: 20 such tenants took a quarter more CPU at 16
#: a process than at 6, and no less time.
_PLANS_PER_PROCESS = 6

#: Worst first: an error (the environment's state is unknown), a stale plan (what was
#: reviewed no longer holds, whatever it said), a refusal (someone must review it),
#: changes, none. An interrupt (128 + signal) is worse than all: the run did not finish.
_SEVERITY = {1: 4, 4: 3, 3: 2, 2: 1, 0: 0}


def worst_exit_code(codes: Sequence[int]) -> int:
    """The exit code of a run made of these: 0 for none."""
    return max(codes, key=lambda code: _SEVERITY.get(code, len(_SEVERITY)), default=0)


@dataclass(frozen=True)
class EnvironmentsRequest:
    """How to run every environment, as the command line said it."""

    parallel: int = DEFAULT_PARALLEL_ENVS
    strict: bool = False
    locked: bool = False
    first_run: bool = False
    detailed_exitcode: bool = False
    #: Apply only: a directory to write one ``--secrets-out`` file per environment into.
    secrets_dir: Path | None = None
    auto_approve: bool = False
    force: bool = False
    continue_on_error: bool = False
    #: ``(K, N)``: only the K-th of N shards (``--shard K/N``), for a CI matrix of N jobs.
    shard: tuple[int, int] | None = None


def in_shard(names: Sequence[str], shard: tuple[int, int] | None) -> list[str]:
    """Every N-th environment from the K-th, in the settings file's order: N jobs of a
    matrix share the environments evenly, each one in exactly one job."""
    if shard is None:
        return list(names)
    index, count = shard
    return [name for position, name in enumerate(names) if position % count == index - 1]


@dataclass
class _Recorder:
    """One environment's Console: it keeps what it would show, for the combined report;
    progress lines go out at once, named by the environment."""

    name: str
    announce: Callable[[str], None]
    warnings: list[Diagnostic] = field(default_factory=list)
    plan: Plan | None = None
    report: ApplyReport | None = None

    def warn(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.warnings.extend(diagnostics)

    def show_plan(self, plan: Plan) -> None:
        self.plan = plan

    def confirm(self) -> None:
        raise InputError("refusing to apply without confirmation")  # never asked: see below

    def progress(self, index: int, total: int, result: ChangeResult) -> None:
        self.announce(f"[{self.name}] {progress_line(index, total, result)}")

    def show_report(self, report: ApplyReport) -> None:
        self.report = report


def environment_names(workspace: Workspace) -> list[str]:
    """The environments of reconciler.yaml, refusing what cannot hold for all of them."""
    config, options = workspace.config, workspace.options
    if not config.environments:
        where = config.path or "no reconciler.yaml was found"
        raise InputError(f"--all-envs: {where} defines no environments")
    per_environment = {
        "--env": options.env,
        "--registry": options.registry,
        "--auth0-base-url": options.auth0_base_url,
        "--auth0-audience": options.auth0_audience,
    }
    given = [flag for flag, value in per_environment.items() if value is not None]
    if given:
        raise InputError(
            f"--all-envs takes each environment's own settings from {config.path}; "
            f"refused: {', '.join(given)} (use --env NAME for one environment)"
        )
    names = config.environment_names()
    claimed: dict[tuple[str, str], str] = {}
    for name in names:
        environment = config.resolve(name)
        held = (environment.registry, environment.owner)
        if held in claimed:
            raise InputError(
                f"{config.path}: environments {claimed[held]} and {name} both manage owner "
                f"{environment.owner!r} in {environment.registry}: each plan would undo "
                "the other's; give one of them its own owner"
            )
        claimed[held] = name
    return names


def credentials_for(name: str, environ: Mapping[str, str]) -> dict[str, str]:
    """The process environment as environment ``name``'s registry sees it."""
    prefix = re.sub(r"[^A-Za-z0-9]", "_", name).upper() + "_"
    own = {
        key.removeprefix(prefix): value
        for key, value in environ.items()
        if key.startswith(prefix + "AUTH0_")
    }
    if not own:
        return dict(environ)
    shared = {key: value for key, value in environ.items() if not key.startswith("AUTH0_")}
    return {**shared, **own}


@dataclass
class _Shared:
    """What every environment's workspace finds alike, found once: the manifest files,
    their parse (only read: each environment substitutes its variables into a copy), the
    digest of their bytes."""

    found: dict[str, Any] = field(default_factory=dict)
    # Reentrant: the manifest paths are found from the project's.
    finding: threading.RLock = field(default_factory=threading.RLock)

    def once(self, name: str, find: Callable[[], Any]) -> Any:
        with self.finding:
            if name not in self.found:
                self.found[name] = find()
            return self.found[name]


@dataclass
class _SharedWorkspace(Workspace):
    """One environment's workspace, finding and parsing the manifests once for all of
    them (as ``validate --all-envs`` does)."""

    shared: _Shared = field(default_factory=_Shared)

    @cached_property
    def project_paths(self) -> list[Path]:
        found: list[Path] = self.shared.once(
            "project_paths", lambda: super(_SharedWorkspace, self).project_paths
        )
        return found

    @cached_property
    def manifest_paths(self) -> list[Path]:
        found: list[Path] = self.shared.once(
            "manifest_paths", lambda: super(_SharedWorkspace, self).manifest_paths
        )
        return found

    @cached_property
    def digest(self) -> str:
        found: str = self.shared.once("digest", lambda: super(_SharedWorkspace, self).digest)
        return found

    def parse(self, paths: Sequence[Path]) -> tuple[list[YamlFile], list[Diagnostic]]:
        parsed: tuple[list[YamlFile], list[Diagnostic]] = self.shared.once(
            f"parse {tuple(paths)}", lambda: super(_SharedWorkspace, self).parse(paths)
        )
        return parsed


def _workspaces(workspace: Workspace, *, saved: bool = False) -> Callable[[str], Workspace]:
    """Each environment's workspace: its --env, its credentials, what they find alike."""
    shared = _Shared()

    def workspace_for(name: str) -> Workspace:
        options = replace(workspace.options, env=name, environ=credentials_for(name, os.environ))
        if saved:  # a saved plan's values and scope are in it already
            options = replace(options, paths=(), vars=(), var_files=(), targets=())
        named = None if saved else workspace.named_paths
        return _SharedWorkspace(workspace.config, named, options, shared)

    return workspace_for


def _prepare(workspace: Workspace, registries: Sequence[str]) -> None:
    """Before the environments are forked, what each would do first and alike: find and
    parse the manifests, load the checks and each registry's code; done once here, not
    once in every process. What fails here fails again in each environment, reported as
    that environment's."""
    with suppress(ReconcilerError, OSError):
        if workspace.named_paths != []:
            workspace.parse(workspace.manifest_paths)
            _digest = workspace.digest
        load_checks()
        for uri in registries:
            load_registry_code(uri)


def plan_environments(
    workspace: Workspace,
    request: EnvironmentsRequest,
    *,
    fetcher: Fetcher | None = None,
) -> list[EnvironmentSection]:
    """Plan every environment, read only; a section per environment, in settings order.
    One CIMD fetcher serves them all (one policy, one cache of connections)."""
    names = in_shard(environment_names(workspace), request.shard)
    workspace_for = _workspaces(workspace)
    fetcher = fetcher or make_fetcher(workspace.config.cimd)
    if names:
        registries = {workspace.config.resolve(name).registry for name in names}
        _prepare(workspace_for(names[0]), sorted(registries))

    def plan_one(name: str) -> EnvironmentSection:
        recorder = _Recorder(name, _ignore)
        try:
            planned = plan_workspace(
                workspace_for(name),
                recorder,
                strict=request.strict,
                locked=request.locked,
                first_run=request.first_run,
                fetcher=fetcher,
            )
        except (ReconcilerError, OSError) as failed:
            return _failed(name, failed, recorder.warnings)
        section = EnvironmentSection(
            name,
            0,
            plan=planned.plan,
            warnings=tuple(planned.warnings),
            registry=planned.desired.environment.written_registry,
        )
        try:
            code = plan_exit_code(planned.plan, detailed=request.detailed_exitcode)
        except UnsafePlanError as refused:
            return replace(section, exit_code=refused.exit_code, error=str(refused))
        return replace(section, exit_code=code)

    # Paused once for all of them: each plan's own pause would otherwise end while others
    # still run, and set off a collection of every environment's objects each time.
    with collector_paused():
        return _run_spread(names, plan_one, request.parallel)


def apply_environments(
    workspace: Workspace,
    request: EnvironmentsRequest,
    *,
    show_plans: Callable[[list[EnvironmentSection]], None],
    confirm: Callable[[], None],
    announce: Callable[[str], None],
    saved: Mapping[str, Path] | None = None,
    fetcher: Fetcher | None = None,
) -> list[EnvironmentSection]:
    """Apply every environment; a section per environment, its plan and its report.

    With ``auto_approve``, each environment plans and applies under its own lock, as
    ``apply --auto-approve --env NAME`` does. Without it, every environment is planned
    first, read only; ``show_plans`` shows them together and ``confirm`` asks once; then
    each plan is applied as a saved plan is: checked against its registry under the lock,
    so what is written is what was approved, or that environment is stale (exit 4).
    ``saved`` (environment -> plan file) applies plans saved by ``plan --all-envs -o``,
    not confirmed again. Ctrl-C during the writes stops every environment as it stops
    one (the writes in flight finish, no new one starts, no environment starts anew).
    """
    stop = Stop()
    if saved is None and not request.auto_approve:
        planned = plan_environments(workspace, request, fetcher=fetcher)
        show_plans(planned)
        pending = {s.name: s.plan for s in planned if s.plan is not None and not s.plan.is_empty}
        if not pending:
            return planned
        confirm()
        with tempfile.TemporaryDirectory(prefix="reconciler-plans-") as held:
            files = {name: Path(held, f"{name}.json") for name in pending}
            for name, plan in pending.items():
                files[name].write_text(plan.to_json(), encoding="utf-8")
            applied = _apply_each(workspace, request, files, announce, stop, fetcher)
        by_name = {section.name: section for section in applied}
        return [by_name.get(section.name, section) for section in planned]
    if saved is not None:
        shown = in_shard(list(saved), request.shard)
        plans = {name: saved[name] for name in shown}
        return _apply_each(workspace, request, plans, announce, stop, fetcher)
    names = in_shard(environment_names(workspace), request.shard)
    return _apply_each(workspace, request, dict.fromkeys(names), announce, stop, fetcher)


def _apply_each(
    workspace: Workspace,
    request: EnvironmentsRequest,
    plans: Mapping[str, Path | None],
    announce: Callable[[str], None],
    stop: Stop,
    fetcher: Fetcher | None,
) -> list[EnvironmentSection]:
    saved_workspace, fresh_workspace = _workspaces(workspace, saved=True), _workspaces(workspace)
    fetcher = fetcher or make_fetcher(workspace.config.cimd)

    def apply_one(name: str) -> EnvironmentSection:
        recorder = _Recorder(name, announce)
        plan_file = plans[name]
        workspace_for = fresh_workspace if plan_file is None else saved_workspace
        secrets = request.secrets_dir / f"{name}.json" if request.secrets_dir else None
        try:
            applied = apply_workspace(
                workspace_for(name),
                ApplyRequest(
                    saved=plan_file,
                    secrets_out=secrets,
                    auto_approve=True,
                    force=request.force,
                    continue_on_error=request.continue_on_error,
                    strict=request.strict,
                    locked=request.locked,
                    first_run=request.first_run,
                ),
                recorder,
                stop=stop,
                fetcher=fetcher,
            )
        except (ReconcilerError, OSError) as failed:
            return _failed(name, failed, recorder.warnings, recorder.plan)
        report = render_report(applied.report) if applied.report is not None else None
        return EnvironmentSection(
            name,
            applied.exit_code,
            plan=applied.plan,
            warnings=tuple(recorder.warnings),
            report=report,
            locked_urls=tuple(applied.locked_urls),
        )

    with stop_on_signals(stop):
        return _run_each(list(plans), apply_one, request.parallel, stop)


def saved_plans_dir(paths: Sequence[Path]) -> Path | None:
    """``apply --all-envs plans/``: one directory of saved plans (JSON, and no manifests)."""
    if len(paths) != 1 or not paths[0].is_dir():
        return None
    names = [path.suffix for path in paths[0].iterdir()]
    if ".json" in names and not {".yaml", ".yml"} & set(names):
        return paths[0]
    return None


def saved_plans_in(directory: Path, workspace: Workspace) -> dict[str, Path]:
    """``apply --all-envs DIR``: DIR's ``NAME.json`` plans, each for environment NAME."""
    if not directory.is_dir():
        raise InputError(f"{directory}: with --all-envs, apply takes the directory plan -o wrote")
    known = set(environment_names(workspace))
    found = {path.stem: path for path in sorted(directory.glob("*.json"))}
    unknown = sorted(set(found) - known)
    if unknown:
        raise InputError(
            f"{directory}: plans for environments {workspace.config.path} does not define: "
            + ", ".join(unknown)
        )
    if not found:
        raise InputError(f"{directory}: no saved plan (NAME.json) in it")
    return found


def _run_each(
    names: Sequence[str],
    work: Callable[[str], EnvironmentSection],
    parallel: int,
    stop: Stop,
) -> list[EnvironmentSection]:
    """``work`` for each name, at most ``parallel`` at once; once ``stop`` is set, a name
    not yet started is not started. Daemon threads: an interrupt in the main thread does
    not wait for them."""
    pending = list(reversed(names))
    done: dict[str, EnvironmentSection] = {}
    guard = threading.Lock()

    def worker() -> None:
        while True:
            with guard:
                if not pending:
                    return
                name = pending.pop()
            if stop.is_set():
                section = EnvironmentSection(
                    name, stop.exit_code, error="interrupted before it started"
                )
            else:
                try:
                    section = work(name)
                except Exception as bug:  # a bug in one environment's run: the others go on
                    section = EnvironmentSection(
                        name, 1, error=f"internal error: {type(bug).__name__}: {bug}"
                    )
            with guard:
                done[name] = section

    threads = [
        threading.Thread(target=worker, name="reconciler-env", daemon=True)
        for _ in range(max(1, min(parallel, len(names))))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [done[name] for name in names]


def _run_spread(
    names: Sequence[str], work: Callable[[str], EnvironmentSection], parallel: int
) -> list[EnvironmentSection]:
    """``_run_each`` over one forked process per core, each with its share of the names
    and of ``parallel`` (at most ``_PLANS_PER_PROCESS`` at once): parsing, planning and
    decoding answers take the CPU, which one process's threads would take turns at. Read
    only (planning), so a process that is stopped leaves nothing behind: the children
    ignore Ctrl-C and, being daemons, end with the parent. Only a process with no other
    thread forks (a thread holding a lock at the fork would leave it held in the child for
    good); otherwise, as where fork is missing or on one core, the threads of this
    process."""
    processes = min(os.cpu_count() or 1, len(names), parallel)
    forkable = "fork" in multiprocessing.get_all_start_methods()
    if processes < 2 or not forkable or threading.active_count() > 1:
        return _run_each(names, work, min(parallel, _PLANS_PER_PROCESS), Stop())
    context = multiprocessing.get_context("fork")
    for stream in (sys.stdout, sys.stderr):  # else a child could write what is buffered again
        stream.flush()
    shares = [list(names[index::processes]) for index in range(processes)]
    threads = max(1, min(parallel // processes, _PLANS_PER_PROCESS))
    readers: dict[Connection, list[str]] = {}
    for share in shares:
        reader, writer = context.Pipe(duplex=False)

        def child(share: list[str] = share, writer: Connection = writer) -> None:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            writer.send(_run_each(share, work, threads, Stop()))

        context.Process(target=child, name="reconciler-envs", daemon=True).start()
        writer.close()
        readers[reader] = share
    done: dict[str, EnvironmentSection] = {}
    while readers:
        for ready in wait(list(readers)):
            assert isinstance(ready, Connection)
            share = readers.pop(ready)
            try:
                sections: list[EnvironmentSection] = ready.recv()
            except EOFError:  # the process died (killed, out of memory) before it answered
                sections = [
                    EnvironmentSection(name, 1, error="internal error: its process ended")
                    for name in share
                ]
            done.update((section.name, section) for section in sections)
    return [done[name] for name in names]


def _failed(
    name: str,
    failed: ReconcilerError | OSError,
    warnings: Sequence[Diagnostic],
    plan: Plan | None = None,
) -> EnvironmentSection:
    """An environment that stopped, with the message one environment's run would print."""
    if isinstance(failed, ManifestError):
        message = "\n".join(str(diagnostic) for diagnostic in failed.diagnostics)
    elif isinstance(failed, ReconcilerError):
        message = str(failed)
    else:
        where = f" ({failed.filename})" if failed.filename else ""
        message = f"{failed.strerror or failed}{where}"
    code = failed.exit_code if isinstance(failed, ReconcilerError) else 1
    return EnvironmentSection(name, code, plan=plan, error=message, warnings=tuple(warnings))


def _ignore(line: str) -> None:
    """Planning makes no progress lines."""
