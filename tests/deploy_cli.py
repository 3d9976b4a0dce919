"""auth0-deploy-cli (tests/peer, pinned by its lockfile): ``a0deploy export`` of a
``reconciler serve`` tenant, as a reader we did not write.

a0deploy talks https to ``AUTH0_DOMAIN`` (host and port are taken as they are), fetches
its token there with the client id and secret, and trusts serve's CA through
``NODE_EXTRA_CA_CERTS``; ``AUTH0_INCLUDED_ONLY: [clients]`` keeps it to the routes serve
answers (without it the export reads every resource type a tenant has).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.auth0_sdk import TlsServe

__all__ = ["export_clients"]

PEER = Path(__file__).parent / "peer"
A0DEPLOY = PEER / "node_modules" / ".bin" / "a0deploy"
EXPORT_SECONDS = 120


#: What ``a0deploy export`` of clients reads (read:clients; the rest for its other reads).
EXPORT_SCOPES = "read:clients read:client_keys read:client_credentials read:client_grants"


def export_clients(served: TlsServe, directory: Path) -> list[dict[str, Any]]:
    """Every client ``a0deploy export`` writes for the tenant behind ``served``."""
    if shutil.which("node") is None or not A0DEPLOY.is_file():
        raise RuntimeError(
            "auth0-deploy-cli is not installed: run `npm ci` in tests/peer (.ci/run does)"
        )
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "config.json"
    config.write_text(
        json.dumps(
            {
                "AUTH0_DOMAIN": served.base_url.removeprefix("https://"),
                # a0deploy asks for a token for https://AUTH0_DOMAIN/api/v2/, and serve,
                # as Auth0, takes only the tenant's canonical audience: a custom domain
                # (serve's address plays one) needs a token got for the tenant's own.
                "AUTH0_CLIENT_ID": served.client_id,
                "AUTH0_ACCESS_TOKEN": served.token(EXPORT_SCOPES),
                "AUTH0_INCLUDED_ONLY": ["clients"],
            }
        ),
        encoding="utf-8",
    )
    out = directory / "export"
    finished = subprocess.run(
        [str(A0DEPLOY), "export", "-c", str(config), "-f", "yaml", "-o", str(out)],
        env={**os.environ, "NODE_EXTRA_CA_CERTS": served.ca_file, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=EXPORT_SECONDS,
        check=False,
    )
    if finished.returncode != 0:
        raise RuntimeError(f"a0deploy export failed:\n{finished.stdout}\n{finished.stderr}")
    tenant = yaml.safe_load((out / "tenant.yaml").read_text("utf-8")) or {}
    clients: list[dict[str, Any]] = tenant.get("clients") or []
    return clients
