"""Client IP addresses to the network behind them, the unit detection counts (``ip_asn``).

Real gateway logs carry the client's IP, not its ASN. Detection asks how many networks a cohort's accounts come
from against what the same number of the log's accounts would (``engine.detect.evidence``): the answer needs a
network per request, not an address. With a MaxMind-format database (``promptsim run --asn-db``: GeoLite2-ASN,
ipinfo's or any .mmdb whose records hold ``autonomous_system_number``) an address becomes ``AS<number>``; without
one, or for an address the database does not list, its /24 (IPv4) or /48 (IPv6) prefix stands in, written
``net:203.0.113.0/24``, and the reasons say so. The address itself is not stored: only its network.

A night repeats its clients, so each distinct address is looked up once (a dictionary in front of the database).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

#: what a prefix network's value starts with (an ASN's starts with "AS")
PREFIX = "net:"
#: the prefix lengths that stand in for a network without a database: a /24 is the smallest block routed on the
#: internet, a /48 the usual IPv6 site
IPV4_PREFIX = 24
IPV6_PREFIX = 48
#: distinct addresses remembered; beyond it the cache starts again (a night of 1M requests has far fewer clients)
CACHE_SIZE = 1_000_000


class Networks:
    """``networks(ip)`` -> ``"AS15169"`` or ``"net:203.0.113.0/24"``; ValueError for a value that is no address."""

    def __init__(self, asn_db: str | Path | None = None) -> None:
        self.path = str(asn_db) if asn_db else None
        self._db: Any = None
        if self.path:
            import maxminddb

            try:
                self._db = maxminddb.open_database(self.path)
            except (OSError, ValueError, maxminddb.InvalidDatabaseError) as e:
                raise ValueError(f"{self.path}: cannot open the ASN database ({e})") from None
        self._seen: dict[str, str] = {}

    def __call__(self, ip: Any) -> str:
        if type(ip) is not str:
            raise ValueError(f"ip is {type(ip).__name__}, not an address string")
        known = self._seen.get(ip)
        if known is not None:
            return known
        try:
            addr = ipaddress.ip_address(ip.strip())
        except ValueError:
            raise ValueError(f"not an IP address: {ip[:60]!r}") from None
        net = self._asn(addr) or prefix_of(addr)
        if len(self._seen) >= CACHE_SIZE:
            self._seen.clear()
        self._seen[ip] = net
        return net

    def _asn(self, addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
        if self._db is None:
            return None
        record = self._db.get(addr)
        number = record.get("autonomous_system_number") if isinstance(record, dict) else None
        return f"AS{number}" if isinstance(number, int) and number > 0 else None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()


def prefix_of(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """The address's /24 (IPv4) or /48 (IPv6) network, as ``net:203.0.113.0/24``; an IPv4-mapped IPv6 address
    counts as its IPv4 address."""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    bits = IPV4_PREFIX if addr.version == 4 else IPV6_PREFIX
    return PREFIX + str(ipaddress.ip_network(f"{addr}/{bits}", strict=False))


def is_prefix(network: str) -> bool:
    """Whether a stored network value is an address prefix (no ASN database) rather than an ASN."""
    return network.startswith(PREFIX)
