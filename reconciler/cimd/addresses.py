"""Where a fetch may connect: host resolution and the RFC 6890 special-use address ranges.

An address in a special-use range (private, loopback, link-local, documentation, ...)
is refused (CIMD §8.6), and so is an IPv6 address that stands for or carries such an
IPv4 address: IPv4-mapped, NAT64, 6to4 and Teredo.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Mapping

__all__ = [
    "Resolver",
    "domain_allowed",
    "resolve_host",
    "special_use_reason",
]

Resolver = Callable[[str, int], list[str]]
"""(host, port) -> the IP addresses the host resolves to."""


def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, in the resolver's order (the default Resolver)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def domain_allowed(host: str, allow_domains: Iterable[str]) -> bool:
    """Whether ``host`` is one of ``allow_domains``; ``*.example.com`` matches subdomains only."""
    host = host.lower()
    for pattern in (p.lower() for p in allow_domains):
        if pattern.startswith("*.") and host.endswith(pattern[1:]):
            return True
        if host == pattern:
            return True
    return False


def _networks(
    names: Mapping[str, str],
) -> list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]]:
    return [(ipaddress.ip_network(network), name) for network, name in names.items()]


# The first match names the range, so narrower ranges come before the ones holding them.
_SPECIAL_USE = _networks(
    {
        "0.0.0.0/8": "'this network'",
        "10.0.0.0/8": "private-use",
        "100.64.0.0/10": "shared address space (carrier-grade NAT)",
        "127.0.0.0/8": "loopback",
        "169.254.0.0/16": "link-local",
        "172.16.0.0/12": "private-use",
        "192.0.0.0/24": "reserved for IETF protocol assignments",
        "192.0.2.0/24": "reserved for documentation",
        "192.88.99.0/24": "6to4 relay anycast",
        "192.168.0.0/16": "private-use",
        "198.18.0.0/15": "reserved for benchmarking",
        "198.51.100.0/24": "reserved for documentation",
        "203.0.113.0/24": "reserved for documentation",
        "224.0.0.0/4": "multicast",
        "255.255.255.255/32": "limited broadcast",
        "240.0.0.0/4": "reserved",
        "::/128": "unspecified",
        "::1/128": "loopback",
        "::/96": "IPv4-compatible (deprecated)",
        "64:ff9b:1::/48": "local-use NAT64",
        "100::/64": "discard-only",
        "2001:db8::/32": "reserved for documentation",
        "2001::/23": "reserved for IETF protocol assignments",
        "3fff::/20": "reserved for documentation",
        "5f00::/16": "segment routing (SRv6)",
        "fc00::/7": "unique local",
        "fe80::/10": "link-local",
        "fec0::/10": "site-local",
        "ff00::/8": "multicast",
    }
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def special_use_reason(address: str) -> str | None:
    """Why ``address`` must not be fetched from (a special-use range), or None if it may.

    Raises ValueError when ``address`` is not an IP address.
    """
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        translated = _translated_ipv4(ip)
        if translated is not None:
            reason = special_use_reason(str(translated))
            return f"{translated} in IPv6 form, {reason}" if reason else None
        for carried in _tunnelled_ipv4s(ip):
            reason = special_use_reason(str(carried))
            if reason:
                return f"a tunnel address carrying {carried}, {reason}"
    for network, name in _SPECIAL_USE:
        if ip in network:
            return f"{name} ({network})"
    if ip.is_reserved or not ip.is_global:
        return "not globally routable"
    return None


def _translated_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address that an IPv4-mapped or NAT64 address stands for."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    return None


def _tunnelled_ipv4s(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses inside a 6to4 or Teredo address."""
    if ip.sixtofour is not None:
        return (ip.sixtofour,)
    if ip.teredo is not None:
        return ip.teredo
    return ()
