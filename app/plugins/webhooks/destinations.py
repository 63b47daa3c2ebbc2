"""Task: T-166, T-220, T-277
Spec: specs/features/jobs.md §Outbound requests

Which addresses an outbound request (a webhook delivery) may connect to.

A URL a user registers could name anything the server can reach: its own loopback, the private
network it runs in, the cloud's metadata service. So every address a name resolves to is
checked, and only public ones pass, unless the operator allows a host or network
(`OUTBOUND_ALLOW_HOSTS`). The check is on the *address*, after DNS resolution: checking the name
would let `evil.example` resolve to 10.0.0.1.
"""

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# One label of a host name (RFC 1123): letters, digits and inner hyphens; `_` as DNS has them.
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")

# Cloud metadata services that are not in a range refused anyway: Azure's wire server is a public
# address, and refusing these by name in the reason helps whoever reads the log.
METADATA = {
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack, DigitalOcean …
    ipaddress.ip_address("168.63.129.16"),  # Azure wire server
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
}
SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
# IPv6 ranges that carry an IPv4 address in their last 32 bits.
COMPATIBLE = ipaddress.ip_network("::/96")  # IPv4-compatible, `::a.b.c.d` (deprecated)
TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # IPv4-translated, `::ffff:0:a.b.c.d`
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # the well-known NAT64 prefix (RFC 6052)
# Local-use NAT64 (RFC 8215): the operator picks a prefix of 48 to 96 bits inside it, and RFC
# 6052 puts the IPv4 address at a place that depends on that length (skipping bits 64-71).
LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")
# (prefix length, the bit offsets of the IPv4 address's 32 bits, in 8-bit pieces) per RFC 6052.
# The /96 layout first: the usual one, whose reason is given when it is refused.
NAT64_LAYOUTS = {
    96: (96, 104, 112, 120),
    64: (72, 80, 88, 96),
    56: (56, 72, 80, 88),
    48: (48, 56, 72, 80),
}


def _octets(address: ipaddress.IPv6Address, offsets: tuple[int, ...]) -> ipaddress.IPv4Address:
    value = int(address)
    octets = bytes((value >> (120 - offset)) & 0xFF for offset in offsets)
    return ipaddress.IPv4Address(octets)


def embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 one stands for: the connection reaches that IPv4 host (through
    the kernel's mapping, a translator or a tunnel), so that is what is judged. Empty for an
    IPv4 address and for an IPv6 address that embeds none.

    IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d` (not `::` and `::1`, which are
    IPv6's own), IPv4-translated `::ffff:0:a.b.c.d`, 6to4 `2002:AABB:CCDD::/48`, Teredo
    `2001::/32` (its server, and its client, stored XOR-ed), NAT64 `64:ff9b::/96`, and
    local-use NAT64 `64:ff9b:1::/48` at every place its prefix length may put it."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address.teredo is not None:
        server, client = address.teredo
        return [client, server]
    if address in LOCAL_NAT64:
        return [_octets(address, layout) for layout in NAT64_LAYOUTS.values()]
    low = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in NAT64 or address in TRANSLATED:
        return [low]
    if address in COMPATIBLE and int(address) > 1:
        return [low]
    return []


def refusal(address: IPAddress) -> str | None:
    """Why `address` is not a public destination, or None when it is. An IPv6 address that
    embeds an IPv4 one is judged by that IPv4 address (all of them, when it may be at several
    places)."""
    embedded = embedded_ipv4(address)
    if not embedded:
        return _refusal(address)
    reasons = [reason for reason in map(_refusal, embedded) if reason is not None]
    if not reasons:
        return None
    if address in LOCAL_NAT64 and _refusal(embedded[0]) is None:
        return "a local-use NAT64 address whose IPv4 address depends on the local prefix"
    return reasons[0]


def _refusal(address: IPAddress) -> str | None:
    if address in METADATA:
        return "a cloud metadata address"
    checks = (
        (address.is_loopback, "a loopback address"),
        (address.is_unspecified, "the unspecified address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address in SHARED, "a shared (carrier-grade NAT) address"),
        (address.is_private, "a private address"),
    )
    for refused, reason in checks:
        if refused:
            return reason
    # Whatever else is not globally routable: reserved, documentation, benchmarking ranges.
    return None if address.is_global else "a reserved address"


def hosts_and_networks(entries: Iterable[str]) -> tuple[frozenset[str], tuple[IPNetwork, ...]]:
    """`OUTBOUND_ALLOW_HOSTS` read: host names (lower case, no trailing dot) and networks.
    Raises ValueError naming an entry that is neither."""
    hosts, networks = set(), []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
            continue
        except ValueError:
            pass
        name = entry.lower().rstrip(".")
        # A port or a scheme (`127.0.0.1:19090`, `https://x`) would never match a request's
        # host: refused here, not found out later as a refused delivery.
        if not all(_LABEL.fullmatch(label) for label in name.split(".")):
            raise ValueError(f"{entry!r} is neither a host name nor an address or network")
        hosts.add(name)
    return frozenset(hosts), tuple(networks)


@dataclass(frozen=True)
class Allowances:
    """The operator's exceptions (`OUTBOUND_ALLOW_HOSTS`): host names and networks that may be
    reached although they are not public."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> "Allowances":
        """Raises ValueError naming an entry that is neither a host name nor a network."""
        return cls(*hosts_and_networks(entries))

    def allows(self, host: str, address: IPAddress) -> bool:
        if host.lower().rstrip(".") in self.hosts:
            return True

        def listed(ip: IPAddress) -> bool:
            return any(ip in network for network in self.networks)

        # An embedding address is allowed as what it reaches: every IPv4 address it may stand
        # for must be listed (one listed place of a local-use NAT64 address is not enough).
        embedded = embedded_ipv4(address)
        return listed(address) or (bool(embedded) and all(map(listed, embedded)))

    def names(self, host: str) -> bool:
        """Whether `host` as written is allowed, before any resolution: a listed name, or an
        address inside a listed network."""
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return host.lower().rstrip(".") in self.hosts
        return any(address in network for network in self.networks)

    def refusal(self, host: str, address: IPAddress) -> str | None:
        """Why connecting to `address` for `host` is refused, or None when it may go ahead."""
        return None if self.allows(host, address) else refusal(address)
