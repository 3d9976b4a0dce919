"""Executes a Plan against a Registry: the only write path.

Apply works from each change's before and after, never from the diff shown to people.
A saved plan is checked first, app by app, against what the registry holds now.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from reconciler.apply.access import AccessWriter
from reconciler.apply.handover import Courier, DeliveryError, Handover
from reconciler.apply.interrupts import Stop
from reconciler.apply.secrets import Delivery, SecretsFile
from reconciler.core.access import group_grants
from reconciler.core.changes import (
    Adopt,
    Change,
    Create,
    Declared,
    Delete,
    Deliver,
    Refresh,
    Registered,
    Rotate,
    TenantGrants,
    Update,
)
from reconciler.core.fields import ACCESS_FIELDS, REQUEST_OBJECT_USE, SECRET_METHODS, gains_a_secret
from reconciler.core.model import App, Credential, Grant, LoginConnection
from reconciler.core.plan import Plan
from reconciler.core.stamp import Stamp
from reconciler.errors import InputError, ReconcilerError, RegistryError, StalePlanError
from reconciler.registries.base import ReadsSecrets, Registry, RotatesSecrets

__all__ = ["ApplyReport", "ChangeResult", "apply_plan", "check_fresh"]


@dataclass(frozen=True)
class ChangeResult:
    change: Change
    ok: bool
    client_id: str | None = None
    error: str | None = None
    #: How a secret was delivered (read back, rotated...), for a delivery or rotation.
    detail: str | None = None
    #: The failure would happen again on the next run (``ReconcilerError.persists``).
    persists: bool = False


@dataclass
class ApplyReport:
    results: list[ChangeResult] = field(default_factory=list)
    skipped: list[Change] = field(default_factory=list)
    #: How each secret reached the sink, by app key: created, read back, rotated...
    secrets_saved: dict[str, str] = field(default_factory=dict)
    #: Apps whose secret is not in a sink; their stamps still say ``pending``.
    secrets_unsaved: list[str] = field(default_factory=list)
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results) and not self.skipped


Progress = Callable[[int, int, ChangeResult], None]


def check_fresh(
    plan: Plan,
    current: Sequence[App],
    manifest_digest: str | None = None,
    grants: Sequence[Grant] = (),
) -> None:
    """Refuse (exit 4) a saved plan whose apps, tenant grants (``grants``: every grant the
    registry holds) or manifests changed since it was made."""
    by_id = {app.client_id: app for app in current}
    owned_keys = {app.stamp.key for app in current if app.owned_by(plan.owner) and app.stamp}
    urls = {app.external_client_id for app in current if app.external_client_id}
    stale: list[str] = []
    for change in plan.changes:
        if isinstance(change, Create):
            if change.key in owned_keys or (change.cimd and change.cimd in urls):
                stale.append(f"{change.key}: created since the plan was made")
        elif isinstance(change, Registered):
            app = by_id.get(change.client_id)
            if app is None:
                stale.append(f"{change.key} ({change.client_id}): no longer in the registry")
            elif app.fingerprint() != change.fingerprint:
                stale.append(
                    f"{change.key} ({change.client_id}): changed in the registry since the plan"
                )
        elif isinstance(change, TenantGrants):
            if group_grants(change.after, grants, change.group) != change.before:
                stale.append(f"{change.key}: the tenant's grants changed since the plan")
    if (
        manifest_digest is not None
        and plan.manifest_digest
        and manifest_digest != plan.manifest_digest
    ):
        stale.append("the manifests changed since the plan was made")
    if stale:
        raise StalePlanError("the saved plan is stale; plan again:\n  " + "\n  ".join(stale))


def apply_plan(
    plan: Plan,
    registry: Registry,
    current: Sequence[App],
    *,
    secrets: SecretsFile | None = None,
    continue_on_error: bool = False,
    progress: Progress | None = None,
    parallelism: int = 1,
    stop: Stop | None = None,
    grants: Sequence[Grant] | None = None,
    connections: Sequence[LoginConnection] | None = None,
) -> ApplyReport:
    """Execute every change of ``plan``; stop at the first failure unless told to go on.

    Changes of one kind run up to ``parallelism`` at a time; kinds run in plan order, so
    deletes still come last. After a failure, or once ``stop`` is set, no new change starts.
    Without ``secrets``, pending secrets are not delivered, only named in the report.
    ``grants`` and ``connections`` are what the registry holds now (read with ``current``);
    when not given, they are read the first time a change needs them.
    """
    runnable = [
        (index, change)
        for index, change in enumerate(plan.changes)
        if secrets is not None or not isinstance(change, Deliver)
    ]
    by_id = {app.client_id: app for app in current}
    report = ApplyReport()
    access = AccessWriter(registry, grants, connections)
    executor = _Executor(plan, registry, by_id, secrets, report, access)
    report.secrets_unsaved.extend(
        change.key for change in plan.changes if secrets is None and isinstance(change, Deliver)
    )
    outcome: dict[int, ChangeResult] = {}
    lock = threading.Lock()
    failed = threading.Event()

    def run(index: int, change: Change) -> None:
        if failed.is_set() and not continue_on_error:
            return
        if stop is not None and not stop.begin():
            return
        try:
            client_id = executor.run(change)
            how = (
                report.secrets_saved.get(change.key)
                if isinstance(change, Deliver | Rotate)
                else None
            )
            result = ChangeResult(change, True, client_id, detail=how)
        except DeliveryError as exc:
            result = _failed(change, f"{exc}{_where(change)}")
            failed.set()
            for other in exc.changes:
                if other is not change:
                    with lock:
                        outcome[index_of[id(other)]] = _failed(other, str(exc))
        except ReconcilerError as exc:
            result = _failed(change, f"{exc}{_where(change)}", persists=exc.persists)
            failed.set()
        finally:
            if stop is not None:
                stop.end()
        with lock:
            outcome[index] = result
            if progress is not None:
                progress(len(outcome), len(runnable), result)

    index_of = {id(change): index for index, change in runnable}

    def settle() -> None:
        """The secrets still queued go to the sink, the connection links to the registry;
        a failure fails the changes they are for."""
        try:
            executor.flush()
        except DeliveryError as exc:
            failed.set()
            with lock:
                for change in exc.changes:
                    outcome[index_of[id(change)]] = _failed(change, f"{exc}{_where(change)}")
        for failure in access.flush():
            failed.set()
            with lock:
                for change in failure.changes:
                    outcome[index_of[id(change)]] = _failed(
                        change, f"{failure.error}{_where(change)}", persists=failure.persists
                    )

    try:
        for group in _groups(runnable):
            if (failed.is_set() and not continue_on_error) or (stop is not None and stop.is_set()):
                break
            if parallelism <= 1 or len(group) == 1:
                for index, change in group:
                    run(index, change)
            else:
                with ThreadPoolExecutor(max_workers=parallelism) as pool:
                    list(pool.map(lambda item: run(*item), group))
            settle()
    finally:
        settle()
    for index, change in runnable:
        if index in outcome:
            report.results.append(outcome[index])
        else:
            report.skipped.append(change)
    report.interrupted = stop is not None and stop.is_set()
    return report


def _failed(change: Change, error: str, *, persists: bool = False) -> ChangeResult:
    client_id = change.client_id if isinstance(change, Registered) else None
    return ChangeResult(change, False, client_id, error, persists=persists)


def _where(change: Change) -> str:
    return f" ({change.location})" if change.location else ""


def _groups(changes: Sequence[tuple[int, Change]]) -> list[list[tuple[int, Change]]]:
    groups: dict[int, list[tuple[int, Change]]] = {}
    for index, change in changes:
        groups.setdefault(change.ORDER, []).append((index, change))
    return [groups[order] for order in sorted(groups)]


@dataclass
class _Executor:
    """Runs one change at a time (from many threads); secrets go to the sink through a
    ``Courier``, in durable batches."""

    plan: Plan
    registry: Registry
    by_id: dict[str, App]
    secrets: SecretsFile | None
    report: ApplyReport
    access: AccessWriter

    def __post_init__(self) -> None:
        self.courier = Courier(self.secrets, self.restamp) if self.secrets is not None else None

    def run(self, change: Change) -> str | None:
        if isinstance(change, Delete):
            if change.before.get("grants"):
                self.access.before_delete(change.client_id)
            self.registry.delete(self.current(change))
            return change.client_id
        if isinstance(change, Deliver | Rotate):
            return self.deliver(change)
        if isinstance(change, TenantGrants):
            self.access.write_group(change.group, change.after)
            return None
        assert isinstance(change, Declared)
        after = dict(change.after)
        client = _client_fields(after)
        if isinstance(change, Create | Refresh) and change.cimd:
            held = self.current(change) if isinstance(change, Refresh) else None
            app = self.registry.register_cimd(change.cimd, self.document(change), held)
            app = self.write(app, _with_keys(client, change), self.stamp(change, after))
            self.access.write(change, app.client_id, after)
            return app.client_id
        if isinstance(change, Create):
            gets_secret = after.get("token_endpoint_auth_method") in SECRET_METHODS
            stamp = self.stamp(change, after, pending=gets_secret)
            created = self.registry.create(
                _with_request_object_keys(client, change), _credentials(change), stamp
            )
            self.by_id[created.app.client_id] = created.app
            if gets_secret:
                self.hand_over(change, created.app, stamp, created.secret, "created")
            self.access.write(change, created.app.client_id, after)
            return created.app.client_id
        assert isinstance(change, Update | Adopt)
        current = self.current(change)
        before = dict(change.before)
        changed = {name: value for name, value in after.items() if before.get(name) != value}
        gains = gains_a_secret(before, after)
        app = self.write(
            current,
            _with_keys(_client_fields(changed), change),
            self.stamp(change, after, pending=gains),
        )
        self.access.write(change, app.client_id, changed)
        if gains:  # a secret nobody needed until now: delivered as a pending one is
            self.fetch_secret(change, app, rotate=False)
        return app.client_id

    def stamp(self, change: Declared, after: Mapping[str, Any], *, pending: bool = False) -> Stamp:
        """The stamp to write; an app whose secret is still undelivered stays ``pending``."""
        held = self.by_id.get(change.client_id) if isinstance(change, Registered) else None
        still_pending = held is not None and held.stamp is not None and held.stamp.pending
        return Stamp.for_fields(
            self.plan.owner,
            change.key,
            after,
            protect=change.protect,
            pending=pending or still_pending,
            source=change.stamp_source,
        )

    def restamp(self, app: App, stamp: Stamp) -> None:
        self.write(app, {}, stamp)

    def write(self, current: App, changes: Mapping[str, Any], stamp: Stamp) -> App:
        app = self.registry.update(current, changes, stamp)
        self.by_id[app.client_id] = app
        return app

    def deliver(self, change: Deliver | Rotate) -> str:
        """A pending secret re-delivered (read back, else rotated), or a rotation asked for."""
        current = self.current(change)
        if current.stamp is None:
            raise ReconcilerError(f"client {current.client_id} carries no stamp")
        if self.secrets is None:
            raise InputError("its secret needs a --secrets-out file to be delivered to")
        if isinstance(change, Deliver) and self.secrets.holds(change.key, current.client_id):
            self.write(current, {}, current.stamp.delivered())
            self.report.secrets_saved[change.key] = "already in the sink"
            return current.client_id
        self.fetch_secret(change, current, rotate=isinstance(change, Rotate))
        return current.client_id

    def fetch_secret(self, change: Change, current: App, *, rotate: bool) -> None:
        """Read the secret back, else rotate it (flagged ``pending`` first), and hand it
        over to the sink."""
        stamp = current.stamp
        assert stamp is not None
        if self.secrets is None:  # never rotate a secret there is nowhere to deliver
            self.report.secrets_unsaved.append(change.key)
            return
        secret = None
        if not rotate and isinstance(self.registry, ReadsSecrets):
            secret = self.registry.read_secret(current)
        if secret is not None:
            self.hand_over(change, current, stamp, secret, "read back")
            return
        if not isinstance(self.registry, RotatesSecrets):
            cannot = "cannot rotate" if rotate else "can neither show nor rotate"
            raise RegistryError(
                f"{self.registry.uri} {cannot} the secret of client {current.client_id}; "
                + self.registry.rotation_unsupported
            )
        if not stamp.pending:
            current = self.write(current, {}, replace(stamp, pending=True))
        secret = self.registry.rotate_secret(current)
        self.hand_over(change, current, current.stamp or stamp, secret, "rotated")

    def hand_over(
        self, change: Change, app: App, stamp: Stamp, secret: str | None, how: str
    ) -> None:
        """Queue the secret for the sink; the stamp says so once the sink is written."""
        courier = self.courier
        if secret is None or courier is None:
            self.report.secrets_unsaved.append(change.key)
            return
        delivery = Delivery(change.key, app.client_id, secret, self.registry.uri, how)
        handover = Handover(change, delivery, app, stamp)
        self.recorded(lambda: courier.hand_over(handover, now=not isinstance(change, Create)))

    def flush(self) -> None:
        """Write the secrets still queued (at the end of each kind of change)."""
        if self.courier is not None:
            self.recorded(self.courier.flush)

    def recorded(self, deliver: Callable[[], list[Handover]]) -> None:
        """Run a delivery and say in the report which secrets are in the sink and which
        are not."""
        try:
            written = deliver()
        except DeliveryError as exc:
            written = exc.delivered
            delivered = {handover.change.key for handover in written}
            self.report.secrets_unsaved.extend(
                change.key for change in exc.changes if change.key not in delivered
            )
            raise
        finally:
            for handover in written:
                self.report.secrets_saved[handover.change.key] = handover.delivery.how

    def current(self, change: Registered) -> App:
        app = self.by_id.get(change.client_id)
        if app is None:
            raise StalePlanError(
                f"{change.key}: client {change.client_id} is no longer in the registry"
            )
        return app

    def document(self, change: Create | Refresh) -> Mapping[str, Any]:
        document = (change.source or {}).get("document")
        if not isinstance(document, Mapping):
            raise ReconcilerError(f"{change.key}: no valid metadata document for {change.cimd}")
        return document


def _credentials(change: Declared, use: str | None = None) -> list[Credential]:
    """The keys of the plan for ``use``: client authentication, or (REQUEST_OBJECT_USE)
    signed authorization requests."""
    if any("pem" not in k and "subject_dn" not in k for k in change.keys):
        raise InputError(
            f"{change.key}: the plan lacks the public keys it needs; "
            "apply a plan saved with `plan -o FILE`, not the output of `plan --format json`"
        )
    return [Credential.from_key_data(k) for k in change.keys if k.get("use") == use]


def _client_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields the client itself holds: not what it may access."""
    return {name: value for name, value in fields.items() if name not in ACCESS_FIELDS}


def _with_keys(fields: Mapping[str, Any], change: Declared) -> dict[str, Any]:
    """Canonical changes with the credential summaries swapped for the keys themselves."""
    result = _with_request_object_keys(fields, change)
    if "credentials" in result:
        result["credentials"] = _credentials(change)
    return result


def _with_request_object_keys(fields: Mapping[str, Any], change: Declared) -> dict[str, Any]:
    """``signed_request_object.credentials`` as the keys themselves."""
    result = dict(fields)
    request_object = result.get(REQUEST_OBJECT_USE)
    if isinstance(request_object, Mapping) and "credentials" in request_object:
        keys = _credentials(change, REQUEST_OBJECT_USE)
        result[REQUEST_OBJECT_USE] = {**request_object, "credentials": keys}
    return result
