"""Where the server gets Client ID Metadata Documents from: fixtures, the network, or both.

A ``DocumentSource`` takes a URL and returns the document as a JSON object, or raises
``CimdError``; the server validates what it returns. ``FixtureDocuments`` answers from a
map that tests (and ``POST /__control/documents``) fill in, and falls back to another
source, the safe network fetcher, for URLs it holds nothing for.
"""

from __future__ import annotations

import copy
import ssl
import threading
from collections.abc import Callable, Mapping
from typing import Any

from reconciler.cimd.fetch import CimdFetcher, CimdPolicy
from reconciler.errors import CimdError

__all__ = ["DocumentSource", "FixtureDocuments", "network_documents"]

DocumentSource = Callable[[str], dict[str, Any]]


class FixtureDocuments:
    """Documents by URL, for tests and offline rehearsals; thread-safe."""

    def __init__(
        self,
        documents: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        fallback: DocumentSource | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._documents: dict[str, dict[str, Any]] = {}
        self._fallback = fallback
        self.update(documents or {})

    def update(self, documents: Mapping[str, Mapping[str, Any] | None]) -> None:
        """Add or replace documents; a None document removes its URL."""
        with self._lock:
            for url, document in documents.items():
                if document is None:
                    self._documents.pop(url, None)
                else:
                    self._documents[url] = copy.deepcopy(dict(document))

    def __call__(self, url: str) -> dict[str, Any]:
        with self._lock:
            document = self._documents.get(url)
        if document is not None:
            return copy.deepcopy(document)
        if self._fallback is not None:
            return self._fallback(url)
        raise CimdError(f"{url}: no document is served at this URL (no fixture for it)")


def network_documents(
    *, allow_loopback: bool = False, ssl_context: ssl.SSLContext | None = None
) -> DocumentSource:
    """Fetch documents over the network with the reconciler's safe CIMD fetcher."""
    fetcher = CimdFetcher(
        CimdPolicy(insecure_allow_loopback_for_tests=allow_loopback), ssl_context=ssl_context
    )

    def fetch(url: str) -> dict[str, Any]:
        return fetcher.fetch(url).document

    return fetch
