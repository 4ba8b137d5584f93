"""What netlink says about a namespace's network, as plain immutable values: interfaces
(with their addresses, counters and peers), routes (with their paths) and policy rules.

Part of the model (nsexplorer.model re-exports every class here); a module of its own so
that what needs no netlink (the `list` path: ~4 ms of class creation) never builds these
classes. Stdlib only, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

DEFAULT_TX_QUEUE_LEN = 1000  # the kernel's, for ether_setup() devices and lo


@dataclass(frozen=True, slots=True)
class Address:
    """An interface address, as `ip -j addr` shows it."""

    family: int  # 4 or 6
    address: str
    prefixlen: int
    scope: str  # "global", "link", "host", or the number as text
    # The keys `ip -j addr` sets to true, in ip's order (IFA_FLAGS): "secondary" (IPv4) or
    # "temporary" (IPv6), "nodad", "optimistic", "dadfailed", "deprecated", "tentative",
    # "dynamic" (= not permanent: ip never prints "permanent"), "noprefixroute", ...
    flags: tuple[str, ...] = ()
    peer: str | None = None  # point-to-point peer (IFA_ADDRESS when it differs)
    label: str = ""  # IFA_LABEL (IPv4 only)
    broadcast: str | None = None  # IFA_BROADCAST (IPv4; only when one was set)
    # Seconds left (IFA_CACHEINFO, as the kernel counted them at the read); None: forever.
    # A reading of a clock, not a state: two reads of one address are equal, else every
    # read of a DHCP or SLAAC address would be a change to redraw.
    valid_lft: int | None = field(default=None, compare=False)
    preferred_lft: int | None = field(default=None, compare=False)

    @property
    def dad_failed(self) -> bool:
        return "dadfailed" in self.flags

    @property
    def cidr(self) -> str:
        """As `ip addr` writes it: "10.0.0.5/24", "10.0.0.1 peer 10.0.0.2/32"."""
        local = f"{self.address} peer {self.peer}" if self.peer else self.address
        return f"{local}/{self.prefixlen}"

    @property
    def unusual_broadcast(self) -> str | None:
        """The broadcast when it is not the usual one, the prefix's all-ones host part
        (what `brd +`, ifconfig and DHCP clients set). `ip addr add A/24` sets none, and
        the usual one says nothing either: a responder needs to see only a broadcast that
        points elsewhere."""
        brd = self.broadcast
        if brd is None or self.family != 4:
            return None
        return brd if brd != _all_ones_host(self.address, self.prefixlen) else None

    @property
    def lifetime_words(self) -> str:
        """ip's "valid_lft 299sec preferred_lft 199sec" ("forever" for either that is);
        "" when both are forever, which ip prints but says nothing."""
        if self.valid_lft is None and self.preferred_lft is None:
            return ""
        valid, preferred = (
            "forever" if t is None else f"{t}sec" for t in (self.valid_lft, self.preferred_lft)
        )
        return f"valid_lft {valid} preferred_lft {preferred}"


def _all_ones_host(addr: str, prefixlen: int) -> str | None:
    """An IPv4 address with every host bit of its prefix set (no ipaddress here)."""
    try:
        octets = bytes(int(part) for part in addr.split("."))
    except ValueError:  # not a dotted quad (a hand-edited snapshot)
        return None
    if len(octets) != 4 or not 0 <= prefixlen <= 32:
        return None
    value = int.from_bytes(octets, "big") | ((1 << (32 - prefixlen)) - 1)
    return ".".join(str(octet) for octet in value.to_bytes(4, "big"))


@dataclass(frozen=True, slots=True)
class Vxlan:
    """A vxlan device's tunnel, as `ip -d link` shows it: what a responder checks first
    on an overlay (which VNI, towards which remote or group, from where, which port)."""

    vni: int
    remote: str | None = None  # IFLA_VXLAN_GROUP(6): a unicast remote or a multicast group
    local: str | None = None
    port: int | None = None  # the UDP destination port
    external: bool = False  # collect_metadata: VNI and remote come with each packet

    @property
    def far_end(self) -> str:
        """ "remote 10.0.0.2" or "group 239.1.1.1" ("" when none: external, or learning
        remotes from the FDB only)."""
        if not self.remote:
            return ""
        return f"{'group' if _multicast(self.remote) else 'remote'} {self.remote}"

    def words(self) -> str:
        """ip -d's words: "id 43 group 239.1.1.1 local 10.0.0.1 dstport 4789"."""
        parts = ["external"] if self.external else [f"id {self.vni}"]
        if self.far_end:
            parts.append(self.far_end)
        if self.local:
            parts.append(f"local {self.local}")
        if self.port is not None:
            parts.append(f"dstport {self.port}")
        return " ".join(parts)


def _multicast(addr: str) -> bool:
    """224.0.0.0/4 or ff00::/8, as ip tells "group" from "remote" (no ipaddress here)."""
    if ":" in addr:
        return addr.lower().startswith("ff")
    head = addr.split(".", 1)[0]
    return head.isdigit() and 224 <= int(head) <= 239


@dataclass(frozen=True, slots=True)
class Tun:
    """A tun/tap device's IFLA_INFO_DATA, as `ip -d link` shows it, with its queues: the
    kernel gives a tun/tap carrier while a process holds one of its queues attached."""

    type: str  # "tun" or "tap" (IFLA_TUN_TYPE; "unknown" for any other, as ip says)
    pi: bool = False  # packet information header (not IFF_NO_PI)
    vnet_hdr: bool = False
    persist: bool = False  # outlives the process that made it
    multi_queue: bool = False
    user: int | None = None  # the owner's uid; None: any (the kernel sends it only when set)
    group: int | None = None  # the owner group's gid; None: any
    # Attached and disabled queues (IFLA_TUN_NUM_QUEUES, IFLA_TUN_NUM_DISABLED_QUEUES):
    # the kernel sends them for a multi_queue device only; None for any other.
    queues: int | None = None
    disabled_queues: int | None = None

    @property
    def held(self) -> bool | None:
        """A process holds a queue (attached or disabled) of it; None: not reported (a
        single-queue device: then its carrier says it, see link_state)."""
        if self.queues is None:
            return None
        return self.queues + (self.disabled_queues or 0) > 0

    def words(self) -> str:
        """ip -d's words, in its order: "type tap pi off vnet_hdr on multi_queue
        numqueues 0 numdisabled 0 persist on user 1000 group 100" (ids as numbers: ip
        prints the name when the host has one)."""
        parts = [f"type {self.type}", f"pi {_on(self.pi)}", f"vnet_hdr {_on(self.vnet_hdr)}"]
        if self.multi_queue:
            parts.append("multi_queue")
        if self.queues is not None:
            parts.append(f"numqueues {self.queues}")
        if self.disabled_queues is not None:
            parts.append(f"numdisabled {self.disabled_queues}")
        parts.append(f"persist {_on(self.persist)}")
        if self.user is not None:
            parts.append(f"user {self.user}")
        if self.group is not None:
            parts.append(f"group {self.group}")
        return " ".join(parts)


def _on(value: bool) -> str:
    return "on" if value else "off"


@dataclass(frozen=True, slots=True)
class TunHolder:
    """A process that has a tun/tap device open (a queue attached with TUNSETIFF): what
    keeps its carrier on. Found on demand (collect.tun_holders), not in a snapshot."""

    pid: int
    comm: str
    fds: tuple[int, ...]  # its fds on the device (one per queue)
    # The device's namespace was checked on the fd itself (TUNGETDEVNETNS): a name is
    # unique only within a namespace, and a device can move after it was attached.
    # False: only its name matched (an old kernel, or not permitted to ask).
    proved: bool = True


def holders_words(holders: Sequence[TunHolder]) -> str:
    """ "held by openvpn (pid 1234)", several joined by commas, "held by no process"; a
    holder whose device namespace could not be checked on its fd says "unproved". Raw:
    escape the process names for a terminal."""
    if not holders:
        return "held by no process"
    return "held by " + ", ".join(
        f"{h.comm or '?'} (pid {h.pid}{'' if h.proved else ', unproved'})" for h in holders
    )


@dataclass(frozen=True, slots=True)
class Peer:
    """The other end of a veth. ``netns_inode`` None means the peer could not be
    resolved exactly: the UI says so instead of guessing from ``@ifN``."""

    netns_inode: int | None
    ifindex: int | None
    name: str | None

    @property
    def resolved(self) -> bool:
        return self.netns_inode is not None and self.name is not None


@dataclass(frozen=True, slots=True)
class Counters:
    """An interface's rx/tx counters (IFLA_STATS64)."""

    rx_bytes: int = 0
    rx_packets: int = 0
    rx_errors: int = 0
    rx_dropped: int = 0
    tx_bytes: int = 0
    tx_packets: int = 0
    tx_errors: int = 0
    tx_dropped: int = 0
    # time.monotonic() when the collect layer read these from the kernel (per-second
    # rates divide by the gap between two reads, not between two deliveries). None when
    # unknown: a recorded snapshot (the JSON does not carry it: a monotonic clock means
    # nothing in another process). Not part of the value: the same counters read twice
    # are equal.
    read_at: float | None = field(default=None, compare=False)


# The eight kernel counters of :class:`Counters` (not its read time).
COUNTER_NAMES = (
    "rx_bytes",
    "rx_packets",
    "rx_errors",
    "rx_dropped",
    "tx_bytes",
    "tx_packets",
    "tx_errors",
    "tx_dropped",
)


@dataclass(frozen=True, slots=True)
class Interface:
    """A network interface of one namespace, as `ip -j -d link` shows it."""

    ifindex: int
    name: str
    kind: str  # "veth", "bridge", "loopback", "device", "tun", "tap", "macvlan" ...
    state: str  # operstate, lower case: "up", "down", "unknown", ...
    mtu: int
    mac: str
    master: str | None = None
    alias: str = ""
    addresses: tuple[Address, ...] = ()
    peer: Peer | None = None
    counters: Counters | None = None
    master_ifindex: int | None = None
    # Exactly as `ip -j link` prints them: "BROADCAST", "MULTICAST", "UP", "LOWER_UP",
    # "NO-CARRIER", ... Empty when unknown (a snapshot from before flags were recorded).
    flags: tuple[str, ...] = ()
    # The lower device of a stacked one (macvlan, macvtap, vxlan, vlan, ipvlan), which
    # may live in another namespace; same exactness rules as ``peer``.
    parent: Peer | None = None
    # A bridge port's STP state ("forwarding", "learning", "disabled"...; bridge link's
    # words); None when not a bridge port or not recorded. Frames cross only a port
    # that forwards, whatever its link state says.
    port_state: str | None = None
    # Alternative names (`ip link property add ... altname`, systemd's predictable names):
    # the kernel accepts them wherever it takes the name, and logs and rules use them.
    altnames: tuple[str, ...] = ()
    vxlan: Vxlan | None = None  # a vxlan device's tunnel
    tun: Tun | None = None  # a tun/tap device's mode, owner and queues
    txqlen: int | None = None  # IFLA_TXQLEN, ip's "qlen"; None: not recorded
    group: int = 0  # IFLA_GROUP, the device group (ip's "group"; 0 is "default")

    @property
    def port_not_forwarding(self) -> str | None:
        """A bridge port's STP state when it does not forward (None: it does, or this is
        no bridge port, or the state was not recorded)."""
        state = self.port_state
        return state if state is not None and state != "forwarding" else None

    @property
    def unusual_txqlen(self) -> int | None:
        """The queue length when it is not the kernel's DEFAULT_TX_QUEUE_LEN 1000 that
        most devices get (so a "qlen 0" or a tuned 10000 shows; tun and macvtap devices
        start at 500)."""
        qlen = self.txqlen
        return qlen if qlen is not None and qlen != DEFAULT_TX_QUEUE_LEN else None

    @property
    def group_qlen_words(self) -> str:
        """ip link's "group 7 qlen 500", each only when not the default (group 0)."""
        words = [f"group {self.group}"] if self.group else []
        if (qlen := self.unusual_txqlen) is not None:
            words.append(f"qlen {qlen}")
        return " ".join(words)

    @property
    def admin_up(self) -> bool | None:
        """IFF_UP as set by `ip link set up`; None when flags were not recorded."""
        return ("UP" in self.flags) if self.flags else None

    @property
    def carrier(self) -> bool | None:
        """Lower layer up (IFF_LOWER_UP); None when flags were not recorded."""
        return ("LOWER_UP" in self.flags) if self.flags else None


@dataclass(frozen=True, slots=True)
class Nexthop:
    """One path of a multipath route (RTA_MULTIPATH) or of a nexthop object."""

    gateway: str | None
    dev: str | None
    weight: int = 1
    flags: tuple[str, ...] = ()  # "onlink", "dead", "linkdown", ...


@dataclass(frozen=True, slots=True)
class Route:
    """A route of any table, as `ip -j route show table all` shows it."""

    family: int
    table: int
    dst: str  # "default" or "10.0.0.0/24"
    gateway: str | None
    dev: str | None
    scope: str
    protocol: str
    type: str = "unicast"
    prefsrc: str | None = None
    metric: int | None = None
    # Multipath routes and routes through nexthop objects have no gateway/dev of their
    # own: the paths are here (never leave such a route looking like it goes nowhere).
    nexthops: tuple[Nexthop, ...] = ()
    nhid: int | None = None  # RTA_NH_ID: the nexthop object used
    tos: int = 0
    src: str | None = None  # source prefix ("from" in ip route), e.g. "10.0.0.0/24"
    encap: str | None = None  # e.g. "mpls", "ip", "seg6" (the kind only)
    mtu: int | None = None  # RTAX_MTU
    flags: tuple[str, ...] = ()  # ip -j's route flags: "onlink", "linkdown", ...
    # RTAX_LOCK's MTU bit, `ip route`'s "mtu lock N": path MTU discovery may not lower
    # it (ip -j does not say so).
    mtu_lock: bool = False
    # The rest the kernel holds, in `ip route`'s words and order: "realm 5",
    # "advmss 1200", "rtt 100ms", "rto_min lock 50ms", "pref high" (IPv6).
    more: tuple[str, ...] = ()
    # Seconds left before the kernel removes it (an IPv6 route from a router
    # advertisement, or `expires N`); not part of equality: it counts down.
    expires: int | None = field(default=None, compare=False)

    @property
    def selector_words(self) -> str:
        """The destination with what else selects the route: "10.0.0.0/24 from
        10.1.0.0/16 tos 0x10" (`ip route`'s words)."""
        words = [self.dst]
        if self.src:
            words.append(f"from {self.src}")
        if self.tos:
            words.append(f"tos {self.tos:#04x}")
        return " ".join(words)

    @property
    def mtu_words(self) -> str:
        """`ip route`'s words for the MTU metric: "mtu 1400", "mtu lock 1400", or ""."""
        if self.mtu is None:
            return ""
        return f"mtu lock {self.mtu}" if self.mtu_lock else f"mtu {self.mtu}"

    @property
    def more_words(self) -> str:
        """The other attributes and the time left: "advmss 1200 expires 599sec"."""
        words = list(self.more)
        if self.expires is not None:
            words.append(f"expires {self.expires}sec")
        return " ".join(words)


@dataclass(frozen=True, slots=True)
class Rule:
    """One policy-routing rule (`ip rule`), as ip -j names its fields."""

    family: int  # 4 or 6
    priority: int
    table: int | None  # None for actions without a table (e.g. "unreachable")
    action: str  # "lookup" (to table), "goto", "nop", "blackhole", "unreachable", ...
    src: str | None = None  # "10.0.0.0/8" or None for "all"
    dst: str | None = None
    iif: str | None = None
    oif: str | None = None
    fwmark: str | None = None  # "0x1" or "0x1/0xff" as ip prints it
    # Further selectors and modifiers (`ip rule` words in comments); defaults mean absent.
    invert: bool = False  # "not": the rule applies to what does NOT match
    tos: int = 0
    goto: int | None = None  # target priority of action "goto"
    suppress_prefixlen: int | None = None  # "suppress_prefixlength N"
    suppress_ifgroup: int | None = None  # "suppress_ifgroup N" (an interface group)
    ipproto: int | None = None  # IP protocol number ("ipproto tcp" is 6)
    sport: str | None = None  # "80", "1000-2000", or "0x50/0xfff0" (a masked port)
    dport: str | None = None
    uidrange: str | None = None  # "1000-1999"
    l3mdev: bool = False  # "lookup [l3mdev-table]"
    tun_id: int | None = None  # "tun_id N": a tunnel's key (FRA_TUN_ID)
    dscp: str | None = None  # "dscp 10", or "dscp 0x8/0x38" for some of its bits
    flowlabel: str | None = None  # IPv6: "flowlabel 0x12345/0xfffff"
    realms: str | None = None  # "realms 3" or "realms 2/4" (from/to routing realm)
    protocol: str = "unspec"  # who installed it, in ip's word ("kernel", "openr")
    # The kernel's own verdicts: a rule whose iif/oif names no device here matches
    # nothing ("[detached]"), and a goto to a priority no rule has is skipped
    # ("[unresolved]").
    iif_detached: bool = False
    oif_detached: bool = False
    unresolved: bool = False
    # Attribute types the kernel sent that nsexplorer does not read (selectors of newer
    # kernels: dscp, flowlabel, port masks): the rule may match less than it shows.
    unread: tuple[int, ...] = ()

    @property
    def ipproto_word(self) -> str | None:
        """`ip rule`'s word for the IP protocol: "tcp", else "ipproto-N" (getprotobyname
        would read /etc/protocols, which a minimal host may not have)."""
        if self.ipproto is None:
            return None
        return _IP_PROTOCOLS.get(self.ipproto) or f"ipproto-{self.ipproto}"


# The names /etc/protocols gives the protocols a rule is usually written for.
_IP_PROTOCOLS = {
    1: "icmp",
    6: "tcp",
    17: "udp",
    33: "dccp",
    47: "gre",
    50: "esp",
    51: "ah",
    58: "ipv6-icmp",
    132: "sctp",
    136: "udplite",
}
