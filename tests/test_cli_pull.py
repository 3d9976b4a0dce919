"""``reconciler pull`` on a copy of the shipped examples: drift made through ``reconciler
serve`` (the Management API, as the Dashboard makes it) comes back into the manifests as
edits of exactly the drifted lines; then plan has nothing to do, and pull again nothing.
"""

from __future__ import annotations

import difflib
import json
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

import reconciler.pipeline.planning
from reconciler.cimd.fetch import CimdFetcher, CimdPolicy
from reconciler.cli import cli
from reconciler.tenant.engine import Tenant
from tests.auth0_sdk import TlsServe
from tests.helpers import copy_examples

SCOPES = (
    "read:clients update:clients read:client_grants update:client_grants "
    "read:connections update:connections"
)


def offline_fetcher(policy: CimdPolicy) -> CimdFetcher:
    def resolve(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    return CimdFetcher(policy, resolver=resolve)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def manifests(root: Path) -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted((root / "apps").glob("*.yaml"))}


def changed_lines(before: dict[str, str], after: dict[str, str]) -> dict[str, list[str]]:
    """Per file, the lines removed (-) and added (+), as ``git diff`` shows them."""
    found = {}
    for name in before:
        diff = difflib.unified_diff(before[name].splitlines(), after[name].splitlines(), n=0)
        lines = [line for line in diff if line[:1] in "-+" and line[:3] not in ("---", "+++")]
        if lines:
            found[name] = lines
    return found


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The examples, seeded and applied to the embedded registry of the dev environment."""
    monkeypatch.setattr(reconciler.pipeline.planning, "make_fetcher", offline_fetcher)
    monkeypatch.setenv("NO_COLOR", "1")
    root = tmp_path / "repo"
    copy_examples(root)
    monkeypatch.chdir(root)
    assert run("registry", "seed", "registry-seed.json").exit_code == 0
    applied = run("apply", "--auto-approve", "--secrets-out", "secrets.json")
    assert applied.exit_code == 0, applied.output
    return root


@pytest.fixture
def dashboard(project: Path) -> Iterator[Dashboard]:
    """``reconciler serve`` on the project's registry, for edits made elsewhere."""
    with TlsServe(project / ".reconciler" / "registry.db") as served:
        with Dashboard(served) as editing:
            yield editing


class Dashboard:
    """Edits through the Management API, as someone in the Auth0 Dashboard makes them."""

    def __init__(self, served: TlsServe) -> None:
        self.served = served
        self.http = served.http()
        self.http.headers["Authorization"] = f"Bearer {served.token(SCOPES)}"

    def __enter__(self) -> Dashboard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def client(self, key: str) -> dict[str, Any]:
        answer = self.http.get(f"{self.served.base_url}/api/v2/clients", params={"per_page": 100})
        answer.raise_for_status()
        [found] = [
            client
            for client in answer.json()
            if (client.get("client_metadata") or {}).get("reconciler_key") == key
        ]
        return dict(found)

    def edit(self, key: str, **fields: Any) -> None:
        client_id = self.client(key)["client_id"]
        url = f"{self.served.base_url}/api/v2/clients/{client_id}"
        self.http.patch(url, json=fields).raise_for_status()

    def grant_scopes(self, key: str, audience: str, scopes: list[str]) -> None:
        client_id = self.client(key)["client_id"]
        base = f"{self.served.base_url}/api/v2/client-grants"
        answer = self.http.get(base, params={"client_id": client_id, "audience": audience})
        answer.raise_for_status()
        [grant] = answer.json()
        self.http.patch(f"{base}/{grant['id']}", json={"scope": scopes}).raise_for_status()

    def disable_connection(self, key: str, name: str) -> None:
        client_id = self.client(key)["client_id"]
        base = f"{self.served.base_url}/api/v2/connections"
        answer = self.http.get(base, params={"name": name})
        answer.raise_for_status()
        [connection] = answer.json()
        change = [{"client_id": client_id, "status": False}]
        self.http.patch(f"{base}/{connection['id']}/clients", json=change).raise_for_status()


def test_drift_comes_back_as_edits_of_exactly_the_drifted_lines(
    project: Path, dashboard: Dashboard
) -> None:
    before = manifests(project)
    callbacks = dashboard.client("payments-dashboard")["callbacks"]
    dashboard.edit(
        "payments-dashboard",
        callbacks=[*callbacks, "https://pay.dev.example.com/callback2"],
        description="Edited in the Dashboard",
    )
    dashboard.edit("legacy-portal", grant_types=["authorization_code", "refresh_token"])
    dashboard.grant_scopes(
        "payments-settlement-worker", "https://ledger.example.com/", ["read:entries"]
    )
    drifted = run("plan", "--detailed-exitcode")
    assert drifted.exit_code == 2 and "drift" in drifted.output

    pulled = run("pull")
    assert pulled.exit_code == 0, pulled.output
    assert changed_lines(before, manifests(project)) == {
        "payments.yaml": [
            "-    description: Single-page dashboard for the payments team.",
            "+    description: Edited in the Dashboard",
            '-    callbacks: ["https://pay.${DOMAIN}/callback"]',
            '+    callbacks: ["https://pay.${DOMAIN}/callback", "https://pay.dev.example.com/callback2"]',
            "-        scopes: [read:entries, write:entries]",
            "+        scopes: [read:entries]",
        ],
        "web.yaml": [
            "-    grant_types: [authorization_code]",
            "+    grant_types: [authorization_code, refresh_token]",
        ],
    }
    assert "payments.yaml: pulled payments-dashboard.callbacks" in pulled.output

    planned = run("plan", "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output
    after = manifests(project)
    again = run("pull")
    assert again.exit_code == 0, again.output
    assert "Nothing to pull" in again.output
    assert manifests(project) == after


def test_a_connection_disabled_elsewhere_leaves_the_list(
    project: Path, dashboard: Dashboard
) -> None:
    before = manifests(project)
    dashboard.disable_connection("customer-portal", "google-oauth2")
    assert run("pull").exit_code == 0
    assert changed_lines(before, manifests(project)) == {
        "web.yaml": [
            "-    connections: [Username-Password-Authentication, google-oauth2]",
            "+    connections: [Username-Password-Authentication]",
        ]
    }
    assert run("plan", "--detailed-exitcode").exit_code == 0


def test_dry_run_prints_the_diff_and_writes_nothing(project: Path, dashboard: Dashboard) -> None:
    before = manifests(project)
    dashboard.edit("mobile-wallet", refresh_token={"rotation_type": "non-rotating"})
    result = run("pull", "--dry-run")
    assert result.exit_code == 2
    assert result.stdout == (
        "--- a/apps/mobile.yaml\n"
        "+++ b/apps/mobile.yaml\n"
        "@@ -11,6 +11,6 @@\n"
        "     token_endpoint_auth_method: none\n"
        "     oidc_conformant: true\n"
        "     refresh_token:\n"
        "-      rotation_type: rotating\n"
        "+      rotation_type: non-rotating\n"
        "       expiration_type: expiring\n"
        "     metadata: {team: mobile}\n"
    )
    assert manifests(project) == before


def test_a_variable_that_no_longer_matches_is_reported_never_replaced(
    project: Path, dashboard: Dashboard
) -> None:
    before = manifests(project)
    dashboard.edit("customer-portal", initiate_login_uri="https://elsewhere.example.com/login")
    dashboard.edit("customer-portal", description="Edited too")
    result = run("pull")
    assert result.exit_code == 2
    assert (
        "apps/web.yaml:9:25: warning[not-pulled]: customer-portal: initiate_login_uri differs "
        "in the registry ('https://elsewhere.example.com/login'), but the manifest writes "
        "'${PORTAL_ORIGIN}/login' with variables (PORTAL_ORIGIN = "
        "'https://portal.dev.example.com' in environment 'dev')"
    ) in result.stderr
    assert changed_lines(before, manifests(project)) == {
        "web.yaml": [
            "-    description: Server-rendered portal where customers manage their account.",
            "+    description: Edited too",
        ]
    }


def test_a_field_changed_in_the_manifest_as_well_keeps_the_manifest(
    project: Path, dashboard: Dashboard
) -> None:
    dashboard.edit("ledger-sync", description="Edited in the Dashboard")
    path = project / "apps" / "ledger.yaml"
    text = path.read_text().replace(
        "Pushes ledger entries to the accounting system.", "Pushes entries."
    )
    path.write_text(text)
    result = run("pull")
    assert result.exit_code == 2
    assert "ledger-sync: description was changed in the manifest and elsewhere" in result.stderr
    assert path.read_text() == text


def test_target_limits_what_is_pulled(project: Path, dashboard: Dashboard) -> None:
    dashboard.edit("ledger-sync", description="One")
    dashboard.edit("legacy-portal", name="Two")
    result = run("pull", "--target", "legacy-*")
    assert result.exit_code == 0, result.output
    assert "description: Pushes ledger entries" in (project / "apps" / "ledger.yaml").read_text()
    assert "    name: Two\n" in (project / "apps" / "web.yaml").read_text()


def test_secrets_are_never_written(project: Path, dashboard: Dashboard) -> None:
    dashboard.edit("customer-portal", description="x")
    result = run("pull")
    secrets = json.loads((project / "secrets.json").read_text())
    everything = result.output + "".join(manifests(project).values())
    for entry in secrets.values():
        assert entry["client_secret"] not in everything


def test_a_registry_value_validate_refuses_is_not_pulled(project: Path) -> None:
    tenant = Tenant(project / ".reconciler" / "registry.db")
    try:
        [client] = [
            c
            for c in tenant.all_clients()
            if (c.get("client_metadata") or {}).get("reconciler_key") == "payments-dashboard"
        ]
        tenant.patch_client(
            client["client_id"], {"grant_types": ["authorization_code", "implicit"]}
        )
    finally:
        tenant.close()
    before = manifests(project)
    result = run("pull")
    assert result.exit_code == 2
    assert "the registry holds what validate refuses" in result.stderr
    assert manifests(project) == before


def test_nothing_to_pull_exits_0(project: Path) -> None:
    result = run("pull")
    assert result.exit_code == 0
    assert "Nothing to pull" in result.output


# -- the property: generated manifests, generated drift -------------------------------

DOMAIN = "dev.example.com"
WORDS = st.sampled_from(["portal", "Pay", "it's", "a: b", "#1", "yes", "x, y", '"q"', "ok"])
TEXTS = st.lists(WORDS, min_size=1, max_size=3).map(" ".join)
COMMENTS = st.sampled_from(["", "  # why", "  # owner: team-a"])
KEYS = ("web-a", "web-b", "web-c")


@st.composite
def scalars(draw: st.DrawFn, text: str) -> str:
    """``text`` written plain (where YAML 1.1 reads it back as that string), or quoted."""
    styles = ["'", '"']
    if text.replace(" ", "").isalnum() and text.lower() not in ("yes", "no", "on", "off"):
        styles.append("")
    style = draw(st.sampled_from(styles))
    if style == "'":
        return "'" + text.replace("'", "''") + "'"
    if style == '"':
        return json.dumps(text)
    return text


@st.composite
def apps(draw: st.DrawFn) -> dict[str, Any]:
    """One generated app: its data (as written, variables and all) and its text."""
    key = draw(st.sampled_from(KEYS))
    name = draw(TEXTS)
    description = draw(st.none() | TEXTS)
    callbacks = draw(
        st.lists(
            st.sampled_from(
                ["https://${DOMAIN}/cb", "https://a.example/cb", "https://b.example/cb"]
            ),
            min_size=1,
            max_size=3,
            unique=True,
        )
    )
    lifetime = draw(st.none() | st.integers(3600, 86400))
    lines = [f"  {key}:{draw(COMMENTS)}", f"    name: {draw(scalars(name))}{draw(COMMENTS)}"]
    if draw(st.booleans()):
        lines.append("    # the app's type decides its defaults")
    lines.append("    type: spa")
    if description is not None:
        lines.append(f"    description: {draw(scalars(description))}{draw(COMMENTS)}")
    if draw(st.booleans()):
        lines.append("    callbacks:" + draw(COMMENTS))
        lines += [
            f"      - {draw(scalars(c)) if '$' not in c else c}{draw(COMMENTS)}" for c in callbacks
        ]
    else:
        lines.append(
            f"    callbacks: [{', '.join(json.dumps(c) for c in callbacks)}]{draw(COMMENTS)}"
        )
    refresh = {"rotation_type": "rotating", "expiration_type": "expiring"}
    lines += [
        "    refresh_token:",
        "      rotation_type: rotating",
        "      expiration_type: expiring",
    ]
    if lifetime is not None:
        refresh["token_lifetime"] = lifetime
        lines.append(f"      token_lifetime: {lifetime}{draw(COMMENTS)}")
    data = {"name": name, "description": description, "callbacks": callbacks, "refresh": refresh}
    return {"key": key, "data": data, "lines": lines}


@st.composite
def drifts(draw: st.DrawFn, data: dict[str, Any]) -> dict[str, Any]:
    """Edits made elsewhere to one app: only of what pull can take back (no variable is
    changed or removed)."""
    drift: dict[str, Any] = {}
    if draw(st.booleans()):
        drift["name"] = draw(TEXTS.filter(lambda text: text != data["name"]))
    if data["description"] is not None and draw(st.booleans()):
        drift["description"] = draw(TEXTS.filter(lambda text: text != data["description"]))
    if draw(st.booleans()):
        expanded = [c.replace("${DOMAIN}", DOMAIN) for c in data["callbacks"]]
        kept = [c for c in expanded if DOMAIN in c or draw(st.booleans())]
        added = draw(st.lists(st.sampled_from(["https://new.example/cb", "http://127.0.0.1/cb"])))
        wanted = list(dict.fromkeys([*kept, *added]))
        if wanted and sorted(wanted) != sorted(expanded):
            drift["callbacks"] = wanted
    if draw(st.booleans()):
        drift["grant_types"] = ["authorization_code"]
    if "token_lifetime" in data["refresh"] and draw(st.booleans()):
        drift["refresh_token"] = {**data["refresh"], "token_lifetime": 1800}
    return drift


def field_blocks(text: str, fields: set[tuple[str, str]]) -> list[str]:
    """The lines of ``text`` that are not part of one of ``fields`` (app key, field): a
    field is its key's line and the lines indented under it."""
    kept: list[str] = []
    app = ""
    inside = False
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip(" "))
        if indent == 2 and ":" in line:
            app = line.strip().split(":", 1)[0]
        if inside and line.strip() and indent > 4:
            continue
        inside = indent == 4 and (app, line.strip().split(":", 1)[0]) in fields
        if not inside:
            kept.append(line)
    return kept


@settings(max_examples=15, deadline=None)
@given(st.lists(apps(), min_size=1, max_size=3, unique_by=lambda app: app["key"]), st.data())
def test_pull_then_plan_shows_no_drift_and_only_drifted_lines_change(
    generated: list[dict[str, Any]], data: st.DataObject
) -> None:
    """Manifests with comments, quoting styles, block and flow lists and ``${DOMAIN}``;
    drift of names, descriptions, callbacks (a variable's item kept), a grant type the
    manifest leaves to its type's default, a member of a nested object."""
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        (root / "apps").mkdir()
        config = root / "reconciler.yaml"
        config.write_text(
            "owner: property/pull\nmanifests: [apps]\nregistry: sqlite:registry.db\n"
            f"vars:\n  DOMAIN: {DOMAIN}\n"
        )
        path = root / "apps" / "apps.yaml"
        header = ["# yaml-language-server: $schema=../schemas/manifest.schema.json", "apps:"]
        body = [line for app in generated for line in [*app["lines"], ""]]
        path.write_text("\n".join(header + body))
        options = ("--config", str(config))
        applied = run("apply", *options, "--auto-approve")
        assert applied.exit_code == 0, applied.output

        drifted: set[tuple[str, str]] = set()
        tenant = Tenant(root / "registry.db")
        try:
            for client in tenant.all_clients():
                key = (client.get("client_metadata") or {}).get("reconciler_key")
                [app] = [app for app in generated if app["key"] == key]
                drift = data.draw(drifts(app["data"]))
                if drift:
                    tenant.patch_client(client["client_id"], drift)
                drifted |= {(key, name) for name in drift}
        finally:
            tenant.close()
        before = path.read_text()

        pulled = run("pull", *options)
        assert pulled.exit_code == 0, pulled.output
        planned = run("plan", *options, "--detailed-exitcode")
        assert planned.exit_code == 0, planned.output + before + path.read_text()
        after = path.read_text()
        assert field_blocks(after, drifted) == field_blocks(before, drifted)
        assert run("pull", *options).exit_code == 0
        assert path.read_text() == after
