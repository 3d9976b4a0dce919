"""A transparent loopback proxy in front of the peer that writes down every client it creates.

RFC 7592 has no list of clients, so a test cannot ask node-oidc-provider what it holds.
Started with ``ISSUER`` set to this proxy's address, the peer names the proxy in every URL
it hands out (discovery, registration endpoint, registration client URIs), so every
request reconciler makes passes here and every 201 from ``POST /reg`` is recorded: the
server's own ledger of registered clients, whatever happened to the process that asked.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

_RELAYED_HEADERS = ("content-type", "cache-control", "www-authenticate", "location")


@dataclass(frozen=True)
class Registered:
    client_id: str
    client_name: str | None
    at: datetime
    #: What the server handed out, so a test can act as the server's administrator.
    registration_client_uri: str | None = None
    registration_access_token: str | None = field(default=None, repr=False)


class Ledger:
    def __init__(self) -> None:
        self.registered: list[Registered] = []
        self.deleted: set[str] = set()
        self.on_registered: Callable[[], None] | None = None
        self._lock = threading.Lock()

    def add(self, entry: Registered) -> None:
        with self._lock:
            self.registered.append(entry)

    def live(self) -> list[Registered]:
        with self._lock:
            return [r for r in self.registered if r.client_id not in self.deleted]


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client killed mid-request is what these tests do on purpose


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def recording_proxy(port: int, upstream: str) -> Iterator[Ledger]:
    """Serve on 127.0.0.1:``port``, forwarding to ``upstream`` (``http://127.0.0.1:N``)."""
    ledger = Ledger()
    forward = httpx.Client(base_url=upstream, timeout=30.0)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body leave as two writes

        def do_GET(self) -> None:
            self.relay()

        def do_POST(self) -> None:
            self.relay()

        def do_PUT(self) -> None:
            self.relay()

        def do_DELETE(self) -> None:
            self.relay()

        def relay(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            # The Host header goes through: the peer builds its endpoint URLs from it.
            headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
            answer = forward.request(self.command, self.path, content=body, headers=headers)
            created = self.command == "POST" and self.path == "/reg" and answer.status_code == 201
            if created:
                data = answer.json()
                ledger.add(
                    Registered(
                        data["client_id"],
                        data.get("client_name"),
                        datetime.now(UTC),
                        data.get("registration_client_uri"),
                        data.get("registration_access_token"),
                    )
                )
            if self.command == "DELETE" and answer.status_code == 204:
                ledger.deleted.add(self.path.rsplit("/", 1)[-1])
            try:
                self.send_response(answer.status_code)
                for name in _RELAYED_HEADERS:
                    if name in answer.headers:
                        self.send_header(name, answer.headers[name])
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)
                self.wfile.flush()
            except OSError:
                return  # the client was killed while we answered
            if created and ledger.on_registered is not None:
                ledger.on_registered()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = _QuietServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield ledger
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        forward.close()
