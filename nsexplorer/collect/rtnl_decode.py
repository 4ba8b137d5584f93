"""Table-driven decoders for rtnetlink replies: links, addresses, routes, policy rules
and nexthop objects, decoded in place from the receive buffer into raw model terms.

Each message type has one attribute table, type -> (key, decoder); netlink.walk() skips
every attribute the table does not name without copying it (a host link carries ~50,
a handful matter). Decoders check the lengths they read: a malformed reply raises
NetlinkDecodeError, never reads a neighbour's bytes. Pure functions of the bytes the
kernel sent, tested on recorded dumps; words are ip's (rtnl_names.py).
"""

from __future__ import annotations

import socket
import struct
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from nsexplorer.collect import netlink
from nsexplorer.collect import rtnl_names as words
from nsexplorer.collect.netlink import (
    NLMSGHDR,
    AttrTable,
    Buf,
    NetlinkDecodeError,
    NetlinkError,
    RtSocket,
    walk,
)
from nsexplorer.model import Address, Counters, Route, Rule

AF_INET = socket.AF_INET
AF_INET6 = socket.AF_INET6
ARPHRD_LOOPBACK = 772
RTM_F_CLONED = 0x200
FIB_RULE_INVERT = 0x2
IFF_TUN = 1
IFF_TAP = 2

IFINFOMSG = struct.Struct("=BxHiII")
IFADDRMSG = struct.Struct("=BBBBI")
RTMSG = struct.Struct("=BBBBBBBBI")
FIB_RULE_HDR = struct.Struct("=BBBBBBBBI")
NHMSG = struct.Struct("=BBBBI")
RTNEXTHOP = struct.Struct("=HBBi")
NEXTHOP_GRP = struct.Struct("=IBBH")
STATS64 = struct.Struct("=8Q")
U16 = struct.Struct("=H")
RANGE16 = struct.Struct("=HH")
RANGE32 = struct.Struct("=II")
_HDR = NLMSGHDR.size

_FS_ENCODING = sys.getfilesystemencoding()
_FS_ERRORS = sys.getfilesystemencodeerrors()

# Kinds whose IFLA_LINK is the device they are stacked on (veth's is its peer).
STACKED_KINDS = frozenset(("macvlan", "macvtap", "ipvlan", "ipvtap", "vlan", "macsec"))


# ---------------------------------------------------------------- raw values


@dataclass(slots=True)
class RawLink:
    """One link as the kernel described it, before peers and masters are resolved."""

    index: int
    name: str
    kind: str
    state: str
    mtu: int
    mac: str
    alias: str
    master: int | None  # ifindex in the same namespace
    link: int | None  # IFLA_LINK: the peer's (or parent's) ifindex; None when absent
    link_netnsid: int | None  # where ``link`` lives, numbered by THIS namespace
    counters: Counters | None
    slave_kind: str = ""
    arphrd: int = 0
    flags: int = 0  # ifi_flags
    lower: int | None = None  # IFLA_VXLAN_LINK: a vxlan's lower device


@dataclass(slots=True)
class RawAddr:
    index: int
    address: Address


@dataclass(slots=True)
class RawHop:
    """One path of RTA_MULTIPATH; ``oif`` named later."""

    gateway: str | None
    oif: int | None
    weight: int
    flags: tuple[str, ...]


@dataclass(slots=True)
class RawRoute:
    oif: int | None
    route: Route  # ``dev`` and ``nexthops`` filled in later
    hops: tuple[RawHop, ...] = ()


@dataclass(slots=True)
class RawNexthop:
    """A nexthop object (RTM_NEWNEXTHOP): one path, a blackhole, or a group."""

    id: int
    gateway: str | None = None
    oif: int | None = None
    blackhole: bool = False
    group: tuple[tuple[int, int], ...] = ()  # (member id, weight)
    flags: tuple[str, ...] = ()


@dataclass(slots=True)
class Dump:
    links: list[RawLink] = field(default_factory=list)
    addrs: list[RawAddr] = field(default_factory=list)
    routes: list[RawRoute] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    nexthops: dict[int, RawNexthop] = field(default_factory=dict)
    # Dumps the kernel kept flagging NLM_F_DUMP_INTR ("links", "routes", ...).
    interrupted: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- attribute decoders


def _short(what: str, a: int, b: int) -> NetlinkDecodeError:
    return NetlinkDecodeError(f"{what} attribute of {b - a} bytes is too short")


def _u8(buf: Buf, a: int, b: int) -> int:
    if b <= a:
        raise _short("u8", a, b)
    return buf[a]


def _u16(buf: Buf, a: int, b: int) -> int:
    if b - a < 2:
        raise _short("u16", a, b)
    value: int = U16.unpack_from(buf, a)[0]
    return value


def _u32(buf: Buf, a: int, b: int) -> int:
    if b - a < 4:
        raise _short("u32", a, b)
    value: int = netlink.U32.unpack_from(buf, a)[0]
    return value


def _i32(buf: Buf, a: int, b: int) -> int:
    if b - a < 4:
        raise _short("s32", a, b)
    value: int = netlink.I32.unpack_from(buf, a)[0]
    return value


def _flag(buf: Buf, a: int, b: int) -> bool:
    return True


def _str(buf: Buf, a: int, b: int) -> str:
    nul = buf.find(b"\0", a, b)
    return str(buf[a : b if nul < 0 else nul], _FS_ENCODING, _FS_ERRORS)


def _mac(buf: Buf, a: int, b: int) -> str:
    return buf[a:b].hex(":")


def _ip(buf: Buf, a: int, b: int) -> str:
    """An address whose family its length tells (rtnetlink sends 4 or 16 bytes)."""
    n = b - a
    if n == 4:
        return socket.inet_ntop(AF_INET, buf[a:b])
    if n == 16:
        return socket.inet_ntop(AF_INET6, buf[a:b])
    raise NetlinkDecodeError(f"address attribute of {n} bytes")


def _via(buf: Buf, a: int, b: int) -> str | None:
    """RTA_VIA: struct rtvia {family; address} (e.g. an IPv6 gateway for IPv4)."""
    if b - a < 2:
        raise _short("via", a, b)
    family = U16.unpack_from(buf, a)[0]
    if family not in (AF_INET, AF_INET6):
        return None
    return _ip(buf, a + 2, b)


def _stats64(buf: Buf, a: int, b: int) -> Counters:
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


def _span(buf: Buf, a: int, b: int) -> tuple[int, int]:
    return a, b


def _range(buf: Buf, a: int, b: int) -> str:
    """fib_rule_port_range (two u16) as ip prints it: "80" or "1000-2000"."""
    if b - a < RANGE16.size:
        raise _short("port range", a, b)
    lo, hi = RANGE16.unpack_from(buf, a)
    return str(lo) if lo == hi else f"{lo}-{hi}"


def _uid_range(buf: Buf, a: int, b: int) -> str:
    if b - a < RANGE32.size:
        raise _short("uid range", a, b)
    lo, hi = RANGE32.unpack_from(buf, a)
    return f"{lo}-{hi}"


# IFLA_INFO_DATA of the kinds whose data matters: tun/tap's type, vxlan's lower device.
_INFO_DATA: dict[str, AttrTable] = {
    "tun": {3: ("tun_type", _u8)},  # IFLA_TUN_TYPE
    "vxlan": {3: ("lower", _u32)},  # IFLA_VXLAN_LINK
}
_LINKINFO: AttrTable = {
    1: ("kind", _str),  # IFLA_INFO_KIND
    2: ("data", _span),  # IFLA_INFO_DATA
    4: ("slave_kind", _str),  # IFLA_INFO_SLAVE_KIND
}


def _linkinfo(buf: Buf, a: int, b: int) -> dict[str, Any]:
    info = walk(buf, a, b, _LINKINFO)
    data = info.pop("data", None)
    table = _INFO_DATA.get(info.get("kind", ""))
    if data is not None and table is not None:
        info.update(walk(buf, data[0], data[1], table))
    return info


_LINK: AttrTable = {
    1: ("mac", _mac),  # IFLA_ADDRESS
    3: ("name", _str),  # IFLA_IFNAME
    4: ("mtu", _u32),  # IFLA_MTU
    5: ("link", _u32),  # IFLA_LINK
    10: ("master", _u32),  # IFLA_MASTER
    16: ("operstate", _u8),  # IFLA_OPERSTATE
    18: ("info", _linkinfo),  # IFLA_LINKINFO
    20: ("alias", _str),  # IFLA_IFALIAS
    23: ("counters", _stats64),  # IFLA_STATS64
    37: ("link_netnsid", _i32),  # IFLA_LINK_NETNSID
}
_ADDR: AttrTable = {
    1: ("address", _ip),  # IFA_ADDRESS
    2: ("local", _ip),  # IFA_LOCAL
    3: ("label", _str),  # IFA_LABEL
    8: ("flags", _u32),  # IFA_FLAGS
}
_METRICS: AttrTable = {2: ("mtu", _u32)}  # RTAX_MTU
_HOP: AttrTable = {
    5: ("gateway", _ip),  # RTA_GATEWAY
    18: ("via", _via),  # RTA_VIA
}


def _metrics(buf: Buf, a: int, b: int) -> dict[str, Any]:
    return walk(buf, a, b, _METRICS)


def _multipath(buf: Buf, a: int, b: int) -> tuple[RawHop, ...]:
    """RTA_MULTIPATH: struct rtnexthop {len, flags, hops (weight - 1), ifindex} each
    followed by its own attributes."""
    hops: list[RawHop] = []
    while a + RTNEXTHOP.size <= b:
        length, flags, weight_1, ifindex = RTNEXTHOP.unpack_from(buf, a)
        if length < RTNEXTHOP.size or a + length > b:
            raise NetlinkDecodeError(f"rtnexthop of length {length} overruns RTA_MULTIPATH")
        attrs = walk(buf, a + RTNEXTHOP.size, a + length, _HOP)
        gateway = attrs.get("gateway") or attrs.get("via")
        hops.append(RawHop(gateway, ifindex or None, weight_1 + 1, words.route_flags(flags)))
        a += (length + 3) & ~3
    return tuple(hops)


_ROUTE: AttrTable = {
    1: ("dst", _ip),  # RTA_DST
    2: ("src", _ip),  # RTA_SRC
    4: ("oif", _u32),  # RTA_OIF
    5: ("gateway", _ip),  # RTA_GATEWAY
    6: ("metric", _u32),  # RTA_PRIORITY
    7: ("prefsrc", _ip),  # RTA_PREFSRC
    8: ("metrics", _metrics),  # RTA_METRICS
    9: ("hops", _multipath),  # RTA_MULTIPATH
    15: ("table", _u32),  # RTA_TABLE
    18: ("via", _via),  # RTA_VIA
    21: ("encap_type", _u16),  # RTA_ENCAP_TYPE
    22: ("encap", _span),  # RTA_ENCAP
    30: ("nhid", _u32),  # RTA_NH_ID
}
_RULE: AttrTable = {
    1: ("dst", _ip),  # FRA_DST
    2: ("src", _ip),  # FRA_SRC
    3: ("iif", _str),  # FRA_IIFNAME
    4: ("goto", _u32),  # FRA_GOTO
    6: ("priority", _u32),  # FRA_PRIORITY
    10: ("fwmark", _u32),  # FRA_FWMARK
    14: ("suppress_prefixlen", _i32),  # FRA_SUPPRESS_PREFIXLEN
    15: ("table", _u32),  # FRA_TABLE
    16: ("fwmask", _u32),  # FRA_FWMASK
    17: ("oif", _str),  # FRA_OIFNAME
    19: ("l3mdev", _u8),  # FRA_L3MDEV
    20: ("uidrange", _uid_range),  # FRA_UID_RANGE
    22: ("ipproto", _u8),  # FRA_IP_PROTO
    23: ("sport", _range),  # FRA_SPORT_RANGE
    24: ("dport", _range),  # FRA_DPORT_RANGE
}


def _group(buf: Buf, a: int, b: int) -> tuple[tuple[int, int], ...]:
    """NHA_GROUP: struct nexthop_grp {id, weight - 1, ...} each."""
    if (b - a) % NEXTHOP_GRP.size:
        raise NetlinkDecodeError(f"NHA_GROUP of {b - a} bytes")
    return tuple(
        (nh_id, weight_1 + 1) for nh_id, weight_1, _r1, _r2 in NEXTHOP_GRP.iter_unpack(buf[a:b])
    )


_NEXTHOP: AttrTable = {
    1: ("id", _u32),  # NHA_ID
    2: ("group", _group),  # NHA_GROUP
    4: ("blackhole", _flag),  # NHA_BLACKHOLE
    5: ("oif", _u32),  # NHA_OIF
    6: ("gateway", _ip),  # NHA_GATEWAY
}


# ---------------------------------------------------------------- message decoders


def _bounds(buf: Buf, start: int, end: int | None, fixed: int) -> int:
    stop = len(buf) if end is None else end
    if stop - start < _HDR + fixed:
        raise NetlinkDecodeError(f"netlink message of {stop - start} bytes is too short")
    return stop


def _type_of(buf: Buf, start: int) -> int:
    mtype: int = U16.unpack_from(buf, start + 4)[0]
    return mtype


def parse_link(buf: Buf, start: int = 0, end: int | None = None) -> RawLink | None:
    stop = _bounds(buf, start, end, IFINFOMSG.size)
    if _type_of(buf, start) != netlink.RTM_NEWLINK:
        return None
    _fam, arphrd, index, flags, _change = IFINFOMSG.unpack_from(buf, start + _HDR)
    a = walk(buf, start + _HDR + IFINFOMSG.size, stop, _LINK)
    info = a.get("info") or {}
    kind = info.get("kind") or ("loopback" if arphrd == ARPHRD_LOOPBACK else "device")
    if kind == "tun" and info.get("tun_type") == IFF_TAP:
        kind = "tap"  # ip -d: "tun type tap"
    code = a.get("operstate", 0)
    netnsid = a.get("link_netnsid")
    return RawLink(
        index=index,
        name=a.get("name", ""),
        kind=kind,
        state=words.OPERSTATES[code] if code < len(words.OPERSTATES) else str(code),
        mtu=a.get("mtu", 0),
        mac=a.get("mac", ""),
        alias=a.get("alias", ""),
        master=a.get("master") or None,
        link=a.get("link"),
        link_netnsid=netnsid if netnsid is not None and netnsid >= 0 else None,
        counters=a.get("counters"),
        slave_kind=info.get("slave_kind", ""),
        arphrd=arphrd,
        flags=flags,
        lower=info.get("lower") or None,
    )


def parse_addr(buf: Buf, start: int = 0, end: int | None = None) -> RawAddr | None:
    stop = _bounds(buf, start, end, IFADDRMSG.size)
    if _type_of(buf, start) != netlink.RTM_NEWADDR:
        return None
    family, prefixlen, ifa_flags, scope, index = IFADDRMSG.unpack_from(buf, start + _HDR)
    if family not in (AF_INET, AF_INET6):
        return None
    a = walk(buf, start + _HDR + IFADDRMSG.size, stop, _ADDR)
    address = a.get("address")
    local = a.get("local", address)
    if local is None:
        return None
    return RawAddr(
        index=index,
        address=Address(
            family=4 if family == AF_INET else 6,
            address=local,
            prefixlen=prefixlen,
            scope=words.scope_name(scope),
            flags=words.addr_flags(a.get("flags", ifa_flags), family == AF_INET6),
            peer=address if address is not None and address != local else None,
            label=a.get("label", ""),
        ),
    )


_UNSPECIFIED: dict[int, str] = {AF_INET: socket.inet_ntop(AF_INET, bytes(4)), AF_INET6: "::"}


def _prefix(family: int, addr: str | None, length: int) -> str | None:
    if addr is not None:
        return f"{addr}/{length}"
    if length:
        return f"{_UNSPECIFIED[family]}/{length}"
    return None


def parse_route(buf: Buf, start: int = 0, end: int | None = None) -> RawRoute | None:
    stop = _bounds(buf, start, end, RTMSG.size)
    if _type_of(buf, start) != netlink.RTM_NEWROUTE:
        return None
    (family, dst_len, src_len, tos, table, proto, scope, rtype, flags) = RTMSG.unpack_from(
        buf, start + _HDR
    )
    if family not in (AF_INET, AF_INET6) or flags & RTM_F_CLONED:
        return None
    a = walk(buf, start + _HDR + RTMSG.size, stop, _ROUTE)
    encap_type = a.get("encap_type")
    metrics = a.get("metrics") or {}
    return RawRoute(
        oif=a.get("oif"),
        route=Route(
            family=4 if family == AF_INET else 6,
            table=a.get("table", table),
            dst=_prefix(family, a.get("dst"), dst_len) or "default",
            gateway=a.get("gateway") or a.get("via"),
            dev=None,
            scope=words.scope_name(scope),
            protocol=words.protocol_name(proto),
            type=words.route_type_name(rtype),
            prefsrc=a.get("prefsrc"),
            metric=a.get("metric"),
            nhid=a.get("nhid"),
            tos=tos,
            src=_prefix(family, a.get("src"), src_len),
            encap=(
                words.ENCAP_TYPES.get(encap_type)
                if "encap" in a and encap_type is not None
                else None
            ),
            mtu=metrics.get("mtu"),
            flags=words.route_flags(flags),
        ),
        hops=a.get("hops", ()),
    )


def parse_rule(buf: Buf, start: int = 0, end: int | None = None) -> Rule | None:
    stop = _bounds(buf, start, end, FIB_RULE_HDR.size)
    if _type_of(buf, start) != netlink.RTM_NEWRULE:
        return None
    (family, dst_len, src_len, tos, table, _r1, _r2, action, flags) = FIB_RULE_HDR.unpack_from(
        buf, start + _HDR
    )
    if family not in (AF_INET, AF_INET6):
        return None
    a = walk(buf, start + _HDR + FIB_RULE_HDR.size, stop, _RULE)
    table = a.get("table", table)
    fwmark = a.get("fwmark")
    fwmask = a.get("fwmask")
    return Rule(
        family=4 if family == AF_INET else 6,
        priority=a.get("priority", 0),
        table=table or None,
        action=words.rule_action(action),
        src=_prefix(family, a.get("src"), src_len),
        dst=_prefix(family, a.get("dst"), dst_len),
        iif=a.get("iif"),
        oif=a.get("oif"),
        fwmark=(
            words.fwmark_text(fwmark or 0, fwmask)
            if fwmark is not None or fwmask is not None
            else None
        ),
        invert=bool(flags & FIB_RULE_INVERT),
        tos=tos,
        goto=a.get("goto"),
        suppress_prefixlen=_suppress(a.get("suppress_prefixlen"), table),
        ipproto=a.get("ipproto"),
        sport=a.get("sport"),
        dport=a.get("dport"),
        uidrange=a.get("uidrange"),
        l3mdev=bool(a.get("l3mdev")),
    )


def _suppress(value: int | None, table: int) -> int | None:
    # ip prints it only for rules with a table, and not when -1 (unset).
    return value if value is not None and value != -1 and table else None


def parse_nexthop(buf: Buf, start: int = 0, end: int | None = None) -> RawNexthop | None:
    stop = _bounds(buf, start, end, NHMSG.size)
    if _type_of(buf, start) != netlink.RTM_NEWNEXTHOP:
        return None
    _family, _scope, _proto, _resvd, nh_flags = NHMSG.unpack_from(buf, start + _HDR)
    a = walk(buf, start + _HDR + NHMSG.size, stop, _NEXTHOP)
    if "id" not in a:
        return None
    return RawNexthop(
        id=a["id"],
        gateway=a.get("gateway"),
        oif=a.get("oif") or None,
        blackhole=a.get("blackhole", False),
        group=a.get("group", ()),
        flags=words.route_flags(nh_flags),
    )


# ---------------------------------------------------------------- whole namespaces

_LINK_REQ = IFINFOMSG.pack(0, 0, 0, 0, 0)
_ADDR_REQ = IFADDRMSG.pack(0, 0, 0, 0, 0)
_ROUTE_REQ = RTMSG.pack(0, 0, 0, 0, 0, 0, 0, 0, 0)
_RULE_REQ = FIB_RULE_HDR.pack(0, 0, 0, 0, 0, 0, 0, 0, 0)  # AF_UNSPEC: IPv4 and IPv6
_NEXTHOP_REQ = NHMSG.pack(0, 0, 0, 0, 0)


def get_link(sock: RtSocket, index: int) -> RawLink | None:
    """One link by ifindex."""
    return parse_link(sock.request(netlink.RTM_GETLINK, IFINFOMSG.pack(0, 0, index, 0, 0)))


def needs_nexthop_objects(routes: Sequence[RawRoute]) -> bool:
    """Routes through a nexthop object whose paths the route itself does not list
    (net.ipv4.nexthop_compat_mode=0, or a single-path object)."""
    return any(r.route.nhid is not None and not r.hops for r in routes)


def dump_namespace(sock: RtSocket) -> Dump:
    """Links, addresses, routes (all tables), rules and, when routes use them, nexthop
    objects, over a socket bound to the namespace."""
    out = Dump()
    out.links, intr_links = sock.dump(netlink.RTM_GETLINK, _LINK_REQ, parse_link)
    out.addrs, intr_addrs = sock.dump(netlink.RTM_GETADDR, _ADDR_REQ, parse_addr)
    out.routes, intr_routes = sock.dump(netlink.RTM_GETROUTE, _ROUTE_REQ, parse_route)
    intr_rules = intr_nh = False
    try:
        out.rules, intr_rules = sock.dump(netlink.RTM_GETRULE, _RULE_REQ, parse_rule)
    except NetlinkError as err:
        out.warnings.append(f"policy rules could not be read: {err.strerror or err}")
    if needs_nexthop_objects(out.routes):
        try:
            nexthops, intr_nh = sock.dump(netlink.RTM_GETNEXTHOP, _NEXTHOP_REQ, parse_nexthop)
        except NetlinkError as err:
            out.warnings.append(f"nexthop objects could not be read: {err.strerror or err}")
        else:
            out.nexthops = {nh.id: nh for nh in nexthops}
    for name, flagged in (
        ("links", intr_links),
        ("addresses", intr_addrs),
        ("routes", intr_routes),
        ("rules", intr_rules),
        ("nexthops", intr_nh),
    ):
        if flagged:
            out.interrupted.append(name)
    return out


def parse_dump(
    links: Sequence[bytes],
    addrs: Sequence[bytes],
    routes: Sequence[bytes],
    rules: Sequence[bytes] = (),
    nexthops: Sequence[bytes] = (),
) -> Dump:
    """A Dump from recorded messages (one bytes object per message, header included)."""
    out = Dump()
    out.links = [x for x in map(parse_link, links) if x is not None]
    out.addrs = [x for x in map(parse_addr, addrs) if x is not None]
    out.routes = [x for x in map(parse_route, routes) if x is not None]
    out.rules = [x for x in map(parse_rule, rules) if x is not None]
    out.nexthops = {x.id: x for x in map(parse_nexthop, nexthops) if x is not None}
    return out
