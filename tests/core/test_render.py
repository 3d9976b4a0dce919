from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest

from reconciler.core.changes import (
    Adopt,
    Change,
    Create,
    Delete,
    Deliver,
    FieldChange,
    Reason,
    Refresh,
    Update,
)
from reconciler.core.plan import Conflict, Notice, Plan, Safety
from reconciler.core.render import RENDERERS, render_json, render_markdown, render_text
from reconciler.core.risks import RISK_DESCRIPTIONS
from reconciler.manifests.schema import PLAN_SCHEMA, load_schema

FINGERPRINT = "sha256:" + "ab" * 32
PUBLIC_KEY = (
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n"
    "-----END PUBLIC KEY-----\n"
)
SECRET = "s3cr3t-value"


def create(key: str = "web", **extra: Any) -> Create:
    after = {"name": "Web", "callbacks": ["https://web.example/cb", "https://web.example/cb2"]}
    return Create(
        key=key,
        after=after,
        diff=tuple(FieldChange(name, None, value) for name, value in after.items()),
        reasons=("new",),
        location=f"apps/{key}.yaml:2:3",
        **extra,
    )


def update(key: str = "api", *, reasons: tuple[str, ...] = ("manifest",), **extra: Any) -> Update:
    return Update(
        key=key,
        client_id=f"id-{key}",
        before={"name": "Old", "callbacks": ["https://keep.example/cb", "https://old.example/cb"]},
        after={"name": "New", "callbacks": ["https://keep.example/cb", "https://new.example/cb"]},
        diff=(
            FieldChange(
                "callbacks",
                ["https://keep.example/cb", "https://old.example/cb"],
                ["https://keep.example/cb", "https://new.example/cb"],
                ("manifest",),
            ),
            FieldChange("name", "Old", "New", reasons),
        ),
        reasons=reasons,
        risks=("redirect-uri-added",),
        location=f"apps/{key}.yaml:7:3",
        fingerprint=FINGERPRINT,
        **extra,
    )


def delete(key: str = "gone") -> Delete:
    return Delete(
        key=key,
        client_id=f"id-{key}",
        before={"name": "Gone app", "callbacks": ["https://gone.example/cb"]},
        reasons=("removed from manifests",),
        risks=("deletion",),
        fingerprint=FINGERPRINT,
    )


def adopt(key: str = "legacy") -> Adopt:
    return Adopt(
        key=key,
        client_id=f"id-{key}",
        before={"name": "Legacy"},
        after={"name": "Legacy portal"},
        diff=(FieldChange("name", "Legacy", "Legacy portal", ("adopt",)),),
        reasons=("adopt",),
        location=f"apps/{key}.yaml:1:3",
        fingerprint=FINGERPRINT,
    )


def refresh(key: str = "partner") -> Refresh:
    url = "https://partner.example/oauth/client.json"
    document = {"client_name": "Partner Assistant"}
    return Refresh(
        key=key,
        client_id=url,
        cimd=url,
        before={"client_name": "Partner"},
        after={"client_name": "Partner Assistant"},
        diff=(FieldChange("client_name", "Partner", "Partner Assistant"),),
        reasons=(Reason.UPSTREAM,),
        location=f"apps/{key}.yaml:4:3",
        fingerprint=FINGERPRINT,
        source={
            "url": url,
            "sha256": FINGERPRINT,
            "fetched_at": "2026-01-01T00:00:00+00:00",
            "origin": "fetched",
            "document": document,
        },
    )


def make_plan(*changes: Change, **extra: Any) -> Plan:
    return Plan(owner="payments", registry="sqlite:registry.db", changes=changes, **extra)


def full_plan() -> Plan:
    """Every change kind, notices, conflicts, keys, an unsafe verdict, and secret-shaped data."""
    key = {"name": "ledger-2026", "kid": "kid-1", "alg": "RS256", "pem": PUBLIC_KEY}
    credentials = [{"name": "ledger-2026", "kid": "kid-1", "alg": "RS256", "pem": PUBLIC_KEY}]
    leaky = Create(
        key="ledger",
        after={"name": "Ledger", "client_secret": SECRET, "credentials": credentials},
        diff=(
            FieldChange("name", None, "Ledger"),
            FieldChange("client_secret", None, SECRET),
            FieldChange("credentials", None, credentials),
        ),
        reasons=("new",),
        location="apps/ledger.yaml:1:3",
        keys=(key,),
    )
    return make_plan(
        delete(),
        update(reasons=("manifest", "drift")),
        leaky,
        adopt(),
        refresh(),
        create(),
        environment="prod",
        owned=2,
        safety=Safety(min_owned=1),
        notices=(Notice("protected", "pay (id-pay) is protected: kept.", "pay"),),
        conflicts=(Conflict("other", "client id-x is managed by owner 'web'", "apps/o.yaml:3:3"),),
    )


def summary(text: str) -> str:
    return text.rstrip("\n").splitlines()[-1]


# Text.


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            (create("a"), create("b"), create("c"), update()),
            "Plan: 3 to create, 1 to update, 0 to delete.",
        ),
        ((delete(),), "Plan: 0 to create, 0 to update, 1 to delete."),
        (
            (create(), adopt("x"), adopt("y")),
            "Plan: 1 to create, 0 to update, 0 to delete, 2 to adopt.",
        ),
        ((refresh(),), "Plan: 0 to create, 0 to update, 0 to delete, 1 to refresh."),
        (
            (adopt(), create(), update(), refresh(), delete()),
            "Plan: 1 to create, 1 to update, 1 to delete, 1 to adopt, 1 to refresh.",
        ),
        ((), "No changes. The registry matches the manifests."),
    ],
)
def test_summary_line(changes: tuple[Change, ...], expected: str) -> None:
    assert summary(render_text(make_plan(*changes))) == expected


def test_no_changes_but_an_unreachable_app_does_not_say_it_matches() -> None:
    notice = Notice("unreachable", "worker (id-w): 401 from the server", "worker")
    plan = make_plan(notices=(notice,))
    text = render_text(plan)
    assert "matches the manifests" not in text
    assert summary(text) == (
        "No changes to apply, but the registry does not match the manifests: see the notices."
    )
    assert "matches the manifests" not in render_markdown(plan).replace("does not match", "")
    assert json.loads(render_json(plan))["matches_registry"] is False


def test_a_registry_header_note_comes_first_under_the_header() -> None:
    missing = Notice("missing-state", "DCR state .reconciler/dcr-state.json not found")
    plan = make_plan(create(), notices=(missing, Notice("protected", "old kept", "old")))
    lines = render_text(plan).splitlines()
    assert lines[2] == "missing-state: DCR state .reconciler/dcr-state.json not found"
    assert lines.count("missing-state: DCR state .reconciler/dcr-state.json not found") == 1
    assert "  protected: old kept" in lines
    markdown = render_markdown(plan)
    assert markdown.index("missing-state") < markdown.index("| action | count |")
    assert markdown.count("DCR state") == 1


def test_changes_appear_in_plan_order_with_their_symbols() -> None:
    text = render_text(full_plan())
    headers = [line for line in text.splitlines() if re.match(r"  [@+~←-] ", line)]
    assert headers == [
        "  @ legacy (id-legacy) will be adopted",
        "  + ledger will be created",
        "  + web will be created",
        "  ~ api (id-api) will be updated in place (drift: edited outside reconciler)",
        "  ← partner (https://partner.example/oauth/client.json) will be re-registered "
        "from its metadata document",
        "  - gone (id-gone) will be deleted",
    ]


def test_header_names_registry_owner_and_environment() -> None:
    first = render_text(full_plan()).splitlines()[0]
    assert first == "Plan for owner payments, environment prod, registry sqlite:registry.db"


def test_list_changes_show_one_line_per_item_added_or_removed() -> None:
    lines = render_text(make_plan(update())).splitlines()
    start = lines.index("      callbacks:")
    assert lines[start + 1 : start + 3] == [
        '        - "https://old.example/cb"',
        '        + "https://new.example/cb"',
    ]
    assert not any("keep.example" in line for line in lines)


def test_scalar_changes_show_before_and_after() -> None:
    assert '      name: "Old" -> "New"' in render_text(make_plan(update())).splitlines()


def test_drift_is_worded_on_the_change_and_marked_on_the_field() -> None:
    drifted = render_text(make_plan(update(reasons=("drift",))))
    assert "will be updated in place (drift: edited outside reconciler)" in drifted
    assert '      name: "Old" -> "New"  (drift)' in drifted.splitlines()
    assert "drift" not in render_text(make_plan(update(reasons=("manifest",))))


def test_reasons_and_location_are_shown() -> None:
    lines = render_text(make_plan(update(reasons=("manifest", "drift")))).splitlines()
    assert "      reasons: manifest, drift" in lines
    assert "      location: apps/api.yaml:7:3" in lines


def test_risks_are_shown_with_their_description() -> None:
    lines = render_text(make_plan(update(), delete())).splitlines()
    assert f"      ! redirect-uri-added: {RISK_DESCRIPTIONS['redirect-uri-added']}" in lines
    assert f"      ! deletion: {RISK_DESCRIPTIONS['deletion']}" in lines


def test_creates_show_assignments_with_list_items_on_their_own_lines() -> None:
    lines = render_text(make_plan(create())).splitlines()
    start = lines.index('      name = "Web"')
    assert lines[start + 1 : start + 5] == [
        "      callbacks = [",
        '        "https://web.example/cb",',
        '        "https://web.example/cb2",',
        "      ]",
    ]


def test_deletes_show_the_app_name() -> None:
    assert '      name: "Gone app"' in render_text(make_plan(delete())).splitlines()


def test_notices_conflicts_and_the_safety_verdict() -> None:
    text = render_text(full_plan())
    assert "  protected: pay (id-pay) is protected: kept." in text
    assert "Conflicts (refused: apply exits 3):" in text
    assert "  apps/o.yaml:3:3: client id-x is managed by owner 'web'" in text
    assert "Unsafe: apply will refuse without --force: 1 of 2 owned apps would be deleted" in text


def test_safe_plans_carry_no_verdict() -> None:
    assert "--force" not in render_text(make_plan(update(), owned=100))


def test_no_changes_with_conflicts_does_not_claim_a_match() -> None:
    plan = make_plan(conflicts=(Conflict("x", "refused", "apps/x.yaml:1:1"),))
    assert "matches" not in render_text(plan)
    assert summary(render_text(plan)).startswith("No changes, but the plan is refused")


def test_colour_only_when_asked() -> None:
    plan = full_plan()
    assert "\x1b" not in render_text(plan)
    assert "\x1b" not in RENDERERS["text"](plan)
    coloured = render_text(plan, color=True)
    assert "\x1b[32;1m  + web\x1b[0m will be created" in coloured
    assert "\x1b[31;1m  - gone (id-gone)\x1b[0m" in coloured
    assert "\x1b[33;1m  ~ api" in coloured
    assert "\x1b[36;1m  @ legacy" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == render_text(plan)


def test_values_are_json_formatted_and_unicode_kept() -> None:
    change = Update(
        key="i18n",
        client_id="id-i18n",
        before={"name": "Caf\u00e9", "metadata": {"a": "1"}},
        after={"name": None, "metadata": {}},
        diff=(FieldChange("name", "Caf\u00e9", None), FieldChange("metadata", {"a": "1"}, {})),
        reasons=("manifest",),
        fingerprint=FINGERPRINT,
    )
    lines = render_text(make_plan(change)).splitlines()
    assert '      name: "Caf\u00e9" -> null' in lines
    assert '      metadata: {"a": "1"} -> {}' in lines


# JSON.


def test_json_validates_against_the_plan_schema() -> None:
    validator = jsonschema.Draft202012Validator(load_schema(PLAN_SCHEMA))
    plan = full_plan()
    validator.validate(json.loads(render_json(plan)))
    validator.validate(plan.to_data())


def test_plan_schema_is_a_valid_draft_2020_12_schema_with_its_id() -> None:
    schema = load_schema(PLAN_SCHEMA)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"] == "https://reconciler.dev/schemas/plan.schema.json"


def test_plan_schema_knows_every_risk_label() -> None:
    assert set(load_schema(PLAN_SCHEMA)["$defs"]["risk"]["enum"]) == set(RISK_DESCRIPTIONS)


def test_plan_schema_refuses_a_mismatched_symbol() -> None:
    data = make_plan(create()).to_data()
    data["changes"][0]["symbol"] = "-"
    assert not jsonschema.Draft202012Validator(load_schema(PLAN_SCHEMA)).is_valid(data)


def test_json_round_trips_through_plan_from_json() -> None:
    plan = make_plan(adopt(), create(), update(), refresh(), delete(), environment="prod")
    plan = Plan(
        **{**vars(plan), "notices": (Notice("protected", "kept", "pay", "apps/p.yaml:1:1"),)},
    )
    text = render_json(plan)
    assert Plan.from_json(text).to_data() == plan.to_data()
    assert text.endswith("}\n")


def test_json_of_a_redacted_plan_still_loads() -> None:
    text = render_json(full_plan())
    assert Plan.from_json(text).to_data() == json.loads(text)


def test_json_is_byte_stable_whatever_the_insertion_order() -> None:
    forwards = Create(key="web", after={"name": "Web", "app_type": "spa"})
    backwards = Create(key="web", after={"app_type": "spa", "name": "Web"})
    assert render_json(make_plan(forwards)) == render_json(make_plan(backwards))
    assert render_json(make_plan(delete(), create())) == render_json(make_plan(create(), delete()))


def test_json_keeps_key_metadata_without_the_pem() -> None:
    data = json.loads(render_json(full_plan()))
    ledger = next(c for c in data["changes"] if c["key"] == "ledger")
    assert ledger["keys"] == [{"name": "ledger-2026", "kid": "kid-1", "alg": "RS256"}]


# Markdown.


def test_markdown_starts_with_the_marker() -> None:
    assert render_markdown(full_plan()).splitlines()[0] == "<!-- reconciler-plan: payments prod -->"
    without_environment = render_markdown(make_plan(create()))
    assert without_environment.splitlines()[0] == "<!-- reconciler-plan: payments default -->"


def test_markdown_has_a_summary_table() -> None:
    lines = render_markdown(make_plan(create(), create("b"), delete())).splitlines()
    table = lines[lines.index("| action | count |") :][:5]
    assert table == [
        "| action | count |",
        "| --- | ---: |",
        "| + create | 2 |",
        "| ~ update | 0 |",
        "| - delete | 1 |",
    ]


def test_markdown_has_one_details_block_per_change_after_the_risks() -> None:
    plan = full_plan()
    text = render_markdown(plan)
    assert text.count("<details>") == len(plan.changes) == text.count("</details>")
    assert text.index("#### Risks") < text.index("<details>")
    assert "<details><summary>~ api — update (manifest, drift)</summary>" in text
    assert "<details><summary>- gone — delete (removed from manifests)</summary>" in text


def test_markdown_risks_list_label_app_and_description() -> None:
    text = render_markdown(make_plan(update(), delete()))
    assert f"| redirect-uri-added | api | {RISK_DESCRIPTIONS['redirect-uri-added']} |" in text
    assert f"| deletion | gone | {RISK_DESCRIPTIONS['deletion']} |" in text


def test_markdown_diff_blocks() -> None:
    text = render_markdown(make_plan(update()))
    block = text[text.index("```diff") : text.index("```\n", text.index("```diff") + 7)]
    assert block.splitlines()[1:] == [
        '- callbacks: "https://old.example/cb"',
        '+ callbacks: "https://new.example/cb"',
        '- name: "Old"',
        '+ name: "New"',
    ]
    assert "Manifest `apps/api.yaml:7:3`" in text


def test_markdown_escapes_what_would_break_tables_and_html() -> None:
    text = render_markdown(make_plan(update("a|b<i>"), delete("x|y")))
    assert "| redirect-uri-added | a\\|b&lt;i&gt; |" in text
    assert "| deletion | x\\|y |" in text
    assert "<summary>~ a|b&lt;i&gt; — update (manifest)</summary>" in text
    outside_code_spans = re.sub(r"`[^`]*`", "", text)
    assert "<i>" not in outside_code_spans


def test_markdown_fence_outgrows_backticks_in_values() -> None:
    change = Update(
        key="t",
        client_id="id-t",
        before={"name": "```"},
        after={"name": "x"},
        diff=(FieldChange("name", "```", "x"),),
        reasons=("manifest",),
        fingerprint=FINGERPRINT,
    )
    assert "````diff" in render_markdown(make_plan(change))


def test_markdown_without_changes() -> None:
    text = render_markdown(make_plan())
    assert text.splitlines()[0] == "<!-- reconciler-plan: payments default -->"
    assert "No changes. The registry matches the manifests." in text
    assert "<details>" not in text and "| action |" not in text


def test_markdown_lists_conflicts_notices_and_the_verdict() -> None:
    text = render_markdown(full_plan())
    assert "#### Conflicts: refused (apply exits 3)" in text
    assert "- **other**: client id-x is managed by owner 'web' (`apps/o.yaml:3:3`)" in text
    assert "- protected: pay (id-pay) is protected: kept." in text
    assert "apply will refuse without --force" in text


# Every format.


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_no_secret_and_no_key_material_in_any_format(name: str) -> None:
    output = RENDERERS[name](full_plan())
    assert "client_secret" not in output
    assert SECRET not in output
    assert "BEGIN PUBLIC KEY" not in output and "MIIBIjAN" not in output
    assert "pem" not in output.lower()


def test_renderers_are_registered_by_format_name() -> None:
    assert RENDERERS == {"text": render_text, "json": render_json, "markdown": render_markdown}


def test_a_delivery_says_why_in_every_format() -> None:
    deliver = Deliver(
        key="worker",
        client_id="id-w",
        reasons=("secret not delivered",),
        location="apps/w.yaml:3:3",
        fingerprint=FINGERPRINT,
        notes=("its stamp says the secret has not reached a --secrets-out file",),
    )
    plan = make_plan(deliver)
    text = render_text(plan)
    assert "» worker (id-w) will have its secret delivered to --secrets-out" in text
    assert "1 to deliver" in text
    markdown = render_markdown(plan)
    assert "<details><summary>» worker — deliver (secret not delivered)</summary>" in markdown
    assert "> its stamp says the secret has not reached a --secrets-out file" in markdown
    data = json.loads(render_json(plan))
    assert data["summary"]["deliver"] == 1 and data["changes"][0]["symbol"] == "»"
    jsonschema.Draft202012Validator(load_schema(PLAN_SCHEMA)).validate(data)
