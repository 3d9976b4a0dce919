"""Every secret a registry hands out reaches the sink or is named, and is re-delivered later.

Against the embedded registry (the Auth0 emulator in SQLite memory): the tenant is the
independent witness of which secret an app really has.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply.applier import apply_plan
from reconciler.apply.secrets import Delivery, SecretsFile
from reconciler.core.changes import Delete, Deliver
from reconciler.core.model import App, Credential
from reconciler.core.plan import Plan
from reconciler.core.planner import plan, plan_rotation
from reconciler.core.stamp import Stamp
from reconciler.registries.base import Created
from reconciler.registries.clients import ClientsRegistry
from reconciler.tenant.engine import Tenant
from tests.helpers import desired, memory_registry, seed

OWNER = "team-a"
WORKER = desired("worker", name="Worker", type="m2m")
SPA = desired("spa", name="Single page", type="spa", callbacks=["https://spa.example.com/cb"])


def planned(registry: Any, *specs: Any) -> tuple[Plan, list[App]]:
    current = registry.list_apps()
    return plan(list(specs), current, owner=OWNER, registry=registry.uri), current


def held_secret(tenant: Tenant, client_id: str) -> str:
    return str(tenant.get_client(client_id)["client_secret"])


def stamp_of(registry: Any, key: str) -> Stamp:
    [app] = [a for a in registry.list_apps() if a.stamp and a.stamp.key == key]
    assert app.stamp is not None
    return app.stamp


def sink_entries(path: Path) -> dict[str, Any]:
    held: dict[str, Any] = json.loads(path.read_text())
    return held


class BrokenSink(SecretsFile):
    """A sink whose disk fails when the secret arrives (a full disk, a kill at that step)."""

    def add_many(self, deliveries: Sequence[Delivery]) -> None:
        raise OSError(28, "No space left on device")


class NoReadBack(ClientsRegistry):
    """A registry that can rotate secrets but never show one (Auth0 without read:client_keys)."""

    def __init__(self, inner: ClientsRegistry) -> None:
        super().__init__(inner.api, inner.uri)
        self.rotated: list[str] = []

    def read_secret(self, current: App) -> str | None:
        return None

    def rotate_secret(self, current: App) -> str:
        self.rotated.append(current.client_id)
        [held] = [app for app in self.list_apps() if app.client_id == current.client_id]
        assert held.stamp is not None and held.stamp.pending, "flagged before the old one dies"
        return super().rotate_secret(current)


class CountingCreates(ClientsRegistry):
    def __init__(self, inner: ClientsRegistry) -> None:
        super().__init__(inner.api, inner.uri)
        self.stamps: list[Stamp] = []

    def create(
        self, fields: Mapping[str, Any], credentials: Sequence[Credential], stamp: Stamp
    ) -> Created:
        self.stamps.append(stamp)
        return super().create(fields, credentials, stamp)


def test_a_created_secret_is_in_the_sink_and_only_then_the_stamp_is_cleared(
    tmp_path: Path,
) -> None:
    tenant, inner = memory_registry()
    registry = CountingCreates(inner)
    sink = SecretsFile(tmp_path / "secrets.json")
    first, current = planned(registry, WORKER, SPA)
    report = apply_plan(first, registry, current, secrets=sink)
    assert report.ok and report.secrets_saved == {"worker": "created"}
    pending_at_create = {stamp.key: stamp.pending for stamp in registry.stamps}
    assert pending_at_create == {"worker": True, "spa": False}, "created pending, in one write"
    assert not stamp_of(registry, "worker").pending
    entry = sink_entries(tmp_path / "secrets.json")["worker"]
    assert entry["client_secret"] == held_secret(tenant, entry["client_id"])
    assert set(sink_entries(tmp_path / "secrets.json")) == {"worker"}, "public apps: no secret"
    assert planned(registry, WORKER, SPA)[0].is_empty


def test_without_a_sink_the_app_stays_pending_is_named_and_delivered_later(
    tmp_path: Path,
) -> None:
    tenant, registry = memory_registry()
    first, current = planned(registry, WORKER)
    report = apply_plan(first, registry, current)
    assert report.ok and report.secrets_unsaved == ["worker"]
    assert stamp_of(registry, "worker").pending

    again, current = planned(registry, WORKER)
    [change] = again.changes
    assert isinstance(change, Deliver) and change.key == "worker"
    assert "secret not delivered" in change.reasons

    without = apply_plan(again, registry, current)
    assert without.ok and without.results == [] and without.skipped == []
    assert without.secrets_unsaved == ["worker"], "named, not attempted, not a failure"

    sink = SecretsFile(tmp_path / "secrets.json")
    delivered = apply_plan(again, registry, current, secrets=sink)
    assert delivered.ok and delivered.secrets_saved == {"worker": "read back"}
    entry = sink_entries(tmp_path / "secrets.json")["worker"]
    assert entry["client_secret"] == held_secret(tenant, entry["client_id"])
    assert planned(registry, WORKER)[0].is_empty


def test_a_sink_that_fails_after_the_create_leaves_the_app_pending(tmp_path: Path) -> None:
    tenant, registry = memory_registry()
    first, current = planned(registry, WORKER)
    report = apply_plan(first, registry, current, secrets=BrokenSink(tmp_path / "s.json"))
    assert not report.ok and report.secrets_unsaved == ["worker"]
    [failure] = report.results
    assert "No space left on device" in (failure.error or "") and "pending" in (failure.error or "")
    assert stamp_of(registry, "worker").pending, "the registry still says: not delivered"
    [change] = planned(registry, WORKER)[0].changes
    assert isinstance(change, Deliver)


def test_a_secret_already_in_the_sink_is_not_read_or_rotated_again(tmp_path: Path) -> None:
    tenant, inner = memory_registry()
    registry = NoReadBack(inner)
    sink = SecretsFile(tmp_path / "secrets.json")
    first, current = planned(registry, WORKER)
    created = apply_plan(first, registry, current, secrets=sink)
    client_id = created.results[0].client_id or ""
    secret = held_secret(tenant, client_id)
    # a run killed after the sink write and before the stamp write:
    [app] = registry.list_apps()
    assert app.stamp is not None
    registry.update(app, {}, Stamp(app.stamp.owner, "worker", app.stamp.applied, pending=True))

    again, current = planned(registry, WORKER)
    report = apply_plan(again, registry, current, secrets=sink)
    assert report.ok and report.secrets_saved == {"worker": "already in the sink"}
    assert registry.rotated == [] and held_secret(tenant, client_id) == secret


def test_a_registry_that_cannot_show_a_secret_rotates_it_and_says_so(tmp_path: Path) -> None:
    tenant, inner = memory_registry()
    registry = NoReadBack(inner)
    first, current = planned(registry, WORKER)
    apply_plan(first, registry, current)
    [app] = registry.list_apps()
    before = held_secret(tenant, app.client_id)

    again, current = planned(registry, WORKER)
    sink = SecretsFile(tmp_path / "secrets.json")
    report = apply_plan(again, registry, current, secrets=sink)
    assert report.ok and report.secrets_saved == {"worker": "rotated"}
    assert registry.rotated == [app.client_id]
    entry = sink_entries(tmp_path / "secrets.json")["worker"]
    assert entry["client_secret"] == held_secret(tenant, app.client_id) != before
    assert entry["how"] == "rotated"


def test_an_update_keeps_the_pending_flag_until_the_secret_is_delivered(
    tmp_path: Path,
) -> None:
    tenant, registry = memory_registry()
    first, current = planned(registry, WORKER)
    apply_plan(first, registry, current)
    renamed = desired("worker", name="Worker, renamed", type="m2m")
    again, current = planned(registry, renamed)
    assert [c.ACTION for c in again.changes] == ["deliver", "update"]
    report = apply_plan(again, registry, current)
    assert report.ok and report.secrets_unsaved == ["worker"]  # the delivery needs a sink
    assert stamp_of(registry, "worker").pending, "the update did not clear it"
    sink = SecretsFile(tmp_path / "secrets.json")
    third, current = planned(registry, renamed)
    assert [c.ACTION for c in third.changes] == ["deliver"]
    assert apply_plan(third, registry, current, secrets=sink).ok
    assert planned(registry, renamed)[0].is_empty


def portal(method: str) -> Any:
    return desired(
        "portal",
        name="Portal",
        type="regular_web",
        callbacks=["https://portal.example.com/cb"],
        token_endpoint_auth_method=method,
    )


def test_a_public_app_made_confidential_has_its_existing_secret_delivered(
    tmp_path: Path,
) -> None:
    """The embedded tenant keeps a secret for the public app too; nobody needed it until
    now, so it was never delivered: it is read back once the app needs it."""
    tenant, registry = memory_registry()
    sink = SecretsFile(tmp_path / "secrets.json")
    first, current = planned(registry, portal("none"))
    assert apply_plan(first, registry, current, secrets=sink).ok
    assert not (tmp_path / "secrets.json").exists()

    again, current = planned(registry, portal("client_secret_post"))
    [update] = again.changes
    assert update.ACTION == "update" and any("becomes confidential" in n for n in update.notes)
    report = apply_plan(again, registry, current, secrets=sink)
    assert report.ok and report.secrets_saved == {"portal": "read back"}
    entry = sink_entries(tmp_path / "secrets.json")["portal"]
    assert entry["client_secret"] == held_secret(tenant, entry["client_id"])
    assert not stamp_of(registry, "portal").pending
    assert planned(registry, portal("client_secret_post"))[0].is_empty


def test_a_run_that_stops_after_making_an_app_confidential_leaves_it_pending(
    tmp_path: Path,
) -> None:
    tenant, registry = memory_registry()
    first, current = planned(registry, portal("none"))
    assert apply_plan(first, registry, current).ok
    again, current = planned(registry, portal("client_secret_post"))
    stopped = apply_plan(again, registry, current)  # no sink: named, left pending
    assert [r.ok for r in stopped.results] == [True] and stopped.secrets_unsaved == ["portal"]
    assert stamp_of(registry, "portal").pending, "the update wrote the stamp pending"
    [change] = planned(registry, portal("client_secret_post"))[0].changes
    assert isinstance(change, Deliver) and change.key == "portal"


def confidential(tenant: Tenant, *, pending: bool) -> str:
    stamp = Stamp(OWNER, "worker", {}, pending=pending)
    return str(
        tenant.create_client(
            {
                "name": "Worker",
                "app_type": "non_interactive",
                "token_endpoint_auth_method": "client_secret_post",
                "client_metadata": stamp.to_metadata(),
            }
        )["client_id"]
    )


def test_a_duplicate_whose_secret_never_reached_a_sink_is_deleted(tmp_path: Path) -> None:
    tenant, registry = memory_registry()
    kept = confidential(tenant, pending=False)
    doubled = confidential(tenant, pending=True)
    made, current = planned(registry, WORKER)
    deletes = [c for c in made.changes if isinstance(c, Delete)]
    assert [(c.client_id, c.reasons) for c in deletes] == [(doubled, ("duplicate",))]
    assert "duplicate" in deletes[0].risks
    assert not made.conflicts
    report = apply_plan(made, registry, current, secrets=SecretsFile(tmp_path / "s.json"))
    assert report.ok
    assert [a.client_id for a in registry.list_apps()] == [kept]
    assert planned(registry, WORKER)[0].is_empty


def test_two_delivered_secrets_for_one_key_are_left_to_a_person() -> None:
    tenant, registry = memory_registry()
    confidential(tenant, pending=False)
    confidential(tenant, pending=False)
    made, _ = planned(registry, WORKER)
    [conflict] = made.conflicts
    assert conflict.key == "worker" and "each secret may be in use" in conflict.message
    assert not [c for c in made.changes if isinstance(c, Delete)]


def test_public_duplicates_keep_one_app_and_never_a_protected_one() -> None:
    tenant, registry = memory_registry()
    first = seed(tenant, name="Single page", owner=OWNER, key="spa")
    second = seed(tenant, name="Single page", owner=OWNER, key="spa")
    made, _ = planned(registry, SPA)
    [delete] = [c for c in made.changes if isinstance(c, Delete)]
    assert delete.client_id == max(first, second)
    tenant2, registry2 = memory_registry()
    plain = seed(tenant2, name="Single page", owner=OWNER, key="spa")
    seed(tenant2, name="Single page", owner=OWNER, key="spa", protect=True)
    seed(tenant2, name="Single page", owner=OWNER, key="spa", protect=True)
    refused, _ = planned(registry2, SPA)
    assert not [c for c in refused.changes if isinstance(c, Delete)]
    [conflict] = refused.conflicts
    assert "protected" in conflict.message
    tenant3, registry3 = memory_registry()
    plain = seed(tenant3, name="Single page", owner=OWNER, key="spa")
    seed(tenant3, name="Single page", owner=OWNER, key="spa", protect=True)
    kept_protected, _ = planned(registry3, SPA)
    assert [c.client_id for c in kept_protected.changes if isinstance(c, Delete)] == [plain]


def test_rotation_replaces_the_secret_and_delivers_the_new_one(tmp_path: Path) -> None:
    tenant, inner = memory_registry()
    registry = NoReadBack(inner)  # asserts the app is flagged pending before each rotation
    sink = SecretsFile(tmp_path / "secrets.json")
    first, current = planned(registry, WORKER, SPA)
    apply_plan(first, registry, current, secrets=sink)
    old = sink_entries(tmp_path / "secrets.json")["worker"]["client_secret"]

    rotation = plan_rotation(["work*"], registry.list_apps(), owner=OWNER, registry=registry.uri)
    assert [(c.ACTION, c.key) for c in rotation.changes] == [("rotate", "worker")]
    report = apply_plan(rotation, registry, registry.list_apps(), secrets=sink)
    assert report.ok and report.secrets_saved == {"worker": "rotated"}
    entry = sink_entries(tmp_path / "secrets.json")["worker"]
    assert entry["client_secret"] == held_secret(tenant, entry["client_id"]) != old
    assert not stamp_of(registry, "worker").pending
    assert planned(registry, WORKER, SPA)[0].is_empty

    with pytest.raises(Exception, match="no client secret"):
        plan_rotation(["spa"], registry.list_apps(), owner=OWNER, registry=registry.uri)
    with pytest.raises(Exception, match="has the key 'nope'"):
        plan_rotation(["nope"], registry.list_apps(), owner=OWNER, registry=registry.uri)


def test_a_link_to_the_real_sink_writes_the_real_file(tmp_path: Path) -> None:
    real = tmp_path / "vault" / "secrets.json"
    real.parent.mkdir()
    link = tmp_path / "secrets.json"
    link.symlink_to(real)
    SecretsFile(link).add("worker", "id", "s3cret", "sqlite:r.db")
    assert link.is_symlink() and sink_entries(real)["worker"]["client_secret"] == "s3cret"


def test_deliveries_come_first_so_a_run_cut_off_in_its_creates_still_delivers(
    tmp_path: Path,
) -> None:
    tenant, registry = memory_registry()
    first, current = planned(registry, WORKER)
    apply_plan(first, registry, current)
    more = [desired(f"new-{n}", name=f"New {n}", type="m2m") for n in range(3)]
    again, current = planned(registry, WORKER, *more)
    assert [c.ACTION for c in again.changes] == ["deliver", "create", "create", "create"]


def test_secrets_are_written_in_batches_and_every_flag_cleared_after_its_batch(
    tmp_path: Path,
) -> None:
    writes: list[int] = []

    class CountingSink(SecretsFile):
        def add_many(self, deliveries: Sequence[Delivery]) -> None:
            stamps = {stamp_of(registry, d.key).pending for d in deliveries}
            assert stamps == {True}, "a flag is cleared only after its batch is on disk"
            super().add_many(deliveries)
            writes.append(len(deliveries))

    tenant, registry = memory_registry()
    workers = [desired(f"worker-{n:03d}", name=f"W{n}", type="m2m") for n in range(150)]
    first, current = planned(registry, *workers)
    sink = CountingSink(tmp_path / "secrets.json")
    report = apply_plan(first, registry, current, secrets=sink)
    assert report.ok and len(report.secrets_saved) == 150
    # Batches close at 64 secrets or a quarter of a second: on a slow machine, smaller ones.
    assert sum(writes) == 150 and max(writes) > 1 and len(writes) < 150
    entries = sink_entries(tmp_path / "secrets.json")
    assert all(e["client_secret"] == held_secret(tenant, e["client_id"]) for e in entries.values())
    assert planned(registry, *workers)[0].is_empty
