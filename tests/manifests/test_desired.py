"""From manifests to desired apps: an app's API grants and connections, canonical and located.

Grants and connections are records of their own in a registry, not client fields: they reach
the desired app beside its fields, and are compared as its ``grants`` and ``connections``.
"""

from __future__ import annotations

from pathlib import Path

from reconciler.apply.applier import apply_plan
from reconciler.apply.secrets import SecretsFile
from reconciler.core.access import with_access as with_grants
from reconciler.core.changes import Reason
from reconciler.core.model import ApiGrant, ConnectionLink
from reconciler.core.planner import plan
from reconciler.diagnostics import Location
from reconciler.manifests.desired import desired_apps, third_party_grants
from reconciler.manifests.evaluation import ManifestSet, evaluate
from reconciler.manifests.variables import Variables
from reconciler.manifests.yamlfile import load_yaml_bytes
from tests.helpers import memory_registry

OWNER = "team-a"
LEDGER = "https://ledger.example.com/"
WORKER = "apps:\n  worker:\n    name: Worker\n    type: m2m\n"


def evaluated(*texts: str, **values: str) -> ManifestSet:
    files = [
        load_yaml_bytes(text.encode("utf-8"), f"{index}.yaml") for index, text in enumerate(texts)
    ]
    return evaluate(files, Variables({}, values, {}, "dev"))


def at(file: str, line: int, column: int) -> Location:
    return Location(file, line, column)


def test_grants_and_connections_are_sorted_with_their_locations() -> None:
    manifests = evaluated(
        WORKER + "    apis:\n"
        "      - audience: https://z.example.com/\n"
        "        scopes: [write:z, read:z]\n"
        f"      - audience: {LEDGER}\n"
        "        subject_type: user\n"
        "        organization_usage: allow\n"
        "        allow_any_organization: true\n"
        f"      - audience: {LEDGER}\n"
        "    connections: [google-oauth2, Username-Password-Authentication]\n"
    )
    assert manifests.errors == []
    [worker] = desired_apps(manifests.apps.values())
    assert worker.grants == (
        ApiGrant(LEDGER),
        ApiGrant(LEDGER, "user", organization_usage="allow", allow_any_organization=True),
        ApiGrant("https://z.example.com/", scopes=("read:z", "write:z")),
    )
    assert worker.grants is not None
    assert [grant.location for grant in worker.grants] == [
        at("0.yaml", 12, 19),
        at("0.yaml", 8, 19),
        at("0.yaml", 6, 19),
    ]
    assert worker.connections == (
        ConnectionLink("Username-Password-Authentication"),
        ConnectionLink("google-oauth2"),
    )
    assert worker.connections is not None
    assert [link.location for link in worker.connections] == [
        at("0.yaml", 13, 34),
        at("0.yaml", 13, 19),
    ]


def test_the_order_a_manifest_lists_them_in_never_shows() -> None:
    one = evaluated(
        WORKER + f"    apis: [{{audience: {LEDGER}, scopes: [b, a]}}, {{audience: https://x/}}]\n"
        "    connections: [b, a]\n"
    )
    other = evaluated(
        WORKER + f"    apis: [{{audience: https://x/}}, {{audience: {LEDGER}, scopes: [a, b]}}]\n"
        "    connections: [a, b]\n"
    )
    [first], [second] = desired_apps(one.apps.values()), desired_apps(other.apps.values())
    assert first.grants == second.grants and first.connections == second.connections


def test_left_out_they_are_not_managed_and_empty_they_are_none() -> None:
    [unmanaged] = desired_apps(evaluated(WORKER).apps.values())
    assert unmanaged.grants is None and unmanaged.connections is None
    [empty] = desired_apps(evaluated(WORKER + "    apis: []\n    connections: []\n").apps.values())
    assert empty.grants == () and empty.connections == ()


def test_variables_are_expanded_inside_them() -> None:
    manifests = evaluated(
        WORKER
        + "    apis: [{audience: 'https://ledger.${DOMAIN}/', scopes: ['${VERB}:entries']}]\n"
        "    connections: ['${DATABASE}']\n"
        "third_party_apis: [{audience: 'https://ledger.${DOMAIN}/', subject_type: user}]\n",
        DOMAIN="example.com",
        VERB="read",
        DATABASE="staff-db",
    )
    assert manifests.errors == []
    [worker] = desired_apps(manifests.apps.values())
    assert worker.grants == (ApiGrant(LEDGER, scopes=("read:entries",)),)
    assert worker.connections == (ConnectionLink("staff-db"),)
    assert third_party_grants(manifests) == (ApiGrant(LEDGER, "user"),)


def test_an_undefined_variable_in_them_is_an_error_where_it_is_used() -> None:
    manifests = evaluated(WORKER + "    apis: [{audience: '${API}'}]\n")
    assert [(d.rule, str(d.location)) for d in manifests.errors] == [
        ("undefined-variable", "0.yaml:5:24")
    ]


def test_the_tenant_grants_for_third_party_apps_come_from_every_file_one_per_key() -> None:
    first = WORKER + f"third_party_apis:\n  - {{audience: {LEDGER}, subject_type: user}}\n"
    second = "apps: {}\nthird_party_apis:\n"
    second += "  - {audience: https://a.example/, scopes: [read:a]}\n"
    second += f"  - {{audience: {LEDGER}, subject_type: user}}\n"
    manifests = evaluated(first, second)
    assert [(d.rule, str(d.location)) for d in manifests.errors] == [
        ("grant-duplicate", "1.yaml:4:16")
    ]
    assert manifests.errors[0].message.endswith("the first is at 0.yaml:6:16")
    grants = third_party_grants(evaluated(first, second.replace(LEDGER, "https://b.example/")))
    assert [grant.key for grant in grants] == [
        ("https://a.example/", "client"),
        ("https://b.example/", "user"),
        (LEDGER, "user"),
    ]
    assert grants[2].location == at("0.yaml", 6, 16)


def test_an_app_that_gains_grants_and_connections_plans_an_update_of_them_alone(
    tmp_path: Path,
) -> None:
    """An app applied before its manifest named APIs and connections: the plan changes
    what it may access, and none of its client fields."""
    _, registry = memory_registry()
    [plain] = desired_apps(evaluated(WORKER).apps.values())
    created = plan([plain], registry.list_apps(), owner=OWNER, registry=registry.uri)
    secrets = SecretsFile(tmp_path / "secrets.json")
    assert apply_plan(created, registry, registry.list_apps(), secrets=secrets).ok
    with_access = evaluated(
        WORKER + f"    apis: [{{audience: {LEDGER}, scopes: [read:entries]}}]\n"
        "    connections: [staff-db]\n"
    )
    [granted] = desired_apps(with_access.apps.values())
    held = with_grants(registry.list_apps(), [], [])
    again = plan([granted], held, owner=OWNER, registry=registry.uri)
    [update] = again.changes
    assert [d.path for d in update.diff] == ["connections", f"grants[{LEDGER}]"]
    assert update.reasons == (Reason.MANIFEST,)
    assert plan([plain], held, owner=OWNER, registry=registry.uri).changes == ()
