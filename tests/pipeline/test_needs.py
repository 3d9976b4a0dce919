"""What a run asks of its registry, worked out before it asks (``pipeline/needs.py``), and
that plan, apply and rotate-secret ask the registry to check it before their first read
and their first write."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from reconciler.core.changes import (
    Change,
    Create,
    Delete,
    Deliver,
    Refresh,
    Rotate,
    TenantGrants,
    Update,
)
from reconciler.core.plan import Plan
from reconciler.errors import RegistryError
from reconciler.pipeline import (
    ApplyRequest,
    apply_workspace,
    load_desired,
    plan_workspace,
    planning,
    rotate_secrets,
)
from reconciler.pipeline.holdings import Holdings
from reconciler.pipeline.needs import (
    WRITE_OPERATIONS,
    applying_needs,
    combined,
    reading_needs,
    saved_plan_reading_needs,
)
from reconciler.registries.base import Needs, Operation, Registry
from tests.helpers import copy_examples
from tests.pipeline.project import SPA, WORKER, Recorder, open_workspace, stamps, write_project

Op = Operation
KEY = {"name": "k2026", "kid": "kid-2026", "alg": "RS256"}
NEW_KEY = {"name": "k2027", "kid": "kid-2027", "alg": "RS256"}
KEYED = {"token_endpoint_auth_method": "private_key_jwt", "credentials": [KEY]}
LEDGER = {"https://ledger.example.com/": {"scopes": ["read:entries"]}}


def plan_of(*changes: Change) -> Plan:
    return Plan(owner="team", registry="auth0://tenant.test", changes=tuple(changes))


def update(before: Mapping[str, Any], after: Mapping[str, Any]) -> Update:
    return Update(key="app", client_id="c1", fingerprint="f", before=before, after=after)


def operations(*changes: Change, delivers: bool = True) -> set[Operation]:
    return set(applying_needs(plan_of(*changes), delivers=delivers))


# -- before the first read ------------------------------------------------------------------


def test_reading_the_examples_needs_their_keys_grants_connections_apis_and_previews(
    root: Path,
) -> None:
    copy_examples(root)
    needs = reading_needs(load_desired(open_workspace()))
    assert needs == {
        Op.READ_APPS: [],
        Op.READ_KEYS: ["ledger-sync"],
        Op.READ_GRANTS: [],
        Op.READ_CONNECTIONS: [],
        Op.READ_APIS: [],
        Op.PREVIEW_CIMD: ["partner-assistant"],
        Op.READ_TENANT_SETTINGS: ["partner-assistant"],
    }


def test_apps_that_name_no_access_and_no_keys_need_only_the_apps(root: Path) -> None:
    write_project(root, SPA, WORKER)
    assert reading_needs(load_desired(open_workspace())) == {Op.READ_APPS: []}


def test_a_saved_plan_reads_the_keys_of_the_apps_it_changes_and_the_grants_it_writes() -> None:
    plan = plan_of(
        Create(key="keyed", after={**KEYED, "grants": LEDGER}),
        Delete(key="gone", client_id="c2", fingerprint="f", before={"name": "Gone"}),
    )
    assert saved_plan_reading_needs(plan) == {
        Op.READ_APPS: [],
        Op.READ_KEYS: ["keyed"],
        Op.READ_GRANTS: [],
        Op.READ_CONNECTIONS: [],
    }


# -- before the first write -----------------------------------------------------------------


def test_creates() -> None:
    assert operations(Create(key="spa", after={"token_endpoint_auth_method": "none"})) == {
        Op.CREATE_APPS
    }
    assert operations(Create(key="keyed", after=KEYED)) == {Op.CREATE_APPS, Op.ADD_KEYS}
    secret = Create(key="web", after={"token_endpoint_auth_method": "client_secret_post"})
    assert operations(secret) == {Op.CREATE_APPS, Op.UPDATE_APPS}  # the stamp, once delivered
    assert operations(secret, delivers=False) == {Op.CREATE_APPS}
    cimd = Create(key="partner", after={}, cimd="https://partner.example/client.json")
    assert operations(cimd) == {Op.REGISTER_CIMD, Op.UPDATE_APPS}


def test_creates_with_access() -> None:
    made = Create(key="worker", after={"grants": LEDGER, "connections": ["db"]})
    assert operations(made) == {Op.CREATE_APPS, Op.CREATE_GRANTS, Op.LINK_CONNECTIONS}
    bare = Create(key="worker", after={"grants": {}, "connections": []})
    assert operations(bare) == {Op.CREATE_APPS}


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ({"name": "A"}, {"name": "B"}, set()),
        (KEYED, {**KEYED, "name": "B"}, set()),
        (KEYED, {**KEYED, "credentials": [KEY, NEW_KEY]}, {Op.ADD_KEYS, Op.SWITCH_KEYS}),
        (KEYED, {**KEYED, "credentials": [NEW_KEY]}, {Op.ADD_KEYS, Op.SWITCH_KEYS, Op.REMOVE_KEYS}),
        (
            KEYED,
            {**KEYED, "credentials": [{**KEY, "kid": "other"}]},
            {Op.ADD_KEYS, Op.SWITCH_KEYS, Op.REMOVE_KEYS},
        ),
        (
            {**KEYED, "credentials": [KEY, NEW_KEY]},
            KEYED,
            {Op.SWITCH_KEYS, Op.REMOVE_KEYS},
        ),
        ({"token_endpoint_auth_method": "none"}, KEYED, {Op.ADD_KEYS, Op.SWITCH_KEYS}),
        (
            KEYED,
            {"token_endpoint_auth_method": "client_secret_post"},
            {Op.SWITCH_KEYS, Op.REMOVE_KEYS, Op.DELIVER_SECRETS},
        ),
    ],
)
def test_updates_and_their_keys(
    before: Mapping[str, Any], after: Mapping[str, Any], expected: set[Operation]
) -> None:
    assert operations(update(before, after)) == {Op.UPDATE_APPS, *expected}


def test_updates_of_access() -> None:
    other = {"https://other.example.com/": {"scopes": []}}
    widened = {"https://ledger.example.com/": {"scopes": ["read:entries", "write:entries"]}}
    assert operations(update({"grants": LEDGER}, {"grants": {**LEDGER, **other}})) == {
        Op.UPDATE_APPS,
        Op.CREATE_GRANTS,
    }
    assert operations(update({"grants": LEDGER}, {"grants": widened})) == {
        Op.UPDATE_APPS,
        Op.UPDATE_GRANTS,
    }
    assert operations(update({"grants": LEDGER}, {"grants": {}})) == {
        Op.UPDATE_APPS,
        Op.DELETE_GRANTS,
    }
    assert operations(update({"connections": ["a"]}, {"connections": ["b"]})) == {
        Op.UPDATE_APPS,
        Op.LINK_CONNECTIONS,
    }
    assert operations(update({"connections": ["a", "b"]}, {"connections": ["b", "a"]})) == {
        Op.UPDATE_APPS
    }


def test_deletes_refreshes_secrets_and_tenant_grants() -> None:
    gone = Delete(key="gone", client_id="c", fingerprint="f", before={"grants": LEDGER})
    assert operations(gone) == {Op.DELETE_APPS, Op.DELETE_GRANTS}
    refresh = Refresh(
        key="partner",
        client_id="c",
        fingerprint="f",
        before={},
        after={},
        cimd="https://partner.example/client.json",
        source={},
    )
    assert operations(refresh) == {Op.REFRESH_CIMD, Op.UPDATE_APPS}
    deliver = Deliver(key="web", client_id="c", fingerprint="f")
    assert operations(deliver) == {Op.DELIVER_SECRETS, Op.UPDATE_APPS}
    assert operations(deliver, delivers=False) == set()
    rotate = Rotate(key="web", client_id="c", fingerprint="f")
    assert operations(rotate) == {Op.ROTATE_SECRETS, Op.UPDATE_APPS}
    tenant = TenantGrants(
        key="third_party_apis",
        before={"grants": LEDGER},
        after={"grants": {}},
        group="third_party_clients",
    )
    assert operations(tenant) == {Op.DELETE_GRANTS}


def test_each_operation_names_the_apps_that_need_it_once() -> None:
    plan = plan_of(Create(key="a", after=KEYED), Create(key="b", after=KEYED))
    needs = applying_needs(plan, delivers=True)
    assert needs[Op.ADD_KEYS] == ["a", "b"]
    assert combined(needs, {Op.ADD_KEYS: ["b", "c"], Op.LOCK: []}) == {
        Op.CREATE_APPS: ["a", "b"],
        Op.ADD_KEYS: ["a", "b", "c"],
        Op.LOCK: [],
    }


# -- the use cases ask before they read and before they write -------------------------------


class Asked:
    """Records what ``check_permissions`` was asked, and refuses what it is told to."""

    def __init__(self, refuse: Operation | None = None) -> None:
        self.refuse = refuse
        self.asked: list[set[Operation]] = []

    def check(self, needs: Needs) -> None:
        self.asked.append(set(needs))
        if self.refuse in needs:
            raise RegistryError(f"refused: {self.refuse}")


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> Asked:
    recorder = Asked()
    monkeypatch.setattr(Registry, "check_permissions", lambda _, needs: recorder.check(needs))
    return recorder


def test_plan_asks_before_it_reads(root: Path, asked: Asked) -> None:
    write_project(root, SPA)
    asked.refuse = Op.READ_APPS
    with pytest.raises(RegistryError, match="refused"):
        plan_workspace(open_workspace(), Recorder())
    assert asked.asked == [{Op.READ_APPS}]


def test_apply_asks_before_the_lock_and_before_its_first_write(root: Path, asked: Asked) -> None:
    write_project(root, SPA)
    asked.refuse = Op.CREATE_APPS
    with pytest.raises(RegistryError, match="refused"):
        apply_workspace(open_workspace(), ApplyRequest(auto_approve=True), Recorder())
    # A token short of a write scope: the plan is made once before the lock (the lease is
    # a write), so the run stops there.
    assert asked.asked == [
        {Op.READ_APPS, Op.LOCK},
        set(WRITE_OPERATIONS),
        {Op.READ_APPS},
        {Op.CREATE_APPS},
    ]
    assert stamps(root) == {}


@pytest.mark.parametrize(("refuse", "reads"), [(None, 1), (Op.DELETE_APPS, 2)])
def test_the_registry_is_read_before_the_lock_only_for_a_token_short_of_a_write_scope(
    root: Path, asked: Asked, monkeypatch: pytest.MonkeyPatch, refuse: Op | None, reads: int
) -> None:
    """A token with every write scope plans once, under the lock; one short of a scope
    this plan does not need plans before the lock as well, then applies."""
    write_project(root, SPA)
    asked.refuse = refuse
    counted: list[object] = []
    reading = planning.read_holdings

    def read_holdings(*args: Any, **kwargs: Any) -> Holdings:
        counted.append(args)
        return reading(*args, **kwargs)

    monkeypatch.setattr(planning, "read_holdings", read_holdings)
    applied = apply_workspace(open_workspace(), ApplyRequest(auto_approve=True), Recorder())
    assert applied.exit_code == 0
    assert len(counted) == reads
    assert set(stamps(root)) == {"spa"}


def test_a_saved_plan_is_asked_for_all_before_the_lock(root: Path, asked: Asked) -> None:
    write_project(root, SPA)
    saved = root / "plan.json"
    saved.write_text(plan_workspace(open_workspace(), Recorder()).plan.to_json())
    asked.asked.clear()
    asked.refuse = Op.CREATE_APPS
    with pytest.raises(RegistryError, match="refused"):
        apply_workspace(open_workspace(), ApplyRequest(saved=saved), Recorder())
    assert asked.asked == [{Op.READ_APPS, Op.CREATE_APPS, Op.LOCK}]


def test_rotate_secret_asks_first(root: Path, asked: Asked) -> None:
    write_project(root, SPA)
    asked.refuse = Op.ROTATE_SECRETS
    with pytest.raises(RegistryError, match="refused"):
        rotate_secrets(open_workspace(), ["spa"], root / "secrets.json", Recorder())
    assert asked.asked == [{Op.READ_APPS, Op.LOCK, Op.ROTATE_SECRETS, Op.UPDATE_APPS}]
