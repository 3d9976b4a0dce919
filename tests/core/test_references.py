"""At plan time: a grant for an API the registry lacks, a scope the API does not define,
or a connection the registry does not have, is an error where the manifest names it."""

from __future__ import annotations

from reconciler.core.model import Api, ApiGrant, ConnectionLink, DesiredApp, LoginConnection
from reconciler.core.references import check_references
from reconciler.diagnostics import Location

LEDGER = "https://ledger.example.com/"
APIS = [Api(LEDGER, ("read:entries", "write:entries"))]
CONNECTIONS = [LoginConnection("con_1", "db", ()), LoginConnection("con_2", "google-oauth2", ())]


def at(line: int) -> Location:
    return Location("apps/worker.yaml", line, 7)


def app(
    grants: tuple[ApiGrant, ...] | None = None,
    connections: tuple[ConnectionLink, ...] | None = None,
) -> DesiredApp:
    return DesiredApp(
        "worker",
        {"name": "Worker"},
        location=at(1),
        file="apps/worker.yaml",
        grants=grants,
        connections=connections,
    )


def test_what_the_registry_has_is_no_finding() -> None:
    declared = app(
        (ApiGrant(LEDGER, scopes=("read:entries",), location=at(4)),),
        (ConnectionLink("db", at(8)),),
    )
    assert check_references([declared, app()], (), APIS, CONNECTIONS) == []


def test_each_missing_thing_is_an_error_at_its_location() -> None:
    declared = app(
        (
            ApiGrant(LEDGER, scopes=("delete:entries", "read:entries"), location=at(4)),
            ApiGrant("https://nowhere.example.com/", location=at(6)),
        ),
        (ConnectionLink("github", at(9)), ConnectionLink("db", at(10))),
    )
    third_party = (
        ApiGrant("https://partner.example.com/", location=Location("tenant.yaml", 2, 5)),
    )
    found = check_references([declared], third_party, APIS, CONNECTIONS)
    assert [str(d) for d in found] == [
        "apps/worker.yaml:4:7: error[unknown-scope]: the API https://ledger.example.com/ does "
        "not define 'delete:entries' (it has: read:entries, write:entries)",
        "apps/worker.yaml:6:7: error[unknown-api]: audience 'https://nowhere.example.com/' is "
        "not an API of the registry (it has: https://ledger.example.com/)",
        "apps/worker.yaml:9:7: error[unknown-connection]: connection 'github' does not exist "
        "in the registry (it has: db, google-oauth2)",
        "tenant.yaml:2:5: error[unknown-api]: audience 'https://partner.example.com/' is not "
        "an API of the registry (it has: https://ledger.example.com/)",
    ]
    assert all(d.is_error for d in found)


def test_a_registry_with_many_names_lists_the_first_ten() -> None:
    many = [LoginConnection(f"con_{n}", f"c{n:02d}", ()) for n in range(25)]
    [finding] = check_references([app(None, (ConnectionLink("db", at(3)),))], (), [], many)
    assert finding.message.endswith(
        "(it has: c00, c01, c02, c03, c04, c05, c06, c07, c08, c09 and 15 more)"
    )
    [none] = check_references([app((ApiGrant(LEDGER, location=at(2)),))], (), [], [])
    assert none.message.endswith("(it has none)")
