"""Export, registry -> manifests: one file per app, no secrets, no stamps, the schema beside.

``test_cli_reconcile.py`` exports the examples through the CLI and applies the result in
another project; these tests call ``export_apps`` and ``manifest_for`` directly, on Auth0
client objects as the registry reads them.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.apply.applier import apply_plan
from reconciler.apply.secrets import SecretsFile
from reconciler.core.access import with_access
from reconciler.core.model import Grant
from reconciler.core.planner import plan
from reconciler.core.stamp import Stamp
from reconciler.manifests.desired import desired_apps
from reconciler.manifests.evaluation import evaluate, parse_files
from reconciler.manifests.export import (
    SCHEMA_FILE,
    THIRD_PARTY_FILE,
    export_apps,
    manifest_for,
    minimal_manifest_for,
)
from reconciler.manifests.variables import Variables
from reconciler.registries.clients import app_from_client
from reconciler.tenant.engine import Tenant
from tests.helpers import desired, memory_registry, seed

OWNER = "team-a"
LEDGER = "https://ledger.example.com/"
PAYROLL = "https://payroll.example.com/"
SCHEMA_LINE = f"# yaml-language-server: $schema=./{SCHEMA_FILE}"


def client(client_id: str, stamp: Stamp | None = None, **fields: Any) -> dict[str, Any]:
    """An Auth0 client object as the Management API answers it."""
    metadata = {**fields.pop("client_metadata", {}), **(stamp.to_metadata() if stamp else {})}
    return {
        "client_id": client_id,
        "client_secret": f"secret-of-{client_id}",
        "name": "App",
        "app_type": "spa",
        "client_metadata": metadata,
        **fields,
    }


def exported(directory: Path) -> dict[str, dict[str, Any]]:
    """File name -> the one app it declares, each file checked to start with the schema line."""
    found = {}
    for path in sorted(directory.glob("*.yaml")):
        text = path.read_text()
        assert text.splitlines()[0] == SCHEMA_LINE, path
        [(key, body)] = yaml.safe_load(text)["apps"].items()
        assert path.name == f"{key}.yaml"
        found[path.name] = body
    return found


def test_each_app_is_one_file_named_by_its_key_and_the_schema_is_written_beside(
    tmp_path: Path,
) -> None:
    apps = [
        app_from_client(client("OwnedClient0000", Stamp(OWNER, "portal", {}), name="Portal"), []),
        app_from_client(client("Abcdefgh1111", name="Legacy Portal!"), []),
        app_from_client(client("abcdefgh2222", name="legacy portal"), []),
        app_from_client(client("TheirsClient00", Stamp("team-b", "theirs", {})), []),
    ]
    written = export_apps(apps, tmp_path / "out", owner=OWNER)

    files = exported(tmp_path / "out")
    assert sorted(files) == [
        "app-theirscl.yaml",  # another owner's app is named like an unstamped one
        "legacy-portal-abcdefgh-2.yaml",
        "legacy-portal-abcdefgh.yaml",
        "portal.yaml",
    ]
    assert sorted(path.name for path in written.apps) == sorted(files) and written.skipped == []
    assert written.third_party_apis is None
    shipped = resources.files("reconciler.schemas").joinpath(SCHEMA_FILE).read_text("utf-8")
    assert (tmp_path / "out" / SCHEMA_FILE).read_text() == shipped


def test_an_app_of_a_type_manifests_cannot_declare_is_skipped_and_said(tmp_path: Path) -> None:
    sso = app_from_client(client("SsoIntegration1", name="SSO", app_type="sso_integration"), [])
    written = export_apps([sso], tmp_path, owner=OWNER)
    assert written.files == []
    assert written.skipped == [
        "SsoIntegration1 (SSO): app type 'sso_integration' has no manifest type; not exported"
    ]
    assert manifest_for(sso, owner=OWNER) is None


def test_an_owned_app_is_declared_by_its_key_with_its_fields_in_a_fixed_order() -> None:
    stamp = Stamp(OWNER, "portal", {}, protect=True)
    app = app_from_client(
        client(
            "OwnedClient0000",
            stamp,
            client_metadata={"team": "payments"},
            name="Portal",
            app_type="regular_web",
            callbacks=["https://p.example/cb"],
            description=None,
            jwt_configuration={"alg": "RS256", "secret_encoded": False, "lifetime_in_seconds": 60},
            refresh_token={"rotation_type": "rotating", "leeway": None},
        ),
        [],
    )
    expected = {
        "name": "Portal",
        "type": "regular_web",
        "callbacks": ["https://p.example/cb"],
        "refresh_token": {"rotation_type": "rotating"},
        "jwt_configuration": {"alg": "RS256", "lifetime_in_seconds": 60},
        "metadata": {"team": "payments"},
        "protect": True,
    }
    body = manifest_for(app, owner=OWNER)
    assert body == expected and list(body) == list(expected)


@pytest.mark.parametrize("protect", [False, True])
def test_an_app_of_nobody_or_of_another_owner_names_its_client_id_and_is_never_protected(
    protect: bool,
) -> None:
    theirs = Stamp("team-b", "theirs", {}, protect=protect)
    for stamp in (None, theirs):
        app = app_from_client(client("OtherClient0000", stamp, name="Theirs"), [])
        body = manifest_for(app, owner=OWNER)
        assert body is not None
        assert list(body)[:3] == ["client_id", "name", "type"]
        assert body["client_id"] == "OtherClient0000" and "protect" not in body


def test_a_private_key_jwt_app_keeps_its_client_id_and_its_keys_stay_unmanaged() -> None:
    app = app_from_client(
        client(
            "KeyClient000000",
            Stamp(OWNER, "worker", {}),
            app_type="non_interactive",
            token_endpoint_auth_method="private_key_jwt",
        ),
        [{"id": "cred_1", "name": "k1", "kid": "kid-1", "alg": "RS256"}],
    )
    body = manifest_for(app, owner=OWNER)
    assert body is not None
    assert body["client_id"] == "KeyClient000000" and "credentials" not in body


def test_legacy_grants_in_use_are_allowed_with_a_reason_to_review() -> None:
    app = app_from_client(
        client("LegacyClient000", app_type="regular_web", grant_types=["password"]), []
    )
    body = manifest_for(app, owner=OWNER)
    assert body is not None and body["allow_legacy_grants"] is True
    assert "review" in body["legacy_grants_reason"]


def test_a_strict_third_party_app_leaves_out_the_defaults_it_cannot_set() -> None:
    fields = {
        "app_type": "regular_web",
        "is_first_party": False,
        "cross_origin_authentication": False,
        "callbacks": ["https://partner.example/cb"],
    }
    strict = app_from_client(client("tpc_Strict", third_party_security_mode="strict", **fields), [])
    permissive = app_from_client(
        client("Permissive0000", third_party_security_mode="permissive", **fields), []
    )
    assert "cross_origin_authentication" not in (manifest_for(strict, owner=OWNER) or {})
    assert (manifest_for(strict, owner=OWNER) or {})["callbacks"] == fields["callbacks"]
    assert (manifest_for(permissive, owner=OWNER) or {})["cross_origin_authentication"] is False


def test_a_cimd_app_is_its_url_and_the_fields_auth0_lets_you_edit() -> None:
    app = app_from_client(
        client(
            "CimdClient00000",
            external_client_id="https://partner.example/client.json",
            name="Partner (from its document)",
            app_type="regular_web",
            callbacks=["https://partner.example/cb"],
            description="Partner portal",
        ),
        [],
    )
    assert manifest_for(app, owner=OWNER) == {
        "client_id": "CimdClient00000",
        "cimd": "https://partner.example/client.json",
        "description": "Partner portal",
        "type": "regular_web",
    }


def test_export_then_validate_then_plan_is_empty_and_nothing_secret_or_stamped_is_written(
    tmp_path: Path,
) -> None:
    tenant, registry = memory_registry()
    specs = [
        desired(
            "portal",
            name="Portal",
            type="regular_web",
            callbacks=["https://portal.example.com/cb"],
            web_origins=["https://portal.example.com"],
            metadata={"team": "payments"},
            protect=True,
        ),
        desired("worker", name="Worker", type="m2m", description="Nightly batch"),
        desired(
            "mobile",
            name="Mobile",
            type="native",
            callbacks=["com.example.mobile://cb"],
            refresh_token={"rotation_type": "rotating", "expiration_type": "expiring"},
        ),
        desired(
            "legacy",
            name="Legacy",
            type="regular_web",
            grant_types=["authorization_code", "password"],
            allow_legacy_grants=True,
            legacy_grants_reason="the old portal until June",
        ),
    ]
    sink = SecretsFile(tmp_path / "secrets.json")
    first = plan(specs, registry.list_apps(), owner=OWNER, registry=registry.uri)
    assert apply_plan(first, registry, registry.list_apps(), secrets=sink).ok
    out = tmp_path / "exported"

    written = export_apps(registry.list_apps(), out, owner=OWNER).files

    assert len(written) == len(specs)
    text = "".join(path.read_text() for path in out.glob("*.yaml"))
    assert "reconciler_" not in text, "stamps stay in the registry"
    for client_id in (app.client_id for app in registry.list_apps()):
        secret = tenant.get_client(client_id)["client_secret"]
        assert secret and secret not in text
    files, problems = parse_files(written)
    manifests = evaluate(files, Variables({}, {}, {}))
    assert problems == []
    # The worker holds no grant, so it declares no API it may call, and lint says so.
    assert [(d.rule, d.is_error) for d in manifests.diagnostics] == [("m2m-without-api", False)]
    again = plan(
        desired_apps(manifests.apps.values()),
        registry.list_apps(),
        owner=OWNER,
        registry=registry.uri,
    )
    assert again.is_empty, [change.to_data() for change in again.changes]


def test_an_apps_grants_are_its_apis_and_its_connections_are_named_sorted() -> None:
    app = app_from_client(
        client(
            "WorkerClient000",
            Stamp(OWNER, "worker", {}),
            app_type="non_interactive",
            client_metadata={"team": "payments"},
        ),
        [],
    )
    grants = [
        Grant("cgr_2", "WorkerClient000", PAYROLL, ("read:pay",), "user", "allow", True),
        Grant("cgr_1", "WorkerClient000", LEDGER, ("read:entries", "write:entries")),
        Grant("cgr_3", "WorkerClient000", LEDGER, (), organization_usage="deny"),
    ]
    body = manifest_for(app, owner=OWNER, grants=grants, connections=["github", "db", "db"])
    assert body is not None
    assert body["apis"] == [
        {"audience": LEDGER, "scopes": ["read:entries", "write:entries"]},
        {"audience": LEDGER, "scopes": [], "organization_usage": "deny"},
        {
            "audience": PAYROLL,
            "scopes": ["read:pay"],
            "subject_type": "user",
            "organization_usage": "allow",
            "allow_any_organization": True,
        },
    ]
    assert body["connections"] == ["db", "github"]
    assert list(body)[-3:] == ["apis", "connections", "metadata"]


def test_an_app_with_no_grant_or_connection_leaves_both_unmanaged() -> None:
    """Left out plans no change on an app that has none, as ``[]`` would, and claims
    nothing for Git that nobody declared."""
    app = app_from_client(client("PortalClient000", Stamp(OWNER, "portal", {})), [])
    body = manifest_for(app, owner=OWNER, grants=[], connections=[])
    assert body is not None and "apis" not in body and "connections" not in body


def test_the_tenants_grants_for_third_party_apps_are_a_file_of_their_own(tmp_path: Path) -> None:
    app = app_from_client(client("PortalClient000", Stamp(OWNER, "portal", {})), [])
    grants = [
        Grant("cgr_1", None, PAYROLL, ("read:pay",), default_for="third_party_clients"),
        Grant("cgr_2", None, LEDGER, ("read:entries",), "user", default_for="third_party_clients"),
    ]
    written = export_apps([app], tmp_path, owner=OWNER, grants=grants)

    assert written.third_party_apis == tmp_path / THIRD_PARTY_FILE
    assert written.files == [*written.apps, tmp_path / THIRD_PARTY_FILE]
    text = (tmp_path / THIRD_PARTY_FILE).read_text()
    assert text.splitlines()[0] == SCHEMA_LINE
    assert yaml.safe_load(text) == {
        "apps": {},
        "third_party_apis": [
            {"audience": LEDGER, "scopes": ["read:entries"], "subject_type": "user"},
            {"audience": PAYROLL, "scopes": ["read:pay"]},
        ],
    }
    files, problems = parse_files(written.files)
    manifests = evaluate(files, Variables({}, {}, {}))
    assert problems == [] and manifests.diagnostics == []
    assert list(manifests.apps) == ["portal"]


def test_export_of_apps_with_grants_and_connections_then_plan_is_empty(tmp_path: Path) -> None:
    tenant, registry = memory_registry()
    tenant.resource_servers.create(
        {"identifier": LEDGER, "scopes": [{"value": "read:entries"}, {"value": "write:entries"}]}
    )
    worker = seed(
        tenant,
        name="Worker",
        app_type="non_interactive",
        grant_types=["client_credentials"],
        token_endpoint_auth_method="client_secret_post",
    )
    portal = seed(
        tenant,
        name="Portal",
        owner=OWNER,
        key="portal",
        grant_types=["authorization_code"],
        token_endpoint_auth_method="none",
    )
    tenant.client_grants.create(
        {"client_id": worker, "audience": LEDGER, "scope": ["write:entries", "read:entries"]}
    )
    tenant.client_grants.create(
        {"client_id": portal, "audience": LEDGER, "scope": [], "subject_type": "user"}
    )
    tenant.client_grants.create(
        {"default_for": "third_party_clients", "audience": LEDGER, "scope": ["read:entries"]}
    )
    tenant.connections.create({"name": "db", "strategy": "auth0", "enabled_clients": [portal]})
    tenant.connections.create({"name": "github", "strategy": "github"})  # enabled for none

    written = export_apps(
        registry.list_apps(),
        tmp_path,
        owner=OWNER,
        grants=registry.list_grants(),
        connections=registry.list_connections(),
    )

    files, problems = parse_files(written.files)
    manifests = evaluate(files, Variables({}, {}, {}))
    assert problems == [] and manifests.diagnostics == []
    wanted = desired_apps(manifests.apps.values())
    by_key = {app.key: app for app in wanted}
    assert by_key["portal"].connections is not None
    assert [link.name for link in by_key["portal"].connections] == ["db"]
    assert by_key["portal"].grants is not None and len(by_key["portal"].grants) == 1
    [worker_key] = set(by_key) - {"portal"}
    assert by_key[worker_key].connections is None, "an app with no connection leaves them be"
    assert len(manifests.third_party_apis) == 1
    current = with_access(registry.list_apps(), registry.list_grants(), registry.list_connections())
    adopting = plan(wanted, current, owner=OWNER, registry=registry.uri)
    assert [(change.ACTION, change.key) for change in adopting.changes] == [("adopt", worker_key)]
    assert [change.diff for change in adopting.changes] == [()], "only stamped, nothing changes"
    assert apply_plan(adopting, registry, current).ok
    current = with_access(registry.list_apps(), registry.list_grants(), registry.list_connections())
    again = plan(wanted, current, owner=OWNER, registry=registry.uri)
    assert again.is_empty, [change.to_data() for change in again.changes]


def test_export_of_apps_with_the_login_native_and_token_settings_then_plan_is_empty(
    tmp_path: Path,
) -> None:
    _, registry = memory_registry()
    logout = {
        "backchannel_logout_urls": ["https://portal.example.com/bcl"],
        "backchannel_logout_initiators": {"mode": "all"},
    }
    specs = [
        desired(
            "portal",
            name="Portal",
            type="regular_web",
            callbacks=["https://portal.example.com/cb"],
            oidc_logout=logout,
            organization_usage="require",
            organization_require_behavior="pre_login_prompt",
            organization_discovery_methods=["email"],
            require_pushed_authorization_requests=True,
            allowed_clients=["b", "a"],
            refresh_token={
                "rotation_type": "rotating",
                "expiration_type": "expiring",
                "policies": [{"audience": "https://billing.example.com/", "scope": ["read"]}],
            },
        ),
        desired(
            "mobile",
            name="Mobile",
            type="native",
            callbacks=["com.example.mobile://cb"],
            mobile={"ios": {"team_id": "ABCDE12345", "app_bundle_identifier": "com.example.m"}},
            native_social_login={"apple": {"enabled": True}},
            sso_disabled=True,
        ),
    ]
    sink = SecretsFile(tmp_path / "secrets.json")
    first = plan(specs, registry.list_apps(), owner=OWNER, registry=registry.uri)
    assert apply_plan(first, registry, registry.list_apps(), secrets=sink).ok

    written = export_apps(registry.list_apps(), tmp_path / "exported", owner=OWNER).files

    files = exported(tmp_path / "exported")
    assert files["portal.yaml"]["oidc_logout"] == logout
    assert "oidc_backchannel_logout" not in files["portal.yaml"], "not a manifest field"
    assert files["mobile.yaml"]["native_social_login"] == {"apple": {"enabled": True}}
    parsed, problems = parse_files(written)
    manifests = evaluate(parsed, Variables({}, {}, {}))
    assert problems == [] and manifests.errors == []
    again = plan(
        desired_apps(manifests.apps.values()),
        registry.list_apps(),
        owner=OWNER,
        registry=registry.uri,
    )
    assert again.is_empty, [change.to_data() for change in again.changes]


@pytest.mark.parametrize(
    ("app_type", "third_party"),
    [("regular_web", False), ("spa", False), ("regular_web", True), ("spa", True)],
)
def test_a_new_clients_server_defaults_are_left_out_of_its_minimal_entry(
    app_type: str, third_party: bool
) -> None:
    # The embedded tenant makes a client as Auth0 fills one in (core/defaults.py): a
    # first-party one, and a strict third-party one whose refresh tokens rotate only for
    # a public app type. None of what it filled in is worth a line of the entry.
    tenant = Tenant(":memory:")
    body: dict[str, Any] = {
        "name": "Fresh",
        "app_type": app_type,
        "is_first_party": not third_party,
    }
    body["callbacks"] = ["https://fresh.example.com/callback"]
    if third_party:
        body["grant_types"] = ["authorization_code", "refresh_token"]
    made = tenant.create_client(body)
    entry = minimal_manifest_for(app_from_client(made, []), owner=OWNER)
    assert entry is not None
    assert not {"refresh_token", "jwt_configuration", "sso_disabled"} & set(entry), entry
    assert "cross_origin_authentication" not in entry
    # Third party is what the app is, not a default: the entry says so.
    assert entry.get("is_first_party", True) is not third_party
