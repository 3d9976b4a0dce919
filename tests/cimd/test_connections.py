"""Kept connections over real HTTPS on loopback: reused only where a fetch's vetting allows.

The server counts the connections it accepts (each after a TLS handshake), so a test sees
exactly when a fetch opened a connection and when it reused one.
"""

from __future__ import annotations

import ssl
import time
from typing import Any

import pytest

from reconciler.cimd.fetch import CimdFetcher, FetchedDocument
from reconciler.cimd.pinned import PinnedConnections, PinnedTransport, VettedEndpoint
from reconciler.errors import CimdError
from tests.cimd_server import HOST, DocumentServer, TableResolver, fetcher

SECOND_HOST = "second.test.example"  # also under the server's *.test.example certificate


def kept_fetcher(
    trust: ssl.SSLContext,
    answers: dict[str, list[list[str]]] | None = None,
    *,
    connections: PinnedConnections | None = None,
    **settings: Any,
) -> CimdFetcher:
    """A fetcher for both hosts; given ``connections``, it keeps its connections there."""
    resolver = TableResolver(answers or {HOST: [["127.0.0.1"]], SECOND_HOST: [["127.0.0.1"]]})
    if connections is not None:
        kept = connections
        settings["transport_factory"] = lambda endpoint: PinnedTransport(endpoint, kept)
    return fetcher(trust, resolver, **settings)


def serve_kept(server: DocumentServer, count: int, **route: Any) -> list[str]:
    """``count`` documents whose answers leave the connection open."""
    return [
        server.serve_document(f"/app-{index}.json", keep_alive=True, **route)
        for index in range(count)
    ]


def test_fetches_to_one_host_reuse_one_connection(
    server: DocumentServer, trust: ssl.SSLContext
) -> None:
    urls = serve_kept(server, 5)

    with kept_fetcher(trust) as fetch:
        documents = [fetch.fetch(url) for url in urls]

    assert [document.document["client_id"] for document in documents] == urls
    assert server.connections == 1
    assert server.server_names == [HOST]
    assert len(server.requests) == 5


def test_parallel_fetches_open_at_most_one_connection_per_worker(
    server: DocumentServer, trust: ssl.SSLContext
) -> None:
    urls = serve_kept(server, 24, delay=0.02)

    with kept_fetcher(trust, parallelism=4) as fetch:
        results = fetch.fetch_many(urls)

    assert all(isinstance(result, FetchedDocument) for result in results.values())
    assert server.connections <= 4
    assert server.max_concurrent <= 4


def test_a_connection_is_never_reused_for_another_host(
    server: DocumentServer, trust: ssl.SSLContext
) -> None:
    [url] = serve_kept(server, 1)
    same_path_other_host = server.url("/app-0.json", host=SECOND_HOST)

    with kept_fetcher(trust) as fetch:
        fetch.fetch(url)
        fetch.fetch(same_path_other_host)
        fetch.fetch(url)

    assert server.connections == 2
    assert server.server_names == [HOST, SECOND_HOST]
    assert [seen.host for seen in server.requests] == [
        f"{HOST}:{server.port}",
        f"{SECOND_HOST}:{server.port}",
        f"{HOST}:{server.port}",
    ]


def test_a_dns_change_to_a_refused_address_is_refused_with_a_connection_kept(
    server: DocumentServer, trust: ssl.SSLContext
) -> None:
    [url] = serve_kept(server, 1)
    rebinding = {HOST: [["127.0.0.1"], ["10.0.0.1"], ["127.0.0.1", "169.254.169.254"]]}

    with kept_fetcher(trust, rebinding) as fetch:
        fetch.fetch(url)
        with pytest.raises(CimdError, match=r"10\.0\.0\.1, which is private-use"):
            fetch.fetch(url)
        with pytest.raises(CimdError, match=r"169\.254\.169\.254, which is link-local"):
            fetch.fetch(url)

    assert server.connections == 1
    assert len(server.requests) == 1


def test_a_dns_change_to_another_address_is_not_served_by_the_kept_connection(
    server: DocumentServer, trust: ssl.SSLContext
) -> None:
    [url] = serve_kept(server, 1)
    # Nothing listens on 127.0.0.2 at the server's port: only a new connection goes there.
    moved = {HOST: [["127.0.0.1"], ["127.0.0.2"], ["127.0.0.2", "127.0.0.1"]]}

    with kept_fetcher(trust, moved) as fetch:
        fetch.fetch(url)
        with pytest.raises(CimdError, match="fetch failed"):
            fetch.fetch(url)
        assert fetch.fetch(url).url == url  # 127.0.0.1 was vetted again: its connection serves

    assert server.connections == 1
    assert len(server.requests) == 2


def test_a_kept_connection_serves_only_its_host_port_and_a_vetted_address(
    server: DocumentServer, trust: ssl.SSLContext
) -> None:
    [url] = serve_kept(server, 1)
    kept = PinnedConnections(trust, max_idle=4)
    deadline = time.monotonic() + 5
    with kept_fetcher(trust, connections=kept) as fetch:
        fetch.fetch(url)

        def endpoint(host: str, addresses: tuple[str, ...], port: int) -> VettedEndpoint:
            return VettedEndpoint(host, addresses, port, deadline)

        for elsewhere in (
            endpoint(SECOND_HOST, ("127.0.0.1",), server.port),
            endpoint(HOST, ("127.0.0.1",), server.port + 1),
            endpoint(HOST, ("127.0.0.2",), server.port),
        ):
            connection = kept.take(elsewhere)
            assert not connection.reused
            assert connection.peer.address == elsewhere.address

        kept_one = kept.take(endpoint(HOST.upper(), ("127.0.0.3", "127.0.0.1"), server.port))
        assert kept_one.reused
        kept_one.close()


def test_a_server_hanging_up_on_a_kept_connection_is_retried_once_on_a_new_one(
    server: DocumentServer, trust: ssl.SSLContext
) -> None:
    first, second = serve_kept(server, 2)
    server.routes["/app-1.json"].hang_ups = 1  # as if its keep-alive timer had just fired

    with kept_fetcher(trust) as fetch:
        fetch.fetch(first)
        assert fetch.fetch(second).url == second

    assert server.connections == 2
    assert [seen.path for seen in server.requests] == ["/app-0.json", "/app-1.json", "/app-1.json"]


def test_a_hang_up_is_retried_only_once(server: DocumentServer, trust: ssl.SSLContext) -> None:
    first, second = serve_kept(server, 2)
    server.routes["/app-1.json"].hang_ups = 2

    with kept_fetcher(trust) as fetch:
        fetch.fetch(first)
        with pytest.raises(CimdError, match="fetch failed: Server disconnected"):
            fetch.fetch(second)

    assert server.connections == 2


def test_a_hang_up_on_a_new_connection_is_not_retried(
    server: DocumentServer, trust: ssl.SSLContext
) -> None:
    [url] = serve_kept(server, 1)
    server.routes["/app-0.json"].hang_ups = 1

    with kept_fetcher(trust) as fetch, pytest.raises(CimdError, match="Server disconnected"):
        fetch.fetch(url)

    assert server.connections == 1


def test_each_fetch_on_a_kept_connection_has_its_own_deadline(
    server: DocumentServer, trust: ssl.SSLContext
) -> None:
    # Two answers of 0.6 s on one connection end after the first fetch's 1 s deadline.
    first, second = serve_kept(server, 2, delay=0.6)
    slow = server.serve_document("/slow.json", keep_alive=True, delay=3.0)

    with kept_fetcher(trust, timeout_seconds=1.0) as fetch:
        fetch.fetch(first)
        fetch.fetch(second)
        assert server.connections == 1
        with pytest.raises(CimdError, match="timed out"):
            fetch.fetch(slow)
        fetch.fetch(first)

    assert server.connections == 2  # the connection that timed out was not kept


def test_a_body_left_unread_leaves_its_connection_closed(
    server: DocumentServer, trust: ssl.SSLContext
) -> None:
    [url] = serve_kept(server, 1)
    big = server.serve("/big.json", b"x" * 6000, keep_alive=True)
    missing = server.serve("/missing.json", b"gone", status=404, keep_alive=True)

    with kept_fetcher(trust) as fetch:
        for refused in (big, missing):
            with pytest.raises(CimdError):
                fetch.fetch(refused)
            fetch.fetch(url)

    assert server.connections == 3


def test_an_answer_that_closes_the_connection_is_not_kept(
    server: DocumentServer, trust: ssl.SSLContext
) -> None:
    url = server.serve_document("/c.json")  # answered with Connection: close

    with kept_fetcher(trust) as fetch:
        fetch.fetch(url)
        fetch.fetch(url)

    assert server.connections == 2


def test_closing_the_fetcher_closes_its_kept_connections(
    server: DocumentServer, trust: ssl.SSLContext
) -> None:
    [url] = serve_kept(server, 1)
    fetch = kept_fetcher(trust)

    fetch.fetch(url)
    fetch.close()
    fetch.fetch(url)  # a fetch after close opens a new connection
    fetch.close()

    assert server.connections == 2


def test_at_most_max_idle_connections_are_kept(
    server: DocumentServer, trust: ssl.SSLContext
) -> None:
    [url] = serve_kept(server, 1)
    other_host = server.url("/app-0.json", host=SECOND_HOST)

    with kept_fetcher(trust, parallelism=2) as fetch:
        for each in (url, other_host, url, other_host):
            fetch.fetch(each)
    assert server.connections == 2

    with kept_fetcher(trust, parallelism=1) as fetch:
        for each in (url, other_host, url, other_host):
            fetch.fetch(each)  # each fetch closes the one connection kept, to the other host
    assert server.connections == 2 + 4
