"""``Server``: the emulator on a real socket, with the standard library's HTTP server.

One thread per connection (``ThreadingHTTPServer``), HTTP/1.1 keep-alive, optional TLS
(the handshake runs in the connection's thread, so a slow client stalls nobody), and a
clean stop that closes idle keep-alive connections instead of waiting for them.
"""

from __future__ import annotations

import socket
import ssl
import sys
import threading
import traceback
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from types import TracebackType
from typing import Any, TextIO, cast
from urllib.parse import urlsplit

from reconciler.errors import ApiError
from reconciler.server.app import AppSettings, ManagementApp
from reconciler.server.assertions import rsa_public_key
from reconciler.server.auth import MANAGEMENT_SCOPES
from reconciler.server.control import is_loopback
from reconciler.server.documents import DocumentSource, FixtureDocuments, network_documents
from reconciler.server.messages import Request, Response, error_response
from reconciler.server.ratelimit import parse_rate_limit
from reconciler.tenant.engine import Tenant

__all__ = ["Server"]

MAX_BODY_BYTES = 1024 * 1024
#: An idle keep-alive connection is closed after this long.
IDLE_TIMEOUT_SECONDS = 120.0
HANDSHAKE_TIMEOUT_SECONDS = 10.0
_POLL_SECONDS = 0.05


class Server:
    """The Auth0 Management API emulator for ``tenant``, served over HTTP(S).

    ``documents`` is where CIMD documents come from: a ``{URL: document}`` fixture map
    (nothing is fetched), any ``DocumentSource`` callable, or None for the network
    fetcher with a fixture map in front (``POST /__control/documents`` fills it).
    ``control_secret`` guards the control routes (``control.ControlAccess``): without
    one they answer only on a loopback ``host``. ``retry_after`` adds Retry-After to a
    rate-limit refusal, which Auth0 does not document.
    """

    def __init__(
        self,
        tenant: Tenant,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        client_id: str,
        client_secret: str | None = None,
        rate_limit: str = "off",
        documents: Mapping[str, Mapping[str, Any]] | DocumentSource | None = None,
        allow_loopback_documents: bool = False,
        token_lifetime: int = 86400,
        ssl_context: ssl.SSLContext | None = None,
        access_log: TextIO | None = None,
        tenant_domain: str | None = None,
        client_public_key: bytes | None = None,
        client_key_alg: str = "RS256",
        management_scopes: tuple[str, ...] = MANAGEMENT_SCOPES,
        retry_after: bool = False,
        control_secret: str | None = None,
    ) -> None:
        """``tenant_domain``: the tenant's canonical domain, whose Management API a token
        must name (``AppSettings``); the management client authenticates with
        ``client_secret`` or, given ``client_public_key`` (PEM) instead, with client
        assertions (private_key_jwt) signed ``client_key_alg``; it is granted
        ``management_scopes``."""
        if not client_id or (not client_secret) == (client_public_key is None):
            raise ValueError(
                "the management client needs a client_id, and a client_secret or a public key"
            )
        if token_lifetime < 1:
            raise ValueError("token_lifetime must be at least 1 second")
        if client_public_key is not None:
            rsa_public_key(client_public_key, client_key_alg)
        if control_secret is not None and not control_secret.strip():
            raise ValueError("the control secret must not be empty")
        self.tenant = tenant
        self.host = host
        self.port = port
        self.client_id = client_id
        self._client_secret = client_secret or None
        self._rate_limit = parse_rate_limit(rate_limit)
        self._documents = _document_source(documents, allow_loopback_documents)
        self._allow_loopback = allow_loopback_documents
        self._token_lifetime = token_lifetime
        self._tenant_domain = tenant_domain
        self._client_public_key = client_public_key
        self._client_key_alg = client_key_alg
        self._management_scopes = management_scopes
        self._ssl_context = ssl_context
        self._access_log = access_log
        self._retry_after = retry_after
        self._control_secret = control_secret
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._serving = False
        self.app: ManagementApp | None = None

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the server is not listening yet: call start() or bind()")
        return self._httpd.base_url

    def bind(self) -> str:
        """Listen (port 0 picks a free port) and return the base URL; serving starts later."""
        if self._httpd is None:
            httpd = _HttpServer(
                (self.host, self.port), ssl_context=self._ssl_context, access_log=self._access_log
            )
            self.app = ManagementApp(
                self.tenant,
                AppSettings(
                    base_url=httpd.base_url,
                    client_id=self.client_id,
                    client_secret=self._client_secret,
                    rate_limit=self._rate_limit,
                    token_lifetime=self._token_lifetime,
                    allow_loopback_documents=self._allow_loopback,
                    tenant_domain=self._tenant_domain,
                    client_public_key=self._client_public_key,
                    client_key_alg=self._client_key_alg,
                    management_scopes=self._management_scopes,
                    retry_after=self._retry_after,
                    control_secret=self._control_secret,
                    loopback=is_loopback(self.host),
                ),
                self._documents,
            )
            httpd.app = self.app
            self._httpd = httpd
        return self._httpd.base_url

    def start(self) -> str:
        """Serve in a background thread; returns the base URL."""
        base_url = self.bind()
        if self._thread is None:
            self._serving = True
            self._thread = threading.Thread(
                target=self._serve, name=f"reconciler-serve {base_url}", daemon=True
            )
            self._thread.start()
        return base_url

    def serve_forever(self) -> None:
        """Serve in this thread until ``stop()`` or KeyboardInterrupt."""
        self.bind()
        self._serving = True
        self._serve()

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        if self._serving:  # shutdown() waits for a serve loop, forever if none ever ran
            httpd.shutdown()
            self._serving = False
        httpd.server_close()
        httpd.close_connections()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _serve(self) -> None:
        assert self._httpd is not None
        self._httpd.serve_forever(poll_interval=_POLL_SECONDS)


def _document_source(
    documents: Mapping[str, Mapping[str, Any]] | DocumentSource | None, allow_loopback: bool
) -> DocumentSource:
    if documents is None:
        return FixtureDocuments(fallback=network_documents(allow_loopback=allow_loopback))
    if isinstance(documents, Mapping):
        return FixtureDocuments(documents)
    return documents


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    # socketserver's default backlog of 5 resets clients that connect all at once.
    request_queue_size = socket.SOMAXCONN

    def __init__(
        self,
        address: tuple[str, int],
        *,
        ssl_context: ssl.SSLContext | None,
        access_log: TextIO | None,
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.ssl_context = ssl_context
        self.access_log = access_log
        self.app: ManagementApp | None = None
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # Not HTTPServer.server_bind: it looks up the host's FQDN, which can take seconds.
        TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    @property
    def base_url(self) -> str:
        host = self.server_name
        shown = f"[{host}]" if ":" in host else host
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{shown}:{self.server_port}"

    def finish_request(self, request: Any, client_address: Any) -> None:
        connection: socket.socket = request
        if self.ssl_context is not None:
            try:
                connection.settimeout(HANDSHAKE_TIMEOUT_SECONDS)
                connection = self.ssl_context.wrap_socket(connection, server_side=True)
            except (OSError, ssl.SSLError):
                return
        with self._connections_lock:
            self._connections.add(connection)
        try:
            _Handler(connection, client_address, self)
        finally:
            with self._connections_lock:
                self._connections.discard(connection)
            if connection is not request:
                connection.close()

    def close_connections(self) -> None:
        """End every open connection, so no keep-alive client is served after stop()."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError | ssl.SSLError):
            return  # the client went away; nothing to report
        super().handle_error(request, client_address)


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "reconciler-serve"
    sys_version = ""
    timeout = IDLE_TIMEOUT_SECONDS
    # Small answers go out at once (TCP_NODELAY), headers and body in one write (buffered
    # wfile, flushed after each request): else Nagle and delayed ACKs add ~40 ms each.
    disable_nagle_algorithm = True
    wbufsize = -1

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        log = self._server.access_log
        if log is not None:
            log.write(f"{self.address_string()} - {format % args}\n")
            log.flush()

    @property
    def _server(self) -> _HttpServer:
        return cast(_HttpServer, self.server)

    def _dispatch(self) -> None:
        try:
            body = self._read_body()
        except _BadRequest as exc:
            self.close_connection = True
            error = ApiError(exc.status, _reason(exc.status), str(exc))
            self._send(error_response(error))
            return
        self._send(self._answer(body))

    def _answer(self, body: bytes) -> Response:
        app = self._server.app
        assert app is not None
        target = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=target.path,
            query=target.query,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
            scheme="https" if self._server.ssl_context is not None else "http",
        )
        try:
            return app.handle(request)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            error = ApiError(500, "Internal Server Error", "An internal server error occurred")
            return error_response(error)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            return b""
        try:
            length = int(length_header)
        except ValueError:
            raise _BadRequest(400, "Invalid Content-Length header") from None
        if length < 0:
            raise _BadRequest(400, "Invalid Content-Length header")
        if length > MAX_BODY_BYTES:
            raise _BadRequest(413, _too_large_message())
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            line = self.rfile.readline(1024).split(b";")[0].strip()
            try:
                chunk_size = int(line, 16)
            except ValueError:
                raise _BadRequest(400, "Invalid chunked encoding") from None
            if chunk_size == 0:
                while self.rfile.readline(1024).strip():
                    pass  # trailers
                return b"".join(chunks)
            size += chunk_size
            if size > MAX_BODY_BYTES:
                raise _BadRequest(413, _too_large_message())
            chunks.append(self.rfile.read(chunk_size))
            self.rfile.readline(1024)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.status != 204:
            self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if response.body and self.command != "HEAD":
            self.wfile.write(response.body)


def _too_large_message() -> str:
    return f"Payload content length greater than maximum allowed: {MAX_BODY_BYTES}"


def _reason(status: int) -> str:
    return {400: "Bad Request", 413: "Request Entity Too Large"}.get(status, "Error")
