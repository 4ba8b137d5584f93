"""The kernel's view of network namespaces, as plain immutable values.

Stdlib only and no I/O: collectors build these, the UI and the JSON encoder read them.
Where a namespace is found is (st_dev, st_ino) of its nsfs inode; ``inode`` alone is what
users and the snapshot JSON see. The kernel reuses inode numbers once a namespace is
freed, so identity is (inode, cookie): the cookie is the kernel's unique, never-reused
id of the namespace (NS_GET_ID), when the kernel has one (see :func:`same_namespace`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from nsexplorer import TYPE_CHECKING

if TYPE_CHECKING:
    from nsexplorer.model_net import (
        Address,
        Counters,
        Interface,
        Nexthop,
        Peer,
        Route,
        Rule,
        Tun,
        TunHolder,
        Vxlan,
        holders_words,
    )

__all__ = [
    "Address",
    "BindMount",
    "Container",
    "ContainerNetwork",
    "Counters",
    "DockerNetwork",
    "EngineInfo",
    "FdHolder",
    "Group",
    "Interface",
    "NamespaceId",
    "NetNamespace",
    "Nexthop",
    "Peer",
    "ProcessInfo",
    "PublishedPort",
    "Route",
    "Rule",
    "Snapshot",
    "SocketHolder",
    "Source",
    "StoppedContainer",
    "ThreadHolder",
    "Tun",
    "TunHolder",
    "Vxlan",
    "bridge_networks",
    "candidate_paths",
    "describe",
    "group_of",
    "holders_words",
    "ns_label",
    "primary_container",
    "same_namespace",
    "table_name",
]

# The netlink classes live in model_net (see there); they are imported from here as
# every other model class, and built on first use.
_NET = frozenset(
    {"Address", "Counters", "Interface", "Nexthop", "Peer", "Route", "Rule", "Tun", "TunHolder",
     "Vxlan", "holders_words"}
)  # fmt: skip


def __getattr__(name: str) -> object:
    if name in _NET:
        from nsexplorer import model_net

        value = getattr(model_net, name)
        globals()[name] = value  # found directly from now on
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# The kernel's reserved routing tables, by the names `ip` gives them (/etc/iproute2/rt_tables).
TABLE_NAMES = {253: "default", 254: "main", 255: "local"}


def table_name(table: int | None) -> str:
    """A routing table as `ip route` / `ip rule` name it: "main", "local", "100"; "-" none."""
    if table is None:
        return "-"
    return TABLE_NAMES.get(table, str(table))


@dataclass(frozen=True, slots=True, order=True)
class NamespaceId:
    """A namespace's identity: the (st_dev, st_ino) of its nsfs inode."""

    dev: int
    ino: int


class Source(StrEnum):
    """How a namespace was found (one namespace may be found several ways)."""

    HOST = "host"
    PROCESS = "process"
    FD = "fd"
    BIND_MOUNT = "bind-mount"
    CONTAINER = "container"
    # A thread other than the main one is in it (/proc/PID/task/TID/ns/net), as Go
    # programs that switch namespaces per OS thread do.
    THREAD = "thread"
    # A socket lives in it (pidfd_getfd + SIOCGSKNS), often after every process left it.
    SOCKET = "socket"
    # Bind-mounted inside a mount namespace that no process is in any more (itself held
    # by an nsfs bind mount or an open fd).
    MOUNT_NS = "mount-ns"


class Group(StrEnum):
    """The sidebar group a namespace belongs to, in display order."""

    HOST = "host"
    CONTAINERS = "containers"
    NAMED = "named"
    MOUNTED = "mounted"  # bind-mounted elsewhere than /run/netns: `ip netns` cannot see it
    HIDDEN = "hidden"
    FD_ONLY = "fd-only"
    PROCESSES = "processes"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class BindMount:
    """An nsfs bind mount of the namespace, as seen from one mount namespace.

    ``hidden`` means not visible from nsexplorer's own mount namespace; such a mount is
    reached through ``/proc/<via_pid>/root<path>`` with no mount-namespace switch.
    """

    path: str
    mount_ns_inode: int
    hidden: bool
    via_pid: int | None = None
    # Another mount hides the path (mounted over it or over a directory above it): the
    # bind mount still holds the namespace, but the path no longer opens it.
    covered: bool = False
    # For a mount namespace no process is in: the path that holds that mount namespace
    # (an nsfs bind mount of it, or /proc/PID/fd/N), as `nsenter --mount=` takes it.
    mount_ns_path: str = ""

    @property
    def reach_path(self) -> str:
        if self.hidden and self.via_pid is not None:
            return f"/proc/{self.via_pid}/root{self.path}"
        return self.path


@dataclass(frozen=True, slots=True)
class FdHolder:
    """A process holding the namespace open through a file descriptor."""

    pid: int
    fd: int


@dataclass(frozen=True, slots=True)
class ThreadHolder:
    """A thread (not the main one) of a process that is in the namespace."""

    pid: int
    tid: int


@dataclass(frozen=True, slots=True)
class SocketHolder:
    """A process's socket that lives in the namespace (not the process's own netns)."""

    pid: int
    fd: int
    socket_inode: int


@dataclass(frozen=True, slots=True)
class ContainerNetwork:
    """One Docker network a container is attached to, as the engine reports it."""

    name: str
    ip_address: str = ""
    prefixlen: int = 0
    gateway: str = ""
    mac: str = ""
    ipv6_address: str = ""
    ipv6_prefixlen: int = 0
    ipv6_gateway: str = ""
    network_id: str = ""


@dataclass(frozen=True, slots=True)
class PublishedPort:
    """A container port published on the host (NetworkSettings.Ports)."""

    container_port: str  # "80/tcp"
    host_ip: str  # "0.0.0.0", "::", or "" for every address
    host_port: str


@dataclass(frozen=True, slots=True)
class Container:
    """A running container, as its engine reports it, and where it lives."""

    engine: str
    id: str
    name: str
    image: str
    network_mode: str
    pid: int | None
    status: str = ""
    sandbox_key: str = ""
    compose_project: str = ""
    # For network_mode "container:<id>": the container whose namespace this one shares.
    shares_with: str = ""
    networks: tuple[ContainerNetwork, ...] = ()
    ports: tuple[PublishedPort, ...] = ()

    @property
    def short_id(self) -> str:
        return self.id[:12]


@dataclass(frozen=True, slots=True)
class NetNamespace:
    """One network namespace: how it was found, what holds it, what is in it."""

    id: NamespaceId
    is_host: bool = False
    label: str = ""
    sources: tuple[Source, ...] = ()
    names: tuple[str, ...] = ()  # /var/run/netns names visible to `ip netns`
    bind_mounts: tuple[BindMount, ...] = ()
    pids: tuple[int, ...] = ()
    fd_holders: tuple[FdHolder, ...] = ()
    containers: tuple[Container, ...] = ()
    # Path that opens this namespace from nsexplorer's own mount namespace.
    access_path: str = ""
    # True once interfaces and routes were read over netlink.
    detailed: bool = False
    interfaces: tuple[Interface, ...] = ()
    routes: tuple[Route, ...] = ()
    warnings: tuple[str, ...] = ()
    gone: bool = False
    rules: tuple[Rule, ...] = ()
    thread_holders: tuple[ThreadHolder, ...] = ()
    socket_holders: tuple[SocketHolder, ...] = ()
    # The kernel's unique id of this namespace (NS_GET_ID, equal to SO_NETNS_COOKIE of
    # a socket inside it): never reused, unlike the inode. None when it was not read
    # (a kernel without it, an older snapshot, a namespace that could not be opened).
    cookie: int | None = None

    @property
    def inode(self) -> int:
        return self.id.ino

    @property
    def identity(self) -> tuple[int, int | None]:
        """(inode, cookie): two namespaces with one inode and two cookies are two."""
        return (self.id.ino, self.cookie)

    def interface(self, ifindex: int) -> Interface | None:
        for iface in self.interfaces:
            if iface.ifindex == ifindex:
                return iface
        return None


@dataclass(frozen=True, slots=True)
class DockerNetwork:
    """A network the container engine manages."""

    id: str
    name: str
    driver: str
    bridge: str = ""  # the host bridge interface for bridge-driver networks
    subnets: tuple[tuple[str, str], ...] = ()  # (subnet, gateway)


@dataclass(frozen=True, slots=True)
class StoppedContainer:
    """A container that exists but runs no process, so has no network namespace."""

    id: str
    name: str
    state: str  # created, exited, dead


@dataclass(frozen=True, slots=True)
class EngineInfo:
    """A container engine: reachable or not, its version, networks, stopped containers."""

    engine: str = "docker"
    reachable: bool = False
    host: str = ""  # DOCKER_HOST or the default socket
    daemon_pid: int | None = None
    version: str = ""
    networks: tuple[DockerNetwork, ...] = ()
    # Containers that are not running: named when a TARGET matches one of them.
    stopped: tuple[StoppedContainer, ...] = ()
    # Where ``host`` came from: "DOCKER_HOST", "context <name>" (the Docker CLI's current
    # context) or "default".
    origin: str = ""
    # The network namespace the daemon runs in: where its bridges are.
    netns_inode: int | None = None


@dataclass(frozen=True, slots=True)
class ProcessInfo:
    """A process in a namespace (read on demand, not in the sweep)."""

    pid: int
    user: str
    command: str


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Every namespace of one host at one moment (what `snapshot` writes)."""

    hostname: str
    collected_at: str  # ISO 8601, UTC
    namespaces: tuple[NetNamespace, ...] = ()
    warnings: tuple[str, ...] = ()
    engines: tuple[EngineInfo, ...] = ()
    schema_version: int = 1
    # Extra facts that do not fit elsewhere (e.g. "euid": "0").
    meta: tuple[tuple[str, str], ...] = field(default=())

    def by_inode(self, inode: int) -> NetNamespace | None:
        for ns in self.namespaces:
            if ns.inode == inode:
                return ns
        return None

    @property
    def host(self) -> NetNamespace | None:
        for ns in self.namespaces:
            if ns.is_host:
                return ns
        return None


def same_namespace(a: NetNamespace, b: NetNamespace) -> bool:
    """Whether ``a`` and ``b`` describe one namespace: the same (dev, ino) and, where
    both cookies are known, the same cookie. Same inode with another cookie is a new
    namespace that got the old number after the first was freed. Where a cookie is
    unknown (an old snapshot, a kernel without ids), (dev, ino) is all there is."""
    if a.id != b.id:
        return False
    return a.cookie is None or b.cookie is None or a.cookie == b.cookie


def group_of(ns: NetNamespace) -> Group:
    """The sidebar group: the most useful way a responder would look for it."""
    if ns.is_host:
        return Group.HOST
    if ns.containers:
        return Group.CONTAINERS
    if ns.names:
        return Group.NAMED
    if any(m.hidden for m in ns.bind_mounts):
        return Group.HIDDEN
    if ns.bind_mounts:
        return Group.MOUNTED
    if ns.pids or ns.thread_holders:
        return Group.PROCESSES
    if ns.fd_holders or ns.socket_holders:
        return Group.FD_ONLY
    return Group.OTHER


def bridge_networks(snapshot: Snapshot, ns: NetNamespace) -> dict[str, str]:
    """Bridge interface name -> the engine network(s) it carries, for bridges in ``ns``
    (the namespace an engine's daemon runs in; the host's when that is unknown)."""
    out: dict[str, list[str]] = {}
    for engine in snapshot.engines:
        where = engine.netns_inode
        if (where is None and not ns.is_host) or (where is not None and where != ns.inode):
            continue
        for net in engine.networks:
            if net.bridge:
                out.setdefault(net.bridge, []).append(net.name)
    return {bridge: ", ".join(names) for bridge, names in out.items()}


def candidate_paths(ns: NetNamespace) -> list[str]:
    """Every path that may open ``ns`` from our mount namespace, best first (each one is
    verified when opened: a path is a hint, the (dev, ino) is the identity). The one
    list for the reader, the watcher and the actions."""
    paths: list[str] = []
    if ns.access_path:
        paths.append(ns.access_path)
    paths.extend(m.path for m in ns.bind_mounts if not m.hidden and not m.covered)
    paths.extend(f"/proc/{p}/ns/net" for p in ns.pids[:3])
    paths.extend(f"/proc/{c.pid}/ns/net" for c in ns.containers if c.pid is not None)
    paths.extend(m.reach_path for m in ns.bind_mounts if m.hidden and not m.covered)
    paths.extend(f"/proc/{h.pid}/task/{h.tid}/ns/net" for h in ns.thread_holders[:3])
    paths.extend(f"/proc/{h.pid}/fd/{h.fd}" for h in ns.fd_holders[:3])
    paths.extend(f"/proc/{h.pid}/fd/{h.fd}" for h in ns.socket_holders[:3])
    return list(dict.fromkeys(paths))


def primary_container(ns: NetNamespace) -> Container | None:
    """The container that owns the namespace (not one joined in container:<x> mode)."""
    for c in ns.containers:
        if not c.shares_with and not c.network_mode.startswith("container:"):
            return c
    return ns.containers[0] if ns.containers else None


def _label(ns: NetNamespace) -> str:
    if ns.is_host:
        return "host"
    c = primary_container(ns)
    if c is not None:
        return c.name
    if ns.names:
        return ", ".join(ns.names)
    if ns.label:
        return ns.label
    if ns.bind_mounts:
        return ns.bind_mounts[0].path
    if ns.pids:
        return f"pid {ns.pids[0]}"
    if ns.fd_holders:
        h = ns.fd_holders[0]
        return f"fd {h.fd} of pid {h.pid}"
    return ""


def ns_label(ns: NetNamespace) -> str:
    """The one label of a namespace, the name a responder would look for: "host", its
    own container, its ``ip netns`` names, what discovery called it, a holder; else
    "netns N" (raw: escape it for a terminal)."""
    return _label(ns) or f"netns {ns.inode}"


def describe(ns: NetNamespace) -> str:
    """How a namespace is named in messages and the audit log: its label (see
    :func:`ns_label`) and inode (raw: escape it for a terminal)."""
    label = _label(ns)
    return f"{label} (inode {ns.inode})" if label else f"inode {ns.inode}"
