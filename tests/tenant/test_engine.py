"""The embedded tenant: Auth0 Management API v2 client semantics over one SQLite file."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from reconciler.errors import ApiError, RegistryBusyError, RegistryError
from reconciler.tenant.engine import Tenant

CIMD_URL = "https://assistant.partner.example/oauth/client.json"
CIMD_SUPPORTED = "client_id_metadata_document_supported"


# -- fixtures and helpers --------------------------------------------------------------------


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "registry.db"


@pytest.fixture
def tenant(db_path: Path) -> Iterator[Tenant]:
    opened = Tenant(db_path, name="acme")
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def public_pem(rsa_key: rsa.RSAPrivateKey) -> str:
    return _public_pem(rsa_key)


@pytest.fixture(scope="module")
def other_public_pem() -> str:
    return _public_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))


def _public_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def api_error(call: Callable[[], object]) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call()
    return caught.value


def bad_body(call: Callable[[], object]) -> str:
    """The message of the 400 invalid_body ``call`` must raise."""
    error = api_error(call)
    assert (error.status, error.error, error.error_code) == (400, "Bad Request", "invalid_body")
    return error.message


def bad_query(call: Callable[[], object]) -> str:
    error = api_error(call)
    assert (error.status, error.error_code) == (400, "invalid_query_string")
    return error.message


def allow_cimd(tenant: Tenant) -> Tenant:
    """Turn on the tenant setting CIMD registrations need."""
    tenant.update_tenant_settings({CIMD_SUPPORTED: True})
    return tenant


def listed(tenant: Tenant, **query: Any) -> list[dict[str, Any]]:
    """GET /clients without include_totals: a plain array."""
    found = tenant.list_clients(**query)
    assert isinstance(found, list)
    return found


def credential_body(pem: str, **extra: Any) -> dict[str, Any]:
    return {"credential_type": "public_key", "name": "ci-key", "pem": pem, **extra}


def pkjwt_client(tenant: Tenant, pem: str, **extra: Any) -> dict[str, Any]:
    return tenant.create_client(
        {
            "name": "Ledger sync",
            "app_type": "non_interactive",
            "jwt_configuration": {"alg": "RS256"},
            "client_authentication_methods": {
                "private_key_jwt": {"credentials": [credential_body(pem)]}
            },
            **extra,
        }
    )


def credential_rows(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        count: int = connection.execute("SELECT COUNT(*) FROM credentials").fetchone()[0]
    connection.close()
    return count


CIMD_DOCUMENT: dict[str, Any] = {
    "client_id": CIMD_URL,
    "client_name": "Partner Assistant",
    "redirect_uris": ["https://assistant.partner.example/callback"],
    "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
    "logo_uri": "https://assistant.partner.example/logo.png",
}


# -- opening a registry ----------------------------------------------------------------------


def test_a_new_file_holds_only_the_global_client(tenant: Tenant, db_path: Path) -> None:
    assert db_path.is_file()
    [client] = listed(tenant)
    assert client["global"] is True
    assert client["name"] == "All Applications"
    assert client["tenant"] == "acme"
    assert list(tenant.all_clients()) == []
    assert list(tenant.all_clients(include_global=True)) == [client]


def test_a_second_tenant_on_the_same_file_sees_the_data(tenant: Tenant, db_path: Path) -> None:
    created = tenant.create_client({"name": "Payments"})
    with Tenant(db_path, name="acme") as again:
        assert again.get_client(created["client_id"]) == created
        assert len(again.list_clients(is_global="true")) == 1  # not created a second time
        again.patch_client(created["client_id"], {"description": "seen by both"})
    assert tenant.get_client(created["client_id"])["description"] == "seen by both"


def test_memory_registry_works_and_exclusive_is_a_no_op() -> None:
    with Tenant(":memory:") as memory:
        created = memory.create_client({"name": "In memory"})
        with memory.exclusive(wait_seconds=0), memory.exclusive(wait_seconds=0):
            assert list(memory.all_clients()) == [created]


def test_a_file_that_is_not_a_database_is_a_registry_error(tmp_path: Path) -> None:
    path = tmp_path / "registry.db"
    path.write_bytes(b"this is not SQLite at all, just some bytes" * 100)
    with pytest.raises(RegistryError, match=re.escape(str(path))):
        Tenant(path)


def test_a_closed_tenant_says_so(db_path: Path) -> None:
    closed = Tenant(db_path)
    closed.close()
    closed.close()
    with pytest.raises(RegistryError, match="closed"):
        list(closed.all_clients())


def test_sqlite_write_lock_held_elsewhere_is_registry_busy(db_path: Path) -> None:
    impatient = Tenant(db_path, busy_timeout=0.1)
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(RegistryBusyError, match=re.escape(str(db_path))):
            impatient.create_client({"name": "Blocked"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    impatient.create_client({"name": "Unblocked"})
    impatient.close()


# -- the apply lock --------------------------------------------------------------------------


def test_exclusive_held_by_one_tenant_refuses_another(tenant: Tenant, db_path: Path) -> None:
    other = Tenant(db_path)
    with tenant.exclusive():
        with pytest.raises(RegistryBusyError) as caught, other.exclusive(wait_seconds=0.2):
            pass
        assert "another apply is running against" in str(caught.value)
        assert str(db_path) in str(caught.value)
        with tenant.exclusive(wait_seconds=0):  # re-entrant for its holder
            pass
    with other.exclusive(wait_seconds=0.2):
        pass
    other.close()


def test_exclusive_waits_for_a_holder_in_another_thread(tenant: Tenant, db_path: Path) -> None:
    other = Tenant(db_path)
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with tenant.exclusive():
            held.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    with pytest.raises(RegistryBusyError), other.exclusive(wait_seconds=0.1):
        pass
    threading.Timer(0.1, release.set).start()
    with other.exclusive(wait_seconds=5):
        pass
    holder.join()
    other.close()


def test_exclusive_is_released_when_its_process_dies(db_path: Path) -> None:
    code = (
        "import sys, time\n"
        "from reconciler.tenant.engine import Tenant\n"
        "tenant = Tenant(sys.argv[1])\n"
        "with tenant.exclusive():\n"
        "    print('locked', flush=True)\n"
        "    time.sleep(60)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(db_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "locked"
        with Tenant(db_path) as waiting:
            with pytest.raises(RegistryBusyError), waiting.exclusive(wait_seconds=0.2):
                pass
            process.kill()
            process.wait(10)
            with waiting.exclusive(wait_seconds=5):
                pass
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


# -- create ----------------------------------------------------------------------------------


def test_create_fills_in_auth0_server_defaults(tenant: Tenant) -> None:
    client = tenant.create_client({"name": "Payments", "app_type": "spa"})
    expected = {
        "tenant": "acme",
        "global": False,
        "name": "Payments",
        "app_type": "spa",
        "is_first_party": True,
        "is_token_endpoint_ip_header_trusted": False,
        "oidc_conformant": False,
        "jwt_configuration": {"secret_encoded": False, "lifetime_in_seconds": 36000},
        "sso_disabled": False,
        "cross_origin_authentication": False,
        "grant_types": ["authorization_code", "implicit", "refresh_token", "client_credentials"],
        "custom_login_page_on": True,
        "refresh_token": {
            "rotation_type": "non-rotating",
            "expiration_type": "non-expiring",
            "leeway": 0,
            "token_lifetime": 2592000,
            "infinite_token_lifetime": True,
            "infinite_idle_token_lifetime": True,
            "idle_token_lifetime": 1296000,
        },
    }
    assert {k: client[k] for k in expected} == expected
    assert "token_endpoint_auth_method" not in client
    [signing_key] = client["signing_keys"]
    assert signing_key["cert"].startswith("-----BEGIN CERTIFICATE-----")
    assert signing_key["pkcs7"].startswith("-----BEGIN PKCS7-----")
    assert signing_key["subject"] == "/CN=acme"
    assert tenant.get_client(client["client_id"]) == client


def test_create_generates_ids_and_secrets(tenant: Tenant) -> None:
    first = tenant.create_client({"name": "One"})
    second = tenant.create_client({"name": "Two"})
    for client in (first, second):
        assert re.fullmatch(r"[A-Za-z0-9]{32}", client["client_id"])
        assert len(client["client_secret"]) == 64
    assert first["client_id"] != second["client_id"]
    assert first["client_secret"] != second["client_secret"]


def test_create_merges_given_objects_with_the_defaults(tenant: Tenant) -> None:
    client = tenant.create_client(
        {
            "name": "Web",
            "jwt_configuration": {"alg": "RS256"},
            "refresh_token": {"rotation_type": "rotating", "expiration_type": "expiring"},
            "cross_origin_auth": True,
        }
    )
    # A given jwt_configuration drops the default lifetime, as Auth0 answers it.
    assert client["jwt_configuration"] == {"secret_encoded": False, "alg": "RS256"}
    assert client["refresh_token"]["rotation_type"] == "rotating"
    assert client["refresh_token"]["token_lifetime"] == 2592000
    assert client["cross_origin_authentication"] is True
    assert "cross_origin_auth" not in client


def test_create_does_not_keep_the_callers_objects(tenant: Tenant) -> None:
    body: dict[str, Any] = {"name": "Web", "callbacks": ["https://a.example/cb"]}
    client = tenant.create_client(body)
    body["callbacks"].append("https://b.example/cb")
    client["callbacks"].append("https://c.example/cb")
    assert tenant.get_client(client["client_id"])["callbacks"] == ["https://a.example/cb"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "Payload validation error: 'Expected type object but found type array'."),
        ({}, "Payload validation error: 'Missing required property: name'."),
        (
            {"name": "x", "foo": 1},
            "Payload validation error: 'Additional properties not allowed: foo'.",
        ),
        (
            {"name": "x", "jwt_configuration": {"secret_encoded": True}},
            "Payload validation error: 'Additional properties not allowed: secret_encoded' "
            "on property jwt_configuration.",
        ),
        (
            {"name": ""},
            "Payload validation error: 'String is too short (0 chars), minimum 1' "
            "on property name.",
        ),
        (
            {"name": "a<b"},
            "Payload validation error: 'String does not match pattern ^[^<>]+$: a<b' "
            "on property name.",
        ),
        (
            {"name": "x", "description": "d" * 141},
            "Payload validation error: 'String is too long (141 chars), maximum 140' "
            "on property description.",
        ),
        (
            {"name": "x", "is_first_party": "yes"},
            "Payload validation error: 'Expected type boolean but found type string' "
            "on property is_first_party.",
        ),
        (
            {"name": "x", "app_type": "mobile"},
            "Payload validation error: 'No enum match for: \"mobile\"' on property app_type.",
        ),
        (
            {"name": "x", "grant_types": [""]},
            "Payload validation error: 'String is too short (0 chars), minimum 1' "
            "on property grant_types[0].",
        ),
        (
            {"name": "x", "grant_types": ["authorization_code", "magic"]},
            "Payload validation error: 'No enum match for: \"magic\"' on property grant_types[1].",
        ),
        (
            {"name": "x", "callbacks": ["https://a.example/cb", ""]},
            "Payload validation error: 'String is too short (0 chars), minimum 1' "
            "on property callbacks[1].",
        ),
        (
            {"name": "x", "web_origins": [""]},
            "Payload validation error: 'String is too short (0 chars), minimum 1' "
            "on property web_origins[0].",
        ),
        (
            {"name": "x", "initiate_login_uri": "http://a.example/login"},
            "Payload validation error: 'Object didn't pass validation for format "
            "absolute-https-uri-or-empty: http://a.example/login' on property initiate_login_uri.",
        ),
        (
            {"name": "x", "initiate_login_uri": "https://a.example/login#top"},
            "Payload validation error: 'Object didn't pass validation for format "
            "absolute-https-uri-or-empty: https://a.example/login#top' "
            "on property initiate_login_uri.",
        ),
        (
            {"name": "x", "token_endpoint_auth_method": "private_key_jwt"},
            "Payload validation error: 'No enum match for: \"private_key_jwt\"' "
            "on property token_endpoint_auth_method.",
        ),
        (
            {"name": "x", "refresh_token": {"rotation_type": "rotating"}},
            "Payload validation error: 'Missing required property: expiration_type' "
            "on property refresh_token.",
        ),
        (
            {"name": "x", "refresh_token": {"rotation_type": "x", "expiration_type": "expiring"}},
            "Payload validation error: 'No enum match for: \"x\"' "
            "on property refresh_token.rotation_type.",
        ),
        (
            {"name": "x", "jwt_configuration": {"lifetime_in_seconds": "long"}},
            "Payload validation error: 'Expected type integer but found type string' "
            "on property jwt_configuration.lifetime_in_seconds.",
        ),
    ],
)
def test_create_validation_messages(tenant: Tenant, body: Any, message: str) -> None:
    assert bad_body(lambda: tenant.create_client(body)) == message
    assert list(tenant.all_clients()) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("app_type", "mobile"),
        ("token_endpoint_auth_method", "client_secret_jwt"),
        ("organization_usage", "sometimes"),
        ("organization_require_behavior", "ask"),
        ("refresh_token", {"rotation_type": "rotating", "expiration_type": "forever"}),
        ("jwt_configuration", {"alg": "none"}),
        ("compliance_level", "fapi9"),
        ("third_party_security_mode", "lax"),
        ("redirection_policy", "anywhere"),
    ],
)
def test_create_refuses_values_outside_each_enum(tenant: Tenant, field: str, value: Any) -> None:
    assert "No enum match for: " in bad_body(
        lambda: tenant.create_client({"name": "x", field: value})
    )


@pytest.mark.parametrize(
    "field",
    [
        "client_id",
        "client_secret",
        "tenant",
        "global",
        "signing_keys",
        "callback_url_template",
        "external_client_id",
        "external_metadata_type",
        "external_metadata_created_by",
        "jwks_uri",
    ],
)
def test_create_refuses_read_only_fields(tenant: Tenant, field: str) -> None:
    message = bad_body(lambda: tenant.create_client({"name": "x", field: "value"}))
    assert message == f"Payload validation error: 'Additional properties not allowed: {field}'."


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        (
            {f"k{i}": "v" for i in range(11)},
            "'Too many properties defined (11), maximum 10' on property client_metadata.",
        ),
        (
            {"k" * 256: "v"},
            "'String is too long (256 chars), maximum 255' on property client_metadata.",
        ),
        (
            {"team": "v" * 256},
            "'String is too long (256 chars), maximum 255' on property client_metadata.team.",
        ),
        (
            {"team": 7},
            "'Expected type string but found type integer' on property client_metadata.team.",
        ),
        ({"te€m": "payments"}, "'String does not match pattern"),
        ({"team": None}, "'Expected type string but found type null'"),
    ],
)
def test_client_metadata_rules(tenant: Tenant, metadata: dict[str, Any], message: str) -> None:
    assert message in bad_body(
        lambda: tenant.create_client({"name": "x", "client_metadata": metadata})
    )


def test_client_metadata_accepts_auth0s_key_characters(tenant: Tenant) -> None:
    metadata = {f"key{i}": "v" * 255 for i in range(9)}
    metadata['a:b,c-d+e=f_g*h?i"j/k\\l(m)n<o>p@q\tr s'] = "ok"
    client = tenant.create_client({"name": "x", "client_metadata": metadata})
    assert client["client_metadata"] == metadata


def test_create_cross_field_rules(tenant: Tenant, public_pem: str) -> None:
    both = {
        "name": "x",
        "token_endpoint_auth_method": "client_secret_post",
        "jwt_configuration": {"alg": "RS256"},
        "client_authentication_methods": {
            "private_key_jwt": {"credentials": [credential_body(public_pem)]}
        },
    }
    assert "mutually exclusive" in bad_body(lambda: tenant.create_client(both))
    symmetric = {**both, "jwt_configuration": {"alg": "HS256"}}
    del symmetric["token_endpoint_auth_method"]
    assert "jwt_configuration.alg" in bad_body(lambda: tenant.create_client(symmetric))
    no_alg = {k: v for k, v in symmetric.items() if k != "jwt_configuration"}
    assert "jwt_configuration.alg" in bad_body(lambda: tenant.create_client(no_alg))
    discovery = {"name": "x", "organization_discovery_methods": ["email"]}
    assert "pre_login_prompt" in bad_body(lambda: tenant.create_client(discovery))
    redirection = {"name": "x", "redirection_policy": "allow_always"}
    assert "third-party" in bad_body(lambda: tenant.create_client(redirection))
    resource = {"name": "x", "resource_server_identifier": "https://api.example"}
    assert "resource_server" in bad_body(lambda: tenant.create_client(resource))
    assert list(tenant.all_clients()) == []
    assert credential_rows(Path(tenant.path)) == 0


# -- seed ------------------------------------------------------------------------------------


def test_seed_client_keeps_the_given_id_and_secret(tenant: Tenant) -> None:
    seeded = tenant.seed_client(
        {"client_id": "legacy-portal-0001", "client_secret": "s" * 48, "name": "Legacy portal"}
    )
    assert seeded["client_id"] == "legacy-portal-0001"
    assert seeded["client_secret"] == "s" * 48
    assert seeded["is_first_party"] is True
    generated = tenant.seed_client({"name": "No id given"})
    assert len(generated["client_id"]) == 32
    conflict = api_error(
        lambda: tenant.seed_client({"client_id": "legacy-portal-0001", "name": "x"})
    )
    assert conflict.status == 409
    assert "Missing required property: name" in bad_body(
        lambda: tenant.seed_client({"client_id": "another"})
    )


# -- get -------------------------------------------------------------------------------------


def test_get_unknown_client_is_auth0s_404(tenant: Tenant) -> None:
    error = api_error(lambda: tenant.get_client("nope"))
    assert error.body() == {
        "statusCode": 404,
        "error": "Not Found",
        "message": "The client does not exist",
        "errorCode": "inexistent_client",
    }


def test_get_projects_fields(tenant: Tenant) -> None:
    client = tenant.create_client({"name": "Web", "app_type": "spa"})
    only = tenant.get_client(client["client_id"], fields="name,app_type", include_fields="true")
    assert only == {"tenant": "acme", "name": "Web", "app_type": "spa"}
    without = tenant.get_client(client["client_id"], fields="client_secret", include_fields=False)
    assert "client_secret" not in without and without["name"] == "Web"


# -- patch -----------------------------------------------------------------------------------


def test_patch_replaces_scalars_and_arrays(tenant: Tenant) -> None:
    client = tenant.create_client(
        {"name": "Web", "callbacks": ["https://a.example/cb", "https://b.example/cb"]}
    )
    patched = tenant.patch_client(
        client["client_id"], {"name": "Web app", "callbacks": ["https://c.example/cb"]}
    )
    assert patched["name"] == "Web app"
    assert patched["callbacks"] == ["https://c.example/cb"]
    assert tenant.get_client(client["client_id"]) == patched


def test_patch_merges_client_metadata_and_null_deletes_a_key(tenant: Tenant) -> None:
    client = tenant.create_client(
        {"name": "Web", "client_metadata": {"team": "payments", "tier": "gold"}}
    )
    patched = tenant.patch_client(
        client["client_id"], {"client_metadata": {"tier": None, "owner": "ops"}}
    )
    assert patched["client_metadata"] == {"team": "payments", "owner": "ops"}


def test_patch_refuses_an_eleventh_metadata_key(tenant: Tenant) -> None:
    client = tenant.create_client(
        {"name": "Web", "client_metadata": {f"k{i}": "v" for i in range(10)}}
    )
    message = bad_body(
        lambda: tenant.patch_client(client["client_id"], {"client_metadata": {"x": "y"}})
    )
    assert message == (
        "Payload validation error: 'Too many properties defined (11), maximum 10' "
        "on property client_metadata."
    )
    swapped = tenant.patch_client(client["client_id"], {"client_metadata": {"k0": None, "x": "y"}})
    assert len(swapped["client_metadata"]) == 10


def test_patch_merges_nested_objects(tenant: Tenant) -> None:
    client = tenant.create_client({"name": "Web"})
    patched = tenant.patch_client(
        client["client_id"],
        {"jwt_configuration": {"alg": "RS256"}, "refresh_token": {"leeway": 5}},
    )
    assert patched["jwt_configuration"] == {
        "secret_encoded": False,
        "lifetime_in_seconds": 36000,
        "alg": "RS256",
    }
    assert patched["refresh_token"]["leeway"] == 5
    assert patched["refresh_token"]["rotation_type"] == "non-rotating"
    message = bad_body(
        lambda: tenant.patch_client(client["client_id"], {"refresh_token": {"rotation_type": None}})
    )
    assert message == (
        "Payload validation error: 'Missing required property: rotation_type' "
        "on property refresh_token."
    )


def test_patch_top_level_null_unsets_a_field(tenant: Tenant) -> None:
    client = tenant.create_client({"name": "Web", "description": "old", "app_type": "spa"})
    patched = tenant.patch_client(client["client_id"], {"description": None, "app_type": None})
    assert "description" not in patched and "app_type" not in patched
    assert tenant.list_clients(app_type="spa") == []
    message = bad_body(lambda: tenant.patch_client(client["client_id"], {"name": None}))
    assert message == (
        "Payload validation error: 'Expected type string but found type null' on property name."
    )


@pytest.mark.parametrize(
    ("body", "unknown"),
    [
        ({"client_id": "x"}, "client_id"),
        ({"global": True}, "global"),
        ({"tenant": "other"}, "tenant"),
        ({"signing_keys": []}, "signing_keys"),
        ({"resource_server_identifier": "https://api.example"}, "resource_server_identifier"),
        ({"third_party_security_mode": "strict"}, "third_party_security_mode"),
        ({"external_client_id": CIMD_URL}, "external_client_id"),
        ({"jwks_uri": "https://a.example/jwks"}, "jwks_uri"),
    ],
)
def test_patch_refuses_read_only_fields(tenant: Tenant, body: dict[str, Any], unknown: str) -> None:
    client = tenant.create_client({"name": "Web"})
    message = bad_body(lambda: tenant.patch_client(client["client_id"], body))
    assert message == f"Payload validation error: 'Additional properties not allowed: {unknown}'."
    message = bad_body(
        lambda: tenant.patch_client(
            client["client_id"], {"jwt_configuration": {"secret_encoded": True}}
        )
    )
    assert "secret_encoded' on property jwt_configuration." in message


def test_patch_body_errors_come_before_404(tenant: Tenant) -> None:
    assert "Expected type object" in bad_body(lambda: tenant.patch_client("nope", "name"))  # type: ignore[arg-type]
    assert api_error(lambda: tenant.patch_client("nope", {"name": "x"})).status == 404


def test_patch_can_set_a_client_secret(tenant: Tenant) -> None:
    client = tenant.create_client({"name": "Web"})
    patched = tenant.patch_client(client["client_id"], {"client_secret": "n" * 64})
    assert patched["client_secret"] == "n" * 64


def test_patch_never_switches_a_client_between_first_and_third_party(tenant: Tenant) -> None:
    first = tenant.create_client({"name": "Web"})
    third = tenant.create_client({"name": "Partner", "is_first_party": False})
    for client, flipped in ((first, False), (third, True)):
        message = bad_body(
            lambda c=client, f=flipped: tenant.patch_client(c["client_id"], {"is_first_party": f})
        )
        assert "is_first_party cannot be changed" in message
    assert tenant.patch_client(third["client_id"], {"is_first_party": False})["name"] == "Partner"


def test_tenant_settings_change_member_by_member(tenant: Tenant) -> None:
    assert tenant.tenant_settings() == {CIMD_SUPPORTED: False}
    assert tenant.update_tenant_settings({CIMD_SUPPORTED: True}) == {CIMD_SUPPORTED: True}
    assert tenant.update_tenant_settings({}) == {CIMD_SUPPORTED: True}
    assert "Expected type boolean" in bad_body(
        lambda: tenant.update_tenant_settings({CIMD_SUPPORTED: "yes"})
    )
    assert "Additional properties not allowed: flags" in bad_body(
        lambda: tenant.update_tenant_settings({"flags": {}})
    )


# -- delete ----------------------------------------------------------------------------------


def test_delete_is_idempotent_and_cascades(
    tenant: Tenant, public_pem: str, other_public_pem: str
) -> None:
    client = pkjwt_client(tenant, public_pem)
    tenant.create_credential(client["client_id"], credential_body(other_public_pem, name="spare"))
    assert credential_rows(Path(tenant.path)) == 2
    tenant.delete_client(client["client_id"])
    tenant.delete_client(client["client_id"])
    tenant.delete_client("never-existed")
    assert api_error(lambda: tenant.get_client(client["client_id"])).status == 404
    assert api_error(lambda: tenant.list_credentials(client["client_id"])).status == 404
    assert credential_rows(Path(tenant.path)) == 0


# -- list ------------------------------------------------------------------------------------


def test_list_pages_in_creation_order(tenant: Tenant) -> None:
    names = [f"App {i:02d}" for i in range(55)]
    for name in names:
        tenant.create_client({"name": name})
    everything = ["All Applications", *names]
    first = tenant.list_clients()
    assert isinstance(first, list)
    assert [c["name"] for c in first] == everything[:50]  # per_page defaults to 50
    page = tenant.list_clients(page="1", per_page="20", include_totals="true")
    assert isinstance(page, dict)
    assert {k: v for k, v in page.items() if k != "clients"} == {
        "total": 56,
        "start": 20,
        "limit": 20,
    }
    assert [c["name"] for c in page["clients"]] == everything[20:40]
    last = tenant.list_clients(page=2, per_page=20, include_totals=True)
    assert isinstance(last, dict) and len(last["clients"]) == 16
    past = tenant.list_clients(page=3, per_page=20, include_totals=True)
    assert past == {"total": 56, "start": 60, "limit": 20, "clients": []}
    assert tenant.list_clients(page=99) == []
    assert tenant.list_clients(page=10**30, per_page=100) == []
    assert tenant.list_clients(per_page=0) == []


def test_all_clients_reads_a_chunk_at_a_time_and_skips_none(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("reconciler.tenant.engine._CHUNK", 3)
    created = [tenant.create_client({"name": f"App {i}"}) for i in range(7)]
    reading = iter(tenant.all_clients())
    first = next(reading)
    # no lock is held between clients: the reader may ask the tenant for more meanwhile
    assert tenant.list_credentials(first["client_id"]) == []
    tenant.delete_client(created[5]["client_id"])  # not read yet: not read at all
    late = tenant.create_client({"name": "Created during the read"})
    rest = list(reading)
    expected = [*created[:5], created[6], late]
    assert [client["client_id"] for client in [first, *rest]] == [
        client["client_id"] for client in expected
    ]
    assert first == created[0] and "client_secret" in first
    # one string per member name for the whole chunk, not one per client
    [name_in_first] = [name for name in first if name == "grant_types"]
    [name_in_second] = [name for name in rest[0] if name == "grant_types"]
    assert name_in_first is name_in_second


@pytest.mark.parametrize("damage", ["{not json", "[1, 2]"])
def test_a_damaged_client_record_is_a_registry_error(
    tenant: Tenant, db_path: Path, damage: str
) -> None:
    damaged = tenant.create_client({"name": "Damaged"})["client_id"]
    tenant.create_client({"name": "Intact"})
    with sqlite3.connect(db_path) as connection:
        connection.execute("UPDATE clients SET body = ? WHERE client_id = ?", (damage, damaged))
    with pytest.raises(RegistryError, match="damaged record"):
        list(tenant.all_clients())


def test_list_query_validation(tenant: Tenant) -> None:
    message = bad_query(lambda: tenant.list_clients(per_page=1000))
    assert message.startswith(
        "Query validation error: 'Value 1000 is greater than maximum 100' on property per_page ("
    )
    assert "'Value -1 is less than minimum 0' on property page (" in bad_query(
        lambda: tenant.list_clients(page=-1)
    )
    assert "'Expected type integer but found type string' on property page (" in bad_query(
        lambda: tenant.list_clients(page="first")
    )
    for name in ("include_totals", "include_fields", "is_global", "is_first_party"):
        query: dict[str, Any] = {name: "yes"}
        message = bad_query(partial(tenant.list_clients, **query))
        assert f"'Expected type boolean but found type string' on property {name} (" in message


def test_list_filters(tenant: Tenant) -> None:
    spa = tenant.create_client({"name": "Spa", "app_type": "spa"})
    native = tenant.create_client({"name": "Native", "app_type": "native"})
    third = tenant.create_client(
        {"name": "Partner", "app_type": "regular_web", "is_first_party": False}
    )
    cimd, _ = allow_cimd(tenant).cimd_register(CIMD_URL, dict(CIMD_DOCUMENT))

    def names(**query: Any) -> list[str]:
        return [c["name"] for c in listed(tenant, **query)]

    assert names(is_global="false") == ["Spa", "Native", "Partner", "Partner Assistant"]
    assert names(is_global=True) == ["All Applications"]
    assert names(is_first_party="false") == ["Partner", "Partner Assistant"]
    assert names(is_global=False, is_first_party=True) == ["Spa", "Native"]
    assert names(app_type="spa,native") == ["Spa", "Native"]
    assert names(app_type="regular_web", is_first_party="false") == ["Partner", "Partner Assistant"]
    assert names(external_client_id=CIMD_URL) == ["Partner Assistant"]
    assert names(external_client_id="https://other.example/c.json") == []
    assert {spa["client_id"], native["client_id"], third["client_id"], cimd["client_id"]} == {
        c["client_id"] for c in tenant.all_clients()
    }


def test_list_projection(tenant: Tenant) -> None:
    tenant.create_client({"name": "Spa", "app_type": "spa"})
    included = tenant.list_clients(fields="client_id,name", is_global=False)
    assert isinstance(included, list)
    assert set(included[0]) == {"tenant", "client_id", "name"}
    excluded = tenant.list_clients(fields="client_secret,signing_keys", include_fields="false")
    assert isinstance(excluded, list)
    assert all("client_secret" not in c and "signing_keys" not in c for c in excluded)


# -- credentials -----------------------------------------------------------------------------


def test_inline_credentials_on_create(tenant: Tenant, public_pem: str) -> None:
    client = pkjwt_client(tenant, public_pem)
    [answered] = client["client_authentication_methods"]["private_key_jwt"]["credentials"]
    assert re.fullmatch(r"cred_[A-Za-z0-9]{22}", answered["id"])
    assert answered["credential_type"] == "public_key"
    assert answered["alg"] == "RS256"
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", answered["kid"])  # the RFC 7638 thumbprint
    assert "pem" not in answered
    stored = tenant.get_client(client["client_id"])
    assert stored["client_authentication_methods"] == {
        "private_key_jwt": {"credentials": [{"id": answered["id"]}]}
    }
    assert tenant.list_credentials(client["client_id"]) == [{**answered, "expires_at": None}]


def test_a_failed_create_leaves_nothing_behind(tenant: Tenant, public_pem: str) -> None:
    body = {
        "name": "Half",
        "jwt_configuration": {"alg": "RS256"},
        "client_authentication_methods": {
            "private_key_jwt": {
                "credentials": [credential_body(public_pem), credential_body("not a key")]
            }
        },
    }
    message = bad_body(lambda: tenant.create_client(body))
    assert "client_authentication_methods.private_key_jwt.credentials[1].pem" in message
    assert list(tenant.all_clients()) == []
    assert credential_rows(Path(tenant.path)) == 0


def test_credential_lifecycle(tenant: Tenant, public_pem: str) -> None:
    client = tenant.create_client({"name": "M2M", "app_type": "non_interactive"})
    client_id = client["client_id"]
    created = tenant.create_credential(
        client_id, credential_body(public_pem, kid="ci-key-2026-01", alg="PS256")
    )
    assert created["kid"] == "ci-key-2026-01" and created["alg"] == "PS256"
    assert "pem" not in created and "expires_at" not in created
    assert tenant.get_credential(client_id, created["id"]) == created
    patched = tenant.patch_credential(
        client_id, created["id"], {"expires_at": "2030-05-16T11:07:30.535694+02:00"}
    )
    assert patched["expires_at"] == "2030-05-16T09:07:30.535Z"
    assert patched["created_at"] == created["created_at"]
    assert "cannot be removed once set" in bad_body(
        lambda: tenant.patch_credential(client_id, created["id"], {"expires_at": None})
    )
    assert "Additional properties not allowed: name" in bad_body(
        lambda: tenant.patch_credential(client_id, created["id"], {"name": "renamed"})
    )
    tenant.delete_credential(client_id, created["id"])
    tenant.delete_credential(client_id, created["id"])
    assert tenant.list_credentials(client_id) == []
    missing = api_error(lambda: tenant.get_credential(client_id, created["id"]))
    assert missing.status == 404
    assert api_error(lambda: tenant.get_credential("nope", created["id"])).status == 404
    assert (
        api_error(lambda: tenant.create_credential("nope", credential_body(public_pem))).status
        == 404
    )


def test_credential_expiry_from_a_certificate(tenant: Tenant, rsa_key: rsa.RSAPrivateKey) -> None:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ledger")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(rsa_key.public_key())
        .serial_number(1)
        .not_valid_before(datetime(2025, 1, 1))
        .not_valid_after(datetime(2031, 1, 1, 12, 30))
        .sign(rsa_key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
    client = tenant.create_client({"name": "M2M"})
    created = tenant.create_credential(
        client["client_id"], credential_body(pem, parse_expiry_from_cert=True)
    )
    assert created["expires_at"] == "2031-01-01T12:30:00.000Z"
    assert "thumbprint_sha256" in created


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"credential_type": None}, "Missing required property: credential_type"),
        ({"credential_type": "password"}, 'No enum match for: "password"'),
        ({"pem": None}, "Missing required property: pem"),
        ({"alg": "HS256"}, 'No enum match for: "HS256"\' on property alg.'),
        ({"kid": "short"}, "String does not match pattern"),
        ({"kid": "has spaces in it"}, "String does not match pattern"),
        ({"expires_at": "next tuesday"}, "format date-time"),
        ({"subject_dn": "CN=x"}, "Additional properties not allowed: subject_dn"),
        ({"expires_at": "2030-01-01T00:00:00Z", "parse_expiry_from_cert": True}, "exclusive"),
        ({"parse_expiry_from_cert": True}, "needs a certificate"),
        ({"pem": "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----"}, "pem is not"),
    ],
)
def test_credential_rules(
    tenant: Tenant, public_pem: str, change: dict[str, Any], expected: str
) -> None:
    client = tenant.create_client({"name": "M2M"})
    body = {k: v for k, v in {**credential_body(public_pem), **change}.items() if v is not None}
    assert expected in bad_body(lambda: tenant.create_credential(client["client_id"], body))


def test_credential_pem_must_be_a_public_rsa_key_of_2048_bits(
    tenant: Tenant, rsa_key: rsa.RSAPrivateKey
) -> None:
    client_id = tenant.create_client({"name": "M2M"})["client_id"]
    private = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    assert "private key" in bad_body(
        lambda: tenant.create_credential(client_id, credential_body(private))
    )
    small = _public_pem(rsa.generate_private_key(public_exponent=65537, key_size=1024))
    assert "1024-bit" in bad_body(
        lambda: tenant.create_credential(client_id, credential_body(small))
    )
    elliptic = _public_pem(ec.generate_private_key(ec.SECP256R1()))
    assert "RSA" in bad_body(lambda: tenant.create_credential(client_id, credential_body(elliptic)))


def test_switching_a_client_to_private_key_jwt_and_back(
    tenant: Tenant, public_pem: str, other_public_pem: str
) -> None:
    client = tenant.create_client(
        {"name": "M2M", "token_endpoint_auth_method": "client_secret_post"}
    )
    client_id = client["client_id"]
    credential = tenant.create_credential(client_id, credential_body(public_pem))
    methods = {"private_key_jwt": {"credentials": [{"id": credential["id"]}]}}
    assert "mutually exclusive" in bad_body(
        lambda: tenant.patch_client(
            client_id,
            {"client_authentication_methods": methods, "jwt_configuration": {"alg": "RS256"}},
        )
    )
    switched = tenant.patch_client(
        client_id,
        {
            "token_endpoint_auth_method": None,
            "client_authentication_methods": methods,
            "jwt_configuration": {"alg": "RS256"},
        },
    )
    assert switched["client_authentication_methods"] == methods
    assert "token_endpoint_auth_method" not in switched
    assert "mutually exclusive" in bad_body(
        lambda: tenant.patch_client(client_id, {"token_endpoint_auth_method": "client_secret_post"})
    )
    assert "in use" in bad_body(lambda: tenant.delete_credential(client_id, credential["id"]))
    back = tenant.patch_client(
        client_id,
        {"client_authentication_methods": None, "token_endpoint_auth_method": "client_secret_post"},
    )
    assert "client_authentication_methods" not in back
    tenant.delete_credential(client_id, credential["id"])
    assert tenant.list_credentials(client_id) == []


def test_patch_credential_references(
    tenant: Tenant, public_pem: str, other_public_pem: str
) -> None:
    client = pkjwt_client(tenant, public_pem)
    client_id = client["client_id"]
    stranger = pkjwt_client(tenant, public_pem, name="Stranger")
    [foreign] = tenant.list_credentials(stranger["client_id"])

    def methods(*credentials: dict[str, Any]) -> dict[str, Any]:
        return {
            "client_authentication_methods": {"private_key_jwt": {"credentials": list(credentials)}}
        }

    full = bad_body(lambda: tenant.patch_client(client_id, methods(credential_body(public_pem))))
    assert "Additional properties not allowed: credential_type" in full
    assert "does not exist for this client" in bad_body(
        lambda: tenant.patch_client(client_id, methods({"id": "cred_unknown"}))
    )
    assert "does not exist for this client" in bad_body(
        lambda: tenant.patch_client(client_id, methods({"id": foreign["id"]}))
    )
    assert "Array is too short (0), minimum 1" in bad_body(
        lambda: tenant.patch_client(client_id, methods())
    )
    added = tenant.create_credential(client_id, credential_body(other_public_pem, name="next"))
    [first] = tenant.list_credentials(client_id)[:1]
    rotated = tenant.patch_client(client_id, methods({"id": first["id"]}, {"id": added["id"]}))
    references = rotated["client_authentication_methods"]["private_key_jwt"]["credentials"]
    assert references == [{"id": first["id"]}, {"id": added["id"]}]
    for body in ({"jwt_configuration": {"alg": "HS256"}}, {"jwt_configuration": {"alg": "PS256"}}):
        refused = api_error(partial(tenant.patch_client, client_id, body))
        assert refused.status == 400 and "jwt_configuration.alg" in refused.message


def test_rotate_secret(tenant: Tenant, public_pem: str) -> None:
    client = tenant.create_client({"name": "Web"})
    rotated = tenant.rotate_secret(client["client_id"])
    assert len(rotated["client_secret"]) == 64
    assert rotated["client_secret"] != client["client_secret"]
    assert tenant.get_client(client["client_id"])["client_secret"] == rotated["client_secret"]
    pkjwt = pkjwt_client(tenant, public_pem)
    refused = api_error(lambda: tenant.rotate_secret(pkjwt["client_id"]))
    assert refused.status == 400 and "private_key_jwt" in refused.message
    assert api_error(lambda: tenant.rotate_secret("nope")).status == 404


# -- CIMD ------------------------------------------------------------------------------------


def test_cimd_register_creates_then_refreshes(tenant: Tenant) -> None:
    created, is_new = allow_cimd(tenant).cimd_register(CIMD_URL, dict(CIMD_DOCUMENT))
    assert is_new is True
    assert created["client_id"].startswith("tpc_")
    expected = {
        "name": "Partner Assistant",
        "app_type": "regular_web",
        "is_first_party": False,
        "oidc_conformant": True,
        "callbacks": ["https://assistant.partner.example/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none",
        "logo_uri": "https://assistant.partner.example/logo.png",
        "jwt_configuration": {"secret_encoded": False, "alg": "RS256", "lifetime_in_seconds": 3600},
        "third_party_security_mode": "strict",
        "external_client_id": CIMD_URL,
        "external_metadata_type": "cimd",
        "external_metadata_created_by": "admin",
    }
    assert {k: created[k] for k in expected} == expected
    assert created["refresh_token"]["rotation_type"] == "rotating"
    assert created["refresh_token"]["expiration_type"] == "expiring"
    assert tenant.find_by_external_client_id(CIMD_URL) == created

    tenant.patch_client(
        created["client_id"], {"client_metadata": {"team": "partners"}, "description": "kept"}
    )
    document = {
        **CIMD_DOCUMENT,
        "client_name": "Partner Assistant 2",
        "application_type": "native",
        "grant_types": ["authorization_code"],
    }
    del document["logo_uri"]
    refreshed, is_new = tenant.cimd_register(CIMD_URL, document)
    assert is_new is False
    assert refreshed["client_id"] == created["client_id"]
    assert refreshed["name"] == "Partner Assistant 2"
    assert refreshed["app_type"] == "native"
    assert refreshed["grant_types"] == ["authorization_code"]
    assert "logo_uri" not in refreshed
    assert refreshed["client_metadata"] == {"team": "partners"}
    assert refreshed["description"] == "kept"
    assert tenant.get_client(created["client_id"]) == refreshed
    assert len(list(tenant.all_clients())) == 1


def test_cimd_mapped_fields_has_no_side_effects(tenant: Tenant) -> None:
    document = {
        "client_id": CIMD_URL,
        "redirect_uris": ["https://assistant.partner.example/callback"],
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks_uri": "https://assistant.partner.example/jwks.json",
        "grant_types": ["refresh_token", "authorization_code", "refresh_token"],
        "software_id": "unknown members are only warnings",
    }
    mapped = tenant.cimd_mapped_fields(CIMD_URL, document)
    assert mapped == {
        "external_client_id": CIMD_URL,
        "name": "assistant.partner.example",
        "app_type": "regular_web",
        "callbacks": ["https://assistant.partner.example/callback"],
        "grant_types": ["refresh_token", "authorization_code"],
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks_uri": "https://assistant.partner.example/jwks.json",
    }
    assert list(tenant.all_clients()) == []
    assert tenant.find_by_external_client_id(CIMD_URL) is None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"client_id": "https://elsewhere.example/c.json"}, "client_id must equal its URL"),
        ({"grant_types": ["client_credentials"]}, "must include authorization_code"),
        ({"token_endpoint_auth_method": "client_secret_basic"}, "No enum match"),
        ({"token_endpoint_auth_method": "private_key_jwt"}, "jwks_uri"),
        ({"application_type": "desktop"}, "No enum match"),
        ({"client_name": "<script>"}, "does not match pattern"),
        ({"redirect_uris": "https://a.example/cb"}, "Expected type array"),
    ],
)
def test_cimd_documents_a_client_cannot_come_from(
    tenant: Tenant, change: dict[str, Any], expected: str
) -> None:
    assert expected in bad_body(lambda: tenant.cimd_register(CIMD_URL, {**CIMD_DOCUMENT, **change}))
    assert list(tenant.all_clients()) == []


@pytest.mark.parametrize(
    "body",
    [
        {"name": "Renamed"},
        {"callbacks": ["https://evil.example/cb"]},
        {"logo_uri": "https://evil.example/logo.png"},
        {"is_first_party": True},
        {"token_endpoint_auth_method": "client_secret_post"},
        {"jwt_configuration": {"alg": "PS256"}},
        {"jwt_configuration": {"scopes": {}}},
        {"grant_types": ["client_credentials"]},
        {"app_type": "non_interactive"},
        {"oidc_conformant": False},
        {"refresh_token": {"expiration_type": "non-expiring"}},
        {"refresh_token": {"infinite_idle_token_lifetime": True}},
    ],
)
def test_cimd_clients_refuse_fields_outside_the_editable_list(
    tenant: Tenant, body: dict[str, Any]
) -> None:
    client, _ = allow_cimd(tenant).cimd_register(CIMD_URL, dict(CIMD_DOCUMENT))
    bad_body(lambda: tenant.patch_client(client["client_id"], body))
    assert tenant.get_client(client["client_id"]) == client


def test_cimd_clients_accept_the_editable_fields(tenant: Tenant) -> None:
    client, _ = allow_cimd(tenant).cimd_register(CIMD_URL, dict(CIMD_DOCUMENT))
    patched = tenant.patch_client(
        client["client_id"],
        {
            "app_type": "spa",
            "grant_types": ["authorization_code"],
            "jwt_configuration": {"alg": "RS256", "lifetime_in_seconds": 300},
            "description": "An assistant",
            "web_origins": ["https://assistant.partner.example"],
            "refresh_token": {"token_lifetime": 86400},
            "client_metadata": {"team": "partners"},
            "require_proof_of_possession": True,
        },
    )
    assert patched["app_type"] == "spa"
    assert patched["jwt_configuration"]["lifetime_in_seconds"] == 300
    assert patched["refresh_token"]["token_lifetime"] == 86400
    assert patched["name"] == "Partner Assistant"


# -- housekeeping and concurrency ------------------------------------------------------------


def test_reset_empties_the_tenant_and_brings_back_a_global_client(
    tenant: Tenant, public_pem: str
) -> None:
    [global_before] = listed(tenant)
    pkjwt_client(tenant, public_pem)
    allow_cimd(tenant).cimd_register(CIMD_URL, dict(CIMD_DOCUMENT))
    tenant.reset()
    [global_after] = listed(tenant)
    assert global_after["global"] is True
    assert global_after["client_id"] != global_before["client_id"]
    assert credential_rows(Path(tenant.path)) == 0
    assert tenant.find_by_external_client_id(CIMD_URL) is None
    assert tenant.tenant_settings() == {CIMD_SUPPORTED: False}


def test_threads_share_one_tenant(tenant: Tenant) -> None:
    failures: list[BaseException] = []

    def create(worker: int) -> None:
        try:
            for index in range(10):
                tenant.create_client({"name": f"Worker {worker} app {index}"})
                tenant.list_clients(per_page=5)
        except BaseException as exc:  # reported below: a thread cannot fail the test itself
            failures.append(exc)

    threads = [threading.Thread(target=create, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(list(tenant.all_clients())) == 40
