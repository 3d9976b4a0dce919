"""Safe fetching of Client ID Metadata Documents and the key sets they point to.

Before any connection, a URL is checked, its host is resolved once, and every address it
resolves to is vetted against the RFC 6890 special-use ranges (CIMD §8.6, ``addresses``).
The connection then goes to a vetted address (``pinned``), whatever the name would
resolve to a moment later, while the Host header, TLS SNI and certificate verification
keep using the URL's host name. Connections are kept for later fetches to the same host,
and reused only where that fetch's own vetting passed their address; ``close`` ends
them. The whole fetch has one deadline; the body is read as a stream and cut at a size
limit. Nothing is cached here: a failed fetch leaves nothing
behind (CIMD §5.2); ``caching`` says when a fetched document should be fetched again.
"""

from __future__ import annotations

import hashlib
import json
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from reconciler import __version__
from reconciler.cimd.addresses import (
    Resolver,
    domain_allowed,
    resolve_host,
    special_use_reason,
)
from reconciler.cimd.caching import MAX_RECHECK_SECONDS, MIN_RECHECK_SECONDS, recheck_after_seconds
from reconciler.cimd.document import jwks_findings
from reconciler.cimd.pinned import (
    PinnedConnections,
    PinnedTransport,
    TransportFactory,
    VettedEndpoint,
)
from reconciler.cimd.policy import CimdPolicy
from reconciler.cimd.url import cimd_url_problems
from reconciler.core.hosts import is_ip_literal, is_loopback_host
from reconciler.errors import CimdError

__all__ = [
    "CimdPolicy",
    "DOCUMENT_MAX_BYTES",
    "JWKS_MAX_BYTES",
    "MAX_RECHECK_SECONDS",
    "MIN_RECHECK_SECONDS",
    "CimdFetcher",
    "FetchedDocument",
    "PinnedConnections",
    "PinnedTransport",
    "Resolver",
    "TransportFactory",
    "VettedEndpoint",
    "domain_allowed",
    "recheck_after_seconds",
    "resolve_host",
    "special_use_reason",
]

DOCUMENT_MAX_BYTES = 5 * 1024  # CIMD §8.7, Auth0
JWKS_MAX_BYTES = 12 * 1024  # Auth0
HTTPS_PORT = 443
_REQUEST_HEADERS = {
    "Accept": "application/json",
    # A compressed body would make the size limit meaningless.
    "Accept-Encoding": "identity",
    "User-Agent": f"reconciler/{__version__} (CIMD fetcher)",
}


@dataclass(frozen=True)
class FetchedDocument:
    url: str
    body: bytes  # the exact bytes received
    sha256: str  # "sha256:" + hex digest of body
    document: dict[str, Any]
    fetched_at: str  # ISO 8601 UTC, whole seconds
    #: When to fetch again, from the response's caching headers (0: on every run).
    recheck_after_seconds: int = MIN_RECHECK_SECONDS


class CimdFetcher:
    """Fetches documents under a ``CimdPolicy``; every failure is a ``CimdError``.

    Safe to share by threads. ``close`` (or leaving a ``with`` block) closes the
    connections it keeps; a fetch after that opens new ones.
    """

    def __init__(
        self,
        policy: CimdPolicy,
        *,
        resolver: Resolver | None = None,
        transport_factory: TransportFactory | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._policy = policy
        self._resolver = resolver or resolve_host
        self._ssl_context = ssl_context
        self._connections: PinnedConnections | None = None
        self._connections_lock = threading.Lock()
        self._transport_factory = transport_factory or self._pinned_transport

    def __enter__(self) -> CimdFetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every kept connection."""
        with self._connections_lock:
            connections, self._connections = self._connections, None
        if connections is not None:
            connections.close()

    def _pinned_transport(self, endpoint: VettedEndpoint) -> httpx.BaseTransport:
        return PinnedTransport(endpoint, self._kept_connections())

    def _kept_connections(self) -> PinnedConnections:
        with self._connections_lock:
            if self._connections is None:
                # Loading the CA bundle takes some 30 ms: only a run that fetches pays for it.
                if self._ssl_context is None:
                    self._ssl_context = httpx.create_ssl_context()
                self._connections = PinnedConnections(
                    self._ssl_context, max_idle=max(1, self._policy.parallelism)
                )
            return self._connections

    def fetch(self, url: str, *, max_bytes: int = DOCUMENT_MAX_BYTES) -> FetchedDocument:
        """The document at ``url``: a JSON object, not yet validated against the CIMD rules."""
        loopback = self._policy.insecure_allow_loopback_for_tests
        problems = cimd_url_problems(url, allow_loopback=loopback)
        if problems:
            raise CimdError(
                f"{url}: not a usable Client ID Metadata Document URL: {'; '.join(problems)}"
            )
        return self._fetch(url, max_bytes)

    def fetch_jwks(self, url: str) -> FetchedDocument:
        """The JSON Web Key Set at ``url`` (a ``jwks_uri``); it must hold public keys only."""
        problems = _https_url_problems(url)
        if problems:
            raise CimdError(f"{url}: not a usable jwks_uri: {'; '.join(problems)}")
        fetched = self._fetch(url, JWKS_MAX_BYTES)
        errors = [str(finding) for finding in jwks_findings(fetched.document) if finding.is_error]
        if errors:
            raise CimdError(f"{url}: unusable key set: {'; '.join(errors)}")
        return fetched

    def fetch_many(self, urls: Sequence[str]) -> dict[str, FetchedDocument | CimdError]:
        """Each URL's document or error, fetched in parallel (at most policy.parallelism)."""
        return self._in_parallel(self.fetch, urls)

    def fetch_many_jwks(self, urls: Sequence[str]) -> dict[str, FetchedDocument | CimdError]:
        """Each URL's key set or error, fetched in parallel like ``fetch_many``."""
        return self._in_parallel(self.fetch_jwks, urls)

    def _in_parallel(
        self, fetch: Callable[[str], FetchedDocument], urls: Sequence[str]
    ) -> dict[str, FetchedDocument | CimdError]:
        unique = list(dict.fromkeys(urls))
        if not unique:
            return {}

        def fetch_or_error(url: str) -> FetchedDocument | CimdError:
            try:
                return fetch(url)
            except CimdError as exc:
                return exc

        workers = max(1, min(self._policy.parallelism, len(unique)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cimd-fetch") as pool:
            return dict(zip(unique, pool.map(fetch_or_error, unique), strict=True))

    def _fetch(self, url: str, max_bytes: int) -> FetchedDocument:
        deadline = time.monotonic() + self._policy.timeout_seconds
        parsed = _parsed(url)
        endpoint = self._vet(url, parsed, deadline)
        body, headers = self._download(url, parsed, endpoint, max_bytes)
        return FetchedDocument(
            url=url,
            body=body,
            sha256=f"sha256:{hashlib.sha256(body).hexdigest()}",
            document=_json_object(url, body),
            fetched_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            recheck_after_seconds=recheck_after_seconds(headers),
        )

    # -- before connecting -------------------------------------------------------------------

    def _vet(self, url: str, parsed: httpx.URL, deadline: float) -> VettedEndpoint:
        # The host as it goes on the wire: IDNA-encoded, as httpx sends it.
        host, port = parsed.raw_host.decode("ascii"), parsed.port or HTTPS_PORT
        allow_domains = self._policy.allow_domains
        if allow_domains and not domain_allowed(host, allow_domains):
            raise CimdError(
                f"{url}: refused: {host} is not in cimd.allow_domains ({', '.join(allow_domains)})"
            )
        addresses = self._resolve(url, host, port)
        for address in addresses:
            self._check_address(url, host, address)
        return VettedEndpoint(host, tuple(addresses), port, deadline)

    def _resolve(self, url: str, host: str, port: int) -> list[str]:
        if is_ip_literal(host):
            if not is_loopback_host(host):
                raise CimdError(f"{url}: refused: an IP address host is allowed only for loopback")
            return [host]
        try:
            addresses = self._resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise CimdError(f"{url}: could not resolve {host}: {exc}") from exc
        if not addresses:
            raise CimdError(f"{url}: {host} resolves to no address")
        return addresses

    def _check_address(self, url: str, host: str, address: str) -> None:
        try:
            reason = special_use_reason(address)
        except ValueError as exc:
            raise CimdError(f"{url}: {host} resolves to {address!r}, not an IP address") from exc
        if reason is None:
            return
        if self._policy.insecure_allow_loopback_for_tests and is_loopback_host(address):
            return
        raise CimdError(
            f"{url}: refused: {host} resolves to {address}, which is {reason}; "
            "special-use addresses are never fetched (RFC 6890)"
        )

    # -- the request -------------------------------------------------------------------------

    def _download(
        self, url: str, parsed: httpx.URL, endpoint: VettedEndpoint, max_bytes: int
    ) -> tuple[bytes, httpx.Headers]:
        # Straight to the transport: no redirects followed, no proxy from the environment
        # (it would undo the vetting), and the endpoint's deadline bounds every operation.
        request = httpx.Request("GET", parsed, headers=_REQUEST_HEADERS)
        try:
            response = self._transport_factory(endpoint).handle_request(request)
            try:
                _check_status(url, response)
                _check_encoding(url, response)
                return _read_body(url, response, max_bytes, endpoint.deadline), response.headers
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            raise _timed_out(url, self._policy.timeout_seconds) from exc
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, OSError) as exc:
            raise CimdError(f"{url}: fetch failed: {str(exc) or type(exc).__name__}") from exc


def _parsed(url: str) -> httpx.URL:
    try:
        return httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise CimdError(f"{url}: not a valid URL: {exc}") from exc


def _check_status(url: str, response: httpx.Response) -> None:
    status = response.status_code
    if 300 <= status < 400:
        location = response.headers.get("Location")
        target = f"to {location}" if location else "without a Location"
        raise CimdError(
            f"{url}: answered HTTP {status}, a redirect {target}; redirects are not followed"
        )
    if status != 200:
        raise CimdError(f"{url}: answered HTTP {status} {response.reason_phrase}; expected 200")


def _check_encoding(url: str, response: httpx.Response) -> None:
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise CimdError(f"{url}: answered with Content-Encoding {encoding}; expected none")


def _read_body(url: str, response: httpx.Response, max_bytes: int, deadline: float) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(url, max_bytes)
    body = bytearray()
    for chunk in response.iter_raw():
        body += chunk
        if len(body) > max_bytes:
            raise _too_large(url, max_bytes)
        if time.monotonic() > deadline:
            raise httpx.ReadTimeout("the body was still arriving at the deadline")
    return bytes(body)


def _json_object(url: str, body: bytes) -> dict[str, Any]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CimdError(f"{url}: the body is not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    try:
        value = json.loads(text, object_pairs_hook=_unique_members, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise CimdError(
            f"{url}: the body is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise CimdError(f"{url}: the body is not usable JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise CimdError(f"{url}: the body is a JSON {_json_type(value)}, not an object")
    return value


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Two parsers could pick different values for a repeated member: refuse it."""
    members: dict[str, Any] = {}
    for name, value in pairs:
        if name in members:
            raise ValueError(f"member {name!r} appears twice")
        members[name] = value
    return members


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _json_type(value: object) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool) or value is None:
        return "literal"
    return "number"


def _too_large(url: str, max_bytes: int) -> CimdError:
    return CimdError(f"{url}: the body is larger than the {max_bytes}-byte limit")


def _timed_out(url: str, timeout: float) -> CimdError:
    return CimdError(f"{url}: timed out: the fetch took longer than {timeout:g} s")


def _https_url_problems(url: str) -> list[str]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return [f"is not a valid URL ({exc})"]
    problems = []
    if parts.scheme != "https" or not parts.hostname:
        problems.append("must be an https URL with a host")
    if "@" in parts.netloc or "#" in url or port == 0:
        problems.append("must not have userinfo, a fragment or port 0")
    if any(ord(c) <= 0x20 or ord(c) == 0x7F or c == "\\" for c in url):
        problems.append("contains whitespace, control characters or a backslash")
    return problems
