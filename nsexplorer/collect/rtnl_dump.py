"""Whole namespaces over rtnetlink: the dumps one namespace needs, in one place.

Links, addresses, routes of all tables, policy rules (one AF_UNSPEC dump gives IPv4 and
IPv6) and, only when a route uses one without listing its paths, nexthop objects.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from nsexplorer.collect import netlink
from nsexplorer.collect.netlink import NetlinkDecodeError, NetlinkError, RtSocket
from nsexplorer.collect.rtnl_decode import (
    FIB_RULE_HDR,
    IFADDRMSG,
    IFINFOMSG,
    NHMSG,
    RTMSG,
    parse_addr,
    parse_link,
    parse_nexthop,
    parse_route,
    parse_rule,
)
from nsexplorer.collect.rtnl_raw import Dump, RawLink, RawRoute

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
    return any(r.nhid is not None and not r.hops for r in routes)


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
    out.links = [x for x in (parse_link(m) for m in links) if x is not None]
    out.addrs = [x for x in (parse_addr(m) for m in addrs) if x is not None]
    out.routes = [x for x in (parse_route(m) for m in routes) if x is not None]
    out.rules = [x for x in (parse_rule(m) for m in rules) if x is not None]
    out.nexthops = {x.id: x for x in (parse_nexthop(m) for m in nexthops) if x is not None}
    return out


# What a reply that does not decode raises (a kernel bug, or forged bytes): that
# namespace's error, never the whole collection's.
DECODE_ERRORS = (NetlinkDecodeError, struct.error, ValueError, IndexError, UnicodeError)


def decode_error(err: Exception) -> str:
    return f"netlink reply could not be decoded ({type(err).__name__}: {err})"


def dump_warnings(dump: Dump, sock: RtSocket) -> tuple[str, ...]:
    out = list(dump.warnings)
    if dump.interrupted:
        out.append(
            f"netlink dump of {', '.join(dump.interrupted)} interrupted by changes "
            f"{netlink.DUMP_ATTEMPTS} times in a row: shown as last read, may be inconsistent"
        )
    if sock.foreign:
        out.append(
            f"ignored {sock.foreign} netlink message(s) not sent by the kernel (a process "
            "in this namespace sent them to nsexplorer's socket)"
        )
    return tuple(out)
