from __future__ import annotations

from dataclasses import replace
from typing import Any

from reconciler.apply.applier import apply_plan
from reconciler.core.changes import Adopt, Create, Delete, Reason, Refresh, Update
from reconciler.core.model import App, Credential, DesiredApp, Source, SourceOrigin
from reconciler.core.plan import Plan, Safety
from reconciler.core.planner import plan
from reconciler.core.stamp import Stamp
from reconciler.registries.clients import ClientsRegistry
from tests.helpers import desired, memory_registry, seed

OWNER = "team-a"


def plan_for(registry: ClientsRegistry, *apps: DesiredApp, safety: Safety | None = None) -> Plan:
    return plan(list(apps), registry.list_apps(), owner=OWNER, registry=registry.uri, safety=safety)


def converge(registry: ClientsRegistry, *apps: DesiredApp) -> None:
    result = plan_for(registry, *apps)
    report = apply_plan(result, registry, registry.list_apps())
    assert report.ok, report.results


WEB = dict(name="Web", type="spa", callbacks=["https://web.example.com/cb"])


def test_create_then_nothing_to_do() -> None:
    _, registry = memory_registry()
    first = plan_for(registry, desired("web", **WEB))
    assert [type(c) for c in first.changes] == [Create]
    assert first.changes[0].after["grant_types"] == ["authorization_code", "refresh_token"]
    converge(registry, desired("web", **WEB))
    assert plan_for(registry, desired("web", **WEB)).is_empty


def test_callback_change_is_one_field_diff_labelled_manifest() -> None:
    _, registry = memory_registry()
    converge(registry, desired("web", **WEB))
    changed = desired(
        "web", **{**WEB, "callbacks": ["https://web.example.com/cb", "https://new.example.com/cb"]}
    )
    [change] = plan_for(registry, changed).changes
    assert isinstance(change, Update)
    assert [(d.path, d.reasons) for d in change.diff] == [("callbacks", ("manifest",))]
    assert "redirect-uri-added" in change.risks


def test_edit_in_registry_is_drift() -> None:
    tenant, registry = memory_registry()
    converge(registry, desired("web", **WEB))
    [app] = registry.list_apps()
    tenant.patch_client(app.client_id, {"callbacks": ["https://evil.example.com/cb"]})
    [change] = plan_for(registry, desired("web", **WEB)).changes
    assert change.reasons == ("drift",)
    assert change.diff[0].before == ["https://evil.example.com/cb"]


def test_order_of_set_like_arrays_is_not_a_change() -> None:
    tenant, registry = memory_registry()
    two = {**WEB, "callbacks": ["https://a.example.com/cb", "https://b.example.com/cb"]}
    converge(registry, desired("web", **two))
    [app] = registry.list_apps()
    tenant.patch_client(
        app.client_id, {"callbacks": ["https://b.example.com/cb", "https://a.example.com/cb"]}
    )
    assert plan_for(registry, desired("web", **two)).is_empty


def test_server_defaults_are_not_drift() -> None:
    _, registry = memory_registry()
    converge(
        registry,
        desired(
            "web", **WEB, refresh_token={"rotation_type": "rotating", "expiration_type": "expiring"}
        ),
    )
    [app] = registry.list_apps()
    assert app.fields["refresh_token"]["token_lifetime"] > 0  # filled in by the server
    assert plan_for(
        registry,
        desired(
            "web", **WEB, refresh_token={"rotation_type": "rotating", "expiration_type": "expiring"}
        ),
    ).is_empty


def test_removed_app_is_deleted_but_protected_kept() -> None:
    _, registry = memory_registry()
    converge(
        registry, desired("web", **WEB), desired("admin", **{**WEB, "name": "Admin"}, protect=True)
    )
    result = plan_for(registry)
    assert [(type(c), c.key) for c in result.changes] == [(Delete, "web")]
    assert [n.key for n in result.notices] == ["admin"]


def test_removing_protect_first_then_delete() -> None:
    _, registry = memory_registry()
    converge(registry, desired("admin", **WEB, protect=True))
    [change] = plan_for(registry, desired("admin", **WEB)).changes
    assert [(d.path, d.before, d.after) for d in change.diff] == [("protect", True, False)]
    converge(registry, desired("admin", **WEB))
    assert [type(c) for c in plan_for(registry).changes] == [Delete]


def test_foreign_and_unstamped_apps_are_never_touched() -> None:
    tenant, registry = memory_registry()
    seed(tenant, name="Theirs", owner="team-b", key="web")
    seed(tenant, name="Hand made")
    result = plan_for(registry, desired("web", **WEB))
    assert [type(c) for c in result.changes] == [Create]
    assert result.owned == 0


def test_adopt_unstamped_app_by_client_id() -> None:
    tenant, registry = memory_registry()
    client_id = seed(
        tenant, name="Legacy", app_type="regular_web", callbacks=["https://old.example.com/cb"]
    )
    spec = desired(
        "legacy",
        client_id=client_id,
        name="Legacy",
        type="regular_web",
        callbacks=["https://old.example.com/cb"],
    )
    [change] = plan_for(registry, spec).changes
    assert isinstance(change, Adopt)
    assert change.client_id == client_id
    converge(registry, spec)
    assert plan_for(registry, spec).is_empty
    [app] = registry.list_apps()
    assert app.stamp is not None and app.stamp.key == "legacy"


def test_adopting_another_owners_app_is_refused_with_both_names() -> None:
    tenant, registry = memory_registry()
    client_id = seed(tenant, name="Theirs", owner="team-b", key="their-web")
    result = plan_for(registry, desired("web", client_id=client_id, **WEB))
    assert not result.changes
    [conflict] = result.conflicts
    assert (
        "team-b" in conflict.message
        and "team-a" in conflict.message
        and "their-web" in conflict.message
    )


def test_safety_threshold() -> None:
    _, registry = memory_registry()
    apps = [desired(f"app-{i}", **WEB) for i in range(10)]
    converge(registry, *apps)
    result = plan_for(registry, *apps[:6], safety=Safety(max_delete_fraction=0.3, min_owned=10))
    assert result.unsafe_reasons() == ["4 of 10 owned apps would be deleted (more than 30%)"]


def test_adopting_a_client_id_that_is_not_there_is_refused_not_created() -> None:
    _, registry = memory_registry()
    result = plan_for(registry, desired("legacy", client_id="nope0000", **WEB))
    assert not result.changes
    assert [c.message for c in result.conflicts] == ["client_id 'nope0000' is not in the registry"]


def test_switching_an_app_between_first_and_third_party_is_a_conflict() -> None:
    tenant, registry = memory_registry()
    converge(registry, desired("web", **WEB))
    legacy = seed(tenant, name="Partner", is_first_party=False)

    result = plan_for(
        registry,
        desired("web", is_first_party=False, **WEB),
        desired("partner", client_id=legacy, is_first_party=True, **WEB),
    )

    assert not result.changes
    messages = {c.key: c.message for c in result.conflicts}
    assert (
        "is a first-party app, and an app cannot be converted to a third-party one"
        in (messages["web"])
    )
    assert "is a third-party app" in messages["partner"]
    assert "declare a new app under a new key, without client_id" in messages["web"]
    assert plan_for(registry, desired("web", is_first_party=True, **WEB)).is_empty


def test_a_third_party_app_is_created_and_updated_within_auth0s_rules() -> None:
    _, registry = memory_registry()
    partner = dict(
        name="Partner",
        type="spa",
        is_first_party=False,
        callbacks=["https://partner.example/cb"],
        jwt_configuration={"lifetime_in_seconds": 300},
        refresh_token={"rotation_type": "rotating", "expiration_type": "expiring"},
    )
    converge(registry, desired("partner", **partner))
    [app] = registry.list_apps()
    assert app.client_id.startswith("tpc_") and app.record["jwt_configuration"]["alg"] == "RS256"
    assert plan_for(registry, desired("partner", **partner)).is_empty
    moved = {**partner, "callbacks": ["https://partner.example/new"]}
    converge(registry, desired("partner", **moved))
    assert plan_for(registry, desired("partner", **moved)).is_empty


def _source(url: str, name: str = "Partner") -> Source:
    document = {
        "client_id": url,
        "client_name": name,
        "redirect_uris": ["https://p.example/cb"],
        "grant_types": ["authorization_code"],
        "token_endpoint_auth_method": "none",
    }
    return Source(url, document, "sha256:x", "2026-01-01T00:00:00+00:00", SourceOrigin.FETCHED)


def test_cimd_url_change_is_a_delete_and_a_create_flagged() -> None:
    _, registry = memory_registry()
    old, new = "https://p.example/a.json", "https://p.example/b.json"
    spec = desired("partner", cimd=old, type="regular_web")
    first = plan(
        [spec],
        registry.list_apps(),
        owner=OWNER,
        registry=registry.uri,
        documents={old: _source(old)},
    )
    assert apply_plan(first, registry, registry.list_apps()).ok
    moved = desired("partner", cimd=new, type="regular_web")
    result = plan(
        [moved],
        registry.list_apps(),
        owner=OWNER,
        registry=registry.uri,
        documents={new: _source(new)},
    )
    assert [(type(c), c.cimd) for c in result.changes] == [(Create, new), (Delete, old)]
    assert "url-changed" in result.changes[1].risks


def test_a_refresh_whose_document_moved_security_fields_since_its_lock_is_labelled() -> None:
    _, registry = memory_registry()
    url = "https://p.example/a.json"
    spec = desired("partner", cimd=url, type="regular_web")
    documents = {url: _source(url)}
    first = plan(
        [spec], registry.list_apps(), owner=OWNER, registry=registry.uri, documents=documents
    )
    assert apply_plan(first, registry, registry.list_apps()).ok
    moved = _source(url)
    moved = replace(
        moved,
        document={**moved.document, "redirect_uris": ["https://p.example/other"]},
        sensitive_changes=("redirect_uris",),
    )
    [change] = plan(
        [spec], registry.list_apps(), owner=OWNER, registry=registry.uri, documents={url: moved}
    ).changes
    assert isinstance(change, Refresh)
    assert "document-security-changed" in change.risks
    assert "redirect-uri-added" in change.risks
    assert any("changed redirect_uris since its locked copy" in note for note in change.notes)
    unmoved = replace(moved, sensitive_changes=())
    [quiet] = plan(
        [spec], registry.list_apps(), owner=OWNER, registry=registry.uri, documents={url: unmoved}
    ).changes
    assert "document-security-changed" not in quiet.risks and quiet.notes == ()


def test_document_change_upstream_is_a_refresh_that_keeps_declared_fields() -> None:
    _, registry = memory_registry()
    url = "https://p.example/a.json"
    spec = desired("partner", cimd=url, type="regular_web", description="Ours")
    first = plan(
        [spec],
        registry.list_apps(),
        owner=OWNER,
        registry=registry.uri,
        documents={url: _source(url)},
    )
    assert apply_plan(first, registry, registry.list_apps()).ok
    again = plan(
        [spec],
        registry.list_apps(),
        owner=OWNER,
        registry=registry.uri,
        documents={url: _source(url)},
    )
    assert again.is_empty
    renamed = {url: _source(url, "Partner Pro")}
    [change] = plan(
        [spec], registry.list_apps(), owner=OWNER, registry=registry.uri, documents=renamed
    ).changes
    assert change.ACTION == "refresh"
    assert [(d.path, d.before, d.after) for d in change.diff] == [
        ("document.name", "Partner", "Partner Pro")
    ]
    assert apply_plan(
        plan([spec], registry.list_apps(), owner=OWNER, registry=registry.uri, documents=renamed),
        registry,
        registry.list_apps(),
    ).ok
    [app] = registry.list_apps()
    assert (app.fields["name"], app.fields["description"]) == ("Partner Pro", "Ours")


def test_a_renamed_key_is_a_delete_and_a_create_with_a_hint_to_keep_the_app() -> None:
    _, registry = memory_registry()
    converge(registry, desired("web", **WEB))
    [app] = registry.list_apps()
    result = plan_for(registry, desired("portal", **WEB))
    assert [(type(c), c.key) for c in result.changes] == [(Create, "portal"), (Delete, "web")]
    [notice] = result.notices
    assert notice.kind == "rename" and f"client_id: {app.client_id}" in notice.message
    kept = plan_for(registry, desired("portal", client_id=app.client_id, **WEB))
    assert [(type(c), [d.path for d in c.diff]) for c in kept.changes] == [(Update, ["key"])]


def test_undoing_a_redirect_uri_edit_made_elsewhere_is_labelled_a_revert() -> None:
    tenant, registry = memory_registry()
    converge(registry, desired("web", **WEB))
    [app] = registry.list_apps()
    tenant.patch_client(app.client_id, {"callbacks": ["https://evil.example.com/cb"]})
    [change] = plan_for(registry, desired("web", **WEB)).changes
    assert "redirect-uri-reverted" in change.risks
    assert "redirect-uri-added" not in change.risks


def test_a_redirect_uri_the_manifest_changes_as_well_is_not_a_revert() -> None:
    tenant, registry = memory_registry()
    converge(registry, desired("web", **WEB))
    [app] = registry.list_apps()
    tenant.patch_client(app.client_id, {"callbacks": ["https://evil.example.com/cb"]})
    moved = {**WEB, "callbacks": ["https://new.example.com/cb"]}
    [change] = plan_for(registry, desired("web", **moved)).changes
    assert [(d.path, d.reasons) for d in change.diff] == [
        ("callbacks", (Reason.MANIFEST, Reason.DRIFT))
    ]
    assert "redirect-uri-added" in change.risks
    assert "redirect-uri-reverted" not in change.risks


def applied(key: str, fields: dict[str, Any], *, holds: dict[str, Any]) -> App:
    """An app this owner applied with ``fields``, that now holds ``holds``."""
    stamp = Stamp.for_fields(OWNER, key, fields)
    return App(client_id=f"id-{key}", fields=holds, stamp=stamp)


def test_the_diff_shows_the_members_of_exactly_the_fields_whose_values_differ() -> None:
    declared = {"name": "Web", "refresh_token": {"rotation_type": "non-rotating", "leeway": 0}}
    held = {"name": "Web", "refresh_token": {"rotation_type": "rotating", "leeway": 0}}
    spec = DesiredApp("web", declared)
    [change] = plan([spec], [applied("web", held, holds=held)], owner=OWNER, registry="r").changes
    assert isinstance(change, Update)
    assert [(d.path, d.before, d.after) for d in change.diff] == [
        ("refresh_token.rotation_type", "rotating", "non-rotating")
    ]
    assert change.reasons == (Reason.MANIFEST,)
    assert change.keys == ()


def test_the_public_keys_travel_with_a_change_only_when_the_credentials_differ() -> None:
    pem = "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n"
    key = Credential("signing", pem, kid="new-kid")
    spec = DesiredApp("api", {"name": "API", "credentials": [key.summary()]}, credentials=(key,))
    old = {"name": "API", "credentials": [{**key.summary(), "kid": "old-kid"}]}
    [rotated] = plan([spec], [applied("api", old, holds=old)], owner=OWNER, registry="r").changes
    assert isinstance(rotated, Update)
    assert rotated.keys == ({**key.summary(), "pem": pem},)
    assert "keys-changed" in rotated.risks
    renamed = {**spec.fields, "name": "API v2"}
    current = {**spec.fields}
    [change] = plan(
        [DesiredApp("api", renamed, credentials=(key,))],
        [applied("api", current, holds=current)],
        owner=OWNER,
        registry="r",
    ).changes
    assert [d.path for d in change.diff] == ["name"]
    assert isinstance(change, Update) and change.keys == ()


def test_a_new_web_origin_in_the_manifest_is_labelled() -> None:
    _, registry = memory_registry()
    converge(registry, desired("web", **WEB))
    [change] = plan_for(
        registry, desired("web", **WEB, web_origins=["https://web.example.com"])
    ).changes
    assert "origin-added" in change.risks
