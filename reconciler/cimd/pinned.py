"""Pinned connections: HTTPS connections that go only to vetted addresses, kept for reuse.

The fetcher vets a host's addresses before every fetch; a connection then goes to an
address that was vetted, whatever the name would resolve to a moment later, and every
network operation ends by the fetch's one deadline. A connection is kept open after its
answer (HTTP keep-alive) and reused only by a later fetch to the same host and port whose
own vetting passed the address the connection goes to, so a host whose name now resolves
elsewhere, or to a refused address, is never reached through an old connection.
"""

from __future__ import annotations

import itertools
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

__all__ = ["PinnedConnections", "PinnedTransport", "TransportFactory", "VettedEndpoint"]

#: Under Apache's default keep-alive timeout (5 s; nginx keeps 75 s), so a kept connection
#: is mostly given up before its server closes it; a run's fetches follow much sooner.
KEEPALIVE_SECONDS = 4.0


@dataclass(frozen=True)
class VettedEndpoint:
    """Where one fetch may connect, and by when it must be over."""

    host: str  # the URL's host: Host header, SNI and the certificate's name
    addresses: tuple[str, ...]  # every address the host resolved to, each one vetted
    port: int
    deadline: float  # on the time.monotonic() clock

    @property
    def address(self) -> str:
        """The address a new connection goes to."""
        return self.addresses[0]


TransportFactory = Callable[[VettedEndpoint], httpx.BaseTransport]


@dataclass(frozen=True)
class _Peer:
    """Whom a connection talks to: it is reused only for this host, address and port."""

    host: str
    address: str
    port: int


class _Deadline:
    """The deadline of the fetch a connection serves now; each fetch that takes it sets it."""

    def __init__(self, at: float) -> None:
        self.at = at


class _Connection:
    """One HTTPS connection to one peer, serving one fetch at a time."""

    def __init__(self, peer: _Peer, ssl_context: ssl.SSLContext, deadline: float) -> None:
        self.peer = peer
        self.deadline = _Deadline(deadline)
        self.reused = False
        self.idle_since = 0.0  # on the time.monotonic() clock, once given back
        self._http = httpcore.HTTPConnection(
            httpcore.Origin(b"https", peer.host.encode("ascii"), peer.port),
            ssl_context=ssl_context,
            network_backend=_PinnedBackend(peer, self.deadline),
        )

    def serves(self, endpoint: VettedEndpoint) -> bool:
        """Whether a fetch to ``endpoint`` may use this connection."""
        peer = self.peer
        return (
            peer.host == endpoint.host.lower()
            and peer.port == endpoint.port
            and peer.address in endpoint.addresses
        )

    def handle_request(self, request: httpcore.Request) -> httpcore.Response:
        return self._http.handle_request(request)

    def reusable(self) -> bool:
        """Idle after an answer read to the end, and not hung up on by the server."""
        return self._http.is_idle() and not self._http.has_expired()

    def close(self) -> None:
        self._http.close()


class PinnedConnections:
    """The connections a fetcher keeps, all under one TLS context; safe to share by threads.

    A fetch takes an idle connection to its host and port whose address is among the ones
    it just vetted, or opens one to the first of them, and gives it back when its answer
    has been read to the end. At most ``max_idle`` (at least 1) idle connections are kept,
    the least recently used closed first; one idle for longer than ``KEEPALIVE_SECONDS``
    is closed.
    """

    def __init__(self, ssl_context: ssl.SSLContext, *, max_idle: int) -> None:
        self._ssl_context = ssl_context
        self._max_idle = max(1, max_idle)
        self._idle: OrderedDict[_Connection, None] = OrderedDict()  # least recently used first
        self._lock = threading.Lock()
        self._closed = False

    def take(self, endpoint: VettedEndpoint) -> _Connection:
        """A kept connection to a vetted address of ``endpoint``, or a new one."""
        expired_before = time.monotonic() - KEEPALIVE_SECONDS
        with self._lock:
            stale = list(itertools.takewhile(lambda c: c.idle_since < expired_before, self._idle))
            for connection in stale:
                del self._idle[connection]
            found = next((c for c in reversed(self._idle) if c.serves(endpoint)), None)
            if found is not None:
                del self._idle[found]
        for connection in stale:
            connection.close()
        if found is not None and found.reusable():
            found.deadline.at = endpoint.deadline
            found.reused = True
            return found
        if found is not None:
            found.close()
        return self.open(endpoint)

    def open(self, endpoint: VettedEndpoint) -> _Connection:
        """A new connection to ``endpoint.address``, opened by its first request."""
        peer = _Peer(endpoint.host.lower(), endpoint.address, endpoint.port)
        return _Connection(peer, self._ssl_context, endpoint.deadline)

    def give_back(self, connection: _Connection) -> None:
        """Keep ``connection`` for a later fetch if its last answer left it reusable."""
        closing: _Connection | None = connection
        if connection.reusable():
            connection.idle_since = time.monotonic()
            with self._lock:
                if not self._closed:
                    if len(self._idle) >= self._max_idle:
                        closing, _ = self._idle.popitem(last=False)
                    else:
                        closing = None
                    self._idle[connection] = None
        if closing is not None:
            closing.close()

    def close(self) -> None:
        """Close every idle connection; any given back later is closed too."""
        with self._lock:
            self._closed = True
            idle = list(self._idle)
            self._idle.clear()
        for connection in idle:
            connection.close()


class PinnedTransport(httpx.BaseTransport):
    """An httpx transport for the fetches to one vetted endpoint, over kept connections.

    Requests keep their URL, so httpcore still sends the URL's host as the Host header and
    as TLS SNI, and verifies the certificate against it; only the TCP connection is pinned
    to a vetted address. A GET whose kept connection turns out to be closed by the server
    before any answer is sent again once, on a new connection.
    """

    def __init__(self, endpoint: VettedEndpoint, connections: PinnedConnections) -> None:
        self._endpoint = endpoint
        self._connections = connections

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
        connection = self._connections.take(self._endpoint)
        with _as_httpx_errors():
            try:
                core_response = _send(connection, core_request)
            except (httpcore.RemoteProtocolError, httpcore.ReadError, httpcore.WriteError):
                if not connection.reused or request.method != "GET":
                    raise
                connection = self._connections.open(self._endpoint)
                core_response = _send(connection, core_request)
        return httpx.Response(
            status_code=core_response.status,
            headers=core_response.headers,
            stream=_ResponseStream(core_response, connection, self._connections),
            extensions=core_response.extensions,
        )


def _send(connection: _Connection, request: httpcore.Request) -> httpcore.Response:
    try:
        return connection.handle_request(request)
    except BaseException:
        connection.close()
        raise


class _ResponseStream(httpx.SyncByteStream):
    def __init__(
        self,
        response: httpcore.Response,
        connection: _Connection,
        connections: PinnedConnections,
    ) -> None:
        self._response = response
        self._connection = connection
        self._connections = connections

    def __iter__(self) -> Iterator[bytes]:
        with _as_httpx_errors():
            yield from self._response.iter_stream()

    def close(self) -> None:
        # An answer not read to the end leaves its connection closed, never reusable.
        self._response.close()
        self._connections.give_back(self._connection)


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
    def __init__(self, peer: _Peer, deadline: _Deadline) -> None:
        self._peer = peer
        self._deadline = deadline
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        peer = self._peer
        if host.lower() != peer.host:
            raise httpcore.ConnectError(f"{host} is not the vetted host {peer.host}")
        stream = self._backend.connect_tcp(
            peer.address,
            peer.port,
            _within(self._deadline, timeout, httpcore.ConnectTimeout),
            local_address,
            socket_options,
        )
        return _DeadlineStream(stream, self._deadline)


class _DeadlineStream(httpcore.NetworkStream):
    """A network stream whose reads, writes and TLS handshake all end by the fetch's deadline.

    Per-read timeouts alone would let a server that drips a byte at a time hold a fetch
    open for ever.
    """

    def __init__(self, stream: httpcore.NetworkStream, deadline: _Deadline) -> None:
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


def _within(deadline: _Deadline, timeout: float | None, expired: type[Exception]) -> float:
    """``timeout`` shortened to the time left before ``deadline``."""
    remaining = deadline.at - time.monotonic()
    if remaining <= 0:
        raise expired("the time allowed for the whole fetch has run out")
    return remaining if timeout is None else min(timeout, remaining)
