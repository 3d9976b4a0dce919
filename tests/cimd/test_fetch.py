"""The CIMD fetcher against a real HTTPS server on loopback, with trustme certificates."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import socket
import ssl
from dataclasses import replace

import httpx
import pytest

from reconciler.cimd.document import validate_document
from reconciler.cimd.fetch import (
    FetchedDocument,
    PinnedConnections,
    PinnedTransport,
    VettedEndpoint,
    domain_allowed,
    recheck_after_seconds,
    special_use_reason,
)
from reconciler.errors import CimdError
from tests.cimd_server import (
    HOST,
    DocumentServer,
    SeenRequest,
    TableResolver,
    client_document,
    fetcher,
    known_hosts,
)

# -- a good fetch ----------------------------------------------------------------------------


def test_fetches_a_valid_document(server: DocumentServer, trust: ssl.SSLContext) -> None:
    url = server.serve_document("/oauth/client.json", headers={"Cache-Control": "max-age=120"})

    fetched = fetcher(trust).fetch(url)

    assert fetched.url == url
    assert fetched.document == client_document(url)
    assert fetched.body == json.dumps(client_document(url)).encode()
    assert fetched.sha256 == "sha256:" + hashlib.sha256(fetched.body).hexdigest()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", fetched.fetched_at)
    assert fetched.recheck_after_seconds == 120
    assert validate_document(url, fetched.document) == []
    assert server.requests == [
        SeenRequest("/oauth/client.json", f"{HOST}:{server.port}", "application/json")
    ]
    assert server.server_names == [HOST]


def test_a_mismatched_client_id_is_a_finding(server: DocumentServer, trust: ssl.SSLContext) -> None:
    url = server.serve_json("/c.json", client_document(f"https://{HOST}/elsewhere.json"))

    fetched = fetcher(trust).fetch(url)

    [finding] = validate_document(url, fetched.document)
    assert (finding.severity, finding.path) == ("error", "$.client_id")


def test_the_default_port_written_out_is_another_client_id(
    server: DocumentServer, trust: ssl.SSLContext
) -> None:
    kept = PinnedConnections(trust, max_idle=1)

    class ToTheTestServer(httpx.BaseTransport):
        """Port 443, where the test server cannot listen, is the test server's port."""

        def __init__(self, endpoint: VettedEndpoint) -> None:
            assert endpoint.port == 443
            self._pinned = PinnedTransport(replace(endpoint, port=server.port), kept)

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            request.url = request.url.copy_with(port=server.port)
            return self._pinned.handle_request(request)

    server.serve_json("/c", client_document(f"https://{HOST}/c"))
    fetch = fetcher(trust, transport_factory=ToTheTestServer).fetch

    without_port = fetch(f"https://{HOST}/c")
    with_port = fetch(f"https://{HOST}:443/c")

    assert validate_document(without_port.url, without_port.document) == []
    findings = validate_document(with_port.url, with_port.document)
    assert [(f.path, f.severity) for f in findings] == [("$.client_id", "error")]
    assert f"https://{HOST}:443/c" in findings[0].message


def test_an_ip_literal_loopback_host_is_allowed_under_the_test_flag(
    server: DocumentServer, trust: ssl.SSLContext
) -> None:
    url = server.url("/c.json", host="127.0.0.1")
    server.serve_json("/c.json", client_document(url))

    assert fetcher(trust).fetch(url).document["client_id"] == url


def test_an_internationalised_host_is_resolved_and_pinned_in_its_ascii_form(
    server: DocumentServer, trust: ssl.SSLContext
) -> None:
    url = server.url("/c.json", host="bücher.test.example")
    server.serve_json("/c.json", client_document(url))
    resolver = TableResolver({"xn--bcher-kva.test.example": [["127.0.0.1"]]})

    assert fetcher(trust, resolver).fetch(url).document["client_id"] == url
    assert server.server_names == ["xn--bcher-kva.test.example"]


# -- refused before connecting ---------------------------------------------------------------


def test_a_host_resolving_to_a_private_address_is_refused_before_connecting(
    server: DocumentServer, trust: ssl.SSLContext
) -> None:
    url = server.url("/c.json", host="private.test.example")

    with pytest.raises(CimdError, match=r"10\.0\.0\.5, which is private-use") as caught:
        fetcher(trust).fetch(url)

    assert str(caught.value).startswith(url)
    assert server.requests == []


def test_one_special_use_address_among_several_is_enough_to_refuse(
    server: DocumentServer, trust: ssl.SSLContext
) -> None:
    server.serve_document("/c.json")

    with pytest.raises(CimdError, match=r"192\.168\.1\.1"):
        fetcher(trust).fetch(server.url("/c.json", host="mixed.test.example"))

    assert server.requests == []


def test_loopback_is_refused_without_the_test_flag(
    server: DocumentServer, trust: ssl.SSLContext
) -> None:
    url = server.serve_document("/c.json")
    strict = fetcher(trust, insecure_allow_loopback_for_tests=False)

    with pytest.raises(CimdError, match=r"127\.0\.0\.1, which is loopback"):
        strict.fetch(url)
    with pytest.raises(CimdError, match="must not point at localhost"):
        strict.fetch(server.url("/c.json", host="localhost"))

    assert server.requests == []


def test_a_non_loopback_ip_literal_is_refused_even_under_the_test_flag(
    trust: ssl.SSLContext,
) -> None:
    with pytest.raises(CimdError, match="allowed only for loopback"):
        fetcher(trust).fetch("https://93.184.216.34/c.json")


def test_a_host_outside_allow_domains_is_refused(
    server: DocumentServer, trust: ssl.SSLContext
) -> None:
    url = server.serve_document("/c.json")
    resolver = known_hosts()

    with pytest.raises(CimdError, match=f"{HOST} is not in cimd.allow_domains"):
        fetcher(trust, resolver, allow_domains=("*.allowed.example", HOST + ".evil")).fetch(url)

    assert resolver.calls == []
    assert server.requests == []
    assert fetcher(trust, allow_domains=("*.test.example",)).fetch(url).url == url


def test_a_url_breaking_the_cimd_rules_is_refused(trust: ssl.SSLContext) -> None:
    with pytest.raises(CimdError, match="must not have a query"):
        fetcher(trust).fetch(f"https://{HOST}/c.json?x=1")


def test_an_unresolvable_host_is_an_error(trust: ssl.SSLContext) -> None:
    with pytest.raises(CimdError, match="could not resolve nowhere.test.example"):
        fetcher(trust).fetch("https://nowhere.test.example/c.json")


# -- the connection goes to the vetted address -----------------------------------------------


def test_the_connection_goes_to_the_address_that_was_vetted(
    server: DocumentServer, trust: ssl.SSLContext
) -> None:
    url = server.serve_document("/c.json")
    rebinding = TableResolver({HOST: [["127.0.0.1"], ["10.0.0.1"]]})

    fetched = fetcher(trust, rebinding).fetch(url)

    assert fetched.document["client_id"] == url
    assert rebinding.calls == [HOST]
    assert rebinding(HOST, 443) == ["10.0.0.1"]  # what a second look-up would have said


def test_the_certificate_is_verified_against_the_url_host(
    server: DocumentServer, trust: ssl.SSLContext
) -> None:
    server.serve_document("/c.json")

    with pytest.raises(CimdError, match="CERTIFICATE_VERIFY_FAILED"):
        fetcher(trust).fetch(server.url("/c.json", host="other.example"))

    assert server.requests == []


def test_an_untrusted_certificate_is_refused(server: DocumentServer) -> None:
    url = server.serve_document("/c.json")
    system_trust_only = ssl.create_default_context()

    with pytest.raises(CimdError, match="CERTIFICATE_VERIFY_FAILED"):
        fetcher(system_trust_only).fetch(url)


def test_a_refused_connection_is_an_error(trust: ssl.SSLContext) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]

    with pytest.raises(CimdError, match="fetch failed"):
        fetcher(trust).fetch(f"https://{HOST}:{port}/c.json")


# -- what the server answers -----------------------------------------------------------------


def test_a_redirect_is_not_followed(server: DocumentServer, trust: ssl.SSLContext) -> None:
    target = server.serve_document("/moved.json")
    url = server.serve("/c.json", b"", status=302, headers={"Location": target})

    with pytest.raises(CimdError, match="HTTP 302") as caught:
        fetcher(trust).fetch(url)

    assert target in str(caught.value)
    assert [seen.path for seen in server.requests] == ["/c.json"]


@pytest.mark.parametrize("status", [404, 204, 500])
def test_any_status_but_200_is_an_error(
    server: DocumentServer, trust: ssl.SSLContext, status: int
) -> None:
    url = server.serve("/c.json", b"{}", status=status)

    with pytest.raises(CimdError, match=f"HTTP {status}"):
        fetcher(trust).fetch(url)


@pytest.mark.parametrize("content_length", [True, False])
def test_a_body_over_5_kb_is_an_error(
    server: DocumentServer, trust: ssl.SSLContext, content_length: bool
) -> None:
    padding = "x" * 5 * 1024
    url = server.url("/big.json")
    server.serve_json(
        "/big.json", client_document(url, description=padding), content_length=content_length
    )

    with pytest.raises(CimdError, match="larger than the 5120-byte limit"):
        fetcher(trust).fetch(url)


def test_a_body_of_exactly_5_kb_is_read(server: DocumentServer, trust: ssl.SSLContext) -> None:
    url = server.url("/c.json")
    document = client_document(url, software_id="")
    document["software_id"] = "x" * (5 * 1024 - len(json.dumps(document)))
    server.serve_json("/c.json", document)

    assert len(fetcher(trust).fetch(url).body) == 5 * 1024


def test_a_slow_drip_body_times_out(server: DocumentServer, trust: ssl.SSLContext) -> None:
    url = server.serve_document("/slow.json", drip_seconds=0.05)  # about 10 s for the body

    with pytest.raises(CimdError, match="timed out") as caught:  # unbounded, it would succeed
        fetcher(trust, timeout_seconds=1.0).fetch(url)

    assert str(caught.value).startswith(url)


def test_a_slow_drip_of_headers_times_out(server: DocumentServer, trust: ssl.SSLContext) -> None:
    # Each byte comes well within any per-read timeout: only a deadline can stop this.
    url = server.serve_document("/slow.json", drip_seconds=0.1, drip_head=True)

    with pytest.raises(CimdError, match="timed out"):
        fetcher(trust, timeout_seconds=1.0).fetch(url)


def test_a_slow_answer_times_out(server: DocumentServer, trust: ssl.SSLContext) -> None:
    url = server.serve_document("/slow.json", delay=3.0)

    with pytest.raises(CimdError, match="timed out"):
        fetcher(trust, timeout_seconds=0.5).fetch(url)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"<html>hello</html>", "not JSON"),
        (b'{"client_name": "caf\xe9"}', "not UTF-8"),
        (b'["https://docs.test.example/c.json"]', "a JSON array, not an object"),
        (b'"a string"', "a JSON string, not an object"),
        (b'{"client_id": "a", "client_id": "b"}', "'client_id' appears twice"),
        (b'{"default_max_age": NaN}', "NaN is not JSON"),
        (b"[" * 2500 + b"]" * 2500, "not usable JSON"),
    ],
)
def test_a_body_that_is_not_a_utf8_json_object_is_an_error(
    server: DocumentServer, trust: ssl.SSLContext, body: bytes, problem: str
) -> None:
    url = server.serve("/c.json", body)

    with pytest.raises(CimdError, match=re.escape(problem)) as caught:
        fetcher(trust).fetch(url)

    assert str(caught.value).startswith(url)


def test_a_compressed_body_is_refused(server: DocumentServer, trust: ssl.SSLContext) -> None:
    document = json.dumps(client_document(server.url("/c.json"))).encode()
    url = server.serve("/c.json", gzip.compress(document), headers={"Content-Encoding": "gzip"})

    with pytest.raises(CimdError, match="Content-Encoding gzip"):
        fetcher(trust).fetch(url)


# -- key sets --------------------------------------------------------------------------------


def public_key(kid: str) -> dict[str, str]:
    return {"kty": "RSA", "kid": kid, "use": "sig", "e": "AQAB", "n": "n" * 342}


def test_fetch_jwks_reads_up_to_12_kb(server: DocumentServer, trust: ssl.SSLContext) -> None:
    jwks = {"keys": [public_key(f"key-{i}") for i in range(20)]}
    url = server.serve_json("/jwks.json", jwks)
    assert 5 * 1024 < len(json.dumps(jwks)) < 12 * 1024

    assert fetcher(trust).fetch_jwks(url).document == jwks
    with pytest.raises(CimdError, match="5120-byte limit"):
        fetcher(trust).fetch(url)


def test_fetch_jwks_refuses_a_private_key(server: DocumentServer, trust: ssl.SSLContext) -> None:
    url = server.serve_json("/jwks.json", {"keys": [{**public_key("k1"), "d": "secret"}]})

    with pytest.raises(CimdError, match=re.escape("$.keys[0].d: error: is private key")):
        fetcher(trust).fetch_jwks(url)


def test_fetch_jwks_refuses_what_is_not_a_key_set(
    server: DocumentServer, trust: ssl.SSLContext
) -> None:
    url = server.serve_json("/jwks.json", {"kty": "RSA"})

    with pytest.raises(CimdError, match="must be a JSON Web Key Set"):
        fetcher(trust).fetch_jwks(url)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (f"http://{HOST}/jwks.json", "must be an https URL with a host"),
        (f"https://user@{HOST}/jwks.json", "must not have userinfo"),
        (f"https://{HOST}/jwks.json#keys", "a fragment"),
    ],
)
def test_fetch_jwks_refuses_an_unusable_url(trust: ssl.SSLContext, url: str, problem: str) -> None:
    with pytest.raises(CimdError, match=f"not a usable jwks_uri: .*{problem}"):
        fetcher(trust).fetch_jwks(url)


def test_fetch_jwks_vets_the_address_like_a_document(trust: ssl.SSLContext) -> None:
    with pytest.raises(CimdError, match="which is private-use"):
        fetcher(trust).fetch_jwks("https://private.test.example/jwks.json?v=2")


def test_an_inline_private_key_is_a_finding(server: DocumentServer, trust: ssl.SSLContext) -> None:
    url = server.url("/c.json")
    jwks = {"keys": [{**public_key("k1"), "d": "secret"}]}
    server.serve_json("/c.json", client_document(url, jwks=jwks))

    fetched = fetcher(trust).fetch(url)

    paths = [f.path for f in validate_document(url, fetched.document) if f.is_error]
    assert paths == ["$.jwks", "$.jwks.keys[0].d"]


# -- many at once ----------------------------------------------------------------------------


def test_fetch_many_runs_in_parallel(server: DocumentServer, trust: ssl.SSLContext) -> None:
    delay = 0.3
    urls = [server.serve_document(f"/app-{i}.json", delay=delay) for i in range(8)]

    results = fetcher(trust, parallelism=8).fetch_many(urls)

    assert list(results) == urls
    assert all(isinstance(result, FetchedDocument) for result in results.values())
    # No timing assertion (shared machines): the server saw the requests overlap.
    assert server.max_concurrent >= 4


def test_fetch_many_stays_within_the_parallelism(
    server: DocumentServer, trust: ssl.SSLContext
) -> None:
    urls = [server.serve_document(f"/app-{i}.json", delay=0.1) for i in range(6)]

    fetcher(trust, parallelism=2).fetch_many(urls)

    assert server.max_concurrent <= 2


def test_fetch_many_returns_each_error_in_place(
    server: DocumentServer, trust: ssl.SSLContext
) -> None:
    good = server.serve_document("/good.json")
    missing = server.url("/missing.json")

    results = fetcher(trust).fetch_many([good, missing, good])

    assert list(results) == [good, missing]
    assert isinstance(results[good], FetchedDocument)
    assert isinstance(results[missing], CimdError)
    assert "HTTP 404" in str(results[missing])


# -- the rules underneath --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("0.1.2.3", "'this network'"),
        ("10.0.0.5", "private-use"),
        ("172.16.0.1", "private-use"),
        ("172.31.255.255", "private-use"),
        ("192.168.1.1", "private-use"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("127.0.0.1", "loopback"),
        ("127.1.2.3", "loopback"),
        ("169.254.169.254", "link-local"),
        ("192.0.0.8", "IETF protocol assignments"),
        ("192.0.2.1", "documentation"),
        ("198.51.100.7", "documentation"),
        ("203.0.113.9", "documentation"),
        ("198.18.0.1", "benchmarking"),
        ("198.19.255.255", "benchmarking"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("255.255.255.255", "broadcast"),
        ("240.0.0.1", "reserved"),
        ("0.0.0.0", "'this network'"),
        ("::", "unspecified"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("fec0::1", "site-local"),
        ("fc00::1", "unique local"),
        ("fd12:3456::1", "unique local"),
        ("ff02::1", "multicast"),
        ("2001:db8::1", "documentation"),
        ("100::1", "discard-only"),
        ("::a00:1", "IPv4-compatible"),
        ("::ffff:10.0.0.1", "10.0.0.1 in IPv6 form, private-use"),
        ("::ffff:127.0.0.1", "127.0.0.1 in IPv6 form, loopback"),
        ("64:ff9b::a9fe:a9fe", "169.254.169.254 in IPv6 form, link-local"),
        ("64:ff9b:1::1", "local-use NAT64"),
        ("2002:a00:1::1", "a tunnel address carrying 10.0.0.1, private-use"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "a tunnel address carrying 192.0.2.45"),
        ("2001:0:5ef5:79fd:0:59d:a0e5:ba1", "IETF protocol assignments"),
    ],
)
def test_special_use_addresses_are_named(address: str, reason: str) -> None:
    found = special_use_reason(address)
    assert found is not None and reason in found


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "1.1.1.1",
        "93.184.216.34",
        "2606:4700:4700::1111",
        "2a00:1450:4001::200e",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
    ],
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert special_use_reason(address) is None


@pytest.mark.parametrize(
    ("host", "allowed", "expected"),
    [
        ("a.example.com", ("*.example.com",), True),
        ("a.b.example.com", ("*.example.com",), True),
        ("example.com", ("*.example.com",), False),
        ("badexample.com", ("*.example.com",), False),
        ("example.com", ("example.com",), True),
        ("a.example.com", ("example.com",), False),
        ("docs.example.com", ("other.example", "Docs.Example.COM"), True),
    ],
)
def test_domain_allowed(host: str, allowed: tuple[str, ...], expected: bool) -> None:
    assert domain_allowed(host, allowed) is expected


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({}, 30),
        ({"Cache-Control": "max-age=600"}, 600),
        ({"Cache-Control": "public, max-age=5"}, 30),
        ({"Cache-Control": "max-age=999999"}, 86400),
        ({"Cache-Control": "max-age=600, s-maxage=1200"}, 1200),
        ({"cache-control": 'max-age="700"'}, 700),
        ({"Cache-Control": "no-store"}, 0),
        ({"Cache-Control": "no-cache, max-age=600"}, 0),
        (
            {"Expires": "Thu, 01 Jan 2026 01:00:00 GMT", "Date": "Thu, 01 Jan 2026 00:00:00 GMT"},
            3600,
        ),
        ({"Expires": "0"}, 30),
    ],
)
def test_recheck_after_seconds(headers: dict[str, str], seconds: int) -> None:
    assert recheck_after_seconds(headers) == seconds
