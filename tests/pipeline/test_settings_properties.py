"""Convergence over generated apps that set every supported client field: apply, then
plan, is empty, and stays empty after a second manifest changes the settings in place;
on the embedded registry (``sqlite:``) and on ``reconciler serve`` through ``auth0://``."""

from __future__ import annotations

import ssl
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.apply.applier import apply_plan
from reconciler.apply.secrets import SecretsFile
from reconciler.core.fields import MANAGED_FIELDS
from reconciler.core.planner import plan
from reconciler.manifests.schema import is_valid
from reconciler.pipeline.holdings import read_holdings
from reconciler.registries.auth0.registry import RetryPolicy, open_auth0
from reconciler.registries.clients import ClientsRegistry
from reconciler.tenant.engine import Tenant
from tests.auth0_sdk import TlsServe
from tests.helpers import desired

OWNER = "platform-team/oauth-apps"
KEYS = ["pay", "portal", "worker"]
#: What no generated app sets: the RFC 7591 members Auth0 has no place for, and the keys
#: (their own tests cover them).
NOT_GENERATED = {"client_uri", "policy_uri", "tos_uri", "contacts", "credentials"}
INITIATORS = ["password-changed", "session-expired", "session-revoked", "account-deleted"]
FINGERPRINT = ":".join(["AB"] * 32)

flags = st.booleans()


def _public_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


#: Made once: RSA key generation is the slow part.
REQUEST_KEYS = [_public_pem() for _ in range(2)]


@st.composite
def signed_request_object(draw: st.DrawFn) -> dict[str, Any]:
    """Up to two keys, rotated within Auth0's two credentials an app from one example to
    the next. Each key keeps its name and alg: a key's name cannot change, and an alg
    change of an app's only key has no order that keeps a key (``core/rotation.py``: the
    plan refuses it)."""
    required = draw(flags)
    keys = draw(
        st.lists(st.sampled_from(range(len(REQUEST_KEYS))), min_size=int(required), max_size=2)
    )
    credentials = [
        {"name": f"jar-{index}", "pem": REQUEST_KEYS[index], "alg": ["RS256", "PS256"][index]}
        for index in sorted(set(keys))
    ]
    return {"required": required, "credentials": credentials}


@st.composite
def oidc_logout(draw: st.DrawFn) -> dict[str, Any]:
    logout: dict[str, Any] = {
        "backchannel_logout_urls": draw(
            st.sampled_from([[], ["https://pay.example.com/bcl"], ["https://b.example.com/l"]])
        )
    }
    if draw(flags):
        extra = draw(st.lists(st.sampled_from(INITIATORS), unique=True, max_size=2))
        selected = draw(st.permutations(["rp-logout", "idp-logout", *extra]))
        logout["backchannel_logout_initiators"] = draw(
            st.sampled_from([{"mode": "all"}, {"mode": "custom", "selected_initiators": selected}])
        )
    if draw(flags):
        logout["backchannel_logout_session_metadata"] = {"include": draw(flags)}
    return logout


@st.composite
def app_body(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    """One app of ``kind`` with a random value for every field its type may carry."""
    body: dict[str, Any] = {
        "name": draw(st.sampled_from(["Pay", "Portal", "Worker"])),
        "type": kind,
    }
    if kind != "m2m":
        body["callbacks"] = draw(
            st.lists(
                st.sampled_from(["https://a.example.com/cb", "https://b.example.com/cb"]),
                min_size=1,
                unique=True,
            )
        )
        body["refresh_token"] = {
            "rotation_type": "rotating",
            "expiration_type": "expiring",
            "policies": [
                {
                    "audience": audience,
                    "scope": draw(st.lists(st.sampled_from(["read", "write"]), unique=True)),
                }
                for audience in draw(
                    st.lists(
                        st.sampled_from(["https://a.example/", "https://b.example/"]), unique=True
                    )
                )
            ],
        }
        body["allowed_origins"] = ["https://a.example.com"]
        body["web_origins"] = draw(st.sampled_from([[], ["https://a.example.com"]]))
        body["allowed_logout_urls"] = ["https://a.example.com/"]
        body["initiate_login_uri"] = "https://a.example.com/login"
        body["signed_request_object"] = draw(signed_request_object())
    body["description"] = draw(st.sampled_from(["first", "second"]))
    body["logo_uri"] = "https://a.example.com/logo.png"
    body["is_first_party"] = True
    body["oidc_conformant"] = True
    body["jwt_configuration"] = {
        "alg": "RS256",
        "lifetime_in_seconds": draw(st.sampled_from([600, 3600])),
    }
    body["metadata"] = {"team": draw(st.sampled_from(["payments", "identity"]))}
    body["sso_disabled"] = draw(flags)
    body["cross_origin_authentication"] = draw(flags)
    body["require_pushed_authorization_requests"] = draw(flags)
    body["require_proof_of_possession"] = draw(flags)
    body["compliance_level"] = draw(
        st.sampled_from(
            [
                "none",
                "fapi1_adv_pkj_par",
                "fapi1_adv_mtls_par",
                "fapi2_sp_pkj_mtls",
                "fapi2_sp_mtls_mtls",
            ]
        )
    )
    body["allowed_clients"] = draw(st.lists(st.sampled_from(["c1", "c2", "c3"]), unique=True))
    body["token_exchange"] = {
        "allow_any_profile_of_type": draw(
            st.lists(
                st.sampled_from(["custom_authentication", "on_behalf_of_token_exchange"]),
                unique=True,
            )
        )
    }
    body["oidc_logout"] = draw(oidc_logout())
    if draw(flags):
        body["organization_usage"] = "require"
        body["organization_require_behavior"] = "pre_login_prompt"
        body["organization_discovery_methods"] = draw(
            st.lists(st.sampled_from(["email", "organization_name"]), unique=True)
        )
    else:
        body["organization_usage"] = draw(st.sampled_from(["deny", "allow"]))
        body["organization_require_behavior"] = draw(
            st.sampled_from(["no_prompt", "post_login_prompt"])
        )
        body["organization_discovery_methods"] = []
    if kind == "m2m":
        body["default_organization"] = {
            "organization_id": draw(
                st.sampled_from(["org_aaaaaaaaaaaaaaaa", "org_bbbbbbbbbbbbbbbb"])
            ),
            "flows": ["client_credentials"],
        }
    if kind == "native":
        body["mobile"] = {
            "ios": {
                "team_id": "ABCDE12345",
                "app_bundle_identifier": draw(st.sampled_from(["com.x.a", "com.x.b"])),
            },
            "android": {"app_package_name": "com.x.a", "sha256_cert_fingerprints": [FINGERPRINT]},
        }
        body["native_social_login"] = {
            name: {"enabled": draw(flags)} for name in ("apple", "facebook", "google")
        }
    return body


KIND_OF = {"pay": "native", "portal": "regular_web", "worker": "m2m"}
manifests = st.fixed_dictionaries({key: app_body(KIND_OF[key]) for key in KEYS})


@settings(max_examples=5, deadline=None)
@given(bodies=manifests)
def test_the_generated_apps_set_every_field_an_auth0_client_holds(
    bodies: dict[str, dict[str, Any]],
) -> None:
    fields = {name for key, body in bodies.items() for name in desired(key, **body).fields}
    assert fields == set(MANAGED_FIELDS) - NOT_GENERATED


Registry = Callable[[], ClientsRegistry]


@pytest.fixture(scope="module", params=["sqlite", "auth0"])
def fresh_registry(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Registry]:
    """A function that empties the tenant and answers a registry over it."""
    directory = tmp_path_factory.mktemp(request.param)
    if request.param == "sqlite":
        tenant = Tenant(directory / "tenant.db")
        registry = ClientsRegistry(tenant, f"sqlite:{directory / 'tenant.db'}")

        def emptied() -> ClientsRegistry:
            tenant.reset()
            return registry

        yield emptied
        tenant.close()
        return
    with TlsServe(directory / "served.db") as served:
        remote = open_auth0(
            "auth0://tenant.test",
            base_url=served.base_url,
            environ={
                "AUTH0_CLIENT_ID": served.client_id,
                "AUTH0_CLIENT_SECRET": served.client_secret,
            },
            verify=ssl.create_default_context(cafile=served.ca_file),
            lock=False,
            retry=RetryPolicy(base_delay=0.02, max_delay=0.2),
        )
        assert isinstance(remote, ClientsRegistry)

        def emptied_served() -> ClientsRegistry:
            served.tenant.reset()
            return remote

        yield emptied_served
        remote.close()


def converge(registry: ClientsRegistry, bodies: dict[str, dict[str, Any]], sink: Path) -> None:
    for key, body in bodies.items():
        assert is_valid("manifest.schema.json", {"apps": {key: body}}), body
    held = read_holdings(registry)
    specs = [desired(key, **body) for key, body in sorted(bodies.items())]
    made = plan(specs, held.apps, owner=OWNER, registry=registry.uri)
    report = apply_plan(made, registry, held.apps, secrets=SecretsFile(sink))
    assert report.ok, [result.error for result in report.results if not result.ok]
    now = read_holdings(registry).apps
    assert sorted(app.stamp.key for app in now if app.stamp is not None) == sorted(bodies)
    again = plan(specs, now, owner=OWNER, registry=registry.uri)
    assert again.changes == (), [change.diff for change in again.changes]


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(first=manifests, second=manifests)
def test_apply_then_plan_is_empty_for_apps_setting_every_field(
    fresh_registry: Registry, first: dict[str, dict[str, Any]], second: dict[str, dict[str, Any]]
) -> None:
    registry = fresh_registry()
    with tempfile.TemporaryDirectory() as scratch:
        sink = Path(scratch) / "secrets.json"
        converge(registry, first, sink)
        converge(registry, second, sink)
