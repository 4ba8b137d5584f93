"""A matcher query, parsed once: which forms (number, pid, address, CIDR, MAC, hex id,
interface name) the text could be. Only ASCII digits make numbers, every number is
bounded before ``int()``, and nothing here raises for any input."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache

INODE_LIMIT = 2**64
# Enough digits for any pid (the kernel's ceiling is 2**22) and any inode (2**64 - 1).
_INODE = re.compile(r"[0-9]{1,20}", re.ASCII)
_PID = re.compile(r"pid:([0-9]{1,10})", re.ASCII)
_HEX = re.compile(r"[0-9a-f]+", re.ASCII | re.IGNORECASE)
_MAC_SEP = re.compile(r"[0-9a-f]{2}([:-])(?:[0-9a-f]{2}\1){4}[0-9a-f]{2}", re.ASCII | re.I)
_MAC_DOT = re.compile(r"[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}", re.ASCII | re.I)
_MAC_PART = re.compile(r"[0-9a-f]{1,2}(?:[:-][0-9a-f]{0,2})+|[0-9a-f]{4}\.[0-9a-f.]*", re.A | re.I)
_IP_CHARS = re.compile(r"[0-9a-f:.%/]+", re.ASCII | re.IGNORECASE)
# The kernel's dev_valid_name: 1-15 bytes, not "." or "..", no "/", ":" or whitespace.
_IFNAME_BAD = re.compile(r"[/:\s\x00]", re.ASCII)
_QUERY_LIMIT = 4096  # longer than any name, path or address: nothing exact can match


IPAddr = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNet = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Query:
    raw: str
    fold: str
    inode: int | None = None
    pid: int | None = None
    ip: IPAddr | None = None  # an address, alone or with a prefix length
    zone: str = ""  # fe80::1%eth0
    prefixlen: int | None = None  # given with the address (10.0.0.5/24)
    network: IPNet | None = None  # a CIDR: 10.0.0.0/24 (no host bits)
    mac: str = ""  # 12 lower-case hex digits
    mac_part: str = ""  # hex digits of a partial MAC ("02:42:ac")
    hex_id: str = ""  # lower-case hex: a container id prefix
    ifname: bool = False  # could be an interface name
    altname: bool = False  # could be an interface's alternative name (up to 127 bytes)
    long: bool = False

    @staticmethod
    def parse(query: str) -> Query:
        if len(query) > _QUERY_LIMIT:
            return Query(query, query.casefold(), long=True)
        inode = int(query) if _INODE.fullmatch(query) else None
        if inode is not None and inode >= INODE_LIMIT:
            inode = None
        pid_m = _PID.fullmatch(query)
        ip, zone, plen, net = parse_ip(query)
        return Query(
            raw=query,
            fold=query.casefold(),
            inode=inode,
            pid=int(pid_m.group(1)) if pid_m else None,
            ip=ip,
            zone=zone,
            prefixlen=plen,
            network=net,
            mac=parse_mac(query),
            mac_part=hex_of(query) if _MAC_PART.fullmatch(query) else "",
            hex_id=query.lower() if _HEX.fullmatch(query) else "",
            ifname=valid_ifname(query),
            altname=valid_ifname(query, ALTNAME_BYTES),
        )


def parse_ip(query: str) -> tuple[IPAddr | None, str, int | None, IPNet | None]:
    """(address, zone, prefix length, None) or (None, "", None, network) or nothing."""
    if not _IP_CHARS.fullmatch(query.split("%", 1)[0]) or not any(c in query for c in ".:"):
        return None, "", None, None
    addr_text, _, plen_text = query.partition("/")
    addr_text, _, zone = addr_text.partition("%")
    try:
        ip = ipaddress.ip_address(addr_text)
    except ValueError:
        return None, "", None, None
    if not plen_text:
        return ip, zone, None, None
    if zone or not plen_text.isascii() or not plen_text.isdigit() or len(plen_text) > 3:
        return None, "", None, None
    try:
        net = ipaddress.ip_network(f"{addr_text}/{plen_text}", strict=False)
    except ValueError:
        return None, "", None, None
    if net.network_address == ip and net.prefixlen < net.max_prefixlen:
        return None, "", None, net
    # Host bits set (10.0.0.5/24), or one address (10.0.0.5/32): an address as printed.
    return ip, "", net.prefixlen, None


def parse_mac(query: str) -> str:
    if _MAC_SEP.fullmatch(query) or _MAC_DOT.fullmatch(query):
        return hex_of(query)
    if len(query) == 12 and _HEX.fullmatch(query):
        return query.lower()
    return ""


def hex_of(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch not in ":-.")


@lru_cache(maxsize=65536)
def ip_of(text: str) -> IPAddr | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


IFNAME_BYTES = 15  # IFNAMSIZ - 1
ALTNAME_BYTES = 127  # ALTIFNAMSIZ - 1


def valid_ifname(name: str, limit: int = IFNAME_BYTES) -> bool:
    if name in ("", ".", "..") or _IFNAME_BAD.search(name):
        return False
    try:  # raw bytes kept by os.fsdecode count one each; other surrogates are no name
        return len(name.encode("utf-8", "surrogateescape")) <= limit
    except UnicodeEncodeError:
        return False
