"""The credential POST under faults: the Auth0 backend against serve, over HTTPS.

A client holds two credentials at most, so a POST sent twice would leave a duplicate in
one of the two places and block the next rotation: after a 5xx or no answer the backend
looks for the credential it asked for, and sends the POST again only when it is absent.
The credentials are counted in serve's tenant, not through the backend under test.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from reconciler.errors import RegistryError
from reconciler.registries.auth0.registry import ManagementApi, RetryPolicy, open_auth0
from reconciler.registries.clients import ClientsRegistry
from tests.auth0_sdk import TlsServe


@pytest.fixture
def served(tmp_path: Path) -> Iterator[TlsServe]:
    with TlsServe(tmp_path / "tenant.db") as running:
        yield running


@contextmanager
def management_api(served: TlsServe, *, timeout: float = 30.0) -> Iterator[ManagementApi]:
    opened = open_auth0(
        "auth0://tenant.test",
        base_url=served.base_url,
        environ={"AUTH0_CLIENT_ID": served.client_id, "AUTH0_CLIENT_SECRET": served.client_secret},
        verify=ssl.create_default_context(cafile=served.ca_file),
        timeout=timeout,
        lock=False,
        retry=RetryPolicy(base_delay=0.02, max_delay=0.2, in_doubt_wait=timeout),
    )
    assert isinstance(opened, ClientsRegistry) and isinstance(opened.api, ManagementApi)
    try:
        yield opened.api
    finally:
        opened.close()


@pytest.fixture
def api(served: TlsServe) -> Iterator[ManagementApi]:
    with management_api(served) as opened:
        yield opened


@pytest.fixture
def worker(served: TlsServe) -> str:
    return str(
        served.tenant.create_client({"name": "Worker", "app_type": "non_interactive"})["client_id"]
    )


def body(name: str = "a") -> dict[str, object]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")
    return {"credential_type": "public_key", "name": name, "pem": pem, "kid": f"{name}-kid-2026"}


def posts(served: TlsServe, client_id: str) -> list[int]:
    """The statuses serve answered the credential POSTs for ``client_id`` with."""
    path = f"/api/v2/clients/{client_id}/credentials"
    return [
        entry["status"]
        for entry in served.server.app.log.entries()
        if entry["method"] == "POST" and entry["path"] == path
    ]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_5xx_after_the_credential_was_made_is_the_credential(
    served: TlsServe, api: ManagementApi, worker: str, status: int
) -> None:
    served.inject(status=status, after=True, method="POST", path_prefix=f"/api/v2/clients/{worker}")
    created = api.create_credential(worker, body())
    assert [c["id"] for c in served.tenant.list_credentials(worker)] == [created["id"]]
    assert posts(served, worker) == [status]


def test_a_5xx_before_the_credential_was_made_is_sent_again(
    served: TlsServe, api: ManagementApi, worker: str
) -> None:
    served.inject(status=500, count=2, method="POST", path_prefix=f"/api/v2/clients/{worker}")
    created = api.create_credential(worker, body())
    assert [c["id"] for c in served.tenant.list_credentials(worker)] == [created["id"]]
    assert posts(served, worker) == [500, 500, 201]


def test_an_answer_after_the_client_timeout_is_found(served: TlsServe, worker: str) -> None:
    served.inject(delay=2.0, after=True, method="POST", path_prefix=f"/api/v2/clients/{worker}")
    with management_api(served, timeout=0.5) as api:
        created = api.create_credential(worker, body())
    assert [c["id"] for c in served.tenant.list_credentials(worker)] == [created["id"]]


def test_5xx_that_never_end_say_the_client_does_not_hold_it(
    served: TlsServe, api: ManagementApi, worker: str
) -> None:
    served.inject(status=500, count=50, method="POST", path_prefix=f"/api/v2/clients/{worker}")
    with pytest.raises(RegistryError, match="the client does not hold it: the next apply adds it"):
        api.create_credential(worker, body())
    assert served.tenant.list_credentials(worker) == []
