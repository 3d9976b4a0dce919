"""Partial runs in the planner: nothing outside the scope is created, updated or deleted."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.apply.applier import apply_plan
from reconciler.core.changes import Create, Delete, Update
from reconciler.core.model import DesiredApp
from reconciler.core.plan import Plan, Safety
from reconciler.core.planner import plan
from reconciler.core.scope import Scope
from reconciler.core.stamp import file_hash
from reconciler.registries.clients import ClientsRegistry
from tests.helpers import desired, memory_registry, seed

OWNER = "team-a"
FILES = ("apps/one.yaml", "apps/two.yaml", "apps/three.yaml")


def spec(key: str, file: str, name: str = "App", **data: Any) -> DesiredApp:
    body = {"name": name, "type": "spa", "callbacks": ["https://x.example.com/cb"], **data}
    return replace(desired(key, **body), file=file)


def plan_for(
    registry: ClientsRegistry, specs: list[DesiredApp], scope: Scope | None = None, **extra: Any
) -> Plan:
    return plan(
        specs, registry.list_apps(), owner=OWNER, registry=registry.uri, scope=scope, **extra
    )


def converge(
    registry: ClientsRegistry, specs: list[DesiredApp], scope: Scope | None = None
) -> None:
    report = apply_plan(plan_for(registry, specs, scope), registry, registry.list_apps())
    assert report.ok, [r.error for r in report.results if not r.ok]


def stamps(registry: ClientsRegistry) -> dict[str, str]:
    return {a.stamp.key: a.stamp.source for a in registry.list_apps() if a.stamp is not None}


def test_every_write_stamps_the_file_the_app_was_applied_from() -> None:
    _, registry = memory_registry()
    converge(registry, [spec("a", FILES[0]), spec("b", FILES[1])])
    assert stamps(registry) == {"a": file_hash(FILES[0]), "b": file_hash(FILES[1])}
    converge(registry, [spec("a", FILES[1], name="Moved"), spec("b", FILES[1])])
    assert stamps(registry)["a"] == file_hash(FILES[1]), "an update writes the new file"


def test_a_partial_run_plans_only_its_files_and_deletes_only_what_they_last_applied() -> None:
    _, registry = memory_registry()
    converge(
        registry,
        [spec("a", FILES[0]), spec("a2", FILES[0]), spec("b", FILES[1]), spec("b2", FILES[1])],
    )
    edited = [spec("a", FILES[0], name="A v2"), spec("b", FILES[1], name="B v2")]
    edited.append(spec("new-b", FILES[1]))
    result = plan_for(registry, edited, Scope((FILES[0],), 3))
    assert {(type(c), c.key) for c in result.changes} == {(Update, "a"), (Delete, "a2")}
    assert [(n.kind, n.key) for n in result.notices] == [("out-of-scope", "b2")]
    assert result.owned == 4, "the safety fractions count every owned app"


def test_a_partial_run_never_deletes_an_app_whose_stamp_names_no_file() -> None:
    tenant, registry = memory_registry()
    seed(tenant, name="Legacy", owner=OWNER, key="legacy")
    result = plan_for(registry, [spec("a", FILES[0])], Scope((FILES[0],), 2))
    assert [(type(c), c.key) for c in result.changes] == [(Create, "a")]
    full = plan_for(registry, [spec("a", FILES[0])])
    assert (Delete, "legacy") in {(type(c), c.key) for c in full.changes}


def test_an_app_declared_elsewhere_by_client_id_is_not_deleted_or_adopted() -> None:
    tenant, registry = memory_registry()
    client_id = seed(tenant, name="Old", owner=OWNER, key="old")
    converge(registry, [spec("a", FILES[0])])
    specs = [spec("a", FILES[0]), spec("old-adopted", FILES[1], client_id=client_id)]
    assert plan_for(registry, specs, Scope((FILES[0],), 2)).is_empty


def test_targets_plan_matching_keys_and_delete_a_removed_targeted_key() -> None:
    _, registry = memory_registry()
    converge(registry, [spec("web-a", FILES[0]), spec("web-b", FILES[1]), spec("api", FILES[0])])
    edited = [spec("web-a", FILES[0], name="v2"), spec("api", FILES[0], name="v2")]
    result = plan_for(registry, edited, Scope(targets=("web-*",)))
    assert {(type(c), c.key) for c in result.changes} == {(Update, "web-a"), (Delete, "web-b")}
    assert result.notices == ()


def test_thresholds_still_refuse_a_partial_plan_that_deletes_too_much_of_the_owned() -> None:
    _, registry = memory_registry()
    many = [spec(f"a{n}", FILES[0]) for n in range(4)] + [spec("b", FILES[1])]
    converge(registry, many)
    safety = Safety(max_delete_fraction=0.5, min_owned=1)
    result = plan_for(registry, [spec("b", FILES[1])], Scope((FILES[0],), 2), safety=safety)
    assert result.count(Delete) == 4 and result.owned == 5
    assert result.unsafe_reasons() == ["4 of 5 owned apps would be deleted (more than 50%)"]


KEYS = ["k0", "k1", "k2", "k3", "k4", "k5"]


@st.composite
def project(draw: st.DrawFn) -> dict[str, tuple[str, str]]:
    """Key -> (file, display name) for the apps a project declares."""
    keys = draw(st.lists(st.sampled_from(KEYS), unique=True, max_size=6))
    return {k: (draw(st.sampled_from(FILES)), draw(st.sampled_from(["x", "y"]))) for k in keys}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(before=project(), after=project(), shown=st.sets(st.sampled_from(FILES), min_size=1))
def test_a_partial_apply_never_touches_an_app_outside_its_files(
    before: dict[str, tuple[str, str]],
    after: dict[str, tuple[str, str]],
    shown: set[str],
) -> None:
    """For any edit and any subset of files: apps declared outside the subset, and removed
    apps last applied from outside it, are exactly as they were; the subset converges."""
    _, registry = memory_registry()
    converge(registry, [spec(k, file, name) for k, (file, name) in before.items()])
    seen = {a.client_id: a for a in registry.list_apps()}
    scope = Scope(tuple(sorted(shown)), len(FILES))
    specs = [spec(k, file, name) for k, (file, name) in after.items()]
    converge(registry, specs, scope)

    now = {a.client_id: a for a in registry.list_apps()}
    for client_id, app in seen.items():
        assert app.stamp is not None
        key = app.stamp.key
        outside = key in after and after[key][0] not in shown
        removed_elsewhere = key not in after and before[key][0] not in shown
        if outside or removed_elsewhere:
            assert client_id in now, key
            assert now[client_id].fingerprint() == app.fingerprint(), key
        if key not in after and before[key][0] in shown:
            assert client_id not in now, f"{key} was removed from a file in scope"
    created = {a.stamp.key for a in now.values() if a.stamp is not None} - set(before)
    assert all(after[key][0] in shown for key in created), created
    assert plan_for(registry, specs, scope).is_empty
