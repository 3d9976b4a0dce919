"""Grants and connection links: what must change for apps' access to match the manifests."""

from __future__ import annotations

from reconciler.core.access import (
    GrantChanges,
    GrantUpdate,
    LinkChange,
    diff_connection_links,
    diff_grants,
    grants_by_client,
)
from reconciler.core.model import ApiGrant, Grant, LoginConnection

LEDGER = "https://ledger.example.com/"
BILLING = "https://billing.example.com/"
PEOPLE = "https://people.example.com/"


def held(
    audience: str,
    *scopes: str,
    organization_usage: str | None = None,
    allow_any_organization: bool | None = None,
) -> Grant:
    """The worker's grant for ``audience``, as a registry reads it."""
    return Grant(
        id=f"cgr_{audience[8:12]}",
        client_id="worker",
        audience=audience,
        scopes=tuple(sorted(scopes)),
        organization_usage=organization_usage,
        allow_any_organization=allow_any_organization,
    )


def test_matching_grants_are_no_change() -> None:
    current = [held(LEDGER, "read:entries"), held(BILLING, organization_usage="allow")]
    wanted = [ApiGrant(LEDGER, scopes=("read:entries",)), ApiGrant(BILLING)]
    assert diff_grants(wanted, current) == GrantChanges()
    assert not diff_grants(wanted, current)


def test_grants_are_created_updated_in_place_and_deleted_by_key() -> None:
    ledger = held(LEDGER, "read:entries", "delete:entries")
    people = held(PEOPLE, "read:people")
    wanted = [
        ApiGrant(LEDGER, scopes=("read:entries", "write:entries")),
        ApiGrant(BILLING, scopes=("read:invoices",)),
        ApiGrant(PEOPLE, subject_type="user", scopes=("read:people",)),
    ]
    changes = diff_grants(wanted, [ledger, people])
    assert changes.create == (wanted[1], wanted[2])  # another subject type is another grant
    assert changes.update == (GrantUpdate(ledger, wanted[0]),)
    assert changes.delete == (people,)
    [update] = changes.update
    assert (update.added_scopes, update.removed_scopes) == (("write:entries",), ("delete:entries",))
    assert update.organization_changes == ()


def test_organization_members_change_only_where_the_manifest_sets_them() -> None:
    current = held(LEDGER, organization_usage="deny", allow_any_organization=False)
    [update] = diff_grants([ApiGrant(LEDGER, allow_any_organization=True)], [current]).update
    assert update.organization_changes == ("allow_any_organization",)
    assert update.added_scopes == update.removed_scopes == ()


def test_grants_by_client_leaves_group_grants_out() -> None:
    group = Grant("cgr_group", None, LEDGER, default_for="third_party_clients")
    mine = held(LEDGER)
    assert grants_by_client([group, mine]) == {"worker": [mine]}


def test_connection_links_enable_and_disable_only_the_apps_that_manage_them() -> None:
    database = LoginConnection("con_db", "db", ("other", "web", "worker"))
    google = LoginConnection("con_g", "google-oauth2", ())
    github = LoginConnection("con_gh", "github", ("worker",))
    wanted = {"worker": ["google-oauth2", "github"], "web": ["db", "google-oauth2"]}
    assert diff_connection_links(wanted, [google, github, database]) == [
        LinkChange(database, disable=("worker",)),
        LinkChange(google, enable=("web", "worker")),
    ]
    assert diff_connection_links({"worker": ["nowhere"]}, [github]) == [
        LinkChange(github, disable=("worker",))
    ]
