"""Safe fetching of Client ID Metadata Documents and the key sets they point to.

Before any connection, a URL is checked, its host is resolved once, and every address it
resolves to is vetted against the RFC 6890 special-use ranges (CIMD §8.6). The connection
then goes to that vetted address, whatever the name would resolve to a moment later,
while the Host header, TLS SNI and certificate verification keep using the URL's host
name. The whole fetch has one deadline; the body is read as a stream and cut at a size
limit. Nothing is cached here: a failed fetch leaves nothing behind (CIMD §5.2).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from reconciler import __version__
from reconciler.cimd_document import jwks_findings
from reconciler.cimd_url import cimd_url_problems
from reconciler.config import CimdPolicy
from reconciler.errors import CimdError

__all__ = [
    "DOCUMENT_MAX_BYTES",
    "JWKS_MAX_BYTES",
    "MAX_RECHECK_SECONDS",
    "MIN_RECHECK_SECONDS",
    "CimdFetcher",
    "FetchedDocument",
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
MIN_RECHECK_SECONDS = 30
MAX_RECHECK_SECONDS = 24 * 60 * 60
HTTPS_PORT = 443
_REQUEST_HEADERS = {
    "Accept": "application/json",
    # A compressed body would make the size limit meaningless.
    "Accept-Encoding": "identity",
    "User-Agent": f"reconciler/{__version__} (CIMD fetcher)",
}

Resolver = Callable[[str, int], list[str]]
"""(host, port) -> the IP addresses the host resolves to."""


@dataclass(frozen=True)
class FetchedDocument:
    url: str
    body: bytes  # the exact bytes received
    sha256: str  # "sha256:" + hex digest of body
    document: dict[str, Any]
    fetched_at: str  # ISO 8601 UTC, whole seconds
    #: When to fetch again, from the response's caching headers (0: on every run).
    recheck_after_seconds: int = MIN_RECHECK_SECONDS


@dataclass(frozen=True)
class VettedEndpoint:
    """Where one fetch may connect, and by when it must be over."""

    host: str  # the URL's host: Host header, SNI and the certificate's name
    address: str  # the vetted IP address the connection goes to
    port: int
    deadline: float  # on the time.monotonic() clock


TransportFactory = Callable[[VettedEndpoint], httpx.BaseTransport]


class CimdFetcher:
    """Fetches documents under a ``CimdPolicy``; every failure is a ``CimdError``."""

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
        context = ssl_context or httpx.create_ssl_context()
        self._transport_factory = transport_factory or (
            lambda endpoint: PinnedTransport(endpoint, context)
        )

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
        unique = list(dict.fromkeys(urls))
        if not unique:
            return {}
        workers = max(1, min(self._policy.parallelism, len(unique)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cimd-fetch") as pool:
            return dict(zip(unique, pool.map(self._fetch_or_error, unique), strict=True))

    def _fetch_or_error(self, url: str) -> FetchedDocument | CimdError:
        try:
            return self.fetch(url)
        except CimdError as exc:
            return exc

    def _fetch(self, url: str, max_bytes: int) -> FetchedDocument:
        deadline = time.monotonic() + self._policy.timeout_seconds
        endpoint = self._vet(url, deadline)
        body, headers = self._download(url, endpoint, max_bytes)
        return FetchedDocument(
            url=url,
            body=body,
            sha256=f"sha256:{hashlib.sha256(body).hexdigest()}",
            document=_json_object(url, body),
            fetched_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            recheck_after_seconds=recheck_after_seconds(headers),
        )

    # -- before connecting -------------------------------------------------------------------

    def _vet(self, url: str, deadline: float) -> VettedEndpoint:
        host, port = _host_and_port(url)
        allow_domains = self._policy.allow_domains
        if allow_domains and not domain_allowed(host, allow_domains):
            raise CimdError(
                f"{url}: refused: {host} is not in cimd.allow_domains ({', '.join(allow_domains)})"
            )
        addresses = self._resolve(url, host, port)
        for address in addresses:
            self._check_address(url, host, address)
        return VettedEndpoint(host=host, address=addresses[0], port=port, deadline=deadline)

    def _resolve(self, url: str, host: str, port: int) -> list[str]:
        if _is_ip_literal(host):
            if not ipaddress.ip_address(host).is_loopback:
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
        if (
            self._policy.insecure_allow_loopback_for_tests
            and ipaddress.ip_address(address).is_loopback
        ):
            return
        raise CimdError(
            f"{url}: refused: {host} resolves to {address}, which is {reason}; "
            "special-use addresses are never fetched (RFC 6890)"
        )

    # -- the request -------------------------------------------------------------------------

    def _download(
        self, url: str, endpoint: VettedEndpoint, max_bytes: int
    ) -> tuple[bytes, httpx.Headers]:
        timeout = self._policy.timeout_seconds
        client = httpx.Client(
            transport=self._transport_factory(endpoint),
            follow_redirects=False,
            trust_env=False,  # a proxy from the environment would undo the vetting
            timeout=timeout,
        )
        try:
            with client, client.stream("GET", url, headers=_REQUEST_HEADERS) as response:
                _check_status(url, response)
                _check_encoding(url, response)
                return _read_body(url, response, max_bytes, endpoint.deadline), response.headers
        except httpx.TimeoutException as exc:
            raise _timed_out(url, timeout) from exc
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, OSError) as exc:
            raise CimdError(f"{url}: fetch failed: {str(exc) or type(exc).__name__}") from exc


def _host_and_port(url: str) -> tuple[str, int]:
    """The host as it goes on the wire (IDNA-encoded, as httpx sends it) and the port."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise CimdError(f"{url}: not a valid URL: {exc}") from exc
    return parsed.raw_host.decode("ascii"), parsed.port or HTTPS_PORT


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


# -- addresses -------------------------------------------------------------------------------


def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, in the resolver's order (the default Resolver)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def domain_allowed(host: str, allow_domains: Iterable[str]) -> bool:
    """Whether ``host`` is one of ``allow_domains``; ``*.example.com`` matches subdomains only."""
    host = host.lower()
    for pattern in (p.lower() for p in allow_domains):
        if pattern.startswith("*.") and host.endswith(pattern[1:]):
            return True
        if host == pattern:
            return True
    return False


def _networks(
    names: Mapping[str, str],
) -> list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]]:
    return [(ipaddress.ip_network(network), name) for network, name in names.items()]


# The first match names the range, so narrower ranges come before the ones holding them.
_SPECIAL_USE = _networks(
    {
        "0.0.0.0/8": "'this network'",
        "10.0.0.0/8": "private-use",
        "100.64.0.0/10": "shared address space (carrier-grade NAT)",
        "127.0.0.0/8": "loopback",
        "169.254.0.0/16": "link-local",
        "172.16.0.0/12": "private-use",
        "192.0.0.0/24": "reserved for IETF protocol assignments",
        "192.0.2.0/24": "reserved for documentation",
        "192.88.99.0/24": "6to4 relay anycast",
        "192.168.0.0/16": "private-use",
        "198.18.0.0/15": "reserved for benchmarking",
        "198.51.100.0/24": "reserved for documentation",
        "203.0.113.0/24": "reserved for documentation",
        "224.0.0.0/4": "multicast",
        "255.255.255.255/32": "limited broadcast",
        "240.0.0.0/4": "reserved",
        "::/128": "unspecified",
        "::1/128": "loopback",
        "::/96": "IPv4-compatible (deprecated)",
        "64:ff9b:1::/48": "local-use NAT64",
        "100::/64": "discard-only",
        "2001:db8::/32": "reserved for documentation",
        "2001::/23": "reserved for IETF protocol assignments",
        "3fff::/20": "reserved for documentation",
        "5f00::/16": "segment routing (SRv6)",
        "fc00::/7": "unique local",
        "fe80::/10": "link-local",
        "fec0::/10": "site-local",
        "ff00::/8": "multicast",
    }
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def special_use_reason(address: str) -> str | None:
    """Why ``address`` must not be fetched from (a special-use range), or None if it may.

    Raises ValueError when ``address`` is not an IP address.
    """
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        translated = _translated_ipv4(ip)
        if translated is not None:
            reason = special_use_reason(str(translated))
            return f"{translated} in IPv6 form, {reason}" if reason else None
        for carried in _tunnelled_ipv4s(ip):
            reason = special_use_reason(str(carried))
            if reason:
                return f"a tunnel address carrying {carried}, {reason}"
    for network, name in _SPECIAL_USE:
        if ip in network:
            return f"{name} ({network})"
    if ip.is_reserved or not ip.is_global:
        return "not globally routable"
    return None


def _translated_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address that an IPv4-mapped or NAT64 address stands for."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    return None


def _tunnelled_ipv4s(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses inside a 6to4 or Teredo address."""
    if ip.sixtofour is not None:
        return (ip.sixtofour,)
    if ip.teredo is not None:
        return ip.teredo
    return ()


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


# -- caching headers (CIMD §5.2) -------------------------------------------------------------


def recheck_after_seconds(headers: Mapping[str, str], *, now: datetime | None = None) -> int:
    """How long a fetched document may be relied on: 0 means fetch it again on every run.

    ``s-maxage``, then ``max-age``, then ``Expires`` (against ``Date``), clamped to 30 s-24 h;
    ``no-store`` and ``no-cache`` mean every run.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    directives = _cache_directives(lowered.get("cache-control", ""))
    if "no-store" in directives or "no-cache" in directives:
        return 0
    for name in ("s-maxage", "max-age"):
        value = directives.get(name, "")
        if value.isdigit():
            return _clamped(int(value))
    if "expires" in lowered:
        expires = _http_date(lowered["expires"])
        date = _http_date(lowered.get("date", "")) or now or datetime.now(UTC)
        seconds = (expires - date).total_seconds() if expires else 0
        return _clamped(int(seconds))
    return MIN_RECHECK_SECONDS


def _cache_directives(cache_control: str) -> dict[str, str]:
    directives: dict[str, str] = {}
    for part in cache_control.split(","):
        name, _, value = part.strip().partition("=")
        if name:
            directives[name.lower()] = value.strip().strip('"')
    return directives


def _http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _clamped(seconds: int) -> int:
    return max(MIN_RECHECK_SECONDS, min(MAX_RECHECK_SECONDS, seconds))


# -- the pinned connection -------------------------------------------------------------------


class PinnedTransport(httpx.BaseTransport):
    """An httpx transport whose every connection goes to one vetted address.

    Requests keep their URL, so httpcore still sends the URL's host as the Host header and
    as TLS SNI, and verifies the certificate against it; only the TCP connection is pinned
    to ``endpoint.address``. Every network operation ends by ``endpoint.deadline``.
    """

    def __init__(self, endpoint: VettedEndpoint, ssl_context: ssl.SSLContext) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=1,
            retries=0,
            network_backend=_PinnedBackend(endpoint),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx_errors():
            core_response = self._pool.handle_request(core_request)
        return httpx.Response(
            status_code=core_response.status,
            headers=core_response.headers,
            stream=_ResponseStream(core_response),
            extensions=core_response.extensions,
        )

    def close(self) -> None:
        self._pool.close()


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, response: httpcore.Response) -> None:
        self._response = response

    def __iter__(self) -> Iterator[bytes]:
        with _as_httpx_errors():
            yield from self._response.iter_stream()

    def close(self) -> None:
        self._response.close()


@contextmanager
def _as_httpx_errors() -> Iterator[None]:
    """An httpx transport raises httpx's exceptions, never httpcore's."""
    try:
        yield
    except httpcore.TimeoutException as exc:
        raise httpx.TimeoutException(str(exc)) from exc
    except (
        httpcore.NetworkError,
        httpcore.ProtocolError,
        httpcore.UnsupportedProtocol,
        httpcore.ProxyError,
    ) as exc:
        raise httpx.TransportError(str(exc)) from exc


class _PinnedBackend(httpcore.NetworkBackend):
    def __init__(self, endpoint: VettedEndpoint) -> None:
        self._endpoint = endpoint
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        endpoint = self._endpoint
        if host.lower() != endpoint.host.lower():
            raise httpcore.ConnectError(f"{host} is not the vetted host {endpoint.host}")
        stream = self._backend.connect_tcp(
            endpoint.address,
            endpoint.port,
            _within(endpoint.deadline, timeout, httpcore.ConnectTimeout),
            local_address,
            socket_options,
        )
        return _DeadlineStream(stream, endpoint.deadline)


class _DeadlineStream(httpcore.NetworkStream):
    """A network stream whose reads, writes and TLS handshake all end by one deadline.

    Per-read timeouts alone would let a server that drips a byte at a time hold a fetch
    open for ever.
    """

    def __init__(self, stream: httpcore.NetworkStream, deadline: float) -> None:
        self._stream = stream
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _within(self._deadline, timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _within(self._deadline, timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        remaining = _within(self._deadline, timeout, httpcore.ConnectTimeout)
        tls = self._stream.start_tls(ssl_context, server_hostname, remaining)
        return _DeadlineStream(tls, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


def _within(deadline: float, timeout: float | None, expired: type[Exception]) -> float:
    """``timeout`` shortened to the time left before ``deadline``."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise expired("the time allowed for the whole fetch has run out")
    return remaining if timeout is None else min(timeout, remaining)
