"""Decoders of single rtnetlink attribute values: (buffer, payload start, payload end)
-> value. Each checks the length it reads, so a malformed reply raises
NetlinkDecodeError instead of reading a neighbour's bytes. Used by rtnl_decode's tables.
"""

from __future__ import annotations

import socket
import struct
import sys

from nsexplorer.kernel import netlink
from nsexplorer.kernel.netlink import Buf, NetlinkDecodeError
from nsexplorer.model import Counters

AF_INET = socket.AF_INET
AF_INET6 = socket.AF_INET6

STATS64 = struct.Struct("=8Q")
U16 = struct.Struct("=H")
BE16 = struct.Struct(">H")
RANGE16 = struct.Struct("=HH")
RANGE32 = struct.Struct("=II")
# struct ifa_cacheinfo {ifa_prefered; ifa_valid; cstamp; tstamp}: the lifetimes lead.
CACHEINFO_SIZE = 16
LIFETIMES = struct.Struct("=II")
FOREVER = 0xFFFFFFFF  # INFINITY_LIFE_TIME

_FS_ENCODING = sys.getfilesystemencoding()
_FS_ERRORS = sys.getfilesystemencodeerrors()


def _short(what: str, a: int, b: int) -> NetlinkDecodeError:
    return NetlinkDecodeError(f"{what} attribute of {b - a} bytes is too short")


def u8(buf: Buf, a: int, b: int) -> int:
    if b <= a:
        raise _short("u8", a, b)
    return buf[a]


def u16(buf: Buf, a: int, b: int) -> int:
    if b - a < 2:
        raise _short("u16", a, b)
    value: int = U16.unpack_from(buf, a)[0]
    return value


def be16(buf: Buf, a: int, b: int) -> int:
    """A 16-bit value in network byte order (a UDP port)."""
    if b - a < 2:
        raise _short("be16", a, b)
    return int(BE16.unpack_from(buf, a)[0])


def be32(buf: Buf, a: int, b: int) -> int:
    """A 32-bit value in network byte order (an IPv6 flow label)."""
    if b - a < 4:
        raise _short("be32", a, b)
    return int.from_bytes(buf[a : a + 4], "big")


def be64(buf: Buf, a: int, b: int) -> int:
    """A 64-bit value in network byte order (a tunnel id)."""
    if b - a < 8:
        raise _short("be64", a, b)
    return int.from_bytes(buf[a : a + 8], "big")


def u32(buf: Buf, a: int, b: int) -> int:
    if b - a < 4:
        raise _short("u32", a, b)
    value: int = netlink.U32.unpack_from(buf, a)[0]
    return value


def i32(buf: Buf, a: int, b: int) -> int:
    if b - a < 4:
        raise _short("s32", a, b)
    value: int = netlink.I32.unpack_from(buf, a)[0]
    return value


def flag(buf: Buf, a: int, b: int) -> bool:
    return True


def text(buf: Buf, a: int, b: int) -> str:
    nul = buf.find(b"\0", a, b)
    return str(buf[a : b if nul < 0 else nul], _FS_ENCODING, _FS_ERRORS)


IFLA_ALT_IFNAME = 53


def altnames(buf: Buf, a: int, b: int) -> tuple[str, ...]:
    """IFLA_PROP_LIST: the interface's alternative names (IFLA_ALT_IFNAME each; `ip link
    property add dev X altname Y`, systemd's predictable names), in the kernel's order."""
    return tuple(
        text(payload, 0, len(payload))
        for atype, payload in netlink.iter_attrs(buf, a, b)
        if atype == IFLA_ALT_IFNAME
    )


def mac(buf: Buf, a: int, b: int) -> str:
    return buf[a:b].hex(":")


def ip(buf: Buf, a: int, b: int) -> str:
    """An address whose family its length tells (rtnetlink sends 4 or 16 bytes)."""
    n = b - a
    if n == 4:
        return socket.inet_ntop(AF_INET, buf[a:b])
    if n == 16:
        return socket.inet_ntop(AF_INET6, buf[a:b])
    raise NetlinkDecodeError(f"address attribute of {n} bytes")


def via(buf: Buf, a: int, b: int) -> str | None:
    """RTA_VIA: struct rtvia {family; address} (e.g. an IPv6 gateway for IPv4)."""
    if b - a < 2:
        raise _short("via", a, b)
    family = U16.unpack_from(buf, a)[0]
    if family not in (AF_INET, AF_INET6):
        return None
    return ip(buf, a + 2, b)


def stats64(buf: Buf, a: int, b: int) -> Counters:
    if b - a < STATS64.size:
        raise _short("stats64", a, b)
    rxp, txp, rxb, txb, rxe, txe, rxd, txd = STATS64.unpack_from(buf, a)
    return Counters(
        rx_bytes=rxb,
        rx_packets=rxp,
        rx_errors=rxe,
        rx_dropped=rxd,
        tx_bytes=txb,
        tx_packets=txp,
        tx_errors=txe,
        tx_dropped=txd,
    )


def lifetimes(buf: Buf, a: int, b: int) -> tuple[int | None, int | None]:
    """IFA_CACHEINFO as (valid, preferred) seconds left (the kernel counts them down at
    each dump), None for forever; the creation and update stamps are not read."""
    if b - a < CACHEINFO_SIZE:
        raise _short("cacheinfo", a, b)
    preferred, valid = LIFETIMES.unpack_from(buf, a)
    return (None if valid == FOREVER else valid, None if preferred == FOREVER else preferred)


def span(buf: Buf, a: int, b: int) -> tuple[int, int]:
    return a, b


def port_range(buf: Buf, a: int, b: int) -> str:
    """fib_rule_port_range (two u16) as ip prints it: "80" or "1000-2000"."""
    if b - a < RANGE16.size:
        raise _short("port range", a, b)
    lo, hi = RANGE16.unpack_from(buf, a)
    return str(lo) if lo == hi else f"{lo}-{hi}"


def uid_range(buf: Buf, a: int, b: int) -> str:
    if b - a < RANGE32.size:
        raise _short("uid range", a, b)
    lo, hi = RANGE32.unpack_from(buf, a)
    return f"{lo}-{hi}"
