"""The pinned connection: an httpx transport that connects only to one vetted address.

The fetcher vets a host's addresses before connecting; this transport then makes sure
the connection goes to the address that was vetted, whatever the name would resolve to
a moment later, and that every network operation ends by the fetch's one deadline.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

__all__ = ["PinnedTransport", "TransportFactory", "VettedEndpoint"]


@dataclass(frozen=True)
class VettedEndpoint:
    """Where one fetch may connect, and by when it must be over."""

    host: str  # the URL's host: Host header, SNI and the certificate's name
    address: str  # the vetted IP address the connection goes to
    port: int
    deadline: float  # on the time.monotonic() clock


TransportFactory = Callable[[VettedEndpoint], httpx.BaseTransport]


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
