"""Which hosts are loopback hosts and which are IP literals: one answer for every rule.

A loopback host is ``localhost`` or an address in ``127.0.0.0/8`` or ``::1``: the hosts
on which plain http never leaves the machine, so a redirect URI (RFC 8252 §7.3, §8.3), an
origin or a local test issuer may use it. RFC 8252 writes ``127.0.0.1``, but the whole
block is the loopback interface (RFC 6890).

``*.localhost`` names are not loopback hosts here. RFC 6761 §6.3 reserves them, but only
asks resolvers (SHOULD) to answer them with a loopback address: ``localhost`` is in every
hosts file, its subdomains resolve to loopback only where the resolver honours RFC 6761.
A rule that lets plain http through does not rest on that. They are still names for this
machine, so a rule that refuses local targets refuses them all (``is_localhost_name``).

Hosts are taken as ``urlsplit(...).hostname`` gives them: IPv6 without brackets.
"""

from __future__ import annotations

import ipaddress

__all__ = ["is_ip_literal", "is_localhost_name", "is_loopback_host"]

_LOOPBACK_NAME = "localhost"
_LOOPBACK_NETWORKS = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


def is_ip_literal(host: str) -> bool:
    """Whether ``host`` is an IPv4 or IPv6 address rather than a name."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` is ``localhost`` or an address in 127.0.0.0/8 or ::1."""
    if host.lower() == _LOOPBACK_NAME:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in _LOOPBACK_NETWORKS)


def is_localhost_name(host: str) -> bool:
    """Whether ``host`` is ``localhost`` or a name under it (RFC 6761 §6.3)."""
    name = host.lower()
    return name == _LOOPBACK_NAME or name.endswith(f".{_LOOPBACK_NAME}")
