"""Fidelity rows: entity limits and rate limits (``auth0-fidelity.md`` section 5)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.errors import ApiError
from reconciler.registries.auth0.registry import ManagementApi
from reconciler.tenant.engine import Tenant
from reconciler.tenant.limits import PLANS
from tests.auth0_sdk import TlsServe
from tests.fidelity.conftest import Imitation, open_imitation
from tests.fidelity.test_credentials import pem

AT_THE_LIMIT = "You reached the limit of entities of this type for this tenant."


def create_api(imitation: Imitation, identifier: str) -> None:
    """POST /resource-servers (not in ``ClientsApi``: the backend makes only its lease)."""
    if isinstance(imitation.api, Tenant):
        imitation.api.resource_servers.create({"identifier": identifier})
    else:
        assert isinstance(imitation.api, ManagementApi)
        imitation.api.create_resource_server({"identifier": identifier})


@pytest.fixture(params=["embedded", "serve"])
def free(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Imitation]:
    """An imitation of a tenant on Auth0's free plan."""
    with open_imitation(request.param, tmp_path, limits=PLANS["free"]) as opened:
        yield opened


def test_a_free_tenant_holds_10_applications_and_refuses_the_11th(free: Imitation) -> None:
    # Source: Auth0 docs entity-limit-policy.mdx (Free: Applications 10). The answer:
    # "403 Forbidden: You reached the limit of entities of this type for this tenant." in
    # Terraform's error (ministryofjustice/cloud-platform#1995, a free tenant at its 10
    # applications), with errorCode too_many_entities in a probe of a free tenant's
    # registration recorded by its owners. The global client is not one of the 10; the
    # management app is (serve's management client).
    api = free.api
    room = 10 - len(free.own_applications)
    created = [api.create_client({"name": f"App {n}"})["client_id"] for n in range(room)]

    with pytest.raises(ApiError) as refused:
        api.create_client({"name": "App 10"})

    assert (refused.value.status, refused.value.error) == (403, "Forbidden")
    assert refused.value.error_code == "too_many_entities"
    assert AT_THE_LIMIT in refused.value.message  # the backend adds what it means
    assert len(list(api.all_clients())) == 10
    api.delete_client(created[0])
    assert api.create_client({"name": "App 10"})["name"] == "App 10"


def test_clients_that_existed_before_count_against_the_limit(free: Imitation) -> None:
    # Source: as above; the limit counts every application of the tenant, however it was
    # made: a free tenant full of dynamically registered (tpc_) clients refuses the next
    # registration, and the Dashboard says "This tenant reached its available
    # applications" (the same probe).
    earlier = 9 - len(free.own_applications)
    free.seed({"clients": [{"name": f"Earlier {n}"} for n in range(earlier)]})
    free.api.create_client({"name": "Tenth"})

    with pytest.raises(ApiError) as refused:
        free.api.create_client({"name": "Eleventh"})

    assert refused.value.error_code == "too_many_entities"


def test_a_free_tenant_holds_10_apis(free: Imitation) -> None:
    # Source: Auth0 docs entity-limit-policy.mdx (Free: API (Resource Servers) 10), the
    # same refusal. The backend's apply lease is an API too (registries/auth0/lease.py).
    for number in range(10):
        create_api(free, f"https://api{number}.example.com/")

    with pytest.raises(ApiError) as refused:
        create_api(free, "https://api10.example.com/")

    assert refused.value.status == 403 and refused.value.error_code == "too_many_entities"


def test_a_free_tenant_holds_100_client_grants(free: Imitation) -> None:
    # Source: Auth0 docs entity-limit-policy.mdx (Free: Client Grants 100), the same
    # refusal. Apps granted each of ten APIs, for their own tokens and then for users',
    # make the hundred.
    audiences = [f"https://api{number}.example.com/" for number in range(10)]
    free.seed({"resource_servers": [{"identifier": audience} for audience in audiences]})
    room = 10 - len(free.own_applications)
    apps = [free.api.create_client({"name": f"App {n}"})["client_id"] for n in range(room)]
    grants = [
        {"client_id": app, "audience": audience, "scope": [], "subject_type": subject}
        for subject in ("client", "user")
        for app in apps
        for audience in audiences
    ]
    for grant in grants[:100]:
        free.api.create_client_grant(grant)

    with pytest.raises(ApiError) as refused:
        free.api.create_client_grant(grants[100])

    assert refused.value.status == 403 and refused.value.error_code == "too_many_entities"


def test_each_plan_has_auth0s_entity_limits() -> None:
    # Source: Auth0 docs entity-limit-policy.mdx, "Subscription Plan": Enterprise 100,000
    # APIs, applications and client grants, 2,000 application credentials; self-service
    # (Essentials, Professional) 100 applications, 10,000 client grants, 100 connections,
    # 100 APIs; free 10 applications, 100 client grants, 100 connections, 10 APIs.
    assert {plan: dict(limits.most) for plan, limits in PLANS.items()} == {
        "free": {
            "applications": 10,
            "client_grants": 100,
            "resource_servers": 10,
            "connections": 100,
        },
        "essentials": {
            "applications": 100,
            "client_grants": 10_000,
            "resource_servers": 100,
            "connections": 100,
        },
        "professional": {
            "applications": 100,
            "client_grants": 10_000,
            "resource_servers": 100,
            "connections": 100,
        },
        "enterprise": {
            "applications": 100_000,
            "client_grants": 100_000,
            "resource_servers": 100_000,
            "credentials": 2_000,
        },
    }


def test_a_self_service_tenant_refuses_the_101st_application(tmp_path: Path) -> None:
    # Source: Auth0 docs entity-limit-policy.mdx (Self-service: Applications 100).
    with Tenant(tmp_path / "tenant.db", limits=PLANS["essentials"]) as tenant:
        for number in range(100):
            tenant.create_client({"name": f"App {number}"})
        with pytest.raises(ApiError) as refused:
            tenant.create_client({"name": "App 100"})
    assert refused.value.error_code == "too_many_entities"


def test_a_management_429_says_when_to_retry_only_in_x_ratelimit_reset(tmp_path: Path) -> None:
    # Source: Auth0 docs rate-limit-policy.mdx (x-ratelimit-limit, -remaining, -reset in
    # epoch seconds; no Retry-After is documented for the Management API); go-auth0 waits
    # for x-ratelimit-reset (auth0/go-auth0#501); node-auth0 retries a 429 that carries
    # x-ratelimit-limit (auth0/node-auth0#215). The body: "Global limit has been reached"
    # (auth0-deploy-cli#386). Serve is the only imitation with a rate limit.
    with TlsServe(tmp_path / "served.db", rate_limit="2/0.5") as served:
        token = served.token("read:clients")
        with served.http() as http:
            answers = [
                http.get(
                    f"{served.base_url}/api/v2/clients",
                    headers={"Authorization": f"Bearer {token}"},
                )
                for _ in range(3)
            ]
    refused = answers[-1]
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert refused.json() == {
        "statusCode": 429,
        "error": "Too Many Requests",
        "message": "Global limit has been reached",
        "errorCode": "too_many_requests",
    }
    assert "retry-after" not in refused.headers
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert int(refused.headers["x-ratelimit-reset"]) > 0


def test_a_token_endpoint_429_has_oauths_shape_and_the_backend_waits_it_out(
    tmp_path: Path,
) -> None:
    # Source: Auth0 docs fine-grained-m2m-token-quotas.mdx, "Error responses for exceeded
    # quotas": 429 {"error": "too_many_requests", "error_description": "Client quota
    # exceeded"} with X-RateLimit-* and Retry-After. Serve answers so when a fault
    # strikes the token endpoint; the backend waits as told and asks again.
    with TlsServe(tmp_path / "served.db") as served:
        served.inject(status=429, path_prefix="/oauth/token", retry_after=1, count=1)
        with served.http() as http:
            answer = http.post(
                f"{served.base_url}/oauth/token",
                json={
                    "grant_type": "client_credentials",
                    "client_id": served.client_id,
                    "client_secret": served.client_secret,
                    "audience": served.audience,
                },
            )
        assert answer.status_code == 429
        assert answer.json() == {
            "error": "too_many_requests",
            "error_description": "Client quota exceeded",
        }
        assert answer.headers["retry-after"] == "1"
        assert answer.headers["x-ratelimit-remaining"] == "0"

        served.inject(status=429, path_prefix="/oauth/token", retry_after=1, count=1)
        registry = served.registry()
        try:
            registry.list_apps()
        finally:
            registry.close()
        tokens = [
            entry["status"]
            for entry in served.server.app.log.entries()
            if entry["path"] == "/oauth/token"
        ]
        assert tokens == [429, 429, 200], "the backend asked again after the 429"


def test_credentials_are_an_enterprise_feature(tmp_path: Path) -> None:
    # Source: Auth0 docs configure-private-key-jwt.mdx, first callout: "Private Key JWT
    # is available on Enterprise plans" (auth0-fidelity.md section 4); mTLS belongs to
    # Highly Regulated Identity, an Enterprise add-on. Auth0's refusal is not published:
    # a 403 is the stricter reading. On Enterprise the same requests go through.
    key = {"credential_type": "public_key", "name": "k", "pem": pem(0)}
    for kind in ("embedded", "serve"):
        for plan in ("free", "essentials", "professional", "enterprise"):
            (tmp_path / kind / plan).mkdir(parents=True)
        for plan in ("free", "essentials", "professional"):
            with open_imitation(kind, tmp_path / kind / plan, limits=PLANS[plan]) as opened:
                client = opened.api.create_client({"name": "Worker"})
                with pytest.raises(ApiError) as refused:
                    opened.api.create_credential(client["client_id"], key)
                assert refused.value.status == 403 and "Enterprise" in refused.value.message
                with pytest.raises(ApiError) as inline:
                    opened.api.create_client(
                        {
                            "name": "Keyed",
                            "jwt_configuration": {"alg": "RS256"},
                            "client_authentication_methods": {
                                "private_key_jwt": {"credentials": [key]}
                            },
                        }
                    )
                assert inline.value.status == 403
                names = [c["name"] for c in opened.api.all_clients()]
                assert names == [*opened.own_applications, "Worker"]
        with open_imitation(kind, tmp_path / kind / "enterprise", limits=PLANS["enterprise"]) as e:
            client = e.api.create_client({"name": "Worker"})
            assert e.api.create_credential(client["client_id"], key)["name"] == "k"
