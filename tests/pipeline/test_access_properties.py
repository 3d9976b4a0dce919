"""Invariants of grants and connection links over random manifests and random edits made
elsewhere, on the real embedded tenant: apply, then plan, is empty, and the tenant holds
exactly what the manifests declare for the apps that manage it, and nothing else moved."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.apply.applier import apply_plan
from reconciler.apply.secrets import SecretsFile
from reconciler.core.model import ApiGrant, DesiredApp
from reconciler.core.planner import plan
from reconciler.pipeline.holdings import Holdings, read_holdings
from reconciler.registries.clients import ClientsRegistry
from reconciler.tenant.seeding import seed_tenant
from tests.helpers import desired, memory_registry

OWNER = "team-a"
APIS = {
    "https://ledger.example.com/": ["read:entries", "write:entries", "admin"],
    "https://reports.example.com/": ["read:reports", "export"],
}
CONNECTIONS = ["db", "google-oauth2", "github"]
KEYS = ["alpha", "beta", "gamma", "delta"]


@st.composite
def app_body(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["m2m", "regular_web"]))
    body: dict[str, Any] = {"name": "App", "type": kind}
    if kind == "regular_web":
        body["callbacks"] = ["https://app.example.com/callback"]
    if draw(st.booleans()):
        audiences = draw(st.lists(st.sampled_from(sorted(APIS)), unique=True, max_size=2))
        body["apis"] = [
            {
                "audience": audience,
                "scopes": draw(st.lists(st.sampled_from(APIS[audience]), unique=True)),
            }
            for audience in audiences
        ]
    if draw(st.booleans()):
        body["connections"] = draw(st.lists(st.sampled_from(CONNECTIONS), unique=True))
    return body


manifests = st.dictionaries(st.sampled_from(KEYS), app_body(), max_size=4)


@st.composite
def edits(draw: st.DrawFn) -> list[tuple[str, Any]]:
    """Edits made elsewhere: a grant's scopes replaced, a grant removed, a link toggled."""
    return draw(
        st.lists(
            st.one_of(
                st.tuples(
                    st.just("scopes"),
                    st.tuples(
                        st.integers(0, 9),
                        st.lists(st.sampled_from(APIS["https://ledger.example.com/"]), unique=True),
                    ),
                ),
                st.tuples(st.just("drop"), st.integers(0, 9)),
                st.tuples(
                    st.just("toggle"), st.tuples(st.sampled_from(CONNECTIONS), st.integers(0, 9))
                ),
            ),
            max_size=4,
        )
    )


def tenant_with_apis() -> tuple[Any, ClientsRegistry]:
    tenant, registry = memory_registry()
    seed_tenant(
        tenant,
        {
            "resource_servers": [
                {"identifier": api, "scopes": [{"value": s} for s in scopes]}
                for api, scopes in APIS.items()
            ],
            "connections": [{"name": name, "strategy": "auth0"} for name in CONNECTIONS],
        },
        keep_existing=False,
    )
    return tenant, registry


def specs(bodies: dict[str, dict[str, Any]]) -> list[DesiredApp]:
    return [desired(key, **body) for key, body in sorted(bodies.items())]


def converge(registry: ClientsRegistry, bodies: dict[str, dict[str, Any]], sink: Path) -> None:
    held = read_holdings(registry)
    made = plan(specs(bodies), held.apps, owner=OWNER, registry=registry.uri)
    report = apply_plan(
        made,
        registry,
        held.apps,
        secrets=SecretsFile(sink),
        grants=held.grants,
        connections=held.connections,
    )
    assert report.ok, [r.error for r in report.results if not r.ok]


def edit_elsewhere(
    registry: ClientsRegistry, held: Holdings, changes: list[tuple[str, Any]]
) -> None:
    ids = sorted(app.client_id for app in held.apps)
    grants = sorted(held.grants, key=lambda g: g.id)
    for kind, what in changes:
        if kind == "scopes" and grants:
            index, scopes = what
            grant = grants[index % len(grants)]
            if grant.audience == "https://ledger.example.com/":
                wanted = ApiGrant(grant.audience, scopes=tuple(sorted(scopes)))
                grants[index % len(grants)] = registry.update_grant(grant, wanted)
        elif kind == "drop" and grants:
            registry.delete_grant(grants.pop(what % len(grants)))
        elif kind == "toggle" and ids:
            name, index = what
            [connection] = [c for c in registry.list_connections() if c.name == name]
            client_id = ids[index % len(ids)]
            if client_id in connection.enabled_clients:
                registry.update_connection_clients(connection, disable=[client_id])
            else:
                registry.update_connection_clients(connection, enable=[client_id])


def access_of(held: Holdings) -> dict[str, tuple[Any, Any]]:
    """Each owned app's grants and connections as the tenant holds them, by key."""
    return {
        app.stamp.key: (app.fields.get("grants"), app.fields.get("connections"))
        for app in held.apps
        if app.stamp is not None
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=manifests, second=manifests, changes=edits())
def test_apply_then_plan_is_empty_and_the_tenant_holds_what_is_declared(
    first: dict[str, dict[str, Any]],
    second: dict[str, dict[str, Any]],
    changes: list[tuple[str, Any]],
) -> None:
    _, registry = tenant_with_apis()
    with tempfile.TemporaryDirectory() as scratch:
        sink = Path(scratch) / "secrets.json"
        converge(registry, first, sink)
        before_second = access_of(read_holdings(registry))
        edit_elsewhere(registry, read_holdings(registry), changes)
        edited = access_of(read_holdings(registry))
        converge(registry, second, sink)
        held = read_holdings(registry)
    assert plan(specs(second), held.apps, owner=OWNER, registry=registry.uri).changes == ()
    now = access_of(held)
    assert sorted(now) == sorted(second)
    for key, body in second.items():
        grants, connections = now[key]
        if "apis" in body:
            assert grants == {
                api["audience"]: {"scopes": sorted(api["scopes"])} for api in body["apis"]
            }
        elif key in before_second:
            assert grants == edited[key][0], "unmanaged grants are left as they were"
        if "connections" in body:
            assert connections == sorted(body["connections"])
        elif key in before_second:
            assert connections == edited[key][1], "unmanaged links are left as they were"
