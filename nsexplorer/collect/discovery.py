"""The cheap pass: every network namespace from /proc (processes, their other threads,
open fds and, in the full pass, sockets), the mount tables of every mount namespace
(including those no process is in) and the container engines, deduplicated by
(st_dev, st_ino) and labelled the way a responder thinks. No per-namespace netlink here.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from nsexplorer import TYPE_CHECKING, gcpause
from nsexplorer.collect import container_netns, mountns, mounts
from nsexplorer.collect import engine as engine_mod
from nsexplorer.collect.engine import EngineQuery
from nsexplorer.kernel import nsfs, pidfd, procfs
from nsexplorer.model import (
    BindMount,
    Container,
    EngineInfo,
    FdHolder,
    Group,
    NamespaceId,
    NetNamespace,
    Snapshot,
    SocketHolder,
    Source,
    ThreadHolder,
    group_of,
)
from nsexplorer.natural import natural_key

if TYPE_CHECKING:
    from nsexplorer.collect.engine import ContainerEngine

NETNS_DIRS = ("/run/netns/", "/var/run/netns/")
_GROUP_ORDER = {g: i for i, g in enumerate(Group)}  # the sidebar's order


@dataclass(slots=True)
class Discovery:
    """The cheap pass's snapshot, with the ways into each namespace."""

    snapshot: Snapshot
    # Paths that may open each namespace, best first (always verified when opened).
    paths: dict[NamespaceId, list[str]] = field(default_factory=dict)
    host: NamespaceId | None = None


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def netns_name(path: str) -> str | None:
    """The `ip netns` name of a bind-mount path, if it is one."""
    for prefix in NETNS_DIRS:
        if path.startswith(prefix):
            rest = path[len(prefix) :]
            if rest and "/" not in rest:
                return rest
    return None


def discover(
    docker_timeout: float = 3.0,
    *,
    proc: str = "/proc",
    fds: bool = True,
    thorough: bool = False,
    engines: Sequence[ContainerEngine] | None = None,
    pins: mountns.Pins | None = None,
) -> Discovery:
    """Every network namespace, cheaply.

    ``thorough`` adds what costs more than the rest of the pass on a busy host, so is
    left to the full pass (and to ``show``): the namespace of every socket (pidfd_getfd
    + SIOCGSKNS, ~7 us a socket), a helper process into each mount namespace no process
    is in (~15-20 ms each), and one into a private copy of the mount table for each
    covered bind mount not yet pinned. ``engines``: the container engines to ask
    (default: the process's shared ones). ``pins``: where nsexplorer keeps its fds to
    namespaces only those helpers could reach.
    """
    with gcpause.paused():
        return _discover(docker_timeout, proc, fds, thorough, engines, pins)


def _discover(  # noqa: PLR0917 - discover()'s own arguments, passed on once
    docker_timeout: float,
    proc: str,
    fds: bool,
    thorough: bool,
    engines: Sequence[ContainerEngine] | None,
    pins: mountns.Pins | None,
) -> Discovery:
    live = proc == "/proc"
    if engines is None:
        engines = engine_mod.engines(docker_timeout)
    queries = [EngineQuery(e, docker_timeout) for e in engines]
    warnings: list[str] = []
    dev = nsfs.nsfs_dev()
    own = nsfs.own_netns()
    own_mnt = nsfs.own_mntns_inode()
    root = os.geteuid() == 0
    resolver = pidfd.SocketResolver() if thorough and fds and live and root else None
    if thorough and fds and live and not root:
        warnings.append(
            "namespaces held only by a socket are not looked for (asking a socket's "
            "namespace needs root)"
        )
    try:
        scan = procfs.scan(proc, fds=fds, sockets=resolver.netns if resolver else None)
    finally:
        if resolver is not None:
            resolver.close()
    mount_scan = mounts.scan_mounts(scan.mnt_pids, own_mnt, proc)
    if live:
        mounts.mark_covered(mount_scan, proc)
    warnings.extend(mount_scan.warnings)
    hidden_mounts: dict[int, list[BindMount]] = {}
    pinned: dict[int, list[str]] = {}
    if thorough and live:
        hidden_mounts, pinned = _processless(scan, mount_scan, own_mnt, pins, warnings, proc)
    _scan_warnings(scan, fds, resolver.denied if resolver is not None else 0, warnings)

    host_ino = _host_inode(scan, proc, own.ino)

    container_ns: dict[int, list[Container]] = {}
    infos: list[EngineInfo] = []
    for query in queries:
        res = query.result()
        warnings.extend(res.warnings)
        info = res.engine
        if info.reachable:
            daemon = query.engine.daemon_pid(proc)
            where = scan.pid_net.get(daemon) if daemon is not None else None
            info = replace(info, daemon_pid=daemon, netns_inode=where)
        infos.append(info)
        mapped, map_warnings = container_netns.map_containers(
            res.containers, scan, mount_scan.mounts, info.daemon_pid, proc
        )
        warnings.extend(map_warnings)
        for ino, cs in mapped.items():
            container_ns.setdefault(ino, []).extend(cs)
    if thorough and live and not any(i.reachable for i in infos):
        from nsexplorer.collect.docker_endpoint import unasked_daemons

        if hint := unasked_daemons({e.host for e in engines}, proc):
            warnings.append(hint)

    all_mounts = {k: list(v) for k, v in mount_scan.mounts.items()}
    for ino, ms in hidden_mounts.items():
        all_mounts.setdefault(ino, []).extend(ms)
    inodes: set[int] = {host_ino}
    for found in (scan.net_pids, scan.fd_holders, scan.thread_holders, scan.socket_holders):
        inodes.update(found)
    inodes.update(all_mounts)
    inodes.update(container_ns)

    namespaces: list[NetNamespace] = []
    paths: dict[NamespaceId, list[str]] = {}
    for ino in inodes:
        ns, ns_paths = _build(
            NamespaceId(dev, ino),
            Holders(
                pids=scan.net_pids.get(ino, []),
                fds=scan.fd_holders.get(ino, []),
                threads=scan.thread_holders.get(ino, []),
                sockets=scan.socket_holders.get(ino, []),
                mounts=all_mounts.get(ino, []),
                pinned=pinned.get(ino, []),
                containers=container_ns.get(ino, []),
            ),
            is_host=ino == host_ino,
            own_ino=own.ino,
            proc=proc,
            live=live,
        )
        namespaces.append(ns)
        paths[ns.id] = ns_paths
    namespaces.sort(key=_sort_key)
    meta = (("euid", str(os.geteuid())), ("kernel", os.uname().release))
    snap = Snapshot(
        hostname=os.uname().nodename,  # gethostname(2) is uname's; no socket import
        collected_at=now_iso(),
        namespaces=tuple(namespaces),
        warnings=tuple(warnings),
        engines=tuple(infos),
        meta=meta,
    )
    return Discovery(snap, paths, NamespaceId(dev, host_ino))


def _processless(  # noqa: PLR0917 - private helper, called once
    scan: procfs.ProcScan,
    mount_scan: mounts.MountScan,
    own_mnt: int,
    pins: mountns.Pins | None,
    warnings: list[str],
    proc: str,
) -> tuple[dict[int, list[BindMount]], dict[int, list[str]]]:
    """Bind mounts inside mount namespaces no process is in, and pinned ways into the
    namespaces reachable only there or only under a covering mount (helper processes,
    root only). Pins no longer needed are dropped."""
    pins = mountns.PINS if pins is None else pins
    known = {own_mnt, *scan.mnt_pids}
    todo = mountns.processless(mount_scan.mnt_mounts, scan.mnt_fd_holders, known, proc)
    covered = [(ino, m) for ino, ms in mount_scan.mounts.items() for m in ms if m.covered]
    if os.geteuid() != 0:
        if todo:
            warnings.append(
                f"{len(todo)} mount namespace(s) without processes could not be looked into "
                "(needs root): network namespaces mounted only there are missing"
            )
        return {}, {}
    found = mountns.Found()
    if todo:
        mountns.visit_all(todo, known, pins, found)
    if covered:
        mountns.uncover_all(covered, own_mnt, pins, found)
    pins.keep_only(found.kept)
    warnings.extend(found.warnings)
    return found.mounts, found.paths


def _scan_warnings(
    scan: procfs.ProcScan, fds: bool, sockets_denied: int, warnings: list[str]
) -> None:
    # As root, only a non-dumpable PID 1 is refused on some machines; its namespace is
    # the host's, found through kthreadd (PID 2): not worth a warning.
    if scan.denied and not (os.geteuid() == 0 and scan.denied_pids == [1]):
        warnings.append(
            f"{scan.denied} of {scan.scanned} processes' namespaces could not be read: "
            "namespaces held only by them are missing (needs root)"
        )
    if scan.fd_denied and fds:
        warnings.append(
            f"{scan.fd_denied} processes' open files could not be read: namespaces pinned "
            "only by a file descriptor may be missing (needs root)"
        )
    if sockets_denied:
        warnings.append(
            f"the namespace of {sockets_denied} socket(s) could not be asked "
            "(pidfd_getfd needs Linux 5.6 and ptrace access): namespaces held only by a "
            "socket may be missing"
        )


def _sort_key(ns: NetNamespace) -> tuple[object, ...]:
    # natural order, as the sidebar's: `list`, snapshots and `problems` say n2 before n10
    return (_GROUP_ORDER[group_of(ns)], natural_key(ns.label), ns.inode)


def _host_inode(scan: procfs.ProcScan, proc: str, own_ino: int) -> int:
    """The initial netns: that of PID 1, or of kthreadd (PID 2) when PID 1 is not
    readable (it is not dumpable on some machines), or else our own."""
    for pid in (1, 2):
        ino = scan.pid_net.get(pid)
        if ino is not None:
            return ino
    return own_ino


@dataclass(slots=True)
class Holders:
    """Everything that holds one namespace, as the scans found it."""

    pids: list[int]
    fds: list[tuple[int, int]]
    threads: list[tuple[int, int]]
    sockets: list[tuple[int, int, int]]
    mounts: list[BindMount]
    pinned: list[str]  # nsexplorer's own fds (process-less mount namespaces)
    containers: list[Container]


def _sources(is_host: bool, h: Holders) -> list[Source]:
    sources: list[Source] = []
    if is_host:
        sources.append(Source.HOST)
    if h.containers:
        sources.append(Source.CONTAINER)
    if any(not m.mount_ns_path for m in h.mounts):
        sources.append(Source.BIND_MOUNT)
    if any(m.mount_ns_path for m in h.mounts):
        sources.append(Source.MOUNT_NS)
    if h.pids:
        sources.append(Source.PROCESS)
    if h.threads:
        sources.append(Source.THREAD)
    if h.fds:
        sources.append(Source.FD)
    if h.sockets:
        sources.append(Source.SOCKET)
    return sources


def _build(
    ns_id: NamespaceId,
    h: Holders,
    *,
    is_host: bool,
    own_ino: int,
    proc: str,
    live: bool = True,
) -> tuple[NetNamespace, list[str]]:
    usable = [m for m in h.mounts if not m.covered]
    names = tuple(
        sorted({n for m in usable if not m.hidden if (n := netns_name(m.path)) is not None})
    )
    # Owners first: a container:<x> member is listed after the container it joins.
    ordered = sorted(h.containers, key=lambda c: (bool(c.shares_with), c.name))

    paths: list[str] = []
    visible = [m.path for m in usable if not m.hidden]
    paths.extend(sorted(visible, key=lambda p: netns_name(p) is None))
    paths.extend(f"{proc}/{p}/ns/net" for p in h.pids[:3])
    # Only containers whose process is in it: one that left its sandbox is elsewhere.
    inside = set(h.pids)
    paths.extend(f"{proc}/{c.pid}/ns/net" for c in ordered if c.pid in inside)
    paths.extend(m.reach_path for m in usable if m.hidden and m.via_pid is not None)
    paths.extend(f"{proc}/{p}/task/{t}/ns/net" for p, t in h.threads[:3])
    paths.extend(f"{proc}/{p}/fd/{fd}" for p, fd in h.fds[:3])
    if ns_id.ino == own_ino:
        paths.append(nsfs.OWN_NETNS)
    # Ways in that only nsexplorer itself can use (never shown as the access path).
    private = [*(f"{proc}/{p}/fd/{fd}" for p, fd, _ in h.sockets[:3]), *h.pinned]
    paths = list(dict.fromkeys(paths))
    access = _access_path(paths, ns_id.ino == own_ino)
    paths = list(dict.fromkeys([*paths, *private]))

    ns = NetNamespace(
        id=ns_id,
        is_host=is_host,
        label=_label(is_host, names, ordered, h, proc),
        sources=tuple(_sources(is_host, h)),
        names=names,
        bind_mounts=tuple(sorted(h.mounts, key=lambda m: (m.hidden, m.covered, m.path))),
        pids=tuple(h.pids),
        fd_holders=tuple(FdHolder(p, fd) for p, fd in h.fds),
        containers=tuple(ordered),
        access_path=access,
        thread_holders=tuple(ThreadHolder(p, t) for p, t in h.threads),
        socket_holders=tuple(SocketHolder(p, fd, sock) for p, fd, sock in h.sockets),
        cookie=read_cookie(ns_id, paths) if live else None,
    )
    return ns, paths


def read_cookie(ns_id: NamespaceId, paths: Sequence[str]) -> int | None:
    """The unique id of ``ns_id`` through the first of ``paths`` that still opens it
    (verified by (dev, ino)); None when none does or the kernel has no ids. Opening is
    the same verified open as everywhere (kernel.nsfs.open_verified), then one ioctl.
    Every pass reads it, the cheap one too: a snapshot without ids could not tell a
    namespace from the one that took its inode."""
    for path in paths:
        try:
            return nsfs.cookie_at(path, ns_id)
        except OSError:
            continue
    return None


def _access_path(paths: list[str], is_own: bool) -> str:
    for p in paths:
        if p != nsfs.OWN_NETNS:
            return p
    return nsfs.OWN_NETNS if is_own else ""


def _label(
    is_host: bool,
    names: tuple[str, ...],
    containers: list[Container],
    h: Holders,
    proc: str,
) -> str:
    if is_host:
        return "host"
    if containers:
        return ", ".join(c.name for c in containers)
    if names:
        return ", ".join(names)
    if h.mounts:
        return h.mounts[0].path
    for pid in h.pids[:5]:
        comm = procfs.read_comm(pid, proc)
        if comm:
            return f"pid {pid} ({comm})"
    if h.pids:
        return f"pid {h.pids[0]}"
    if h.threads:
        pid, tid = h.threads[0]
        return _with_comm(f"thread {tid} of pid {pid}", pid, proc)
    if h.fds:
        pid, fd = h.fds[0]
        return _with_comm(f"fd {fd} of pid {pid}", pid, proc)
    if h.sockets:
        pid, fd, _ = h.sockets[0]
        return _with_comm(f"socket fd {fd} of pid {pid}", pid, proc)
    return "unknown"


def _with_comm(text: str, pid: int, proc: str) -> str:
    comm = procfs.read_comm(pid, proc)
    return f"{text} ({comm})" if comm else text
