"""Task: T-166
Spec: specs/features/jobs.md §Outbound requests

Which addresses an outbound request (a webhook delivery) may connect to.

A URL a user registers could name anything the server can reach: its own loopback, the private
network it runs in, the cloud's metadata service. So every address a name resolves to is
checked, and only public ones pass, unless the operator allows a host or network
(`OUTBOUND_ALLOW_HOSTS`). The check is on the *address*, after DNS resolution: checking the name
would let `evil.example` resolve to 10.0.0.1.
"""

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from app.core import IPNetwork, hosts_and_networks

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata services that are not in a range refused anyway: Azure's wire server is a public
# address, and refusing these by name in the reason helps whoever reads the log.
METADATA = {
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack, DigitalOcean …
    ipaddress.ip_address("168.63.129.16"),  # Azure wire server
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
}
SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # IPv4 addresses embedded in IPv6 (RFC 6052)


def embedded_ipv4(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one stands for (`::ffff:127.0.0.1`, `64:ff9b::a00:1`), else
    the address itself: the connection reaches that IPv4 host, so that is what is judged."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def refusal(address: IPAddress) -> str | None:
    """Why `address` is not a public destination, or None when it is."""
    address = embedded_ipv4(address)
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
        candidates = {address, embedded_ipv4(address)}
        return any(ip in network for ip in candidates for network in self.networks)

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
