"""The plan use case: one run's reads, in order (manifests, the registry, CIMD documents),
then the pure planner.

Plan and apply share this path, so what apply does is exactly what plan showed.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path

from reconciler.cimd.fetch import CimdFetcher, CimdPolicy
from reconciler.cimd.lockfile import LockFile
from reconciler.cimd.sources import Fetcher, Sources, gather_sources, lock_entry
from reconciler.core.collector import collector_paused
from reconciler.core.fields import ACCESS_FIELDS, STAMPED_FIELDS
from reconciler.core.model import ApiGrant, App, DesiredApp, Source
from reconciler.core.plan import Notice, NoticeKind, Plan
from reconciler.core.planner import plan
from reconciler.core.references import check_references
from reconciler.core.scope import Scope
from reconciler.diagnostics import Diagnostic, Location, Severity
from reconciler.errors import InputError, ManifestError, UnsafePlanError
from reconciler.manifests.config import Environment
from reconciler.manifests.desired import desired_apps, third_party_grants
from reconciler.manifests.workspace import Workspace, manifest_digest
from reconciler.pipeline.console import Console
from reconciler.pipeline.holdings import Holdings, ReadAhead, read_holdings, reads_in_background
from reconciler.pipeline.needs import reading_needs
from reconciler.registries import Connection, Registry, open_registry
from reconciler.registries.base import HeaderNote, HoldsGrants
from reconciler.registries.clients import ClientsRegistry

__all__ = [
    "connection_for",
    "LOCK_NAME",
    "Desired",
    "Planned",
    "Reading",
    "check_targets",
    "check_registration_allowed",
    "fit_to_registry",
    "load_desired",
    "make_fetcher",
    "manifest_digest",
    "open_for",
    "plan_exit_code",
    "plan_workspace",
    "read_and_plan",
    "registry_cimd_support",
    "registry_references",
    "update_lock",
]

LOCK_NAME = "reconciler.lock"


@dataclass
class Desired:
    environment: Environment
    apps: list[DesiredApp]
    warnings: list[Diagnostic]
    digest: str
    lock_path: Path
    strict: bool = False
    #: What the run plans; ``apps`` holds every app of the project all the same.
    scope: Scope = field(default_factory=Scope)
    #: The tenant's grants for every third-party app (``third_party_apis``); None: the
    #: manifests do not manage them.
    third_party: tuple[ApiGrant, ...] | None = None

    def manages_access(self) -> bool:
        """Whether any manifest manages grants or connections (``third_party_apis`` too)."""
        return self.third_party is not None or any(
            app.grants is not None or app.connections is not None for app in self.apps
        )

    def in_scope(self) -> list[DesiredApp]:
        return [app for app in self.apps if self.scope.covers(app.key, app.file)]


@dataclass
class Reading:
    """Everything one run read, and the plan made from it."""

    plan: Plan
    current: list[App]
    sources: Sources
    holdings: Holdings


@dataclass
class Planned:
    """What the plan use case read, and the plan made from it."""

    desired: Desired
    reading: Reading

    @property
    def plan(self) -> Plan:
        return self.reading.plan

    @property
    def warnings(self) -> list[Diagnostic]:
        return [*self.desired.warnings, *self.reading.sources.diagnostics]


def plan_workspace(
    workspace: Workspace,
    console: Console,
    *,
    strict: bool = False,
    locked: bool = False,
    first_run: bool = False,
    fetcher: Fetcher | None = None,
) -> Planned:
    """The plan use case: the manifests, then the registry (read only), then the plan.

    A registry that may be read from another thread (``holdings.reads_in_background``) is
    read while the manifests load and validate; their errors still come first, and then
    those of the token's scopes, before anything the read met. The manifests' warnings are
    shown before the plan, the documents' after the registry is closed. ``fetcher`` stands
    in for the safe CIMD fetcher the settings would make.
    """
    connection = connection_for(workspace, read_only=True)
    with collector_paused():  # for the read ahead too: the collector is the process's
        registry, ahead = _open_reading_ahead(workspace, connection)
        try:
            desired = load_desired(workspace, strict=strict)
            if registry is None:
                registry = open_for(desired.environment, connection)
            console.warn(desired.warnings)
            reading = read_and_plan(
                desired, registry, fetcher=fetcher, locked=locked, first_run=first_run, ahead=ahead
            )
        finally:
            if ahead is not None:
                ahead.close()  # the registry, once a read still under way has stopped
            elif registry is not None:
                registry.close()
    console.warn(reading.sources.diagnostics)
    return Planned(desired, reading)


def _open_reading_ahead(
    workspace: Workspace, connection: Connection
) -> tuple[Registry | None, ReadAhead | None]:
    """The registry, already being read when it may be read from another thread; None when
    it cannot be opened yet (the error is met again once the manifests have had their say)."""
    try:
        registry = open_for(workspace.environment(), connection)
    except Exception:
        return None, None
    if not isinstance(registry, ClientsRegistry) or not reads_in_background(registry):
        return registry, None
    return registry, ReadAhead(registry)


def plan_exit_code(plan: Plan, *, detailed: bool = False) -> int:
    """3 when apply would refuse the plan for conflicts or registrations the registry refuses;
    past the safety thresholds, UnsafePlanError (exit 3) names them; else 2 for changes
    under ``detailed`` (--detailed-exitcode), 0 otherwise."""
    if plan.conflicts or plan.registration_refusals():
        return 3
    if plan.unsafe_reasons():
        raise UnsafePlanError(
            "apply would refuse this plan, past the safety thresholds: "
            + "; ".join(plan.unsafe_reasons())
            + ". Review it; `apply --force` applies it anyway"
        )
    return 2 if detailed and not plan.matches_registry else 0


def load_desired(workspace: Workspace, *, strict: bool = False) -> Desired:
    """Validated manifests as desired apps; any error stops here (exit 1)."""
    environment = workspace.environment()
    manifests = workspace.manifests(environment, strict=strict)
    manifests.raise_for_errors()
    return Desired(
        environment,
        desired_apps(manifests.apps.values(), workspace.config.root),
        [d for d in manifests.diagnostics if not d.is_error],
        workspace.digest,
        workspace.config.root / LOCK_NAME,
        strict,
        workspace.scope,
        third_party_grants(manifests),
    )


def read_and_plan(
    desired: Desired,
    registry: Registry,
    *,
    fetcher: Fetcher | None = None,
    locked: bool = False,
    first_run: bool = False,
    ahead: ReadAhead | None = None,
) -> Reading:
    """Read every app once (or take what ``ahead`` read), fetch every CIMD document once,
    then plan.

    A document that cannot be used for a new app is an error (exit 1); with ``locked``,
    a document that differs from the lock refuses the plan (exit 3). What the registry
    says of itself (``header_notes``) leads the notices; ``first_run`` marks a note that
    refuses creates as accepted. What the registry's credentials cannot read is said
    before anything is read (``needs.reading_needs``).
    """
    registry.check_permissions(reading_needs(desired))
    header = [_header_notice(note, first_run) for note in registry.header_notes()]
    needs_access = desired.manages_access()
    holdings = (
        ahead.holdings(needs_access=needs_access)
        if ahead is not None
        else read_holdings(registry, needs_access=needs_access)
    )
    current = holdings.apps
    environment = desired.environment
    check_targets(desired, current)
    apps, unheld = fit_to_registry(desired.apps, registry, holdings)
    shown = [app for app in apps if desired.scope.covers(app.key, app.file)]
    lock = LockFile.load(desired.lock_path)
    with nullcontext(fetcher) if fetcher else make_fetcher(environment.cimd) as fetching:
        sources = gather_sources(
            shown,
            {app.external_client_id for app in current if app.external_client_id},
            fetching,
            lock,
            strict=desired.strict,
        )
    sources.diagnostics.extend(registry_cimd_support(registry, shown, current))
    sources.diagnostics.extend(registry_verdicts(registry, shown, current))
    sources.diagnostics.extend(
        registry_references(registry, holdings, shown, desired.third_party or ())
    )
    if sources.errors:
        raise ManifestError(sources.diagnostics)
    if locked and sources.unlocked:
        raise UnsafePlanError(
            f"--locked: these documents differ from {lock.path.name}; review the change and "
            "update the lock (reconciler lock) in a pull request:\n  "
            + "\n  ".join(sources.unlocked)
        )
    result = plan(
        apps,
        current,
        owner=environment.owner,
        registry=environment.written_registry or registry.uri,
        environment=environment.name,
        safety=environment.safety,
        manifest_digest=desired.digest,
        documents=sources.documents,
        cimd_note=registry.cimd_note,
        scope=desired.scope,
        third_party=desired.third_party if holdings.holds_access else None,
        default_grants=holdings.grants,
    )
    orphans = [
        Notice(NoticeKind.ORPHAN, orphan.orphan_message(), orphan.key)
        for orphan in registry.orphans()
    ]
    if orphans or header or unheld:
        result = replace(result, notices=(*header, *unheld, *result.notices, *orphans))
    return Reading(result, current, sources, holdings)


def fit_to_registry(
    apps: Sequence[DesiredApp], registry: Registry, holdings: Holdings
) -> tuple[list[DesiredApp], list[Notice]]:
    """The apps as this registry can hold them, and one notice naming what it cannot hold
    and the apps that declare it: said once at plan time, rather than planned as an update
    that never settles. A registry that holds no grants but a client's ``scope`` gets the
    scopes of each registered app's ``apis`` there (a CIMD app's scope is its document's)."""
    unheld = set(registry.unheld_fields)
    if not holdings.holds_access:
        unheld.update(ACCESS_FIELDS)
    if not unheld:
        return list(apps), []
    declaring: dict[str, list[str]] = {}
    fitted = []
    for app in apps:
        fields = {name: value for name, value in app.fields.items() if name not in unheld}
        dropped = [name for name in app.fields if name in unheld]
        grants, connections = app.grants, app.connections
        if grants is not None and "grants" in unheld:
            if registry.holds_scope and not app.cimd:  # a document says its own scope
                fields.update(_scope_field(app, grants))
            else:
                dropped.append("grants")
            grants = None
        if connections is not None and "connections" in unheld:
            if connections:
                dropped.append("connections")
            connections = None
        for name in dropped:
            declaring.setdefault(name, []).append(app.key)
        fitted.append(replace(app, fields=fields, grants=grants, connections=connections))
    if not declaring:
        return fitted, []
    listed = "; ".join(
        f"{_MANIFEST_NAMES.get(name, name)} ({', '.join(declaring[name])})"
        for name in sorted(declaring, key=lambda name: _POSITION.get(name, len(_POSITION)))
    )
    notice = Notice(
        NoticeKind.UNHELD, f"this registry has no place for {listed}: they are not applied here"
    )
    return fitted, [notice]


#: The manifest's name of a canonical field, where they differ.
_MANIFEST_NAMES = {"grants": "apis", "app_type": "type", "client_metadata": "metadata"}
_POSITION = {name: index for index, name in enumerate(STAMPED_FIELDS)}


def _scope_field(app: DesiredApp, grants: Sequence[ApiGrant]) -> dict[str, str]:
    """``scope``: every scope of the app's APIs, sorted, unique, space-separated (RFC 7591
    §2); nothing when they name none, so the server's default holds. An app that signs
    users in (any type but m2m) also gets ``openid``: servers that hold a client to its
    registered scope (node-oidc-provider, Hydra) would refuse it an ID token otherwise."""
    scopes = {scope for grant in grants for scope in grant.scopes}
    if scopes and app.fields.get("app_type") != "non_interactive":
        scopes.add("openid")
    return {"scope": " ".join(sorted(scopes))} if scopes else {}


def registry_references(
    registry: Registry,
    holdings: Holdings,
    shown: Sequence[DesiredApp],
    third_party: Sequence[ApiGrant],
) -> list[Diagnostic]:
    """The APIs, scopes and connections the shown apps (and ``third_party_apis``) name
    that the registry lacks, as errors where they are named. The registry's APIs are read
    once, and only when something names one; a registry that cannot hold grants (not
    ``HoldsGrants``) is not asked."""
    names_some = third_party or any(app.grants or app.connections for app in shown)
    if not names_some or not isinstance(registry, HoldsGrants):
        return []
    return check_references(shown, third_party, registry.list_apis(), holdings.connections)


def check_targets(desired: Desired, current: Sequence[App]) -> None:
    """A --target that matches no declared app and no owned app is a typo: say which."""
    owner = desired.environment.owner
    keys = [app.key for app in desired.apps]
    keys += [app.stamp.key for app in current if app.stamp is not None and app.owned_by(owner)]
    unmatched = desired.scope.unmatched(keys)
    if unmatched:
        raise InputError(
            "--target matches no app declared in the manifests and no app owner "
            f"{owner!r} has in {desired.environment.registry}: " + ", ".join(unmatched)
        )


def check_registration_allowed(plan: Plan, registry: Registry, *, first_run: bool) -> None:
    """Refuse (exit 3) to create apps where the registry says it could duplicate them.

    Asked of the registry as it is now, so a saved plan is judged by today's state.
    """
    if first_run or not any(change.ACTION == "create" for change in plan.changes):
        return
    refusing = [note.message for note in registry.header_notes() if note.refuses_creates]
    if refusing:
        raise UnsafePlanError("refused: " + "; ".join(refusing))


def _header_notice(note: HeaderNote, first_run: bool) -> Notice:
    if note.refuses_creates and first_run:
        return Notice(NoticeKind.FIRST_RUN, note.first_run_message or note.message)
    return Notice(NoticeKind(note.kind), note.message)


def registry_cimd_support(
    registry: Registry, apps: Sequence[DesiredApp], current: Sequence[App]
) -> list[Diagnostic]:
    """Whether the registry registers CIMD documents at all (Auth0: the tenant setting
    ``client_id_metadata_document_supported``), asked once when an app declares one.

    A registry that does not stops each new CIMD app (an error where it is declared) and
    warns for each registered one (a refresh of its document would be refused); one that
    cannot tell warns.
    """
    declared = [app for app in apps if app.cimd]
    if not declared:
        return []
    support = registry.cimd_support()
    if support.supported:
        return []
    registered = {app.external_client_id for app in current}
    found: list[Diagnostic] = []
    for app in declared:
        new = app.cimd not in registered
        if support.supported is None:
            severity, outcome = Severity.WARNING, "registering it may be refused"
        elif new:
            severity, outcome = Severity.ERROR, "the app cannot be registered"
        else:
            severity, outcome = Severity.WARNING, "a refresh from its document would be refused"
        where = app.location or Location(app.key)
        found.append(
            Diagnostic(where, "cimd-unsupported", f"{support.reason}; {outcome}", severity)
        )
    return found


def registry_verdicts(
    registry: Registry, apps: Sequence[DesiredApp], current: Sequence[App]
) -> list[Diagnostic]:
    """What the registry itself says of each CIMD document (Auth0's cimd/preview).

    Its violations stop a new app (the registry would refuse to register it) and are
    warnings for an app that exists; its warnings are warnings.
    """
    registered = {app.external_client_id for app in current}
    found: list[Diagnostic] = []
    for app in apps:
        if not app.cimd:
            continue
        verdict = registry.preview_cimd(app.cimd)
        if verdict is None:
            continue
        where = app.location or Location(app.key)
        blocking = Severity.WARNING if app.cimd in registered else Severity.ERROR
        for problem in verdict.errors:
            found.append(
                Diagnostic(where, "registry-cimd", f"{app.cimd}: {problem}", Severity.WARNING)
            )
        for violation in verdict.violations:
            found.append(Diagnostic(where, "registry-cimd", f"{app.cimd}: {violation}", blocking))
        for warning in verdict.warnings:
            found.append(
                Diagnostic(where, "registry-cimd", f"{app.cimd}: {warning}", Severity.WARNING)
            )
    return found


def make_fetcher(policy: CimdPolicy) -> CimdFetcher:
    """The safe fetcher; SSL_CERT_FILE names extra CAs to trust, as for other tools."""
    bundle = os.environ.get("SSL_CERT_FILE")
    context = ssl.create_default_context(cafile=bundle) if bundle else None
    return CimdFetcher(policy, ssl_context=context)


def update_lock(path: Path, sources: Sequence[Source]) -> list[str]:
    """Write the lock entries for these (fetched, valid) documents; return their URLs."""
    fresh = [source for source in sources if source.origin == "fetched"]
    if not fresh:
        return []
    lock = LockFile.load(path)
    lock.with_entries(lock_entry(source) for source in fresh).save()
    return [source.url for source in fresh]


def connection_for(workspace: Workspace, *, read_only: bool = False) -> Connection:
    """How to reach the registry: command-line settings, and the project root."""
    options = workspace.options
    given = {
        name: value
        for name, value in (("timeout", options.timeout), ("lock_timeout", options.lock_timeout))
        if value is not None
    }
    return Connection(
        auth0_base_url=options.auth0_base_url,
        auth0_audience=options.auth0_audience,
        max_rps=options.max_rps,
        root=workspace.config.root,
        read_only=read_only,
        lock=not options.no_lock,
        environ=options.environ,
        **given,
    )


def open_for(environment: Environment, connection: Connection | None = None) -> Registry:
    return open_registry(environment.registry, connection)
