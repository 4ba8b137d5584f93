"""What the rtnetlink decoders produce: one namespace's links, addresses, routes, rules
and nexthop objects in raw terms (ifindexes not yet named, peers and parents not yet
resolved). wiring.py turns them into the model. Immutable where shared: decoded
addresses and routes are remembered across namespaces (rtnl_decode's memo)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from nsexplorer.model import Address, Counters, Rule
from nsexplorer.model_net import Tun, Vxlan


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
    port_state: int | None = None  # IFLA_BRPORT_STATE: a bridge port's STP state
    altnames: tuple[str, ...] = ()  # IFLA_PROP_LIST's IFLA_ALT_IFNAMEs
    txqlen: int | None = None  # IFLA_TXQLEN
    group: int = 0  # IFLA_GROUP
    vxlan: Vxlan | None = None  # a vxlan's IFLA_INFO_DATA
    tun: Tun | None = None  # a tun/tap's IFLA_INFO_DATA


class RawAddr(NamedTuple):
    ifindex: int
    address: Address


class RawHop(NamedTuple):
    """One path of RTA_MULTIPATH; ``oif`` named later."""

    gateway: str | None
    oif: int | None
    weight: int
    flags: tuple[str, ...]


class RawRoute(NamedTuple):
    """A route's fields as decoded; build_routes() names ``oif`` (and the hops' devices)
    and makes the model's Route, once. (Tuples, not dataclasses: there are thousands.)"""

    oif: int | None
    hops: tuple[RawHop, ...]
    family: int
    table: int
    dst: str
    gateway: str | None
    scope: str
    protocol: str
    type: str
    prefsrc: str | None
    metric: int | None
    nhid: int | None
    tos: int
    src: str | None
    encap: str | None
    mtu: int | None
    flags: tuple[str, ...]
    mtu_lock: bool
    more: tuple[str, ...]  # realms, the other metrics, pref: ip's words
    expires: int | None  # seconds left (IPv6)


@dataclass(frozen=True, slots=True)
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
