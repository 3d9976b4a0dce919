from __future__ import annotations

import pytest

from reconciler.core.hosts import is_ip_literal, is_localhost_name, is_loopback_host


@pytest.mark.parametrize(
    "host",
    ["localhost", "LocalHost", "127.0.0.1", "127.0.0.2", "127.255.255.254", "::1", "0::1"],
)
def test_loopback_hosts(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize(
    "host",
    [
        "",
        "dev.localhost",  # RFC 6761 reserves it, but not every resolver answers it
        "localhost.example.com",
        "128.0.0.1",
        "0.0.0.0",
        "::",
        "::2",
        "::ffff:127.0.0.1",  # IPv4-mapped: not the loopback interface's own address
        "[::1]",  # a URL's authority; urlsplit's hostname has no brackets
        "example.com",
    ],
)
def test_not_loopback_hosts(host: str) -> None:
    assert not is_loopback_host(host)


@pytest.mark.parametrize(
    ("host", "literal"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("::1", True),
        ("2001:db8::1", True),
        ("fe80::1%eth0", True),
        ("localhost", False),
        ("example.com", False),
        ("1.2.3", False),
        ("2130706433", False),
        ("", False),
    ],
)
def test_ip_literals(host: str, literal: bool) -> None:
    assert is_ip_literal(host) is literal


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("localhost", True),
        ("LOCALHOST", True),
        ("dev.localhost", True),
        ("a.b.localhost", True),
        ("notlocalhost", False),
        ("localhost.example.com", False),
        ("127.0.0.1", False),
    ],
)
def test_localhost_names(host: str, local: bool) -> None:
    assert is_localhost_name(host) is local
