"""The finding itself, how namespaces are named and entered in it, and the one-pass index
every check reads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from nsexplorer import shellquote
from nsexplorer.model import Interface, NetNamespace, Snapshot

SEVERITIES = ("error", "warning", "info")
RANK = {s: i for i, s in enumerate(SEVERITIES)}

# Kinds: stable names, scripts and the TUI match on them.
VETH_ADMIN_DOWN = "veth-admin-down"
VETH_NO_CARRIER = "veth-no-carrier"
PEER_UNRESOLVED = "peer-unresolved"
PEER_UNREACHABLE = "peer-unreachable"
LEAKED_NETNS = "leaked-netns"
DUPLICATE_IP = "duplicate-ip"
DUPLICATE_MAC = "duplicate-mac"
MTU_MISMATCH = "mtu-mismatch"
BRIDGE_DOWN = "bridge-down"
BRIDGE_PORT_DOWN = "bridge-port-down"
BRIDGE_NO_PORTS = "bridge-no-ports"
BRIDGE_PORT_NOT_FORWARDING = "bridge-port-not-forwarding"
DAD_FAILED = "dad-failed"
CONTAINER_ADDRESS_MISMATCH = "container-address-mismatch"
CONTAINER_NO_DEFAULT_ROUTE = "container-no-default-route"
CONTAINER_LEFT_SANDBOX = "container-left-sandbox"
COUNTERS_GROWING = "counters-growing"
TUN_NOT_HELD = "tun-not-held"

KINDS = (
    VETH_ADMIN_DOWN,
    VETH_NO_CARRIER,
    PEER_UNRESOLVED,
    PEER_UNREACHABLE,
    LEAKED_NETNS,
    DUPLICATE_IP,
    DUPLICATE_MAC,
    MTU_MISMATCH,
    BRIDGE_DOWN,
    BRIDGE_PORT_DOWN,
    BRIDGE_NO_PORTS,
    BRIDGE_PORT_NOT_FORWARDING,
    DAD_FAILED,
    CONTAINER_ADDRESS_MISMATCH,
    CONTAINER_NO_DEFAULT_ROUTE,
    CONTAINER_LEFT_SANDBOX,
    COUNTERS_GROWING,
    TUN_NOT_HELD,
)

Key = tuple[int, int]  # (namespace inode, ifindex)


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding. ``next`` is a shell command (names quoted) to look closer."""

    kind: str
    severity: str  # "error" | "warning" | "info"
    namespace_inode: int
    interface: str | None
    message: str
    evidence: tuple[str, ...] = ()
    next: str = ""


def sort_problems(problems: Iterable[Problem], order: dict[int, int]) -> tuple[Problem, ...]:
    """Most severe first, then in ``order`` (namespace inode -> position)."""
    last = len(order)
    return tuple(
        sorted(
            problems,
            key=lambda p: (
                RANK[p.severity],
                order.get(p.namespace_inode, last),
                p.namespace_inode,
                p.kind,
                p.interface or "",
                p.message,
            ),
        )
    )


# ---------------------------------------------------------------- naming and commands


def where(ns: NetNamespace) -> str:
    """How a namespace is named in a message."""
    if ns.label and ns.label != "unknown":
        return ns.label
    if ns.names:
        return ns.names[0]
    return f"inode {ns.inode}"


def enter_path(ns: NetNamespace) -> str:
    """A path that opens ``ns`` from a host shell: a process of it first (a container's
    own before those sharing it), then a visible bind mount, a hidden one through
    /proc/PID/root, a descriptor."""
    pids = [c.pid for c in ns.containers if c.pid and not c.shares_with]
    pids += [c.pid for c in ns.containers if c.pid]
    pids += ns.pids
    if pids:
        return f"/proc/{pids[0]}/ns/net"
    for m in ns.bind_mounts:
        if not m.hidden:
            return m.path
    for m in ns.bind_mounts:
        if m.via_pid is not None:
            return m.reach_path
    for h in ns.fd_holders:
        return f"/proc/{h.pid}/fd/{h.fd}"
    return ns.access_path


def command_in(ns: NetNamespace, argv: Sequence[str]) -> str:
    """``argv`` as a shell command run in ``ns``: as is on the host, ``ip -n NAME`` or
    ``ip netns exec NAME`` for a named one, else ``nsenter --net=PATH``. Empty when
    nothing known opens the namespace."""
    words = list(argv)
    if not ns.is_host:
        if ns.names:
            name = ns.names[0]
            if words[0] == "ip":
                words = ["ip", "-n", name, *words[1:]]
            else:
                words = ["ip", "netns", "exec", name, *words]
        else:
            path = enter_path(ns)
            if not path:
                return ""
            words = ["nsenter", f"--net={path}", *words]
    return shellquote.join(words)  # exact to paste, safe to print (control chars as $'..')


def finding(  # noqa: PLR0917 - a record builder: kind, severity, where, what, why, next
    kind: str,
    severity: str,
    ns: NetNamespace,
    iface: str | None,
    message: str,
    evidence: Iterable[str],
    look: Sequence[str] | None = None,
) -> Problem:
    """A Problem in ``ns`` whose ``next`` runs ``look`` there."""
    cmd = command_in(ns, look) if look else ""
    return Problem(kind, severity, ns.inode, iface, message, tuple(evidence), cmd)


def link_cmd(name: str) -> list[str]:
    return ["ip", "-d", "link", "show", "dev", name]


def state_of(i: Interface, ns: NetNamespace | None = None) -> str:
    """``eth0: state down, flags <...>``, or ``eth0 in NS: ...`` for another namespace."""
    at = f" in {where(ns)}" if ns is not None else ""
    return f"{i.name}{at}: state {i.state}, flags <{','.join(i.flags)}>"


# ---------------------------------------------------------------- the index


class Index:
    """One pass over the snapshot; every lookup the checks make is then a dict access.

    Namespaces that are gone are left out; interfaces come only from namespaces that
    were read (``detailed``).
    """

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        # Only root sees every process, descriptor and mount: judgements about what
        # holds a namespace need a snapshot taken as root.
        self.root = dict(snapshot.meta).get("euid") == "0"
        self.order: dict[int, int] = {}
        self.ns: dict[int, NetNamespace] = {}
        self.iface: dict[Key, Interface] = {}
        self.ports: dict[Key, list[Interface]] = {}
        for pos, ns in enumerate(snapshot.namespaces):
            if ns.gone:
                continue
            ino = ns.inode
            self.order[ino] = pos
            self.ns[ino] = ns
            if ns.detailed:
                self._add_interfaces(ino, ns.interfaces)
        self.engine_bridges = {n.bridge for e in snapshot.engines for n in e.networks if n.bridge}

    def _add_interfaces(self, ino: int, interfaces: tuple[Interface, ...]) -> None:
        iface = self.iface
        by_name: dict[str, int] = {}
        for i in interfaces:
            iface[(ino, i.ifindex)] = i
            by_name[i.name] = i.ifindex
        for i in interfaces:
            master = i.master_ifindex
            if master is None and i.master is not None:
                master = by_name.get(i.master)
            if master is None:
                continue
            m = iface.get((ino, master))
            if m is not None and m.kind == "bridge":
                self.ports.setdefault((ino, master), []).append(i)

    @property
    def detailed(self) -> list[NetNamespace]:
        return [ns for ns in self.ns.values() if ns.detailed]

    def peer_of(self, iface: Interface) -> tuple[NetNamespace, Interface] | None:
        """The veth's peer as an interface of the snapshot, when resolved and read."""
        p = iface.peer
        if p is None or p.netns_inode is None or p.ifindex is None:
            return None
        other = self.iface.get((p.netns_inode, p.ifindex))
        if other is None or (p.name is not None and other.name != p.name):
            return None
        return self.ns[p.netns_inode], other

    def master_of(self, ino: int, iface: Interface) -> Key | None:
        """The bridge ``iface`` is a port of (as an index key), if any."""
        m = iface.master_ifindex
        if m is not None and (ino, m) in self.ports:
            return (ino, m)
        if iface.master is not None:
            for key, _ports in self.ports.items():
                if key[0] == ino and self.iface[key].name == iface.master:
                    return key
        return None

    def domain_of(self, ino: int, iface: Interface) -> tuple[Key, str] | None:
        """The link layer ``iface`` is on, as (key, description): a bridge (itself, its
        master, or its veth peer's master) or, for a bare veth pair, the pair."""
        if iface.kind == "bridge":
            return (ino, iface.ifindex), f"bridge {iface.name}"
        master = self.master_of(ino, iface)
        peer = self.peer_of(iface)
        if master is None and peer is not None:
            master = self.master_of(peer[0].inode, peer[1])
        if master is not None:
            return master, f"bridge {self.iface[master].name}"
        if peer is not None:
            pair = min((ino, iface.ifindex), (peer[0].inode, peer[1].ifindex))
            return pair, f"veth pair {iface.name} - {peer[1].name}"
        return None
