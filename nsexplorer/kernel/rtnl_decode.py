"""Table-driven decoders for rtnetlink replies: links, addresses, routes, policy rules
and nexthop objects, decoded in place from the receive buffer into raw model terms.

Each message type has one attribute table, type -> (key, decoder); netlink.walk() skips
every attribute the table does not name without copying it (a host link carries ~50,
a handful matter). Decoders check the lengths they read: a malformed reply raises
NetlinkDecodeError, never reads a neighbour's bytes. Pure functions of the bytes the
kernel sent, tested on recorded dumps; words are ip's (rtnl_names.py).
"""

from __future__ import annotations

import os
import socket
import struct
from collections.abc import Callable
from typing import Any, TypeVar

from nsexplorer.kernel import netlink
from nsexplorer.kernel import rtnl_names as words
from nsexplorer.kernel.netlink import NLMSGHDR, AttrTable, Buf, NetlinkDecodeError, walk
from nsexplorer.kernel.rtnl_attrs import (
    U16,
    altnames,
    be32,
    be64,
    flag,
    i32,
    ip,
    lifetimes,
    mac,
    port_range,
    span,
    stats64,
    text,
    u8,
    u16,
    u32,
    uid_range,
    via,
)
from nsexplorer.kernel.rtnl_linkinfo import linkinfo, vxlan
from nsexplorer.kernel.rtnl_raw import RawAddr, RawHop, RawLink, RawNexthop, RawRoute
from nsexplorer.model import Address, Rule
from nsexplorer.model_net import Tun

AF_INET = socket.AF_INET
AF_INET6 = socket.AF_INET6
ARPHRD_LOOPBACK = 772
RTM_F_CLONED = 0x200
FIB_RULE_INVERT = 0x2
FIB_RULE_UNRESOLVED = 0x4
FIB_RULE_IIF_DETACHED = 0x8
FIB_RULE_OIF_DETACHED = 0x10

IFINFOMSG = struct.Struct("=BxHiII")
IFADDRMSG = struct.Struct("=BBBBI")
RTMSG = struct.Struct("=BBBBBBBBI")
FIB_RULE_HDR = struct.Struct("=BBBBBBBBI")
NHMSG = struct.Struct("=BBBBI")
RTNEXTHOP = struct.Struct("=HBBi")
NEXTHOP_GRP = struct.Struct("=IBBH")
_HDR = NLMSGHDR.size
T = TypeVar("T")


# Kinds whose IFLA_LINK is the device they are stacked on (veth's is its peer).
STACKED_KINDS = frozenset(("macvlan", "macvtap", "ipvlan", "ipvtap", "vlan", "macsec"))


_LINK: AttrTable = {
    1: ("mac", mac),  # IFLA_ADDRESS
    3: ("name", text),  # IFLA_IFNAME
    4: ("mtu", u32),  # IFLA_MTU
    5: ("link", u32),  # IFLA_LINK
    10: ("master", u32),  # IFLA_MASTER
    13: ("txqlen", u32),  # IFLA_TXQLEN
    16: ("operstate", u8),  # IFLA_OPERSTATE
    18: ("info", linkinfo),  # IFLA_LINKINFO
    20: ("alias", text),  # IFLA_IFALIAS
    23: ("counters", stats64),  # IFLA_STATS64
    27: ("group", u32),  # IFLA_GROUP
    37: ("link_netnsid", i32),  # IFLA_LINK_NETNSID
    52: ("altnames", altnames),  # IFLA_PROP_LIST
}
_ADDR: AttrTable = {
    1: ("address", ip),  # IFA_ADDRESS
    2: ("local", ip),  # IFA_LOCAL
    3: ("label", text),  # IFA_LABEL
    4: ("broadcast", ip),  # IFA_BROADCAST (IPv4; sent only when one was set)
    6: ("lifetimes", lifetimes),  # IFA_CACHEINFO
    8: ("flags", u32),  # IFA_FLAGS
}
_NO_CACHEINFO = (None, None)  # (valid, preferred): forever
# RTAX_LOCK, RTAX_MTU, then every other metric by its number (RTAX_CC_ALGO a name)
_METRICS: AttrTable = {
    1: ("lock", u32),
    2: ("mtu", u32),
    **{n: (n, text if n == 16 else u32) for n in words.ROUTE_METRICS},  # type: ignore[misc]
}
RTAX_MTU = 2
USER_HZ = os.sysconf("SC_CLK_TCK")  # rta_expires is in clock ticks
_HOP: AttrTable = {
    5: ("gateway", ip),  # RTA_GATEWAY
    18: ("via", via),  # RTA_VIA
}


def _metrics(buf: Buf, a: int, b: int) -> dict[str, Any]:
    return walk(buf, a, b, _METRICS)


def _expires(buf: Buf, a: int, b: int) -> int | None:
    """struct rta_cacheinfo's rta_expires (s32 at offset 8), in seconds; None when 0."""
    if b - a < 12:
        raise NetlinkDecodeError(f"RTA_CACHEINFO of {b - a} bytes")
    ticks: int = netlink.I32.unpack_from(buf, a + 8)[0]
    return ticks // USER_HZ if ticks > 0 else None


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
    1: ("dst", ip),  # RTA_DST
    2: ("src", ip),  # RTA_SRC
    4: ("oif", u32),  # RTA_OIF
    5: ("gateway", ip),  # RTA_GATEWAY
    6: ("metric", u32),  # RTA_PRIORITY
    7: ("prefsrc", ip),  # RTA_PREFSRC
    8: ("metrics", _metrics),  # RTA_METRICS
    9: ("hops", _multipath),  # RTA_MULTIPATH
    11: ("flow", u32),  # RTA_FLOW: the routing realms
    12: ("expires", _expires),  # RTA_CACHEINFO: an IPv6 route's time left
    20: ("pref", u8),  # RTA_PREF: an IPv6 route's router preference
    15: ("table", u32),  # RTA_TABLE
    18: ("via", via),  # RTA_VIA
    21: ("encap_type", u16),  # RTA_ENCAP_TYPE
    22: ("encap", span),  # RTA_ENCAP
    30: ("nhid", u32),  # RTA_NH_ID
}
_RULE: AttrTable = {
    1: ("dst", ip),  # FRA_DST
    2: ("src", ip),  # FRA_SRC
    3: ("iif", text),  # FRA_IIFNAME
    4: ("goto", u32),  # FRA_GOTO
    6: ("priority", u32),  # FRA_PRIORITY
    10: ("fwmark", u32),  # FRA_FWMARK
    11: ("realms", u32),  # FRA_FLOW: from realm << 16 | to realm
    12: ("tun_id", be64),  # FRA_TUN_ID
    13: ("suppress_ifgroup", i32),  # FRA_SUPPRESS_IFGROUP
    14: ("suppress_prefixlen", i32),  # FRA_SUPPRESS_PREFIXLEN
    15: ("table", u32),  # FRA_TABLE
    16: ("fwmask", u32),  # FRA_FWMASK
    17: ("oif", text),  # FRA_OIFNAME
    19: ("l3mdev", u8),  # FRA_L3MDEV
    20: ("uidrange", uid_range),  # FRA_UID_RANGE
    21: ("protocol", u8),  # FRA_PROTOCOL
    22: ("ipproto", u8),  # FRA_IP_PROTO
    23: ("sport", port_range),  # FRA_SPORT_RANGE
    24: ("dport", port_range),  # FRA_DPORT_RANGE
    25: ("dscp", u8),  # FRA_DSCP (6.12)
    26: ("flowlabel", be32),  # FRA_FLOWLABEL (6.14)
    27: ("flowlabel_mask", be32),  # FRA_FLOWLABEL_MASK
    28: ("sport_mask", u16),  # FRA_SPORT_MASK (6.15; 0xffff for a single port)
    29: ("dport_mask", u16),  # FRA_DPORT_MASK
    30: ("dscp_mask", u8),  # FRA_DSCP_MASK (0x3f: all six bits)
}
# Every FRA_ type up to here is read or carries nothing (FRA_PAD, the unused ones).
# A later kernel's selector is kept as a number: the rule must not read as matching
# more than it does (iproute2 6.1 shows a DSCP rule as "from all lookup N").
FRA_LAST_READ = 30
U16_MAX = 0xFFFF
DSCP_ALL = 0x3F


def _group(buf: Buf, a: int, b: int) -> tuple[tuple[int, int], ...]:
    """NHA_GROUP: struct nexthop_grp {id, weight - 1, ...} each."""
    if (b - a) % NEXTHOP_GRP.size:
        raise NetlinkDecodeError(f"NHA_GROUP of {b - a} bytes")
    return tuple(
        (nh_id, weight_1 + 1) for nh_id, weight_1, _r1, _r2 in NEXTHOP_GRP.iter_unpack(buf[a:b])
    )


_NEXTHOP: AttrTable = {
    1: ("id", u32),  # NHA_ID
    2: ("group", _group),  # NHA_GROUP
    4: ("blackhole", flag),  # NHA_BLACKHOLE
    5: ("oif", u32),  # NHA_OIF
    6: ("gateway", ip),  # NHA_GATEWAY
}


# ---------------------------------------------------------------- message decoders

_MISS = object()
MEMO_LIMIT = 8192


def _memoized(parse: Callable[..., T]) -> Callable[..., T]:
    """``parse`` with its results remembered by message body (everything after the
    header, which holds only the sequence number and flags). Namespaces repeat the same
    messages (lo's addresses and routes, the default rules, multicast routes): those are
    decoded once per process. The values are immutable, so sharing them is safe."""
    cache: dict[tuple[int, bytes], Any] = {}

    def cached(buf: Buf, start: int = 0, end: int | None = None) -> T:
        stop = len(buf) if end is None else end
        key = (_type_of(buf, start), bytes(buf[start + _HDR : stop]))
        value = cache.get(key, _MISS)
        if value is _MISS:
            value = parse(buf, start, stop)
            if len(cache) >= MEMO_LIMIT:
                cache.clear()
            cache[key] = value
        return value  # type: ignore[no-any-return]

    cached.__doc__ = parse.__doc__
    cached.__wrapped__ = parse  # type: ignore[attr-defined]
    return cached


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
    tun: Tun | None = info.get("tun")
    if tun is not None and tun.type == "tap":
        kind = "tap"  # ip -d: "tun type tap"
    code = a.get("operstate", 0)
    netnsid = a.get("link_netnsid")
    # RawLink's required fields positionally, the optional ones by name: cheaper than
    # all by keyword, which pays for txqlen and group (bench/bench_netlink.py).
    return RawLink(
        index,
        a.get("name", ""),
        kind,
        words.OPERSTATES[code] if code < len(words.OPERSTATES) else str(code),  # state
        a.get("mtu", 0),
        a.get("mac", ""),
        a.get("alias", ""),
        a.get("master") or None,
        a.get("link"),
        netnsid if netnsid is not None and netnsid >= 0 else None,  # link_netnsid
        a.get("counters"),
        slave_kind=info.get("slave_kind", ""),
        arphrd=arphrd,
        flags=flags,
        lower=info.get("lower") or None,
        port_state=info.get("port_state"),
        altnames=a.get("altnames", ()),
        txqlen=a.get("txqlen"),
        group=a.get("group", 0),
        vxlan=vxlan(info) if kind == "vxlan" else None,
        tun=tun,
    )


@_memoized
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
    valid, preferred = a.get("lifetimes", _NO_CACHEINFO)
    # Address's fields in order, positionally: cheaper than by keyword (a frozen
    # dataclass's __init__), which pays for the broadcast and the lifetimes.
    return RawAddr(
        index,
        Address(
            4 if family == AF_INET else 6,  # family
            local,  # address
            prefixlen,
            words.scope_name(scope),
            words.addr_flags(a.get("flags", ifa_flags), family == AF_INET6),
            address if address is not None and address != local else None,  # peer
            a.get("label", ""),
            a.get("broadcast"),
            valid,  # valid_lft
            preferred,  # preferred_lft
        ),
    )


_UNSPECIFIED: dict[int, str] = {AF_INET: socket.inet_ntop(AF_INET, bytes(4)), AF_INET6: "::"}


def _prefix(family: int, addr: str | None, length: int) -> str | None:
    if addr is not None:
        return f"{addr}/{length}"
    if length:
        return f"{_UNSPECIFIED[family]}/{length}"
    return None


@_memoized
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
        a.get("oif"),
        a.get("hops", ()),
        4 if family == AF_INET else 6,
        a.get("table", table),
        _prefix(family, a.get("dst"), dst_len) or "default",
        a.get("gateway") or a.get("via"),
        words.scope_name(scope),
        words.protocol_name(proto),
        words.route_type_name(rtype),
        a.get("prefsrc"),
        a.get("metric"),
        a.get("nhid"),
        tos,
        _prefix(family, a.get("src"), src_len),
        words.ENCAP_TYPES.get(encap_type) if "encap" in a and encap_type is not None else None,
        metrics.get("mtu"),
        words.route_flags(flags),
        bool(metrics.get("lock", 0) & (1 << RTAX_MTU)),
        _more_words(a, metrics),
        a.get("expires"),
    )


def _more_words(a: dict[str, Any], metrics: dict[Any, Any]) -> tuple[str, ...]:
    """What else the kernel holds for a route, in `ip route`'s words and order."""
    if "flow" not in a and not a.get("pref") and not metrics.keys() - {"mtu", "lock"}:
        return ()  # the common route: nothing beyond its MTU
    more = [words.realm_words(a["flow"])] if a.get("flow") else []
    more += words.metric_words(
        {k: v for k, v in metrics.items() if isinstance(k, int)}, metrics.get("lock", 0)
    )
    pref = a.get("pref")
    if pref:  # 0 is "medium", which ip prints for every IPv6 route
        more.append(f"pref {words.ROUTER_PREFS.get(pref, str(pref))}")
    return tuple(more)


@_memoized
def parse_rule(buf: Buf, start: int = 0, end: int | None = None) -> Rule | None:
    stop = _bounds(buf, start, end, FIB_RULE_HDR.size)
    if _type_of(buf, start) != netlink.RTM_NEWRULE:
        return None
    (family, dst_len, src_len, tos, table, _r1, _r2, action, flags) = FIB_RULE_HDR.unpack_from(
        buf, start + _HDR
    )
    if family not in (AF_INET, AF_INET6):
        return None
    first = start + _HDR + FIB_RULE_HDR.size
    a = walk(buf, first, stop, _RULE)
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
        suppress_ifgroup=_suppress(a.get("suppress_ifgroup"), table),
        ipproto=a.get("ipproto"),
        sport=_masked(a.get("sport"), a.get("sport_mask"), U16_MAX),
        dport=_masked(a.get("dport"), a.get("dport_mask"), U16_MAX),
        uidrange=a.get("uidrange"),
        l3mdev=bool(a.get("l3mdev")),
        tun_id=a.get("tun_id"),
        realms=words.realms(a["realms"]) if a.get("realms") else None,
        protocol=words.protocol_name(a.get("protocol", 0)),
        iif_detached=bool(flags & FIB_RULE_IIF_DETACHED),
        oif_detached=bool(flags & FIB_RULE_OIF_DETACHED),
        unresolved=bool(flags & FIB_RULE_UNRESOLVED),
        dscp=None if "dscp" not in a else _masked(str(a["dscp"]), a.get("dscp_mask"), DSCP_ALL),
        flowlabel=_flowlabel(a.get("flowlabel"), a.get("flowlabel_mask")),
        unread=_types_beyond(buf, first, stop, FRA_LAST_READ),
    )


def _masked(value: str | None, mask: int | None, full: int) -> str | None:
    """A port or DSCP with the mask the kernel holds for it: "80" when the mask is all
    ones (or absent), "0x50/0xfff0" when only some bits must match."""
    if value is None or mask is None or mask == full or not value.isdigit():
        return value
    return f"{int(value):#x}/{mask:#x}"


def _flowlabel(label: int | None, mask: int | None) -> str | None:
    if label is None:
        return None
    return f"{label:#x}" if mask is None else f"{label:#x}/{mask:#x}"


def _types_beyond(buf: Buf, a: int, b: int, last: int) -> tuple[int, ...]:
    """The attribute types above ``last`` from ``a`` to ``b`` (walk() checked the
    lengths), read without copying a payload."""
    found: list[int] = []
    while a + 4 <= b:
        length, atype = netlink.RTATTR.unpack_from(buf, a)
        if atype & netlink.NLA_TYPE_MASK > last:
            found.append(atype & netlink.NLA_TYPE_MASK)
        a += (max(length, 4) + 3) & ~3
    return tuple(found)


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
