"""The planner: desired apps x actual apps -> Plan. Pure: every read happened before."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from typing import Any

from reconciler.core.access import group_grants
from reconciler.core.changes import (
    Adopt,
    Change,
    Convergence,
    Create,
    Delete,
    Deliver,
    FieldChange,
    Reason,
    Refresh,
    Rotate,
    TenantGrants,
    Update,
)
from reconciler.core.collector import collector_paused
from reconciler.core.comparison import Comparison, document_fields
from reconciler.core.fields import REQUEST_OBJECT_USE, SECRET_METHODS, gains_a_secret
from reconciler.core.model import (
    CREDENTIAL_METHODS,
    ApiGrant,
    App,
    DesiredApp,
    Grant,
    Source,
    canonical,
    grant_name,
    with_held_kids,
)
from reconciler.core.plan import Conflict, Notice, NoticeKind, Plan, Safety
from reconciler.core.risks import change_risks, creation_risks, deletion_risks, refresh_risks
from reconciler.core.rotation import REQUEST_SIGNING, Rotation
from reconciler.core.scope import Scope
from reconciler.errors import InputError

__all__ = ["THIRD_PARTY_CLIENTS", "plan", "plan_rotation"]

#: Auth0's ``default_for`` group of a tenant's grants for every third-party app.
THIRD_PARTY_CLIENTS = "third_party_clients"


def plan(
    desired: Sequence[DesiredApp],
    actual: Sequence[App],
    *,
    owner: str,
    registry: str,
    environment: str | None = None,
    safety: Safety | None = None,
    manifest_digest: str = "",
    documents: Mapping[str, Source] | None = None,
    cimd_note: str | None = None,
    scope: Scope | None = None,
    third_party: Sequence[ApiGrant] | None = None,
    default_grants: Sequence[Grant] = (),
) -> Plan:
    """What it takes to make the registry hold ``desired`` (for this owner, and only that).

    ``documents`` are the CIMD documents to register or refresh from, by URL; a CIMD app
    whose document is missing keeps what the registry holds. ``cimd_note`` is what the
    registry does with a CIMD app instead of registering it, if it does not. ``desired``
    is every app of the project; with a partial ``scope``, only the apps it covers are
    planned, and the others only keep their registry apps from being deleted.
    ``third_party`` is the tenant's grants for every third-party app the manifests
    declare (None: they do not manage them), ``default_grants`` those the registry holds;
    a partial run leaves them alone.
    """
    scope = scope or Scope()
    named = frozenset(spec.client_id for spec in desired if spec.client_id)
    declared = {spec.key: spec.file for spec in desired}
    with collector_paused():
        state = _Planning(owner, actual, documents or {}, cimd_note, named, scope=scope)
        state.resolve_duplicates(declared)
        for spec in sorted(desired, key=lambda s: s.key):
            if scope.covers(spec.key, spec.file):
                state.reconcile(spec)
            else:
                state.leave_alone(spec)
        state.delete_unclaimed()
        state.hint_renames()
        if third_party is not None and not scope.is_partial:
            state.converge_tenant_grants(third_party, default_grants)
    return Plan(
        owner=owner,
        registry=registry,
        environment=environment,
        changes=tuple(state.changes),
        notices=tuple(state.notices),
        conflicts=tuple(state.conflicts),
        owned=len(state.owned),
        manifest_digest=manifest_digest,
        safety=safety or Safety(),
        scope=scope,
    )


def plan_rotation(
    patterns: Sequence[str], actual: Sequence[App], *, owner: str, registry: str
) -> Plan:
    """A plan that rotates the secret of each owned app whose key matches a pattern (globs)."""
    owned = sorted(
        (app for app in actual if app.owned_by(owner)),
        key=lambda app: app.stamp.key if app.stamp else "",
    )
    changes: list[Rotate] = []
    for pattern in patterns:
        matched = [a for a in owned if a.stamp and fnmatchcase(a.stamp.key, pattern)]
        if not matched:
            raise InputError(f"rotate-secret: no app of owner {owner!r} has the key {pattern!r}")
        for app in matched:
            assert app.stamp is not None
            method = app.fields.get("token_endpoint_auth_method")
            if method not in SECRET_METHODS:
                raise InputError(
                    f"rotate-secret: {app.stamp.key} ({app.client_id}) has no client secret "
                    f"(token_endpoint_auth_method {method or 'none'})"
                )
            if any(change.client_id == app.client_id for change in changes):
                continue
            changes.append(
                Rotate(
                    key=app.stamp.key,
                    client_id=app.client_id,
                    reasons=(Reason.ROTATE_SECRET,),
                    risks=("secret-rotated",),
                    protect=app.stamp.protect,
                    fingerprint=app.fingerprint(),
                    notes=("the current secret stops working at once",),
                )
            )
    return Plan(owner=owner, registry=registry, changes=tuple(changes))


@dataclass
class _Planning:
    owner: str
    actual: Sequence[App]
    documents: Mapping[str, Source]
    cimd_note: str | None
    #: Client ids the manifests name: never the duplicate that is deleted.
    named: frozenset[str] = frozenset()
    changes: list[Change] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    claimed: set[str] = field(default_factory=set)
    scope: Scope = field(default_factory=Scope)

    def __post_init__(self) -> None:
        self.owned: dict[str, App] = {}
        self.by_id = {app.client_id: app for app in self.actual}
        self.by_url = {app.external_client_id: app for app in self.actual if app.external_client_id}
        self.twins: dict[str, list[App]] = {}
        for app in self.actual:
            if app.owned_by(self.owner):
                assert app.stamp is not None
                self.twins.setdefault(app.stamp.key, []).append(app)
                self.owned.setdefault(app.stamp.key, app)

    def resolve_duplicates(self, declared: Mapping[str, str]) -> None:
        """One app per key, for the keys this run covers (see ``keep_one``)."""
        for key, apps in self.twins.items():
            if len(apps) < 2:
                continue
            covered = (
                self.scope.covers(key, declared[key])
                if key in declared
                else all(self.scope.may_delete(key, a.stamp.source) for a in apps if a.stamp)
            )
            if covered:
                self.owned[key] = self.keep_one(key, apps)
            else:
                self.claimed.update(app.client_id for app in apps[1:])

    def keep_one(self, key: str, apps: list[App]) -> App:
        """Extra apps this owner created for a key (a create sent twice by a fault, or by two
        runs at once) are deleted, keeping the one whose secret was delivered. Two apps
        whose secrets may both be in use are left for a person."""
        keeper, *extras = sorted(
            apps, key=lambda app: (app.client_id not in self.named, *_keeper_order(app))
        )
        if not extras:
            return keeper
        delivered = [app for app in apps if _holds_delivered_secret(app)]
        protected = [app for app in extras if _protected(app)]
        if len(delivered) > 1 or protected:
            ids = ", ".join(app.client_id for app in apps)
            why = "each secret may be in use" if len(delivered) > 1 else "protected ones among them"
            self.conflicts.append(
                Conflict(
                    key,
                    f"registry apps {ids} all carry the key {key!r} for owner {self.owner!r} "
                    f"({why}); delete the ones nobody uses by hand",
                )
            )
            return keeper
        for extra in extras:
            self.changes.append(self.delete(extra, Reason.DUPLICATE))
            self.claimed.add(extra.client_id)
        return keeper

    def reconcile(self, spec: DesiredApp) -> None:
        refused = len(self.conflicts)
        target = self.target(spec)
        if len(self.conflicts) > refused:
            return
        if target is None:
            self.changes.append(self.create(spec))
            return
        if target.client_id in self.claimed:
            self.refuse(spec, f"client {target.client_id} is claimed by another app key as well")
            return
        stamp = target.stamp
        if stamp is not None and stamp.owner != self.owner:
            self.refuse(
                spec,
                f"app {spec.key!r} names client {target.client_id}, which owner {stamp.owner!r} "
                f"manages as {stamp.key!r}; this project's owner is {self.owner!r}",
            )
            return
        self.claimed.add(target.client_id)
        if target.unreachable:
            self.notices.append(
                Notice(
                    NoticeKind.UNREACHABLE,
                    f"{spec.key} ({target.client_id}): {target.unreachable}",
                    spec.key,
                    spec.where,
                )
            )
            return
        if bool(spec.cimd) != target.is_cimd:
            self.refuse(
                spec,
                f"app {spec.key!r} and client {target.client_id} differ in kind (CIMD or not); "
                "an app cannot be converted: give it a new key",
            )
            return
        switch = _party_switch(spec, target)
        if switch:
            self.refuse(spec, switch)
            return
        spec = with_held_kids(spec, target)
        change = self.converge(spec, target)
        rotation = credential_rotation(spec, target) if change is not None else None
        keys = request_key_rotation(spec, target, rotation) if change is not None else None
        rotations = [r for r in (rotation, keys) if r is not None]
        impossible = next((r.impossible for r in rotations if r.impossible), None)
        if impossible:
            self.refuse(spec, impossible)
            return
        if change is not None and rotations:
            notes = [note for r in rotations for note in r.notes()]
            change = replace(change, notes=(*change.notes, *notes))
        if change is not None:
            self.changes.append(change)
        if stamp is not None and stamp.pending:
            self.changes.append(self.deliver(spec, target, _PENDING_NOTE))
        elif change is not None and gains_a_secret(change.before, change.after):
            noted = replace(change, notes=(*change.notes, _BECOMES_CONFIDENTIAL_NOTE))
            self.changes[-1] = noted

    def deliver(self, spec: DesiredApp, app: App, note: str) -> Deliver:
        return Deliver(
            key=spec.key,
            client_id=app.client_id,
            reasons=(Reason.SECRET_NOT_DELIVERED,),
            protect=spec.protect,
            location=spec.where,
            fingerprint=app.fingerprint(),
            notes=(note,),
        )

    def leave_alone(self, spec: DesiredApp) -> None:
        """An app outside a partial run's scope: no change, and its registry app is kept."""
        mine = self.owned.get(spec.key)
        named = self.by_id.get(spec.client_id) if spec.client_id else None
        registered = self.by_url.get(spec.cimd) if spec.cimd else None
        for app in (mine, named, registered):
            if app is not None:
                self.claimed.add(app.client_id)

    def target(self, spec: DesiredApp) -> App | None:
        """The registry app this spec is about, or None when it must be created."""
        mine = self.owned.get(spec.key)
        if spec.cimd:
            found = self.by_url.get(spec.cimd)
            if found is None and mine is not None and mine.client_id not in self.claimed:
                reason = Reason.URL_CHANGED if mine.is_cimd else Reason.REPLACED
                self.changes.append(self.delete(mine, reason))
                self.claimed.add(mine.client_id)
            return found
        if spec.client_id:
            found = self.by_id.get(spec.client_id)
            if found is None:
                self.refuse(spec, f"client_id {spec.client_id!r} is not in the registry")
                if mine is not None:
                    self.claimed.add(mine.client_id)  # refused, so not deleted either
                return None
            if mine is not None and mine.client_id != found.client_id and _protected(mine):
                self.refuse(
                    spec,
                    f"app {spec.key!r} names client {found.client_id}, but the protected client "
                    f"{mine.client_id} carries this key: remove `protect` from it first",
                )
                self.claimed.add(mine.client_id)
                return None
            return found
        if mine is not None and mine.is_cimd:
            self.changes.append(self.delete(mine, Reason.REPLACED))
            self.claimed.add(mine.client_id)
            return None
        return mine

    def create(self, spec: DesiredApp) -> Create:
        after = spec.comparable()
        diff = [change for name, value in after.items() for change in _assigned(name, value)]
        source = self.documents.get(spec.cimd) if spec.cimd else None
        upstream: dict[str, Any] = {}
        if source is not None:
            upstream = document_fields(spec, source)
            diff = [
                FieldChange(f"document.{n}", None, v, (Reason.UPSTREAM,))
                for n, v in upstream.items()
            ] + diff
        return Create(
            key=spec.key,
            after=after,
            diff=tuple(diff),
            reasons=(Reason.NEW,),
            risks=creation_risks({**upstream, **after}),
            protect=spec.protect,
            cimd=spec.cimd,
            location=spec.where,
            file=spec.file,
            keys=_keys(spec),
            source=source.to_data() if source is not None else None,
            notes=(self.cimd_note,) if spec.cimd and self.cimd_note else (),
        )

    def converge(self, spec: DesiredApp, app: App) -> Convergence | None:
        """The change that brings ``app`` to what ``spec`` declares; None when it holds it."""
        source = self.documents.get(spec.cimd) if spec.cimd else None
        found = Comparison.of(spec, app, source)
        if app.stamp is not None and not found.differs:
            return None
        if source is not None and found.document:
            return self.refresh(spec, app, found, source)
        kind: type[Adopt | Update] = Update if app.stamp is not None else Adopt
        return kind(
            key=spec.key,
            client_id=app.client_id,
            before=found.before,
            after=found.after,
            diff=found.describe(),
            reasons=found.reasons() if app.stamp is not None else (Reason.ADOPT,),
            risks=change_risks(found.before, found.after, found.reverted()),
            protect=spec.protect,
            cimd=spec.cimd,
            location=spec.where,
            file=spec.file,
            fingerprint=app.fingerprint(),
            keys=_keys(spec) if _KEYED_FIELDS & found.fields.keys() else (),
            notes=(app.note,) if app.note else (),
        )

    def refresh(self, spec: DesiredApp, app: App, found: Comparison, source: Source) -> Refresh:
        """Re-register from the changed document, then re-apply the declared fields."""
        held = {name: value for name, (value, _) in found.document.items()}
        wanted = {name: value for name, (_, value) in found.document.items()}
        return Refresh(
            key=spec.key,
            client_id=app.client_id,
            before=found.before,
            after=found.after,
            diff=found.describe(),
            reasons=found.reasons(),
            risks=refresh_risks(
                {**held, **found.before},
                {**wanted, **found.after},
                found.reverted(),
                source.sensitive_changes,
            ),
            protect=spec.protect,
            cimd=source.url,
            location=spec.where,
            file=spec.file,
            fingerprint=app.fingerprint(),
            source=source.to_data(),
            notes=tuple(
                note
                for note in (app.note, _document_changes_note(source.sensitive_changes))
                if note
            ),
        )

    def converge_tenant_grants(self, wanted: Sequence[ApiGrant], held: Sequence[Grant]) -> None:
        """The tenant's grants for every third-party app, as ``third_party_apis`` says."""
        after = {"grants": {grant_name(grant.key): grant.view() for grant in wanted}}
        before = group_grants(after, held, THIRD_PARTY_CLIENTS)
        if before == after:
            return
        self.changes.append(
            TenantGrants(
                key="third_party_apis",
                group=THIRD_PARTY_CLIENTS,
                before=before,
                after=after,
                diff=tuple(
                    FieldChange(
                        f"grants[{name}]", before["grants"].get(name), after["grants"].get(name)
                    )
                    for name in sorted(before["grants"].keys() | after["grants"].keys())
                    if before["grants"].get(name) != after["grants"].get(name)
                ),
                reasons=(Reason.MANIFEST,),
                risks=change_risks(before, after),
                location=str(wanted[0].location) if wanted and wanted[0].location else "",
            )
        )

    def delete(self, app: App, reason: Reason = Reason.REMOVED) -> Delete:
        return Delete(
            key=app.stamp.key if app.stamp else app.client_id,
            client_id=app.client_id,
            before=canonical(app.fields),
            reasons=(reason,),
            notes=(_DUPLICATE_NOTE,) if reason is Reason.DUPLICATE else (),
            risks=deletion_risks(reason),
            cimd=app.external_client_id,
            fingerprint=app.fingerprint(),
        )

    def hint_renames(self) -> None:
        """A key renamed in a manifest is a delete and a create: say how to keep the app."""
        created = {
            (c.after.get("name"), c.after.get("app_type")): c
            for c in self.changes
            if isinstance(c, Create) and c.after and not c.cimd
        }
        for change in self.changes:
            if not isinstance(change, Delete):
                continue
            twin = created.get((change.before.get("name"), change.before.get("app_type")))
            if twin is not None:
                self.notices.append(
                    Notice(
                        NoticeKind.RENAME,
                        f"{twin.key} looks like {change.key} renamed: to keep the app (its id, "
                        f"secret and grants) add `client_id: {change.client_id}` to {twin.key}",
                        twin.key,
                        twin.location,
                    )
                )

    def delete_unclaimed(self) -> None:
        for key, app in sorted(self.owned.items()):
            if app.client_id in self.claimed:
                continue
            assert app.stamp is not None
            if not self.scope.may_delete(key, app.stamp.source):
                self.keep_outside_scope(key, app)
                continue
            if app.stamp.protect:
                self.notices.append(
                    Notice(
                        NoticeKind.PROTECTED,
                        f"{key} ({app.client_id}) is no longer in the manifests but is protected: "
                        "kept. Remove `protect: true` (and apply) before removing the app.",
                        key,
                    )
                )
                continue
            self.changes.append(self.delete(app))

    def keep_outside_scope(self, key: str, app: App) -> None:
        """A removed app a partial run may not delete: named when only the files hid it."""
        if not self.scope.files or not self.scope.targets_key(key):
            return
        self.notices.append(
            Notice(
                NoticeKind.OUT_OF_SCOPE,
                f"{key} ({app.client_id}) is no longer in the manifests, but its stamp does "
                "not say it was last applied from the files of this partial run: kept. "
                "A run on every manifest deletes it.",
                key,
            )
        )

    def refuse(self, spec: DesiredApp, message: str) -> None:
        self.conflicts.append(Conflict(spec.key, message, spec.where))


#: The fields whose change needs the public keys themselves.
_KEYED_FIELDS = frozenset({"credentials", REQUEST_OBJECT_USE})
_PENDING_NOTE = (
    "its stamp says the secret the registry handed out has not reached a --secrets-out "
    "file (a run without --secrets-out, or one that stopped in between); apply reads it "
    "back where the registry shows it, else rotates it (the old secret then stops working)"
)
_BECOMES_CONFIDENTIAL_NOTE = (
    "it becomes confidential: apply delivers its secret to --secrets-out (read back, else "
    "rotated), as nobody needed it until now"
)
_DUPLICATE_NOTE = (
    "a second app for this key (a create that was sent twice); the app whose secret was "
    "delivered is kept"
)


def _assigned(name: str, value: Any) -> list[FieldChange]:
    """A new app's field as people read it: each grant's members on a line of their own
    (``grants[https://ledger.example.com/].scopes``), every other field whole."""
    if name != "grants" or not isinstance(value, dict):
        return [FieldChange(name, None, value)]
    return [
        FieldChange(f"grants[{audience}].{member}", None, member_value)
        for audience, grant in value.items()
        for member, member_value in grant.items()
    ]


def _party_switch(spec: DesiredApp, app: App) -> str:
    """Why ``spec`` cannot be planned as a change of ``app``: it switches the app between
    first and third party, which Auth0 never does to an existing app (its client id even
    differs: ``tpc_`` for third-party). Empty when it does not."""
    declared, held = spec.fields.get("is_first_party"), app.fields.get("is_first_party")
    if not isinstance(declared, bool) or not isinstance(held, bool) or declared == held:
        return ""
    kinds = ("a third-party", "a first-party") if declared else ("a first-party", "a third-party")
    return (
        f"app {spec.key!r} declares is_first_party: {str(declared).lower()}, but client "
        f"{app.client_id} is {kinds[0]} app, and an app cannot be converted to {kinds[1]} "
        "one (Auth0's rule). To switch, declare a new app under a new key, without "
        "client_id: it is a new client, with a new client_id, secret and grants, and users "
        f"consent again. Else set is_first_party back to {str(held).lower()}"
    )


def _holds_delivered_secret(app: App) -> bool:
    method = app.fields.get("token_endpoint_auth_method")
    return method in SECRET_METHODS and app.stamp is not None and not app.stamp.pending


def _protected(app: App) -> bool:
    return app.stamp is not None and app.stamp.protect


def _keeper_order(app: App) -> tuple[bool, bool, str]:
    """Delivered before pending, protected first, then a stable order, so every run keeps
    the same app."""
    return (app.stamp is not None and app.stamp.pending, not _protected(app), app.client_id)


def _keys(spec: DesiredApp) -> tuple[dict[str, Any], ...]:
    """The public keys apply registers: for client authentication, then (``use``) for
    signed authorization requests."""
    return tuple(credential.key_data() for credential in spec.credentials) + tuple(
        {**credential.key_data(), "use": REQUEST_OBJECT_USE}
        for credential in spec.request_object_credentials
    )


def credential_rotation(spec: DesiredApp, app: App) -> Rotation | None:
    """How apply moves ``app`` to the credentials ``spec`` declares, where the registry
    keeps them one by one (None: it does not, or they do not change)."""
    method_before = app.fields.get("token_endpoint_auth_method")
    method_after = spec.fields.get("token_endpoint_auth_method", method_before)
    if (
        app.credential_limit is None
        or method_after not in CREDENTIAL_METHODS
        or "credentials" not in spec.fields
    ):
        return None
    wanted = [credential.summary() for credential in spec.credentials]
    if canonical({"credentials": wanted}) == canonical(
        {"credentials": list(app.fields.get("credentials") or [])}
    ):
        return None
    return Rotation.between(
        app.credentials, wanted, limit=app.credential_limit, in_use=method_before == method_after
    )


def request_key_rotation(spec: DesiredApp, app: App, auth: Rotation | None) -> Rotation | None:
    """How apply moves ``app`` to the keys ``spec`` declares for its signed authorization
    requests, within what its authentication credentials leave of the registry's limit
    while they rotate (``auth``: their rotation in the same apply, if any)."""
    declared = spec.fields.get(REQUEST_OBJECT_USE)
    if app.credential_limit is None or not (
        isinstance(declared, Mapping) and "credentials" in declared
    ):
        return None
    wanted = [credential.summary() for credential in spec.request_object_credentials]
    held = app.fields.get(REQUEST_OBJECT_USE)
    held_keys = list(held.get("credentials") or []) if isinstance(held, Mapping) else []
    if canonical({"keys": wanted}) == canonical({"keys": held_keys}):
        return None
    others = len(auth.final) + len(auth.retired) if auth is not None else len(app.credentials)
    # credential_limit is what the keys in use for requests leave; unused ones count in
    # the rotation itself.
    shared = app.credential_limit + sum(c.enabled for c in app.request_object_credentials)
    return Rotation.between(
        app.request_object_credentials,
        wanted,
        limit=shared - others,
        in_use=True,
        use=REQUEST_SIGNING,
    )


def _document_changes_note(fields: Sequence[str]) -> str:
    if not fields:
        return ""
    return f"the document changed {', '.join(fields)} since its locked copy: review them"
