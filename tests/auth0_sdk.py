"""An independent reader of a `reconciler serve` tenant: Auth0's own Python SDK.

The Auth0 tests count apps and read secrets through auth0-python, not through our
backend, so a bug in ``reconciler/registries/auth0.py`` cannot hide itself. The SDK
only speaks https, so ``TlsServe`` runs serve with a trustme certificate for 127.0.0.1,
and ``SdkReader`` trusts its CA (the token is fetched with the same trusting client,
so nothing global is changed).

    with TlsServe(tmp_path / "tenant.db") as served:
        reader = served.reader()
        assert reader.duplicates("platform-team/oauth-apps") == {}

Serve plays the tenant ``tenant.test`` (``TENANT_DOMAIN``) reached at a custom domain, its
loopback address: tokens name ``https://tenant.test/api/v2/`` (``TlsServe.audience``), as
``auth0://tenant.test`` with ``AUTH0_BASE_URL`` set to the address asks for them.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import trustme
from auth0.management import ManagementClient

from reconciler.core.stamp import APP_KEY, OWNER_KEY
from reconciler.registries.auth0.registry import RetryPolicy, open_auth0
from reconciler.registries.clients import ClientsRegistry
from reconciler.server import Server
from reconciler.server.control import CONTROL_SECRET_HEADER
from reconciler.tenant.engine import Tenant
from reconciler.tenant.limits import NO_LIMITS, EntityLimits

__all__ = [
    "CONTROL_SECRET",
    "MANAGEMENT_ID",
    "MANAGEMENT_SECRET",
    "TENANT_DOMAIN",
    "SdkReader",
    "TlsServe",
]

MANAGEMENT_ID = "sdkReaderManagementClient0000aa"
MANAGEMENT_SECRET = "sdk-reader-management-secret-0123456789"
TENANT_DOMAIN = "tenant.test"
CONTROL_SECRET = "sdk-reader-control-secret-0123456789"


class TlsServe:
    """``reconciler serve`` over TLS on loopback, on the tenant file at ``path``, with its
    control routes behind ``CONTROL_SECRET`` (``http()`` sends it)."""

    def __init__(
        self,
        path: Path,
        *,
        rate_limit: str = "off",
        limits: EntityLimits = NO_LIMITS,
        retry_after: bool = False,
        **server: Any,
    ) -> None:
        """``server``: more of ``Server``'s settings (its management client's scopes, a
        public key for private_key_jwt instead of the secret...)."""
        self.client_id = MANAGEMENT_ID
        self.client_secret = MANAGEMENT_SECRET
        self.audience = f"https://{TENANT_DOMAIN}/api/v2/"
        self._authority = trustme.CA()
        self.ca_file = str(path.with_suffix(".ca.pem"))
        self._authority.cert_pem.write_to_path(self.ca_file)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._authority.issue_cert("127.0.0.1").configure_cert(context)
        self.tenant = Tenant(path, limits=limits)
        secret = None if "client_public_key" in server else MANAGEMENT_SECRET
        self.server = Server(
            self.tenant,
            client_id=MANAGEMENT_ID,
            client_secret=secret,
            ssl_context=context,
            rate_limit=rate_limit,
            tenant_domain=TENANT_DOMAIN,
            **server,
            retry_after=retry_after,
            control_secret=CONTROL_SECRET,
        )
        self.base_url = ""

    def __enter__(self) -> TlsServe:
        self.base_url = self.server.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.server.stop()
        self.tenant.close()

    def http(self) -> httpx.Client:
        """A plain client that trusts the server and holds the control secret (for
        /__control/ calls)."""
        return httpx.Client(
            verify=_trusting(self.ca_file),
            timeout=30,
            headers={CONTROL_SECRET_HEADER: CONTROL_SECRET},
        )

    def registry(self, *, retry: RetryPolicy | None = None) -> ClientsRegistry:
        """The ``auth0://`` backend pointed at this server with its management client
        (no apply lease)."""
        opened = open_auth0(
            "auth0://tenant.test",
            base_url=self.base_url,
            environ={"AUTH0_CLIENT_ID": self.client_id, "AUTH0_CLIENT_SECRET": self.client_secret},
            verify=ssl.create_default_context(cafile=self.ca_file),
            lock=False,
            retry=retry,
        )
        assert isinstance(opened, ClientsRegistry)
        return opened

    def inject(self, **fault: Any) -> None:
        with self.http() as http:
            http.post(f"{self.base_url}/__control/inject", json=fault).raise_for_status()

    def reader(self) -> SdkReader:
        """auth0-python reading this server (close it when done)."""
        return SdkReader(
            self.base_url, self.client_id, self.client_secret, self.ca_file, self.audience
        )

    def token(self, scope: str) -> str:
        """A management token with only ``scope`` (serve grants a requested subset)."""
        with self.http() as http:
            answer = http.post(
                f"{self.base_url}/oauth/token",
                json={
                    "grant_type": "client_credentials",
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                    "audience": self.audience,
                    "scope": scope,
                },
            )
        answer.raise_for_status()
        return str(answer.json()["access_token"])

    def reconciler(
        self, root: Path, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[str]:
        """``reconciler ARGS`` in ``root`` as a real process, pointed at this server."""
        environment = {
            **os.environ,
            "PYTHONPATH": str(Path(__file__).parent.parent),
            "AUTH0_CLIENT_ID": self.client_id,
            "AUTH0_CLIENT_SECRET": self.client_secret,
            "AUTH0_BASE_URL": self.base_url,
            "SSL_CERT_FILE": self.ca_file,
            "NO_COLOR": "1",
            **(env or {}),
        }
        return subprocess.Popen(
            [sys.executable, "-c", "from reconciler.cli import main; main()", *args],
            cwd=root,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


class SdkReader:
    """Counts apps by (owner, key) stamp and reads their secrets with auth0-python."""

    def __init__(
        self, base_url: str, client_id: str, client_secret: str, ca_file: str, audience: str
    ) -> None:
        self._http = httpx.Client(verify=_trusting(ca_file), timeout=30)
        answer = self._http.post(
            f"{base_url}/oauth/token",
            json={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": client_secret,
                "audience": audience,
            },
        )
        answer.raise_for_status()
        self._sdk = ManagementClient(
            domain=base_url.removeprefix("https://"),
            token=str(answer.json()["access_token"]),
            httpx_client=self._http,
        )

    def clients(self) -> list[dict[str, Any]]:
        """Every non-global client, as the SDK's pager reads them (with secrets)."""
        return [
            client.dict(exclude_none=True)
            for client in self._sdk.clients.list(per_page=100, is_global=False)
        ]

    def apps_by_key(self, owner: str) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for client in self.clients():
            metadata = client.get("client_metadata") or {}
            if metadata.get(OWNER_KEY) == owner and metadata.get(APP_KEY):
                found[str(metadata[APP_KEY])].append(client)
        return dict(found)

    def duplicates(self, owner: str) -> dict[str, list[str]]:
        """Each key that has more than one app, with their client ids."""
        return {
            key: [str(c["client_id"]) for c in apps]
            for key, apps in self.apps_by_key(owner).items()
            if len(apps) > 1
        }

    def secret(self, client_id: str) -> str | None:
        """The secret as GET /clients/{id} shows it to a token with read:client_keys."""
        secret = self._sdk.clients.get(client_id).client_secret
        return secret if isinstance(secret, str) else None

    def secrets_by_key(self, owner: str) -> dict[str, str | None]:
        """Each key's secret (None for a public app); a doubled key is an error."""
        secrets: dict[str, str | None] = {}
        for key, apps in self.apps_by_key(owner).items():
            assert len(apps) == 1, f"{key} has {len(apps)} apps"
            app = apps[0]
            confidential = app.get("token_endpoint_auth_method") not in (None, "none")
            secrets[key] = self.secret(str(app["client_id"])) if confidential else None
        return secrets

    def close(self) -> None:
        self._http.close()


def _trusting(ca_file: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca_file)
