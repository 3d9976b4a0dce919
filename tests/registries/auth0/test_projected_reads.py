"""A client read with only ``READ_MEMBERS`` (Auth0's ``fields``) makes the same App as the
whole client, for everything a plan compares and everything export writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from reconciler.core.model import App
from reconciler.core.stamp import Stamp
from reconciler.manifests.export import export_apps
from reconciler.registries.clients import READ_MEMBERS, app_from_client
from reconciler.tenant.engine import Tenant
from reconciler.tenant.query import Projection

OWNER = "team-a"


def public_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def stamped(key: str) -> dict[str, Any]:
    stamp = Stamp(owner=OWNER, key=key, applied={"name": "0" * 16})
    return {"team": "payments", **stamp.to_metadata()}


@pytest.fixture
def tenant() -> Any:
    with Tenant(":memory:") as embedded:
        yield embedded


def rich_clients(tenant: Tenant) -> list[tuple[dict[str, Any], list[dict[str, Any]] | None]]:
    """Clients with nested members, keys for signed requests and for private_key_jwt."""
    mobile = tenant.create_client(
        {
            "name": "Pay Mobile",
            "app_type": "native",
            "callbacks": ["com.example.pay://callback"],
            "mobile": {"ios": {"team_id": "ABCDE12345", "app_bundle_identifier": "com.ex.pay"}},
            "native_social_login": {"apple": {"enabled": True}},
            "refresh_token": {"rotation_type": "rotating", "expiration_type": "expiring"},
            "sso_disabled": True,
            "client_metadata": stamped("pay"),
        }
    )
    portal = tenant.create_client(
        {
            "name": "Portal",
            "app_type": "regular_web",
            "callbacks": ["https://portal.example.com/callback"],
            "oidc_logout": {"backchannel_logout_urls": ["https://portal.example.com/bcl"]},
            "organization_usage": "require",
            "organization_require_behavior": "pre_login_prompt",
            "require_pushed_authorization_requests": True,
            "is_first_party": False,
            "third_party_security_mode": "permissive",  # read by export from the record
            "client_metadata": stamped("portal"),
        }
    )
    signer = tenant.create_client(
        {
            "name": "Signer",
            "app_type": "non_interactive",
            "grant_types": ["client_credentials"],
            "client_metadata": stamped("signer"),
        }
    )
    held = tenant.create_credential(
        str(signer["client_id"]),
        {"credential_type": "public_key", "name": "signer-2026", "pem": public_pem()},
    )
    tenant.patch_client(
        str(signer["client_id"]),
        {
            "token_endpoint_auth_method": None,
            "jwt_configuration": {"alg": "RS256"},
            "client_authentication_methods": {
                "private_key_jwt": {"credentials": [{"id": held["id"]}]}
            },
        },
    )
    found = []
    for created in (mobile, portal, signer):
        client_id = str(created["client_id"])
        whole = tenant.get_client(client_id)
        credentials = tenant.list_credentials(client_id) if created is signer else None
        found.append((whole, credentials))
    return found


def same_app(whole: App, projected: App) -> None:
    assert projected.client_id == whole.client_id
    assert projected.fields == whole.fields
    assert projected.stamp == whole.stamp
    assert projected.external_client_id == whole.external_client_id
    assert projected.credentials == whole.credentials
    assert projected.credential_limit == whole.credential_limit
    assert projected.record == {
        k: v for k, v in whole.record.items() if k in READ_MEMBERS or k == "tenant"
    }


def test_a_projected_client_is_the_same_app_and_exports_the_same(
    tenant: Tenant, tmp_path: Path
) -> None:
    projection = Projection(READ_MEMBERS, include=True)
    wholes, projected = [], []
    for client, credentials in rich_clients(tenant):
        assert {"signing_keys", "client_secret"} <= set(client)
        wholes.append(app_from_client(client, credentials))
        projected.append(app_from_client(projection.apply(client), credentials))
    for whole, answer in zip(wholes, projected, strict=True):
        same_app(whole, answer)

    from_whole = export_apps(wholes, tmp_path / "whole", owner=OWNER)
    from_projected = export_apps(projected, tmp_path / "projected", owner=OWNER)
    assert [p.name for p in from_whole.apps] == [p.name for p in from_projected.apps]
    for one, other in zip(from_whole.apps, from_projected.apps, strict=True):
        assert one.read_text() == other.read_text()
