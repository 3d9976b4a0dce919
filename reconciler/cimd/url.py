"""Client ID Metadata Document URL rules (CIMD draft §3, stricter where Auth0 is)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from reconciler.core.hosts import is_ip_literal, is_localhost_name

__all__ = ["MAX_URL_BYTES", "cimd_url_problems"]

MAX_URL_BYTES = 120
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_DOT_SEGMENT = re.compile(r"(^|/)(\.|%2e){1,2}(/|$)", re.IGNORECASE)


def cimd_url_problems(url: str, *, allow_loopback: bool = False) -> list[str]:
    """Every reason ``url`` cannot be a Client ID Metadata Document URL (empty if none)."""
    problems: list[str] = []
    if url != url.strip():
        problems.append("has surrounding whitespace")
    if any(ord(c) <= 0x20 or ord(c) == 0x7F or c == "\\" for c in url.strip()):
        problems.append("contains whitespace, control characters or a backslash")
    if len(url.encode("utf-8")) > MAX_URL_BYTES:
        problems.append(f"is longer than {MAX_URL_BYTES} bytes")
    if _BAD_PERCENT.search(url):
        problems.append("has a % not followed by two hex digits")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        return [*problems, f"is not a valid URL ({exc})"]
    if parts.scheme != "https" or not url.startswith("https://"):
        problems.append("must use https")
    host = parts.hostname or ""
    if not host:
        problems.append("has no host")
    if "@" in parts.netloc:
        problems.append("must not contain userinfo")
    if port == 0:
        problems.append("must not use port 0")
    if "#" in url:
        problems.append("must not have a fragment")
    if "?" in url:
        problems.append("must not have a query")
    if parts.path in ("", "/"):
        problems.append("needs a path beyond /")
    if _DOT_SEGMENT.search(parts.path):
        problems.append("must not contain . or .. path segments")
    if host and not allow_loopback:
        if is_localhost_name(host):
            problems.append("must not point at localhost")
        elif is_ip_literal(host):
            problems.append("must not use an IP address as its host")
    return problems
