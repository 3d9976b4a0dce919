"""The certificates a registry's HTTPS connections trust by default, loaded once a process.

httpx loads them (certifi's bundle, or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``) for every
client it makes, some tens of milliseconds each; a run over many tenants
(``--all-envs``) makes several clients for each. One context serves them all: an
``ssl.SSLContext`` may be shared by connections and threads.
"""

from __future__ import annotations

import functools
import os
import ssl

import httpx

__all__ = ["default_trust"]


def default_trust() -> ssl.SSLContext:
    """What ``verify=True`` means to httpx, with the environment as it is now."""
    return _trust(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.cache
def _trust(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    return httpx.create_ssl_context(verify=True, trust_env=True)
