"""What a run is about to ask of its registry, worked out before it asks: from the
manifests before the first read, from the plan before the first write.

A registry whose credentials are scoped (Auth0's management token) checks them against
it (``Registry.check_permissions``) and names every missing permission at once, instead
of a 403 halfway through, or worse, a read that quietly shows less (Auth0 hides the keys
of private_key_jwt apps from a token that may not read them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from reconciler.core.changes import (
    Change,
    Convergence,
    Create,
    Declared,
    Delete,
    Deliver,
    Refresh,
    Rotate,
    TenantGrants,
)
from reconciler.core.fields import SECRET_METHODS, gains_a_secret
from reconciler.core.model import CREDENTIAL_METHODS
from reconciler.core.plan import Plan
from reconciler.registries.base import Needs, Operation

if TYPE_CHECKING:
    from reconciler.pipeline.planning import Desired

__all__ = [
    "WRITE_OPERATIONS",
    "applying_needs",
    "combined",
    "reading_needs",
    "saved_plan_reading_needs",
]

#: Every operation applying a plan may ask for (``applying_needs``).
WRITE_OPERATIONS = (
    Operation.CREATE_APPS,
    Operation.UPDATE_APPS,
    Operation.DELETE_APPS,
    Operation.ADD_KEYS,
    Operation.SWITCH_KEYS,
    Operation.REMOVE_KEYS,
    Operation.DELIVER_SECRETS,
    Operation.ROTATE_SECRETS,
    Operation.REGISTER_CIMD,
    Operation.REFRESH_CIMD,
    Operation.CREATE_GRANTS,
    Operation.UPDATE_GRANTS,
    Operation.DELETE_GRANTS,
    Operation.LINK_CONNECTIONS,
)

_METHOD = "token_endpoint_auth_method"

Found = dict[Operation, list[str]]


def reading_needs(desired: Desired) -> Found:
    """What reading the registry for these manifests asks: the apps; the keys of the
    private_key_jwt apps; the grants and connections where a manifest manages them (else
    they are read only as far as the registry allows, ``holdings.read_holdings``); the
    APIs where one is named (``registry_references``); the registry's CIMD verdicts."""
    found: Found = {Operation.READ_APPS: []}
    _add(found, Operation.READ_KEYS, (app.key for app in desired.apps if _keyed(app.fields)))
    if desired.manages_access():
        found[Operation.READ_GRANTS] = []
        found[Operation.READ_CONNECTIONS] = []
    shown = desired.in_scope()
    if desired.third_party or any(app.grants or app.connections for app in shown):
        found[Operation.READ_APIS] = []
    _add(found, Operation.PREVIEW_CIMD, (app.key for app in shown if app.cimd))
    _add(found, Operation.READ_TENANT_SETTINGS, (app.key for app in shown if app.cimd))
    return found


def saved_plan_reading_needs(plan: Plan) -> Found:
    """What checking a saved plan against the registry reads: the apps (with the keys of
    the private_key_jwt ones it changes), and the grants where it writes any."""
    found: Found = {Operation.READ_APPS: []}
    _add(
        found,
        Operation.READ_KEYS,
        (change.key for change in plan.changes if any(map(_keyed, _sides(change)))),
    )
    if plan.writes_access:
        found[Operation.READ_GRANTS] = []
        found[Operation.READ_CONNECTIONS] = []
    return found


def applying_needs(plan: Plan, *, delivers: bool) -> Found:
    """What applying ``plan`` writes, change by change (``apply.applier`` and the
    registry's ``update``); ``delivers``: secrets go to a sink, so pending ones are
    delivered and stamps are written once they are."""
    found: Found = {}
    for change in plan.changes:
        for operation in _operations(change, delivers=delivers):
            found.setdefault(operation, [])
            if change.key not in found[operation]:
                found[operation].append(change.key)
    return found


def combined(*needs: Needs) -> Found:
    """Every operation of ``needs``, with every app that needs it."""
    found: Found = {}
    for each in needs:
        for operation, keys in each.items():
            listed = found.setdefault(operation, [])
            listed.extend(key for key in keys if key not in listed)
    return found


def _operations(change: Change, *, delivers: bool) -> list[Operation]:
    if isinstance(change, Delete):
        if change.before.get("grants"):  # removed first, so that none outlives its app
            return [Operation.DELETE_APPS, Operation.DELETE_GRANTS]
        return [Operation.DELETE_APPS]
    if isinstance(change, Deliver):
        return [Operation.DELIVER_SECRETS, Operation.UPDATE_APPS] if delivers else []
    if isinstance(change, Rotate):
        return [Operation.ROTATE_SECRETS, Operation.UPDATE_APPS]
    if isinstance(change, TenantGrants):
        return _access(change.before, change.after)
    assert isinstance(change, Declared)
    after = change.after
    if isinstance(change, Create):
        if change.cimd:
            found = [Operation.REGISTER_CIMD, Operation.UPDATE_APPS]
        else:
            found = [Operation.CREATE_APPS]
            if _keyed(after):
                found.append(Operation.ADD_KEYS)
            if delivers and after.get(_METHOD) in SECRET_METHODS:
                found.append(Operation.UPDATE_APPS)  # the stamp, once the secret is delivered
        return found + _access({}, after)
    assert isinstance(change, Convergence)
    before = change.before
    found = [Operation.REFRESH_CIMD] if isinstance(change, Refresh) else []
    found += [Operation.UPDATE_APPS, *_keys(before, after), *_access(before, after)]
    if delivers and gains_a_secret(before, after):
        found.append(Operation.DELIVER_SECRETS)
    return found


def _keys(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Operation]:
    """The credential writes that take an app from ``before`` to ``after``: keys added
    (a key changed under its name is replaced: added, then the old one removed), the app
    switched to its keys or off private_key_jwt, keys removed."""
    keyed_before, keyed_after = _keyed(before), _keyed(after)
    held = {c.get("name"): c for c in before.get("credentials") or []} if keyed_before else {}
    wanted = {c.get("name"): c for c in after.get("credentials") or []} if keyed_after else {}
    if held == wanted and keyed_before == keyed_after:
        return []
    found = []
    if any(held.get(name) != key for name, key in wanted.items()):
        found.append(Operation.ADD_KEYS)
    found.append(Operation.SWITCH_KEYS)
    if any(wanted.get(name) != key for name, key in held.items()):
        found.append(Operation.REMOVE_KEYS)
    return found


def _access(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Operation]:
    """The grant and connection writes that take ``before`` to ``after``, for the access
    fields ``after`` manages."""
    found = []
    if "grants" in after:
        held, wanted = dict(before.get("grants") or {}), dict(after["grants"] or {})
        if wanted.keys() - held.keys():
            found.append(Operation.CREATE_GRANTS)
        if any(held[name] != wanted[name] for name in held.keys() & wanted.keys()):
            found.append(Operation.UPDATE_GRANTS)
        if held.keys() - wanted.keys():
            found.append(Operation.DELETE_GRANTS)
    if "connections" in after and sorted(after["connections"] or []) != sorted(
        before.get("connections") or []
    ):
        found.append(Operation.LINK_CONNECTIONS)
    return found


def _sides(change: Change) -> list[Mapping[str, Any]]:
    """The fields a change holds of its app: as read, as declared, or both."""
    sides: list[Mapping[str, Any]] = []
    if isinstance(change, Convergence | Delete):
        sides.append(change.before)
    if isinstance(change, Declared):
        sides.append(change.after)
    return sides


def _keyed(fields: Mapping[str, Any]) -> bool:
    """Whether the app holds credentials: it authenticates with them (private_key_jwt or
    mTLS), or verifies its signed authorization requests with them (JAR)."""
    request_object = fields.get("signed_request_object")
    signs = isinstance(request_object, Mapping) and "credentials" in request_object
    return fields.get(_METHOD) in CREDENTIAL_METHODS or signs


def _add(found: Found, operation: Operation, keys: Iterable[str]) -> None:
    listed = list(dict.fromkeys(keys))
    if listed:
        found[operation] = listed
