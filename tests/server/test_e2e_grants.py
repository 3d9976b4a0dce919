"""Grants and connection links end to end: ``reconciler`` applies through ``auth0://`` to
``reconciler serve`` over TLS, and only Auth0's own Python SDK reads the tenant back.

- 200 apps (m2m apps with one or two APIs, interactive apps with connections): the SDK's
  paged listings hold exactly the declared grants and links, a plan then has nothing to do,
  a scope removed in the manifest goes, a scope added through the SDK is drift, and an app
  removed from the manifest takes its grants and links with it;
- an m2m app ``reconciler`` created gets a client-credentials token for its API with exactly
  its scopes, with the secret ``--secrets-out`` delivered, and none for another API.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from auth0.authentication import GetToken
from auth0.authentication.exceptions import Auth0Error
from auth0.management import ManagementClient
from click.testing import CliRunner

from reconciler.cli import cli
from tests.auth0_sdk import SdkReader, TlsServe

OWNER = "platform-team/grants-e2e"
LEDGER = "https://ledger.example.com/"
REPORTS = "https://reports.example.com/"
API_SCOPES = {
    LEDGER: ("read:entries", "write:entries", "admin"),
    REPORTS: ("read:reports", "write:reports"),
}
CONNECTIONS = ("Username-Password-Authentication", "google-oauth2", "github")
APPS = 200

#: (client_id, audience, sorted scopes)
GrantRow = tuple[str, str, tuple[str, ...]]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[TlsServe]:
    with TlsServe(tmp_path / "tenant.db") as running:
        seed = {
            "resource_servers": [
                {"identifier": audience, "scopes": [{"value": scope} for scope in scopes]}
                for audience, scopes in API_SCOPES.items()
            ],
            "connections": [
                {"name": name, "strategy": "auth0" if n == 0 else name.removesuffix("-oauth2")}
                for n, name in enumerate(CONNECTIONS)
            ],
        }
        with running.http() as http:
            http.post(f"{running.base_url}/__control/seed", json=seed).raise_for_status()
        yield running


@pytest.fixture
def project(tmp_path: Path, served: TlsServe, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project whose registry is ``auth0://`` at ``served``; the CLI runs in this process
    and trusts serve's CA through SSL_CERT_FILE (httpx), REQUESTS_CA_BUNDLE (the SDK's
    authentication client)."""
    root = tmp_path / "repo"
    (root / "apps").mkdir(parents=True)
    (root / "reconciler.yaml").write_text(
        f"owner: {OWNER}\nmanifests: [apps]\nregistry: auth0://tenant.test\n"
    )
    monkeypatch.chdir(root)
    monkeypatch.setenv("AUTH0_CLIENT_ID", served.client_id)
    monkeypatch.setenv("AUTH0_CLIENT_SECRET", served.client_secret)
    monkeypatch.setenv("AUTH0_BASE_URL", served.base_url)
    monkeypatch.setenv("SSL_CERT_FILE", served.ca_file)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", served.ca_file)
    monkeypatch.setenv("NO_COLOR", "1")
    return root


@pytest.fixture
def reader(served: TlsServe) -> Iterator[SdkReader]:
    opened = served.reader()
    yield opened
    opened.close()


@pytest.fixture
def sdk(served: TlsServe) -> Iterator[ManagementClient]:
    with served.http() as http:
        yield ManagementClient(
            domain=served.base_url.removeprefix("https://"),
            token=served.token("read:client_grants update:client_grants read:connections"),
            httpx_client=http,
        )


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def apply() -> None:
    code, output = run("apply", "--auto-approve", "--secrets-out", "secrets.json")
    assert code == 0, output


def plan_changes() -> list[dict[str, Any]]:
    result = CliRunner().invoke(cli, ["plan", "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    changes: list[dict[str, Any]] = json.loads(result.stdout)["changes"]
    return changes


def write_manifest(root: Path, apps: dict[str, dict[str, Any]]) -> None:
    (root / "apps" / "apps.yaml").write_text(json.dumps({"apps": apps}, indent=1))


def two_hundred_apps() -> dict[str, dict[str, Any]]:
    """Even numbers: m2m apps with one or two APIs and one to three scopes on each; odd
    numbers: web apps and SPAs with none to three connections."""
    apps: dict[str, dict[str, Any]] = {}
    for n in range(APPS):
        key = f"app-{n:03d}"
        if n % 2 == 0:
            audiences = [LEDGER, REPORTS] if n % 4 == 0 else [[LEDGER, REPORTS][n // 2 % 2]]
            apps[key] = {
                "name": f"Worker {n:03d}",
                "type": "m2m",
                "apis": [
                    {
                        "audience": audience,
                        "scopes": list(
                            API_SCOPES[audience][: 1 + n // 3 % len(API_SCOPES[audience])]
                        ),
                    }
                    for audience in audiences
                ],
            }
        else:
            interactive = "regular_web" if n % 3 else "spa"
            apps[key] = {
                "name": f"Web {n:03d}",
                "type": interactive,
                "callbacks": [f"https://{key}.example.com/callback"],
                "connections": [c for i, c in enumerate(CONNECTIONS) if n // 2 >> i & 1],
            }
    return apps


def declared_grants(apps: dict[str, dict[str, Any]], ids: dict[str, str]) -> set[GrantRow]:
    return {
        (ids[key], api["audience"], tuple(sorted(api["scopes"])))
        for key, app in apps.items()
        for api in app.get("apis", ())
    }


def declared_links(apps: dict[str, dict[str, Any]], ids: dict[str, str]) -> dict[str, set[str]]:
    return {
        name: {ids[key] for key, app in apps.items() if name in app.get("connections", ())}
        for name in CONNECTIONS
    }


def client_ids(reader: SdkReader) -> dict[str, str]:
    """Each owned app's client id by key, through the SDK's clients pager."""
    ids: dict[str, str] = {}
    for key, found in reader.apps_by_key(OWNER).items():
        [app] = found
        ids[key] = str(app["client_id"])
    return ids


def listed_grants(sdk: ManagementClient) -> dict[GrantRow, str]:
    """Every grant of the tenant as the SDK's checkpoint pager reads it (take=50: several
    pages), with its id."""
    rows: dict[GrantRow, str] = {}
    for grant in sdk.client_grants.list(take=50):
        row = (grant.client_id or "", grant.audience or "", tuple(sorted(grant.scope or ())))
        assert row not in rows, f"listed twice: {row}"
        rows[row] = grant.id or ""
    return rows


def listed_links(sdk: ManagementClient) -> dict[str, set[str]]:
    """Each connection's enabled clients, paged by the SDK (take=40: several pages)."""
    links: dict[str, set[str]] = {}
    for connection in sdk.connections.list():
        clients = [c.client_id for c in sdk.connections.clients.get(connection.id or "", take=40)]
        assert len(clients) == len(set(clients)), f"a client listed twice on {connection.name}"
        links[connection.name or ""] = set(clients)
    return links


def assert_tenant_holds(
    sdk: ManagementClient, reader: SdkReader, apps: dict[str, dict[str, Any]]
) -> dict[str, str]:
    ids = client_ids(reader)
    assert set(ids) == set(apps)
    assert set(listed_grants(sdk)) == declared_grants(apps, ids)
    assert listed_links(sdk) == declared_links(apps, ids)
    return ids


def test_200_apps_with_grants_and_connections_read_back_through_the_sdk(
    project: Path, sdk: ManagementClient, reader: SdkReader
) -> None:
    apps = two_hundred_apps()
    write_manifest(project, apps)
    apply()
    ids = assert_tenant_holds(sdk, reader, apps)
    assert len(declared_grants(apps, ids)) == 150  # 50 apps with two APIs, 50 with one
    code, output = run("plan", "--detailed-exitcode")
    assert code == 0, output

    # A scope removed in the manifest is removed from the tenant, in place.
    trimmed = apps["app-004"]["apis"][0]
    assert trimmed == {"audience": LEDGER, "scopes": ["read:entries", "write:entries"]}
    before = listed_grants(sdk)[(ids["app-004"], LEDGER, ("read:entries", "write:entries"))]
    trimmed["scopes"] = ["read:entries"]
    write_manifest(project, apps)
    assert [(c["key"], c["action"]) for c in plan_changes()] == [("app-004", "update")]
    apply()
    assert_tenant_holds(sdk, reader, apps)
    assert listed_grants(sdk)[(ids["app-004"], LEDGER, ("read:entries",))] == before

    # A scope added through the SDK is drift: the plan shows it and exits 2.
    drifted = (ids["app-002"], REPORTS, ("read:reports",))
    assert drifted in declared_grants(apps, ids)
    sdk.client_grants.update(listed_grants(sdk)[drifted], scope=["read:reports", "write:reports"])
    [update] = plan_changes()
    assert (update["key"], update["action"], update["reasons"]) == ("app-002", "update", ["drift"])
    assert [d["path"] for d in update["diff"]] == [f"grants[{REPORTS}].scopes"]
    assert run("plan", "--detailed-exitcode")[0] == 2
    apply()
    assert_tenant_holds(sdk, reader, apps)

    # An app removed from the manifest takes its grants (and an interactive one its links).
    assert len(apps["app-008"]["apis"]) == 2 and len(apps["app-015"]["connections"]) == 3
    gone = {ids["app-008"], ids["app-015"]}
    del apps["app-008"], apps["app-015"]
    write_manifest(project, apps)
    assert sorted((c["key"], c["action"]) for c in plan_changes()) == [
        ("app-008", "delete"),
        ("app-015", "delete"),
    ]
    apply()
    assert_tenant_holds(sdk, reader, apps)
    assert not {row[0] for row in listed_grants(sdk)} & gone
    assert run("plan", "--detailed-exitcode")[0] == 0


def claims(token: str) -> dict[str, Any]:
    """The JWT's payload, unverified (serve signs with a key of its own)."""
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


def test_an_m2m_app_gets_a_token_for_its_api_with_exactly_its_scopes(
    project: Path, served: TlsServe
) -> None:
    write_manifest(
        project,
        {
            "worker": {
                "name": "Ledger Worker",
                "type": "m2m",
                "apis": [{"audience": LEDGER, "scopes": ["read:entries"]}],
            }
        },
    )
    apply()
    delivered = json.loads((project / "secrets.json").read_text())["worker"]
    domain = served.base_url.removeprefix("https://")
    # Auth0's own authentication client asks for the token, as a deployed worker would.
    token = GetToken(
        domain, delivered["client_id"], client_secret=delivered["client_secret"]
    ).client_credentials(LEDGER)
    assert token["token_type"] == "Bearer"
    assert token["scope"] == "read:entries"  # not write:entries nor admin, which LEDGER defines
    payload = claims(token["access_token"])
    assert payload["aud"] == LEDGER
    assert payload["sub"] == f"{delivered['client_id']}@clients"
    assert payload["scope"] == "read:entries"

    # REPORTS is an API of the tenant the app holds no grant for. Auth0 answers 403
    # access_denied 'Client is not authorized to access "<audience>". You need to create a
    # "client-grant" associated to this API. ...' (the answer of a real tenant, quoted in
    # tests/server/test_grants_api.py::test_no_grant_no_token).
    with pytest.raises(Auth0Error) as refused:
        GetToken(
            domain, delivered["client_id"], client_secret=delivered["client_secret"]
        ).client_credentials(REPORTS)
    assert refused.value.status_code == 403
    assert refused.value.error_code == "access_denied"
    assert refused.value.message.startswith(f'Client is not authorized to access "{REPORTS}".')
