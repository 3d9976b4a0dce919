"""A real HTTPS document server on loopback (trustme certificates) for CIMD tests."""

from __future__ import annotations

import json
import socket
import ssl
import sys
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import trustme

from reconciler.cimd.fetch import CimdFetcher, CimdPolicy

HOST = "docs.test.example"


# -- the server ------------------------------------------------------------------------------


@dataclass
class Route:
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # before the status line
    drip_seconds: float = 0.0  # between single bytes of the body
    drip_head: bool = False  # drip the status line and headers too
    content_length: bool = True
    keep_alive: bool = False  # leave the connection open for the next request
    hang_ups: int = 0  # hang up on this many requests for this path, without an answer


@dataclass(frozen=True)
class SeenRequest:
    path: str
    host: str | None
    accept: str | None


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    #: Connections accepted, each after a TLS handshake that succeeded.
    connections = 0

    def process_request(self, request: Any, client_address: Any) -> None:
        self.connections += 1  # the one accepting thread counts
        super().process_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # a client hanging up is expected
            super().handle_error(request, client_address)


class DocumentServer:
    """HTTPS on 127.0.0.1 with a certificate for *.test.example; records what it sees."""

    def __init__(self, certificate: trustme.LeafCert) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[SeenRequest] = []
        self.server_names: list[str | None] = []
        self.max_concurrent = 0
        self._concurrent = 0
        self._lock = threading.Lock()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        certificate.configure_cert(context)
        context.sni_callback = self._record_server_name
        self._httpd = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> DocumentServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    @property
    def connections(self) -> int:
        """Connections accepted so far: one TLS handshake each."""
        return self._httpd.connections

    def url(self, path: str, host: str = HOST) -> str:
        return f"https://{host}:{self.port}{path}"

    def serve(self, path: str, body: bytes, **route: Any) -> str:
        self.routes[path] = Route(body, **route)
        return self.url(path)

    def serve_json(self, path: str, value: object, **route: Any) -> str:
        return self.serve(path, json.dumps(value).encode(), **route)

    def serve_document(self, path: str, **fields: Any) -> str:
        """A valid client document whose client_id is its own URL."""
        route = {k: fields.pop(k) for k in Route.__dataclass_fields__ if k in fields}
        url = self.url(path)
        return self.serve_json(path, client_document(url, **fields), **route)

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        seen = SeenRequest(handler.path, handler.headers["Host"], handler.headers["Accept"])
        with self._lock:
            self.requests.append(seen)
            self._concurrent += 1
            self.max_concurrent = max(self.max_concurrent, self._concurrent)
        route = self.routes.get(handler.path, Route(b"not found", status=404))
        handler.close_connection = not route.keep_alive
        try:
            if route.hang_ups:
                route.hang_ups -= 1
                handler.close_connection = True
                return
            self._send(handler, route)
        except OSError:
            pass  # the fetcher hung up, as several tests intend
        finally:
            with self._lock:
                self._concurrent -= 1

    def _send(self, handler: BaseHTTPRequestHandler, route: Route) -> None:
        time.sleep(route.delay)
        head = _response_head(route)
        response = head + route.body
        if not route.drip_seconds:
            handler.wfile.write(response)
            return
        steady = 0 if route.drip_head else len(head)
        handler.wfile.write(response[:steady])
        for index in range(steady, len(response)):
            handler.wfile.write(response[index : index + 1])
            handler.wfile.flush()
            time.sleep(route.drip_seconds)

    def _record_server_name(self, _: Any, server_name: str | None, __: Any) -> None:
        self.server_names.append(server_name)


def _response_head(route: Route) -> bytes:
    lines = [f"HTTP/1.1 {route.status} {HTTPStatus(route.status).phrase}"]
    if not route.keep_alive:
        lines.append("Connection: close")
    lines += [f"{name}: {value}" for name, value in route.headers.items()]
    if route.content_length:
        lines.append(f"Content-Length: {len(route.body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _handler_for(server: DocumentServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # a route's answer may keep the connection open

        def do_GET(self) -> None:
            server.answer(self)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class TableResolver:
    """Answers from a table; a host's answers are given in turn, the last one repeating."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        turns = self.answers[host]
        return turns[min(self.calls.count(host), len(turns)) - 1]


def known_hosts() -> TableResolver:
    return TableResolver(
        {
            HOST: [["127.0.0.1"]],
            "other.example": [["127.0.0.1"]],
            "private.test.example": [["10.0.0.5"]],
            "mixed.test.example": [["127.0.0.1", "192.168.1.1"]],
        }
    )


def client_document(url: str, **fields: Any) -> dict[str, Any]:
    return {
        "client_id": url,
        "client_name": "Docs",
        "redirect_uris": [f"https://{HOST}/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none",
        **fields,
    }


def fetcher(
    trust: ssl.SSLContext, resolver: TableResolver | None = None, **settings: Any
) -> CimdFetcher:
    factory = settings.pop("transport_factory", None)
    policy = CimdPolicy(**{"insecure_allow_loopback_for_tests": True, **settings})
    return CimdFetcher(
        policy,
        resolver=resolver or known_hosts(),
        ssl_context=trust,
        transport_factory=factory,
    )
