"""iproute2's words for rtnetlink numbers, so the snapshot says exactly what `ip -j` says.

Each table follows the iproute2 6.1 function named beside it (print_link_flags,
print_ifa_flags, print_rt_flags, lib/rt_names.c, format_encap_type, print_rule), in
the same order, so a list of words compares equal to the list `ip -j` prints. Pure.
"""

from __future__ import annotations

# ---------------------------------------------------------------- links (ifi_flags)

IFF_UP = 0x1
IFF_RUNNING = 0x40

# print_link_flags(): the order ip prints them in.
_LINK_FLAGS = (
    (0x8, "LOOPBACK"),
    (0x2, "BROADCAST"),
    (0x10, "POINTOPOINT"),
    (0x1000, "MULTICAST"),
    (0x80, "NOARP"),
    (0x200, "ALLMULTI"),
    (0x100, "PROMISC"),
    (0x400, "MASTER"),
    (0x800, "SLAVE"),
    (0x4, "DEBUG"),
    (0x8000, "DYNAMIC"),
    (0x4000, "AUTOMEDIA"),
    (0x2000, "PORTSEL"),
    (0x20, "NOTRAILERS"),
    (0x1, "UP"),
    (0x10000, "LOWER_UP"),
    (0x20000, "DORMANT"),
    (0x40000, "ECHO"),
)


def link_flags(flags: int, lower_down: bool = False) -> tuple[str, ...]:
    """ifi_flags as `ip -j link` lists them: NO-CARRIER first when admin-up without
    IFF_RUNNING, the known names in ip's order, unknown bits as one hex word, and
    M-DOWN when the same-namespace device it is stacked on (IFLA_LINK) is down."""
    out: list[str] = []
    if flags & IFF_UP and not flags & IFF_RUNNING:
        out.append("NO-CARRIER")
    flags &= ~IFF_RUNNING
    for bit, name in _LINK_FLAGS:
        if flags & bit:
            out.append(name)
            flags &= ~bit
    if flags:
        out.append(f"{flags:x}")
    if lower_down:
        out.append("M-DOWN")
    return tuple(out)


OPERSTATES = ("unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up")
# BR_STATE_* of a bridge port, in bridge(8)'s words
BRIDGE_PORT_STATES = ("disabled", "listening", "learning", "forwarding", "blocking")


def bridge_port_state(code: int) -> str:
    return BRIDGE_PORT_STATES[code] if code < len(BRIDGE_PORT_STATES) else str(code)


# ---------------------------------------------------------------- addresses (IFA_F_*)

IFA_F_SECONDARY = 0x01
IFA_F_PERMANENT = 0x80
# print_ifa_flags(): (mask, word); "secondary" is "temporary" on IPv6, and the absence
# of "permanent" is printed as "dynamic" at permanent's place.
_ADDR_FLAGS = (
    (IFA_F_SECONDARY, "secondary"),
    (0x02, "nodad"),
    (0x04, "optimistic"),
    (0x08, "dadfailed"),
    (0x10, "home"),
    (0x20, "deprecated"),
    (0x40, "tentative"),
    (IFA_F_PERMANENT, "dynamic"),
    (0x100, "mngtmpaddr"),
    (0x200, "noprefixroute"),
    (0x400, "autojoin"),
    (0x800, "stable-privacy"),
)


_addr_flag_cache: dict[tuple[int, bool], tuple[str, ...]] = {}


def addr_flags(flags: int, ipv6: bool) -> tuple[str, ...]:
    """IFA_FLAGS as the keys `ip -j addr` sets to true, in its order; unknown bits as
    one hex word (ip's "ifa_flags")."""
    key = (flags, ipv6)
    words = _addr_flag_cache.get(key)
    if words is None:
        words = _addr_flags(flags, ipv6)
        if len(_addr_flag_cache) < 256:
            _addr_flag_cache[key] = words
    return words


def _addr_flags(flags: int, ipv6: bool) -> tuple[str, ...]:
    out: list[str] = []
    for mask, name in _ADDR_FLAGS:
        if mask == IFA_F_PERMANENT:
            if not flags & mask:
                out.append("dynamic")
        elif flags & mask:
            out.append("temporary" if mask == IFA_F_SECONDARY and ipv6 else name)
        flags &= ~mask
    if flags:
        out.append(f"{flags:02x}")
    return tuple(out)


# ---------------------------------------------------------------- routes

# print_rt_flags(): rtm_flags and rtnh_flags, in ip's order.
_ROUTE_FLAGS = (
    (0x1, "dead"),
    (0x4, "onlink"),
    (0x2, "pervasive"),
    (0x8, "offload"),
    (0x40, "trap"),
    (0x100, "notify"),
    (0x10, "linkdown"),
    (0x20, "unresolved"),
    (0x4000, "rt_offload"),
    (0x8000, "rt_trap"),
    (0x20000000, "rt_offload_failed"),
)
# Every route flag has the same words in ip -j; cached because few combinations occur.
_route_flag_cache: dict[int, tuple[str, ...]] = {}


def route_flags(flags: int) -> tuple[str, ...]:
    words = _route_flag_cache.get(flags)
    if words is None:
        words = tuple(name for bit, name in _ROUTE_FLAGS if flags & bit)
        if len(_route_flag_cache) < 256:
            _route_flag_cache[flags] = words
    return words


# lib/rt_names.c (rtnl_rtscope_tab), /etc/iproute2/rt_protos, rtnl_rtntype_n2a.
SCOPES = {0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}
PROTOCOLS = {
    0: "unspec",
    1: "redirect",
    2: "kernel",
    3: "boot",
    4: "static",
    8: "gated",
    9: "ra",
    10: "mrt",
    11: "zebra",
    12: "bird",
    13: "dnrouted",
    14: "xorp",
    15: "ntk",
    16: "dhcp",
    18: "keepalived",
    42: "babel",
    99: "openr",
    186: "bgp",
    187: "isis",
    188: "ospf",
    189: "rip",
    192: "eigrp",
}
ROUTE_TYPES = (
    "unspec",
    "unicast",
    "local",
    "broadcast",
    "anycast",
    "multicast",
    "blackhole",
    "unreachable",
    "prohibit",
    "throw",
    "nat",
    "xresolve",
)
# format_encap_type() (LWTUNNEL_ENCAP_*).
ENCAP_TYPES = {
    1: "mpls",
    2: "ip",
    3: "ila",
    4: "ip6",
    5: "seg6",
    6: "bpf",
    7: "seg6local",
    8: "rpl",
    9: "ioam6",
    10: "xfrm",
}


def scope_name(scope: int) -> str:
    return SCOPES.get(scope) or str(scope)


def protocol_name(proto: int) -> str:
    return PROTOCOLS.get(proto) or str(proto)


def route_type_name(rtype: int) -> str:
    return ROUTE_TYPES[rtype] if rtype < len(ROUTE_TYPES) else str(rtype)


def encap_name(etype: int) -> str:
    return ENCAP_TYPES.get(etype, "unknown")


# print_rta_metrics(): the RTAX_ metrics after the MTU, in ip's order and words.
ROUTE_METRICS = {
    3: "window",
    4: "rtt",
    5: "rttvar",
    6: "ssthresh",
    7: "cwnd",
    8: "advmss",
    9: "reordering",
    10: "hoplimit",
    11: "initcwnd",
    12: "features",
    13: "rto_min",
    14: "initrwnd",
    15: "quickack",
    16: "congctl",
    17: "fastopen_no_cookie",
}
RTAX_RTT, RTAX_RTTVAR, RTAX_HOPLIMIT, RTAX_FEATURES, RTAX_RTO_MIN = 4, 5, 10, 12, 13
RTAX_FEATURE_ECN = 0x1
# RTA_PREF: an IPv6 route's router preference (RFC 4191); 0 "medium" is ip's default
ROUTER_PREFS = {0: "medium", 1: "high", 3: "low"}


def metric_words(metrics: dict[int, int | str], locked: int) -> tuple[str, ...]:
    """The metrics after the MTU as `ip route` says them: "advmss 1200", "rtt 100ms",
    "rto_min lock 50ms", "features ecn", "congctl cubic"."""
    out: list[str] = []
    for number, name in ROUTE_METRICS.items():
        value = metrics.get(number)
        if value is None or (number == RTAX_HOPLIMIT and value == 0xFFFFFFFF):
            continue
        lock = " lock" if locked & (1 << number) else ""
        out.append(f"{name}{lock} {_metric_value(number, value)}")
    return tuple(out)


def _metric_value(number: int, value: int | str) -> str:
    if isinstance(value, str):
        return value  # congctl: the algorithm's name
    if number in (RTAX_RTT, RTAX_RTTVAR, RTAX_RTO_MIN):
        ms = value // 8 if number == RTAX_RTT else value // 4 if number == RTAX_RTTVAR else value
        return f"{ms}ms" if ms < 1000 else f"{ms / 1000:g}s"
    if number == RTAX_FEATURES:
        rest = value & ~RTAX_FEATURE_ECN
        words = (["ecn"] if value & RTAX_FEATURE_ECN else []) + ([f"{rest:#x}"] if rest else [])
        return " ".join(words) or "0"
    return str(value)


def realms(flow: int) -> str:
    """A route's RTA_FLOW or a rule's FRA_FLOW (from realm << 16 | to realm) as ip
    prints it: "5", or "2/5" when a from realm is set."""
    source, to = flow >> 16, flow & 0xFFFF
    return f"{source}/{to}" if source else str(to)


def realm_words(flow: int) -> str:
    """RTA_FLOW as `ip route` says it: "realm 5", or "realms 2/5" with a from realm."""
    shown = realms(flow)
    return f"realms {shown}" if "/" in shown else f"realm {shown}"


# ---------------------------------------------------------------- rules

FR_ACT_TO_TBL = 1
FR_ACT_GOTO = 2
FR_ACT_NOP = 3


def rule_action(action: int) -> str:
    """print_rule(): "lookup" (to a table), "goto", "nop", else the route type's word
    ("blackhole", "unreachable", "prohibit")."""
    if action == FR_ACT_TO_TBL:
        return "lookup"
    if action == FR_ACT_GOTO:
        return "goto"
    if action == FR_ACT_NOP:
        return "nop"
    return route_type_name(action)


def fwmark_text(mark: int, mask: int | None) -> str:
    """ip -j rule's "fwmark" with its "/fwmask" when the mask is not all ones (C's %#llx:
    0 prints as "0")."""
    text = f"{mark:#x}" if mark else "0"
    if mask is not None and mask != 0xFFFFFFFF:
        text += f"/{mask:#x}" if mask else "/0"
    return text
