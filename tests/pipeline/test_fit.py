"""What a plan asks of a registry is what that registry can hold: the fields it has no place
for are left out and said once, and an RFC 7591 server gets the apps' API scopes as their
``scope``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.core.model import ApiGrant, ConnectionLink, DesiredApp
from reconciler.core.plan import NoticeKind
from reconciler.pipeline.holdings import Holdings
from reconciler.pipeline.planning import fit_to_registry
from reconciler.registries.dcr.registry import DcrRegistry, open_dcr
from tests.helpers import memory_registry

LEDGER = "https://ledger.example.com/"
AUDIT = "https://audit.example.com/"
PAGES = {
    "client_uri": "https://web.example.com/",
    "policy_uri": "https://web.example.com/privacy",
    "tos_uri": "https://web.example.com/terms",
    "contacts": ["ops@example.com"],
}
WEB = DesiredApp("web", {"name": "Web", **PAGES})
TERMS = DesiredApp("terms", {"name": "Terms", "tos_uri": "https://terms.example.com/"})
PLAIN = DesiredApp("plain", {"name": "Plain"})
WORKER = DesiredApp(
    "worker",
    {"name": "Worker", "app_type": "non_interactive"},
    grants=(
        ApiGrant(AUDIT, scopes=("read:entries",)),
        ApiGrant(LEDGER, scopes=("read:entries", "write:entries")),
        ApiGrant(LEDGER, "user", scopes=("admin:entries",)),
    ),
    connections=(ConnectionLink("db"),),
)


@pytest.fixture
def dcr(tmp_path: Path) -> Iterator[DcrRegistry]:
    registry = open_dcr(f"dcr+https://id.example.com?state={tmp_path / 'state.json'}", environ={})
    yield registry
    registry.close()


def test_an_auth0_tenant_drops_the_rfc_7591_fields_and_says_so_once() -> None:
    _, registry = memory_registry()

    fitted, notices = fit_to_registry(
        [WEB, TERMS, PLAIN, WORKER], registry, Holdings([], [], [], True)
    )

    assert [app.fields for app in fitted] == [
        {"name": "Web"},
        {"name": "Terms"},
        {"name": "Plain"},
        {"name": "Worker", "app_type": "non_interactive"},
    ]
    assert fitted[3] == WORKER, "it holds grants and connections"
    [notice] = notices
    assert notice.kind is NoticeKind.UNHELD
    assert notice.message == (
        "this registry has no place for client_uri (web); policy_uri (web); "
        "tos_uri (web, terms); contacts (web): they are not applied here"
    )


def test_nothing_to_say_when_no_app_declares_what_the_registry_lacks() -> None:
    _, registry = memory_registry()

    fitted, notices = fit_to_registry([PLAIN, WORKER], registry, Holdings([], [], [], True))

    assert fitted == [PLAIN, WORKER] and notices == []


def test_a_dcr_server_gets_every_api_scope_as_scope_and_no_connections(
    dcr: DcrRegistry,
) -> None:
    fitted, notices = fit_to_registry([WEB, WORKER], dcr, Holdings([]))

    web, worker = fitted
    assert web == WEB, "it holds the RFC 7591 fields"
    assert worker.fields == {
        "name": "Worker",
        "app_type": "non_interactive",
        "scope": "admin:entries read:entries write:entries",
    }
    assert worker.grants is None and worker.connections is None
    assert worker.comparable() == worker.fields
    [notice] = notices
    assert notice.message == (
        "this registry has no place for connections (worker): they are not applied here"
    )


def test_an_app_that_signs_users_in_keeps_openid_beside_its_api_scopes(dcr: DcrRegistry) -> None:
    """node-oidc-provider and Hydra hold a client to its registered scope, openid too."""
    site = DesiredApp(
        "site",
        {"name": "Site", "app_type": "regular_web"},
        grants=(ApiGrant(LEDGER, scopes=("read:entries",)),),
    )
    [fitted], _ = fit_to_registry([site], dcr, Holdings([]))
    assert fitted.fields["scope"] == "openid read:entries"


def test_apis_that_name_no_scope_leave_the_scope_to_the_server(dcr: DcrRegistry) -> None:
    bare = DesiredApp("bare", {"name": "Bare"}, grants=(ApiGrant(LEDGER),), connections=())
    none = DesiredApp("none", {"name": "None"}, grants=())

    fitted, notices = fit_to_registry([bare, none], dcr, Holdings([]))

    assert [app.comparable() for app in fitted] == [{"name": "Bare"}, {"name": "None"}]
    assert notices == []


def test_a_cimd_app_on_a_dcr_server_has_no_registration_to_hold_its_scopes(
    dcr: DcrRegistry,
) -> None:
    partner = DesiredApp(
        "partner",
        {"app_type": "regular_web"},
        cimd="https://partner.example/client.json",
        grants=(ApiGrant(LEDGER, scopes=("read:entries",)),),
    )

    [fitted], [notice] = fit_to_registry([partner], dcr, Holdings([]))

    assert fitted.comparable() == {"app_type": "regular_web"}
    assert notice.message == (
        "this registry has no place for apis (partner): they are not applied here"
    )
