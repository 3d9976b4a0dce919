"""Credentials through the planner and ``ClientsRegistry`` over the embedded tenant: they
converge (kids, expiry spellings), rotate within Auth0's limit of two, change what can
change in place, and cover mTLS; what no order can do is refused at plan time."""

from __future__ import annotations

import functools
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from reconciler.apply.applier import apply_plan
from reconciler.apply.secrets import SecretsFile
from reconciler.core.changes import Adopt, Update
from reconciler.core.keys import legacy_kid
from reconciler.core.model import Credential, DesiredApp
from reconciler.core.plan import Plan
from reconciler.core.planner import plan
from reconciler.core.stamp import Stamp
from reconciler.registries.clients import ClientsRegistry
from reconciler.tenant.engine import Tenant
from tests.helpers import desired, memory_registry

OWNER = "team-a"


@functools.cache
def private_key(index: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(index: int) -> str:
    public = private_key(index).public_key()
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def certificate(index: int) -> str:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"worker-{index}"),
        ]
    )
    made = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key(index).public_key())
        .serial_number(index + 1)
        .not_valid_before(datetime(2025, 1, 1))
        .not_valid_after(datetime(2031, 1, 1))
        .sign(private_key(index), hashes.SHA256())
    )
    return made.public_bytes(serialization.Encoding.PEM).decode("ascii")


def worker(
    *credentials: dict[str, Any], method: str = "private_key_jwt", **extra: Any
) -> DesiredApp:
    return desired(
        "worker",
        name="Worker",
        type="m2m",
        token_endpoint_auth_method=method,
        credentials=list(credentials),
        **extra,
    )


def plan_for(registry: ClientsRegistry, *apps: DesiredApp) -> Plan:
    return plan(list(apps), registry.list_apps(), owner=OWNER, registry=registry.uri)


def converge(registry: ClientsRegistry, *apps: DesiredApp, sink: Path | None = None) -> Plan:
    """Apply what the plan for ``apps`` says, then plan again: nothing left to do. An app
    that gets a secret needs ``sink`` (its --secrets-out)."""
    planned = plan_for(registry, *apps)
    assert planned.conflicts == ()
    secrets = SecretsFile(sink) if sink is not None else None
    report = apply_plan(planned, registry, registry.list_apps(), secrets=secrets)
    assert report.ok, report.results
    assert plan_for(registry, *apps).is_empty
    return planned


def held(registry: ClientsRegistry) -> dict[str, dict[str, Any]]:
    """The worker's credentials by name: id, kid and whether it is enabled."""
    [app] = registry.list_apps()
    return {c.name: {"id": c.id, "enabled": c.enabled, **c.summary} for c in app.credentials}


@pytest.fixture
def tenant_and_registry() -> tuple[Tenant, ClientsRegistry]:
    return memory_registry()


def test_a_key_gets_its_rfc_7638_thumbprint_as_kid_unless_one_is_named(
    tenant_and_registry: tuple[Tenant, ClientsRegistry],
) -> None:
    _, registry = tenant_and_registry
    converge(
        registry,
        worker({"name": "a", "pem": pem(0)}, {"name": "b", "pem": pem(1), "kid": "worker-b-2026"}),
    )
    keys = held(registry)
    assert keys["a"]["kid"] == Credential.kid_for(pem(0))
    assert keys["b"]["kid"] == "worker-b-2026"


@pytest.mark.parametrize(
    "spelling",
    ["2031-01-01T00:00:00Z", "2031-01-01T00:00:00+00:00", "2031-01-01T01:00:00.000+01:00"],
)
def test_every_spelling_of_an_expiry_settles(
    tenant_and_registry: tuple[Tenant, ClientsRegistry], spelling: str
) -> None:
    _, registry = tenant_and_registry
    converge(registry, worker({"name": "a", "pem": pem(0), "expires_at": spelling}))
    assert held(registry)["a"]["expires_at"] == "2031-01-01T00:00:00.000Z"


def test_a_key_registered_under_the_kid_earlier_versions_sent_is_not_rotated(
    tenant_and_registry: tuple[Tenant, ClientsRegistry],
) -> None:
    _, registry = tenant_and_registry
    spec = worker({"name": "a", "pem": pem(0)})
    earlier = Credential("a", spec.credentials[0].pem, kid=legacy_kid(pem(0)))
    fields = {**spec.fields, "credentials": [earlier.summary()]}
    registry.create(fields, [earlier], Stamp.for_fields(OWNER, "worker", fields))
    assert held(registry)["a"]["kid"] == legacy_kid(pem(0))
    assert plan_for(registry, spec).is_empty
    # A kid the manifest names is the kid it wants: that one is a rotation.
    [change] = plan_for(
        registry, worker({"name": "a", "pem": pem(0), "kid": "a-named-kid"})
    ).changes
    assert [d.path for d in change.diff] == ["credentials"]


def test_rotating_one_then_both_stays_within_two_and_says_so(
    tenant_and_registry: tuple[Tenant, ClientsRegistry],
) -> None:
    _, registry = tenant_and_registry
    converge(registry, worker({"name": "a", "pem": pem(0)}, {"name": "b", "pem": pem(1)}))
    kept = held(registry)["a"]["id"]
    one = converge(registry, worker({"name": "a", "pem": pem(0)}, {"name": "c", "pem": pem(2)}))
    [change] = one.changes
    assert any("'b' is removed before the new ones are added" in n for n in change.notes)
    assert held(registry)["a"]["id"] == kept and set(held(registry)) == {"a", "c"}
    both = converge(registry, worker({"name": "d", "pem": pem(3)}, {"name": "e", "pem": pem(4)}))
    assert any("'a', 'c' are removed before" in n for n in both.changes[0].notes)
    assert set(held(registry)) == {"d", "e"}
    assert all(c["enabled"] for c in held(registry).values())


def test_a_new_expiry_is_set_in_place_and_an_alg_change_replaces_the_key(
    tenant_and_registry: tuple[Tenant, ClientsRegistry],
) -> None:
    _, registry = tenant_and_registry
    a = {"name": "a", "pem": pem(0), "expires_at": "2030-01-01T00:00:00Z"}
    b = {"name": "b", "pem": pem(1)}
    converge(registry, worker(a, b))
    before = held(registry)
    renewed = converge(registry, worker({**a, "expires_at": "2032-06-01T00:00:00Z"}, b))
    assert renewed.changes[0].notes == ("the expiry of 'a' changes in place",)
    assert held(registry)["a"]["id"] == before["a"]["id"]
    assert held(registry)["a"]["expires_at"] == "2032-06-01T00:00:00.000Z"
    converge(registry, worker({**a, "expires_at": "2032-06-01T00:00:00Z", "alg": "PS256"}, b))
    after = held(registry)
    assert after["a"]["alg"] == "PS256" and after["a"]["id"] != before["a"]["id"]
    assert after["a"]["kid"] == before["a"]["kid"] and after["b"]["id"] == before["b"]["id"]


def test_what_no_order_can_do_is_refused_at_plan_time(
    tenant_and_registry: tuple[Tenant, ClientsRegistry],
) -> None:
    _, registry = tenant_and_registry
    converge(registry, worker({"name": "a", "pem": pem(0)}))
    refused = plan_for(registry, worker({"name": "a", "pem": pem(0), "alg": "PS256"}))
    assert refused.changes == ()
    [conflict] = refused.conflicts
    assert "add a second credential in a separate change first" in conflict.message


def test_an_adopted_app_with_dashboard_keys_keeps_them(
    tenant_and_registry: tuple[Tenant, ClientsRegistry],
) -> None:
    tenant, registry = tenant_and_registry
    made = tenant.create_client(
        {
            "name": "Worker",
            "app_type": "non_interactive",
            "jwt_configuration": {"alg": "RS256"},
            "client_authentication_methods": {
                "private_key_jwt": {
                    "credentials": [
                        {"credential_type": "public_key", "name": n, "pem": pem(i)}
                        for i, n in enumerate(("a", "b"))
                    ]
                }
            },
        }
    )
    before = held(registry)
    spec = worker(
        {"name": "a", "pem": pem(0)}, {"name": "b", "pem": pem(1)}, client_id=made["client_id"]
    )
    [adopt] = plan_for(registry, spec).changes
    assert (
        isinstance(adopt, Adopt) and "credentials" not in adopt.after.keys() - adopt.before.keys()
    )
    assert adopt.before["credentials"] == adopt.after["credentials"]
    converge(registry, spec)
    assert held(registry) == before


def test_a_credential_no_manifest_names_counts_against_the_limit_and_goes(
    tenant_and_registry: tuple[Tenant, ClientsRegistry],
) -> None:
    tenant, registry = tenant_and_registry
    converge(registry, worker({"name": "a", "pem": pem(0)}))
    [app] = registry.list_apps()
    tenant.create_credential(
        app.client_id, {"credential_type": "public_key", "name": "stray", "pem": pem(5)}
    )
    converge(registry, worker({"name": "a", "pem": pem(0)}, {"name": "b", "pem": pem(1)}))
    assert set(held(registry)) == {"a", "b"}


def test_mtls_credentials_converge_and_rotate(
    tenant_and_registry: tuple[Tenant, ClientsRegistry],
) -> None:
    _, registry = tenant_and_registry
    converge(
        registry,
        worker({"name": "c0", "pem": certificate(0)}, method="self_signed_tls_client_auth"),
    )
    [app] = registry.list_apps()
    assert app.fields["token_endpoint_auth_method"] == "self_signed_tls_client_auth"
    assert held(registry)["c0"]["credential_type"] == "x509_cert"
    converge(
        registry,
        worker(
            {"name": "c0", "pem": certificate(0)},
            {"name": "c1", "pem": certificate(1)},
            method="self_signed_tls_client_auth",
        ),
    )
    dn = "O=Example\nCN=worker-7"
    converge(registry, worker({"name": "ca", "subject_dn": dn}, method="tls_client_auth"))
    assert held(registry) == {
        "ca": {
            "id": held(registry)["ca"]["id"],
            "enabled": True,
            "name": "ca",
            "credential_type": "cert_subject_dn",
            "subject_dn": dn,
        }
    }
    converge(registry, worker({"name": "ca", "pem": certificate(2)}, method="tls_client_auth"))
    assert held(registry)["ca"]["subject_dn"] == "O=Example\nCN=worker-2"
    converge(registry, worker({"name": "k", "pem": pem(3)}))
    assert held(registry)["k"]["kid"] == Credential.kid_for(pem(3))


def test_back_to_a_secret_the_credentials_go(
    tenant_and_registry: tuple[Tenant, ClientsRegistry], tmp_path: Path
) -> None:
    tenant, registry = tenant_and_registry
    converge(registry, worker({"name": "a", "pem": pem(0)}))
    [app] = registry.list_apps()
    converge(registry, desired("worker", name="Worker", type="m2m"), sink=tmp_path / "s.json")
    assert tenant.list_credentials(app.client_id) == []
    [back] = registry.list_apps()
    assert back.fields["token_endpoint_auth_method"] == "client_secret_post"


def test_switching_in_uses_rs256_and_counts_what_the_client_already_holds(
    tenant_and_registry: tuple[Tenant, ClientsRegistry], tmp_path: Path
) -> None:
    tenant, registry = tenant_and_registry
    with_secret = desired("worker", name="Worker", type="m2m", jwt_configuration={"alg": "HS256"})
    converge(registry, with_secret, sink=tmp_path / "s.json")
    [app] = registry.list_apps()
    for index in (5, 6):
        body = {"credential_type": "public_key", "name": f"left-{index}", "pem": pem(index)}
        tenant.create_credential(app.client_id, body)
    converge(registry, worker({"name": "a", "pem": pem(0)}))
    assert tenant.get_client(app.client_id)["jwt_configuration"]["alg"] == "RS256"
    assert set(held(registry)) == {"a"}


def test_the_plan_carries_each_kind_of_credential_for_apply() -> None:
    certificate_spec = worker(
        {"name": "c", "pem": certificate(0)}, method="self_signed_tls_client_auth"
    )
    dn_spec = worker({"name": "d", "subject_dn": "CN=x"}, method="tls_client_auth")
    [created_certificate] = plan([certificate_spec], [], owner=OWNER, registry="r").changes
    [created_dn] = plan([dn_spec], [], owner=OWNER, registry="r").changes
    [key] = created_certificate.keys
    assert key["credential_type"] == "x509_cert" and key["pem"].startswith("-----BEGIN CERT")
    assert created_dn.keys == (
        {"name": "d", "credential_type": "cert_subject_dn", "subject_dn": "CN=x"},
    )
    assert Credential.from_key_data(key) == certificate_spec.credentials[0]


def test_update_is_a_plain_update_when_only_other_fields_change(
    tenant_and_registry: tuple[Tenant, ClientsRegistry],
) -> None:
    _, registry = tenant_and_registry
    converge(registry, worker({"name": "a", "pem": pem(0)}))
    [change] = plan_for(registry, worker({"name": "a", "pem": pem(0)}, description="d")).changes
    assert isinstance(change, Update) and change.keys == () and change.notes == ()
