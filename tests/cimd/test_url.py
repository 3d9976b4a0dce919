from __future__ import annotations

import pytest

from reconciler.cimd.url import cimd_url_problems


@pytest.mark.parametrize(
    "url", ["https://app.example/oauth/client.json", "https://app.example:8443/c"]
)
def test_good_urls(url: str) -> None:
    assert cimd_url_problems(url) == []


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://app.example/c", "must use https"),
        ("https://app.example/", "needs a path beyond /"),
        ("https://app.example", "needs a path beyond /"),
        ("https://app.example/c?x=1", "must not have a query"),
        ("https://app.example/c#", "must not have a fragment"),
        ("https://user@app.example/c", "must not contain userinfo"),
        ("https://app.example/a/../c", "must not contain . or .. path segments"),
        ("https://app.example/a/%2E%2e/c", "must not contain . or .. path segments"),
        ("https://localhost/c", "must not point at localhost"),
        ("https://127.0.0.1/c", "must not use an IP address as its host"),
        ("https://[::1]/c", "must not use an IP address as its host"),
        ("https://app.example/%zz", "has a % not followed by two hex digits"),
        ("https://app.example:0/c", "must not use port 0"),
        (" https://app.example/c", "has surrounding whitespace"),
        ("https://app.example/" + "a" * 120, "is longer than 120 bytes"),
    ],
)
def test_bad_urls(url: str, problem: str) -> None:
    assert problem in cimd_url_problems(url)
