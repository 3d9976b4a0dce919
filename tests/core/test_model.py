"""Value objects of the core: the CIMD document a plan registers from, an app's API grants."""

from __future__ import annotations

import json
from dataclasses import replace

from reconciler.core.model import (
    ApiGrant,
    App,
    ConnectionLink,
    Credential,
    DesiredApp,
    Grant,
    HeldCredential,
    Source,
    SourceOrigin,
    canonical,
    project,
)
from reconciler.core.stamp import Stamp
from reconciler.diagnostics import Location


def test_a_source_says_where_its_document_came_from_as_plan_files_do() -> None:
    assert sorted(origin.value for origin in SourceOrigin) == ["fetched", "locked"]
    source = Source(
        "https://p.example/c.json", {"client_name": "P"}, "sha256:x", "2026", SourceOrigin.LOCKED
    )
    data = json.loads(json.dumps(source.to_data()))
    assert data["origin"] == "locked" and type(source.to_data()["origin"]) is str
    loaded = Source.from_data(data)
    assert loaded == source and loaded.origin is SourceOrigin.LOCKED


def test_a_grant_is_keyed_by_audience_and_subject_type_and_its_location_is_no_part_of_it() -> None:
    here, there = Location("a.yaml", 5, 19), Location("b.yaml", 9, 3)
    grant = ApiGrant("https://ledger.example.com/", scopes=("read:entries",), location=here)
    assert grant.key == ("https://ledger.example.com/", "client")
    assert grant == ApiGrant(
        "https://ledger.example.com/", scopes=("read:entries",), location=there
    )
    assert grant != ApiGrant("https://ledger.example.com/", "user", ("read:entries",))
    assert ConnectionLink("google-oauth2", here) == ConnectionLink("google-oauth2", there)


def test_grants_and_connections_are_compared_as_fields_only_where_a_manifest_manages_them() -> None:
    fields = {"name": "Worker", "app_type": "non_interactive"}
    plain = DesiredApp("worker", fields)
    granted = DesiredApp(
        "worker",
        fields,
        grants=(
            ApiGrant("https://ledger.example.com/", scopes=("read:entries",)),
            ApiGrant("https://ledger.example.com/", "user", allow_any_organization=True),
        ),
        connections=(ConnectionLink("staff-db"), ConnectionLink("google-oauth2")),
    )
    assert plain.comparable() == fields
    assert plain.grants is None and plain.connections is None
    assert granted.comparable() == {
        **fields,
        "grants": {
            "https://ledger.example.com/": {"scopes": ["read:entries"]},
            "https://ledger.example.com/ as user": {
                "scopes": [],
                "allow_any_organization": True,
            },
        },
        "connections": ["google-oauth2", "staff-db"],
    }


def test_the_registry_grants_are_projected_onto_the_organization_members_a_manifest_sets() -> None:
    wanted = {"https://a/": {"scopes": ["x"], "organization_usage": "allow"}}
    held = {
        "https://a/": {"scopes": ["x", "y"], "organization_usage": "deny"},
        "https://b/": {"scopes": [], "allow_any_organization": True},
    }
    assert project({"grants": wanted}, {"grants": held}) == {
        "grants": {
            "https://a/": {"scopes": ["x", "y"], "organization_usage": "deny"},
            "https://b/": {"scopes": []},
        }
    }


def test_set_like_arrays_inside_objects_are_compared_sorted() -> None:
    declared = canonical(
        {
            "oidc_logout": {
                "backchannel_logout_initiators": {
                    "mode": "custom",
                    "selected_initiators": ["rp-logout", "idp-logout", "rp-logout"],
                }
            },
            "refresh_token": {
                "policies": [
                    {"audience": "https://b.example/", "scope": ["w", "r"]},
                    {"audience": "https://a.example/", "scope": ["r"]},
                ]
            },
            "allowed_clients": ["b", "a"],
            "jwt_configuration": {"scopes": {"z": ["2", "1"]}},
        }
    )
    initiators = declared["oidc_logout"]["backchannel_logout_initiators"]
    assert initiators["selected_initiators"] == ["idp-logout", "rp-logout"]
    assert declared["refresh_token"]["policies"] == [
        {"audience": "https://a.example/", "scope": ["r"]},
        {"audience": "https://b.example/", "scope": ["r", "w"]},
    ]
    assert declared["allowed_clients"] == ["a", "b"]
    assert declared["jwt_configuration"]["scopes"] == {"z": ["2", "1"]}, "order kept elsewhere"


def test_of_a_partial_object_only_the_members_named_are_owned_at_every_depth() -> None:
    held = {
        "mobile": {
            "ios": {"team_id": "ABCDE12345", "app_bundle_identifier": "com.x.pay"},
            "android": {"app_package_name": "com.x.pay"},
        },
        "oidc_logout": {"backchannel_logout_urls": ["https://x/"], "extra": 1},
    }
    wanted = {"mobile": {"ios": {"team_id": "ABCDE12345"}}, "oidc_logout": {"extra": 1}}
    assert project(wanted, held) == wanted
    assert project({"mobile": {"ios": {"team_id": "X"}}}, {}) == {"mobile": {"ios": None}}


def test_the_objects_a_plan_holds_one_of_per_app_carry_no_instance_dict() -> None:
    """A plan of 50,000 apps holds each of these 50,000 times or more: slots, not a dict each."""
    location = Location("apps/web.yaml", 3, 5)
    per_app = [
        DesiredApp("web", {"name": "Web"}, location=location),
        App("id-1", {"name": "Web"}, stamp=Stamp("team", "web", {"name": "abc"})),
        Stamp("team", "web", {"name": "abc"}),
        Credential("signing"),
        HeldCredential("cred-1", {"name": "signing"}),
        ApiGrant("https://api.example", location=location),
        ConnectionLink("Username-Password-Authentication", location),
        Grant("grant-1", "id-1", "https://api.example"),
        location,
    ]
    for value in per_app:
        assert not hasattr(value, "__dict__"), type(value).__name__
    assert replace(per_app[0], key="api").key == "api"  # still value objects
