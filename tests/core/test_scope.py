"""The scope of a partial run: which apps it plans, which removed apps it may delete."""

from __future__ import annotations

import json

import jsonschema

from reconciler.core.changes import Create, Update
from reconciler.core.plan import Plan
from reconciler.core.render import render_json, render_markdown, render_text
from reconciler.core.scope import Scope
from reconciler.core.stamp import file_hash
from reconciler.manifests.schema import PLAN_SCHEMA, load_schema

FINGERPRINT = "sha256:" + "ab" * 32


def test_a_full_scope_covers_everything_and_says_nothing() -> None:
    scope = Scope()
    assert not scope.is_partial
    assert scope.covers("web", "apps/web.yaml")
    assert scope.may_delete("web", "")
    assert scope.describe() == []


def test_files_narrow_what_is_planned_and_what_may_be_deleted() -> None:
    scope = Scope(("apps/one.yaml",), 3)
    assert scope.covers("a", "apps/one.yaml")
    assert not scope.covers("a", "apps/two.yaml")
    assert scope.may_delete("a", file_hash("apps/one.yaml"))
    assert not scope.may_delete("a", file_hash("apps/two.yaml"))
    assert not scope.may_delete("a", ""), "a stamp that names no file is never deleted"


def test_targets_are_globs_on_keys_and_a_targeted_removed_key_is_deleted() -> None:
    scope = Scope(targets=("web-*", "api-?"))
    assert scope.covers("web-eu", "apps/any.yaml")
    assert scope.covers("api-1", "apps/any.yaml")
    assert not scope.covers("api-10", "apps/any.yaml")
    assert scope.may_delete("web-old", "")
    assert not scope.may_delete("ledger", "")
    assert scope.unmatched(["web-eu", "ledger"]) == ["api-?"]


def test_files_and_targets_both_narrow() -> None:
    scope = Scope(("apps/one.yaml",), 2, ("web-*",))
    assert scope.covers("web-a", "apps/one.yaml")
    assert not scope.covers("web-a", "apps/two.yaml")
    assert not scope.covers("api", "apps/one.yaml")
    assert not scope.may_delete("api", file_hash("apps/one.yaml"))


def partial_plan() -> Plan:
    change = Update(
        key="web-a",
        client_id="id-web-a",
        before={"name": "Old"},
        after={"name": "New"},
        location="apps/one.yaml:2:3",
        file="apps/one.yaml",
        fingerprint=FINGERPRINT,
    )
    created = Create(key="web-b", after={"name": "B"}, file="apps/one.yaml")
    return Plan(
        owner="team",
        registry="sqlite:r.db",
        changes=(change, created),
        owned=5,
        scope=Scope(("apps/one.yaml",), 3, ("web-*",)),
    )


def test_the_headers_say_the_run_is_partial() -> None:
    plan = partial_plan()
    expected = [
        "Partial run: 1 of 3 manifest files (apps/one.yaml); apps outside it are not planned.",
        "Targets: web-*; apps whose key does not match are not planned.",
    ]
    assert render_text(plan).splitlines()[1:3] == expected
    markdown = render_markdown(plan)
    for line in expected:
        assert f"> {line}" in markdown
    assert json.loads(render_json(plan))["scope"] == {
        "files": ["apps/one.yaml"],
        "project_files": 3,
        "targets": ["web-*"],
    }


def test_many_files_are_listed_shortly() -> None:
    files = tuple(f"apps/{n}.yaml" for n in range(7))
    [line] = Scope(files, 9).describe()
    assert line.startswith("Partial run: 7 of 9 manifest files (apps/0.yaml, ")
    assert "apps/4.yaml, and 2 more); apps outside them" in line


def test_a_saved_partial_plan_keeps_its_scope_and_files_and_matches_the_schema() -> None:
    plan = partial_plan()
    again = Plan.from_json(plan.to_json())
    assert again.scope == plan.scope
    assert [c.file for c in again.changes] == ["apps/one.yaml", "apps/one.yaml"]
    assert again.to_json() == plan.to_json()
    validator = jsonschema.Draft202012Validator(load_schema(PLAN_SCHEMA))
    validator.validate(plan.to_data())
    validator.validate(json.loads(render_json(plan)))


def test_a_full_plan_has_no_scope_member_and_reads_back_full() -> None:
    plan = Plan(owner="team", registry="sqlite:r.db")
    assert "scope" not in plan.to_data()
    assert not Plan.from_json(plan.to_json()).scope.is_partial


def test_the_stamp_source_is_the_hash_of_the_file() -> None:
    assert partial_plan().changes[0].stamp_source == file_hash("apps/one.yaml")
    assert Create(key="x", after={}).stamp_source == ""
