"""The DCR registry against node-oidc-provider: create, read, update, delete, and what a
plan sees of each, through the same planner and applier the CLI uses."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.apply.applier import apply_plan
from reconciler.apply.secrets import SecretsFile
from reconciler.core.model import DesiredApp
from reconciler.core.plan import Plan
from reconciler.core.planner import plan
from reconciler.core.stamp import Stamp
from reconciler.errors import RegistryBusyError, RegistryError
from reconciler.registries.base import Created
from reconciler.registries.dcr.apps import status_of
from reconciler.registries.dcr.registry import DcrRegistry, open_dcr
from tests.helpers import desired
from tests.registries.dcr.support import (
    INITIAL_ACCESS_TOKEN,
    Opener,
    bearer,
    rsa_public_pem,
)

OWNER = "team"


def create(registry: DcrRegistry, spec: DesiredApp) -> Created:
    stamp = Stamp.for_fields(OWNER, spec.key, spec.comparable(), protect=spec.protect)
    return registry.create(spec.comparable(), spec.credentials, stamp)


def planned(registry: DcrRegistry, *specs: DesiredApp) -> Plan:
    return plan(list(specs), registry.list_apps(), owner=OWNER, registry=registry.uri)


def converge(registry: DcrRegistry, *specs: DesiredApp) -> Plan:
    current = registry.list_apps()
    made = plan(list(specs), current, owner=OWNER, registry=registry.uri)
    sink = SecretsFile(registry.state.path.parent / "secrets.json")
    report = apply_plan(made, registry, current, secrets=sink)
    assert report.ok, [r.error for r in report.results]
    return made


def entry(state_path: Path, registry: DcrRegistry, key: str) -> dict[str, Any]:
    state = json.loads(state_path.read_text())
    apps: dict[str, Any] = state["issuers"][registry.issuer]["apps"]
    return dict(apps[key])


def server_copy(registry: DcrRegistry, state_path: Path, key: str) -> httpx.Response:
    held = entry(state_path, registry, key)
    return httpx.get(
        held["registration_client_uri"], headers=bearer(held["registration_access_token"])
    )


WEB = desired(
    "web",
    name="Web",
    type="regular_web",
    callbacks=["https://web.example.com/callback"],
    allowed_logout_urls=["https://web.example.com/"],
    web_origins=["https://web.example.com"],
    logo_uri="https://web.example.com/logo.png",
    initiate_login_uri="https://web.example.com/login",
    client_uri="https://web.example.com/",
    policy_uri="https://web.example.com/privacy",
    tos_uri="https://web.example.com/terms",
    contacts=["ops@example.com", "dev@example.com"],
    metadata={"team": "web"},
)


def test_create_read_update_delete(registry: DcrRegistry, state_path: Path) -> None:
    created = create(registry, WEB)
    assert created.secret is not None
    client_id = created.app.client_id

    server = server_copy(registry, state_path, "web").json()
    assert server["client_name"] == "Web"
    assert server["redirect_uris"] == ["https://web.example.com/callback"]
    assert server["post_logout_redirect_uris"] == ["https://web.example.com/"]
    assert server["grant_types"] == ["authorization_code", "refresh_token"]
    assert server["response_types"] == ["code"]
    assert server["token_endpoint_auth_method"] == "client_secret_post"
    assert server["contacts"] == ["dev@example.com", "ops@example.com"], "a set, sent sorted"
    assert server["initiate_login_uri"] == "https://web.example.com/login"
    assert server["client_uri"] == "https://web.example.com/"
    assert server["policy_uri"] == "https://web.example.com/privacy"
    assert server["tos_uri"] == "https://web.example.com/terms"

    [app] = registry.list_apps()
    assert app.client_id == client_id and app.owned_by(OWNER)
    assert "client_secret" not in app.record and "registration_access_token" not in app.record
    assert planned(registry, WEB).is_empty

    renamed = desired(
        "web",
        **{**_manifest(WEB), "name": "Web 2", "callbacks": ["https://web.example.com/cb2"]},
    )
    update = converge(registry, renamed)
    assert [c.path for c in update.changes[0].diff] == ["callbacks", "name"]
    server = server_copy(registry, state_path, "web").json()
    assert server["client_name"] == "Web 2"
    assert server["redirect_uris"] == ["https://web.example.com/cb2"]
    assert server["contacts"] == ["dev@example.com", "ops@example.com"], "a PUT replaces all"
    assert server["logo_uri"] == "https://web.example.com/logo.png"
    assert planned(registry, renamed).is_empty
    assert server["client_secret"] == created.secret, "an update keeps the secret"

    held = entry(state_path, registry, "web")
    converge(registry)  # no manifests: the app is deleted
    assert registry.list_apps() == []
    gone = httpx.get(
        held["registration_client_uri"], headers=bearer(held["registration_access_token"])
    )
    assert gone.status_code == 401


def test_every_update_rotates_the_token_and_the_new_one_is_kept(
    registry: DcrRegistry, state_path: Path
) -> None:
    spec = desired("rotating", name="R0", type="m2m")
    create(registry, spec)
    tokens = [entry(state_path, registry, "rotating")["registration_access_token"]]
    uri = entry(state_path, registry, "rotating")["registration_client_uri"]
    for n in range(1, 4):
        converge(registry, desired("rotating", name=f"R{n}", type="m2m"))
        tokens.append(entry(state_path, registry, "rotating")["registration_access_token"])
        assert httpx.get(uri, headers=bearer(tokens[-2])).status_code == 401
        assert httpx.get(uri, headers=bearer(tokens[-1])).json()["client_name"] == f"R{n}"
    assert len(set(tokens)) == 4
    assert stat.S_IMODE(os.stat(state_path).st_mode) == 0o600


def test_initial_access_token_from_the_environment(
    iat_issuer: str, state_path: Path, opener: Opener
) -> None:
    spec = desired("needs-iat", name="Needs IAT", type="m2m")
    without = opener(iat_issuer, state_path)
    with pytest.raises(RegistryError, match="set DCR_INITIAL_ACCESS_TOKEN"):
        create(without, spec)
    wrong = opener(iat_issuer, state_path, {"DCR_INITIAL_ACCESS_TOKEN": "wrong"})
    with pytest.raises(RegistryError, match="refused DCR_INITIAL_ACCESS_TOKEN"):
        create(wrong, spec)
    right = opener(iat_issuer, state_path, {"DCR_INITIAL_ACCESS_TOKEN": INITIAL_ACCESS_TOKEN})
    assert create(right, spec).secret
    assert [a.stamp.key for a in right.list_apps() if a.stamp] == ["needs-iat"]
    assert without.orphans() == [], "refused registrations are no orphans"


def test_each_type_and_private_key_jwt_round_trip_without_drift(registry: DcrRegistry) -> None:
    pem = rsa_public_pem()
    specs = [
        desired("spa", name="SPA", type="spa", callbacks=["https://spa.example.com/cb"]),
        desired("native", name="Native", type="native", callbacks=["com.example.app:/cb"]),
        desired("worker", name="Worker", type="m2m"),
        desired(
            "signed",
            name="Signed",
            type="m2m",
            token_endpoint_auth_method="private_key_jwt",
            credentials=[{"name": "k-2026", "pem": pem}],
        ),
    ]
    converge(registry, *specs)
    apps = {a.stamp.key: a for a in registry.list_apps() if a.stamp}
    assert apps["spa"].record["application_type"] == "web"
    assert apps["spa"].record["token_endpoint_auth_method"] == "none"
    assert apps["native"].record["application_type"] == "native"
    assert apps["worker"].record["response_types"] == []
    [jwk] = apps["signed"].record["jwks"]["keys"]
    assert jwk["kid"] == specs[3].credentials[0].kid and jwk["use"] == "sig"
    assert "d" not in jwk
    assert planned(registry, *specs).is_empty

    rotated = desired(
        "signed",
        name="Signed",
        type="m2m",
        token_endpoint_auth_method="private_key_jwt",
        credentials=[{"name": "k-2027", "pem": rsa_public_pem()}],
    )
    converge(registry, *specs[:3], rotated)
    [signed] = [a for a in registry.list_apps() if a.stamp and a.stamp.key == "signed"]
    assert [k["kid"] for k in signed.record["jwks"]["keys"]] == [rotated.credentials[0].kid]
    assert planned(registry, *specs[:3], rotated).is_empty


def test_edits_made_on_the_server_show_as_drift(
    steady_issuer: str, state_path: Path, opener: Opener
) -> None:
    registry = opener(steady_issuer, state_path)
    converge(registry, WEB)
    held = entry(state_path, registry, "web")
    server = server_copy(registry, state_path, "web").json()
    edited = {
        k: v
        for k, v in server.items()
        if not k.startswith("registration_") and k not in ("client_id_issued_at", "logo_uri")
    }
    edited.pop("client_secret_expires_at")
    edited["redirect_uris"] = ["https://evil.example.com/cb"]
    response = httpx.put(
        held["registration_client_uri"],
        json=edited,
        headers=bearer(held["registration_access_token"]),
    )
    assert response.status_code == 200, response.text
    [change] = planned(registry, WEB).changes
    reasons = {c.path: c.reasons for c in change.diff}
    assert reasons == {"callbacks": ("drift",), "logo_uri": ("drift",)}
    converge(registry, WEB)
    assert planned(registry, WEB).is_empty


def test_a_gone_client_is_reported_then_forgotten_or_adopted(
    registry: DcrRegistry, state_path: Path, issuer: str
) -> None:
    spec = desired("doomed", name="Doomed", type="m2m")
    create(registry, spec)
    held = entry(state_path, registry, "doomed")
    deleted = httpx.delete(
        held["registration_client_uri"], headers=bearer(held["registration_access_token"])
    )
    assert deleted.status_code == 204

    [app] = registry.list_apps()
    status = status_of(app)
    assert status["status"] == "unreachable"
    assert "401" in status["reason"]
    assert str(state_path) in status["hint"] and "adopt" in status["hint"]
    assert app.owned_by(OWNER) and app.fields == {}
    with pytest.raises(RegistryError, match="deleted on"):
        registry.update(app, {"name": "x"}, Stamp.for_fields(OWNER, "doomed", {}))

    registry.delete(app)  # a client that is gone deletes as a no-op
    assert registry.list_apps() == []

    made_elsewhere = httpx.post(
        f"{issuer}/reg",
        json={"client_name": "Legacy", "grant_types": ["client_credentials"], "response_types": []},
    ).json()
    adopted = registry.adopt(
        "legacy", made_elsewhere["client_id"], made_elsewhere["registration_access_token"]
    )
    assert adopted.stamp is None and adopted.fields["name"] == "Legacy"
    manifest = desired("legacy", client_id=adopted.client_id, name="Legacy", type="m2m")
    adoption = converge(registry, manifest)
    assert [c.ACTION for c in adoption.changes] == ["adopt"]
    [app] = registry.list_apps()
    assert app.owned_by(OWNER) and app.stamp is not None and app.stamp.key == "legacy"
    assert planned(registry, manifest).is_empty


def test_cimd_apps_register_nothing(registry: DcrRegistry, state_path: Path) -> None:
    url = "https://client.example.test/oauth/client.json"
    document = {
        "client_id": url,
        "client_name": "Partner",
        "redirect_uris": ["https://client.example.test/cb"],
        "token_endpoint_auth_method": "none",
    }
    spec = desired("partner", cimd=url, type="regular_web", grant_types=["authorization_code"])
    app = registry.register_cimd(url, document, None)
    assert not state_path.exists(), "nothing is recorded before the stamp is written"
    stamp = Stamp.for_fields(OWNER, "partner", spec.comparable())
    registry.update(app, spec.comparable(), stamp)
    [listed] = registry.list_apps()
    assert listed.is_cimd and listed.external_client_id == url and listed.owned_by(OWNER)
    assert status_of(listed)["status"] == "cimd"
    assert "nothing is registered" in status_of(listed)["note"]
    assert listed.record["name"] == "Partner"
    assert entry(state_path, registry, "partner")["registration_access_token"] is None
    assert planned(registry, spec).is_empty
    registry.delete(listed)
    assert registry.list_apps() == []


def test_a_second_apply_says_it_waits_then_is_refused_when_the_wait_runs_out(
    issuer: str, state_path: Path
) -> None:
    said: list[str] = []
    uri = f"dcr+{issuer}?state={state_path}"
    first = open_dcr(uri, environ={})
    second = open_dcr(uri, environ={}, lock_wait_seconds=0.2, on_wait=said.append)
    try:
        with first.lock():
            with pytest.raises(RegistryBusyError, match="still holds .* after 0.2 s"):
                with second.lock():
                    pass
        assert len(said) == 1 and "waiting for another apply" in said[0]
        assert str(state_path) in said[0]
        with second.lock():
            pass
    finally:
        first.close()
        second.close()


def test_a_second_apply_waits_for_the_first_and_then_goes_on(issuer: str, state_path: Path) -> None:
    uri = f"dcr+{issuer}?state={state_path}"
    first = open_dcr(uri, environ={})
    waiting = threading.Event()
    second = open_dcr(uri, environ={}, on_wait=lambda _: waiting.set())
    order: list[str] = []

    def apply_second() -> None:
        with second.lock():
            order.append("second")

    try:
        with first.lock():
            worker = threading.Thread(target=apply_second)
            worker.start()
            assert waiting.wait(timeout=10), "the second apply never said it waits"
            order.append("first")
        worker.join(timeout=10)
        assert order == ["first", "second"]
    finally:
        first.close()
        second.close()


def _manifest(spec: DesiredApp) -> dict[str, Any]:
    """The manifest body of the WEB spec above (to derive variants from)."""
    return {
        "name": spec.fields["name"],
        "type": "regular_web",
        "callbacks": list(spec.fields["callbacks"]),
        "allowed_logout_urls": list(spec.fields["allowed_logout_urls"]),
        "web_origins": list(spec.fields["web_origins"]),
        "logo_uri": spec.fields["logo_uri"],
        "initiate_login_uri": spec.fields["initiate_login_uri"],
        "metadata": dict(spec.fields["client_metadata"]),
    }
