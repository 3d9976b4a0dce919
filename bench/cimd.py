"""Time to fetch and validate 1,000 Client ID Metadata Documents over HTTPS.

A local HTTPS server (trustme certificate, its own process, as a real server would be)
answers every request after 50 ms, a realistic internet round trip. The fetcher trusts its
CA and resolves the host name to 127.0.0.1. The floor of a run is documents x 50 ms /
parallelism; target: the parallel runs within 1.3x of their floor. The sequential run is
measured on fewer documents and scaled. The server counts the connections it accepts (a
TLS handshake each), so the reuse of kept connections shows.

Usage: python bench/cimd.py [--documents N] [--sequential N] [--delay S] [--parallelism P ...]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import ssl
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from socket import socket
from typing import Any

import trustme

from reconciler.cimd.document import validate_document
from reconciler.cimd.fetch import CimdFetcher, CimdPolicy, FetchedDocument
from reconciler.errors import CimdError

HOST = "clients.bench.example"
TARGET_RATIO = 1.3


# -- the server (in a child process) ---------------------------------------------------------


@dataclass(frozen=True)
class ServerGauges:
    """Figures the server process shares with the bench."""

    max_concurrent: Synchronized[int]
    cpu_seconds: Synchronized[float]
    connections: Synchronized[int]


class SlowDocumentServer(ThreadingHTTPServer):
    """HTTPS on 127.0.0.1 that answers each GET after ``delay`` seconds."""

    daemon_threads = True
    request_queue_size = 1024  # the default 5 turns connection bursts into SYN retries

    def __init__(self, tls: ssl.SSLContext, delay: float, gauges: ServerGauges) -> None:
        self.delay = delay
        self.gauges = gauges
        self.documents: dict[str, bytes] = {}
        self._tls = tls
        self._concurrent = 0
        self._lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _DocumentHandler)
        self.port = self.server_address[1]

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The handshake runs in the connection's own thread: wrapping the listening socket
        # instead would run every handshake in the accept loop, one at a time.
        assert isinstance(request, socket)
        with self.gauges.connections.get_lock():
            self.gauges.connections.value += 1
        with self._tls.wrap_socket(request, server_side=True) as tls_socket:
            super().finish_request(tls_socket, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self._concurrent += 1
            if self._concurrent > self.gauges.max_concurrent.value:
                self.gauges.max_concurrent.value = self._concurrent
        try:
            time.sleep(self.delay)
            body = self.documents.get(handler.path)
            handler.send_response(200 if body is not None else 404)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Cache-Control", "max-age=300")
            handler.send_header("Content-Length", str(len(body or b"")))
            handler.end_headers()
            handler.wfile.write(body or b"")
        finally:
            with self._lock:
                self._concurrent -= 1
            self.gauges.cpu_seconds.value = time.process_time()


class _DocumentHandler(BaseHTTPRequestHandler):
    server: SlowDocumentServer
    protocol_version = "HTTP/1.1"  # keep-alive offered, as real servers do
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self.server.answer(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def document_paths(count: int) -> list[str]:
    return [f"/clients/{index:05d}.json" for index in range(count)]


def document_url(port: int, path: str) -> str:
    return f"https://{HOST}:{port}{path}"


def client_document(url: str) -> dict[str, Any]:
    return {
        "client_id": url,
        "client_name": "Bench client",
        "redirect_uris": [f"https://{HOST}/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "logo_uri": f"https://{HOST}/logo.png",
    }


def serve(
    certificate_pem: str,
    delay: float,
    count: int,
    gauges: ServerGauges,
    ports: multiprocessing.SimpleQueue[int],
) -> None:
    """The child process: serve ``count`` documents until terminated."""
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(certificate_pem)
    server = SlowDocumentServer(tls, delay, gauges)
    for path in document_paths(count):
        document = client_document(document_url(server.port, path))
        server.documents[path] = json.dumps(document).encode()
    ports.put(server.port)
    server.serve_forever()


# -- the fetcher -----------------------------------------------------------------------------


def make_fetcher(trust: ssl.SSLContext, parallelism: int) -> CimdFetcher:
    policy = CimdPolicy(parallelism=parallelism, insecure_allow_loopback_for_tests=True)
    return CimdFetcher(policy, resolver=lambda host, port: ["127.0.0.1"], ssl_context=trust)


def fetch_and_validate(fetcher: CimdFetcher, urls: Sequence[str], *, parallel: bool) -> None:
    """Fetch every URL and validate its document; any problem stops the bench."""
    results: dict[str, FetchedDocument | CimdError]
    if parallel:
        results = fetcher.fetch_many(urls)
    else:
        results = {url: fetcher.fetch(url) for url in urls}
    for url, result in results.items():
        if isinstance(result, CimdError):
            raise SystemExit(f"fetch failed: {result}")
        errors = [f for f in validate_document(url, result.document) if f.is_error]
        if errors:
            raise SystemExit(f"{url}: {errors[0]}")


@dataclass(frozen=True)
class Run:
    parallelism: int
    documents: int
    seconds: float
    fetcher_cpu_seconds: float
    server_cpu_seconds: float
    server_concurrency: int
    connections: int
    every_seconds: tuple[float, ...] = ()  # every repeat, when this is the best of several

    @property
    def mode(self) -> str:
        return "parallel" if self.parallelism > 1 else "sequential"

    def scaled(self, documents: int) -> float:
        return self.seconds * documents / self.documents

    def floor(self, documents: int, delay: float) -> float:
        return documents * delay / self.parallelism


def best_of(
    repeats: int,
    trust: ssl.SSLContext,
    urls: Sequence[str],
    parallelism: int,
    gauges: ServerGauges,
) -> Run:
    """The fastest of ``repeats`` runs: the machine's other work only ever slows a run down."""
    runs = [measure(trust, urls, parallelism, gauges) for _ in range(repeats)]
    best = min(runs, key=lambda run: run.seconds)
    return replace(best, every_seconds=tuple(run.seconds for run in runs))


def measure(
    trust: ssl.SSLContext, urls: Sequence[str], parallelism: int, gauges: ServerGauges
) -> Run:
    gauges.max_concurrent.value = 0
    server_cpu = gauges.cpu_seconds.value
    connections = gauges.connections.value
    cpu = time.process_time()
    started = time.perf_counter()
    with make_fetcher(trust, parallelism) as fetcher:
        fetch_and_validate(fetcher, urls, parallel=parallelism > 1)
    return Run(
        parallelism=parallelism,
        documents=len(urls),
        seconds=time.perf_counter() - started,
        fetcher_cpu_seconds=time.process_time() - cpu,
        server_cpu_seconds=gauges.cpu_seconds.value - server_cpu,
        server_concurrency=gauges.max_concurrent.value,
        connections=gauges.connections.value - connections,
    )


# -- the report ------------------------------------------------------------------------------


def print_table(runs: Sequence[Run], documents: int, delay: float, policy: int) -> None:
    print(
        f"CIMD fetch + validate of {documents:,} documents over HTTPS; the server answers "
        f"each after {delay * 1000:.0f} ms; {os.cpu_count()} CPUs shared by fetcher and server"
    )
    header = (
        "run",
        "parallelism",
        "measured",
        f"for {documents:,}",
        "floor",
        "x floor",
        "CPU/doc fetcher",
        "CPU/doc server",
        "in server at once",
        "connections",
        "every repeat",
    )
    rows = [header]
    for run in runs:
        ratio = run.scaled(documents) / run.floor(documents, delay)
        verdict = ""
        if run.mode == "parallel":
            verdict = " ok" if ratio <= TARGET_RATIO else f" MISSED (> {TARGET_RATIO}x)"
        rows.append(
            (
                run.mode,
                f"{run.parallelism}" + (" (policy)" if run.parallelism == policy else ""),
                f"{run.seconds:.2f} s / {run.documents:,}",
                f"{run.scaled(documents):.2f} s" + ("*" if run.documents != documents else ""),
                f"{run.floor(documents, delay):.2f} s",
                f"{ratio:.2f}{verdict}",
                f"{run.fetcher_cpu_seconds / run.documents * 1000:.2f} ms",
                f"{run.server_cpu_seconds / run.documents * 1000:.2f} ms",
                f"{run.server_concurrency}",
                f"{run.connections:,}",
                ", ".join(f"{seconds:.2f}" for seconds in run.every_seconds) or "-",
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    print(
        f"floor = documents x {delay * 1000:.0f} ms / parallelism; target: parallel <= "
        f"{TARGET_RATIO}x (the best of the repeats, in seconds in the last column); CPU/doc: "
        "process CPU time; connections: accepted by the server, a TLS handshake each"
    )
    for run in runs:
        if run.documents != documents:
            print(
                f"* {run.mode}: measured on {run.documents:,} documents, "
                f"scaled x{documents / run.documents:g}"
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=1_000)
    parser.add_argument("--sequential", type=int, default=100, help="documents, then scaled")
    parser.add_argument("--delay", type=float, default=0.05, help="server delay per request")
    parser.add_argument("--parallelism", type=int, nargs="+", default=None)
    parser.add_argument("--repeats", type=int, default=3, help="parallel runs; the best counts")
    args = parser.parse_args()
    policy_parallelism = CimdPolicy().parallelism
    parallelisms: list[int] = args.parallelism or [policy_parallelism, 2 * policy_parallelism]

    ca = trustme.CA()
    trust = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ca.configure_trust(trust)
    processes = multiprocessing.get_context("spawn")
    gauges = ServerGauges(
        processes.Value("i", 0), processes.Value("d", 0.0), processes.Value("i", 0)
    )
    ports: multiprocessing.SimpleQueue[int] = processes.SimpleQueue()
    with tempfile.TemporaryDirectory() as directory:
        certificate_pem = Path(directory) / "server.pem"
        ca.issue_cert(HOST).private_key_and_cert_chain_pem.write_to_path(str(certificate_pem))
        server = processes.Process(
            target=serve,
            args=(str(certificate_pem), args.delay, args.documents, gauges, ports),
            daemon=True,
        )
        server.start()
        try:
            port = ports.get()
            urls = [document_url(port, path) for path in document_paths(args.documents)]
            with make_fetcher(trust, 4) as warming_up:
                fetch_and_validate(warming_up, urls[:8], parallel=True)
            runs = [measure(trust, urls[: args.sequential], 1, gauges)]
            for parallelism in parallelisms:
                runs.append(best_of(args.repeats, trust, urls, parallelism, gauges))
        finally:
            server.terminate()
            server.join()
    print_table(runs, args.documents, args.delay, policy_parallelism)


if __name__ == "__main__":
    main()
