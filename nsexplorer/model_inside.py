"""What is inside one network namespace, as plain immutable values: sockets, neighbours,
bridge FDB entries, DNAT rules, published ports, and the InsideFacts that holds them.

Read on demand for one namespace (the selected one, `show`), never in the sweep. Kept
out of model.py so that the paths that must stay light (`list`, the TUI's first frame)
do not pay for defining these classes (~4 ms): import it only where it is used, or
under TYPE_CHECKING. Stdlib only, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from nsexplorer import TYPE_CHECKING
from nsexplorer.model import PublishedPort

if TYPE_CHECKING:
    from nsexplorer.model_net import TunHolder

# The parts of InsideFacts, in display order.
INSIDE_PARTS = ("sockets", "neighbours", "fdb", "nat", "conntrack")


@dataclass(frozen=True, slots=True)
class SocketInfo:
    """One socket of the namespace (sock_diag), with the processes holding it."""

    protocol: str  # "tcp", "udp" or "unix"
    # ss's words: "LISTEN", "ESTAB", "UNCONN", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1",
    # "FIN-WAIT-2", "CLOSE-WAIT", "LAST-ACK", "CLOSING" (UNCONN: TCP_CLOSE, as ss says)
    state: str
    local_address: str  # an IP; for unix the path, "@name" when abstract, "" unnamed
    local_port: int | None  # None for unix
    remote_address: str | None  # None: no peer (listening, unconnected UDP, unix)
    remote_port: int | None
    pids: tuple[int, ...] = ()  # processes holding it (ascending)
    commands: tuple[str, ...] = ()  # their comm, same order as pids
    family: int = 4  # 4, 6, or 0 for unix
    inode: int = 0  # 0: no file (a request or orphaned socket)
    uid: int | None = None
    recv_q: int = 0  # for a listener: connections waiting to be accepted
    send_q: int = 0  # for a listener: the accept backlog
    interface: str | None = None  # bound to a device (SO_BINDTODEVICE, scope id)
    socket_type: str = ""  # unix: "stream" or "seqpacket"


@dataclass(frozen=True, slots=True)
class Neighbour:
    """An ARP (IPv4) or NDP (IPv6) entry, as `ip neigh` shows it."""

    address: str
    lladdr: str | None  # None while INCOMPLETE or FAILED
    state: str  # ip's words: "REACHABLE", "STALE", "PERMANENT", "FAILED", ...
    dev: str
    family: int = 4
    flags: tuple[str, ...] = ()  # "router", "extern_learn", ...


@dataclass(frozen=True, slots=True)
class FdbEntry:
    """A bridge forwarding database entry, as `bridge fdb` shows it."""

    mac: str
    dev: str  # the port (or the device itself for "self" entries)
    vlan: int | None = None
    state: str = ""  # "permanent", "static", "stale", or "" for a learned entry
    flags: tuple[str, ...] = ()  # "self", "master", "extern_learn", "offload", "sticky"
    master: str | None = None  # the bridge
    dst: str | None = None  # the remote address of a vxlan entry
    via: str | None = None  # the device a vxlan entry's remote is reached through

    def words(self) -> str:
        """The entry in `bridge fdb`'s words and order (raw: escape it for a terminal)."""
        words = [f"{self.mac} dev {self.dev}"]
        if self.dst:
            words.append(f"dst {self.dst}")
        if self.vlan is not None:
            words.append(f"vlan {self.vlan}")
        if self.via:
            words.append(f"via {self.via}")
        words.extend(f for f in self.flags if f != "master")
        if self.master:
            words.append(f"master {self.master}")
        if self.state:
            words.append(self.state)
        return " ".join(words)


@dataclass(frozen=True, slots=True)
class DnatRule:
    """A destination-NAT rule of some namespace's nat table that leads to an address."""

    netns_inode: int  # the namespace whose table holds the rule
    tool: str  # read with "iptables", "ip6tables", "iptables-legacy", ... or "nft"
    family: int  # 4 or 6
    table: str  # "nat" (iptables) or "<family> <name>" (nft)
    chain: str
    to_address: str
    to_port: str = ""  # "80", "8000-8010", or "" (unchanged)
    protocol: str = ""  # "tcp", "udp", or "" for any
    dport: str = ""  # "8080", "8000-8010", "81,82", or "" for any
    dst: str = ""  # the destination it matches ("10.0.0.1/32"), "" for any
    in_interface: str = ""  # "docker0", or "!docker0" (every interface but it)
    rule: str = ""  # the rule as the tool prints it, for eyes


@dataclass(frozen=True, slots=True)
class InsideFacts:
    """What is inside one namespace, read on demand. A part that was not read (not asked
    for, not recorded in a saved snapshot, needs root, the tool is missing) is named in
    ``unavailable`` with the reason; its values are then empty, not "none there"."""

    namespace_inode: int
    read_at: str = ""  # ISO 8601, UTC
    sockets: tuple[SocketInfo, ...] = ()
    time_wait: int = 0  # TCP sockets in TIME-WAIT: counted, not listed
    neighbours: tuple[Neighbour, ...] = ()
    fdb: tuple[FdbEntry, ...] = ()
    published: tuple[PublishedPort, ...] = ()  # part "nat": the containers' ports
    dnat: tuple[DnatRule, ...] = ()  # part "nat"
    conntrack_count: int | None = None
    # Its tun/tap devices -> the processes holding each open, in name order (a /proc
    # walk, made only for a namespace that has one); None: not looked for (none there,
    # or a saved snapshot).
    tun_holders: tuple[tuple[str, tuple[TunHolder, ...]], ...] | None = None
    unavailable: tuple[tuple[str, str], ...] = ()  # (part, why)
    warnings: tuple[str, ...] = ()

    def reason(self, part: str) -> str | None:
        """Why ``part`` was not read, or None when it was."""
        for name, why in self.unavailable:
            if name == part:
                return why
        return None

    def has(self, part: str) -> bool:
        return self.reason(part) is None
