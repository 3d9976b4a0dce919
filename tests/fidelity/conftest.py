"""The fidelity table's two imitations of Auth0: the embedded tenant (what ``sqlite:``
runs on) and ``reconciler serve`` over real HTTPS (what ``auth0://`` talks to).

Every row (a test in this package) takes ``api``: the Management API surface the
backend uses (``registries.clients.ClientsApi``), once over each imitation, so that a
behaviour of Auth0 held by one and not the other fails. Each row cites its source in a
comment: Auth0's documentation, its SDKs, recordings of a live tenant, or the code of
Terraform's provider or auth0-deploy-cli (``../shared/reference/auth0-fidelity.md``).
Where the sources disagree, the row takes the stricter reading and says so.

``served`` is the ``TlsServe`` behind the serve imitation (None for the embedded one),
for rows that need a raw request (a status line, a header, the token endpoint).
``open_imitation`` makes one with an Auth0 plan's entity limits, for rows about them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reconciler.registries.auth0.registry import RetryPolicy
from reconciler.registries.clients import ClientsApi
from reconciler.tenant.engine import Tenant
from reconciler.tenant.limits import NO_LIMITS, EntityLimits
from reconciler.tenant.seeding import seed_tenant
from tests.auth0_sdk import TlsServe


@dataclass
class Imitation:
    """One imitation of Auth0: its name, its Management API, and serve when it is one."""

    name: str
    api: ClientsApi
    served: TlsServe | None = None

    @property
    def own_applications(self) -> list[str]:
        """The names of the applications it holds from the start: serve's management
        client is one, as the management app is on Auth0 (the embedded tenant has none:
        no management client reaches it)."""
        if self.served is None:
            return []
        return [
            c["name"] for c in self.api.all_clients() if c["client_id"] == self.served.client_id
        ]

    def seed(self, document: dict[str, Any]) -> None:
        """APIs, clients, grants and connections, as they exist before reconciler."""
        if self.served is None:
            assert isinstance(self.api, Tenant)
            seed_tenant(self.api, document, keep_existing=False)
            return
        with self.served.http() as http:
            http.post(f"{self.served.base_url}/__control/seed", json=document).raise_for_status()


@contextmanager
def open_imitation(
    kind: str, tmp_path: Path, *, limits: EntityLimits = NO_LIMITS
) -> Iterator[Imitation]:
    """The ``embedded`` tenant or ``serve`` over HTTPS, with these entity limits."""
    if kind == "embedded":
        tenant = Tenant(tmp_path / "tenant.db", limits=limits)
        try:
            yield Imitation("embedded", tenant)
        finally:
            tenant.close()
        return
    with TlsServe(tmp_path / "served.db", limits=limits) as served:
        remote = served.registry(retry=RetryPolicy(base_delay=0.02, max_delay=0.2))
        try:
            yield Imitation("serve", remote.api, served)
        finally:
            remote.close()


@pytest.fixture(params=["embedded", "serve"])
def imitation(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Imitation]:
    with open_imitation(request.param, tmp_path) as opened:
        yield opened


@pytest.fixture
def api(imitation: Imitation) -> ClientsApi:
    return imitation.api
