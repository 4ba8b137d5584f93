"""The cheap pass: every network namespace from /proc, the mount tables of every mount
namespace and the container engine, deduplicated by (st_dev, st_ino) and labelled the
way a responder thinks. No per-namespace netlink here.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from nsexplorer.collect import docker_engine, mounts, nsfs, procfs
from nsexplorer.model import (
    BindMount,
    Container,
    EngineInfo,
    FdHolder,
    NamespaceId,
    NetNamespace,
    Snapshot,
    Source,
    group_of,
)

NETNS_DIRS = ("/run/netns/", "/var/run/netns/")
_GROUP_ORDER = {g: i for i, g in enumerate(("host", "containers", "named", "hidden"))}


@dataclass(slots=True)
class Discovery:
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


def discover(docker_timeout: float = 3.0, *, proc: str = "/proc", fds: bool = True) -> Discovery:
    engine = (
        docker_engine.EngineQuery(docker_timeout) if docker_engine.engine_configured() else None
    )
    warnings: list[str] = []
    dev = nsfs.nsfs_dev()
    own = nsfs.own_netns()
    own_mnt = nsfs.own_mntns_inode()
    scan = procfs.scan(proc, fds=fds)
    mount_scan = mounts.scan_mounts(scan.mnt_pids, own_mnt, proc)
    warnings.extend(mount_scan.warnings)
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

    host_ino = _host_inode(scan, proc, own.ino)

    containers: list[Container] = []
    engines: list[EngineInfo] = []
    if engine is not None:
        res = engine.result()
        warnings.extend(res.warnings)
        engine_info = res.engine
        if res.engine.reachable:
            daemon = _daemon_pid(proc)
            engine_info = replace(engine_info, daemon_pid=daemon)
        engines.append(engine_info)
        containers = res.containers
    container_ns, container_warnings = _map_containers(
        containers, scan, mount_scan.mounts, engines[0].daemon_pid if engines else None, proc
    )
    warnings.extend(container_warnings)

    inodes: set[int] = {host_ino}
    inodes.update(scan.net_pids)
    inodes.update(scan.fd_holders)
    inodes.update(mount_scan.mounts)
    inodes.update(container_ns)

    namespaces: list[NetNamespace] = []
    paths: dict[NamespaceId, list[str]] = {}
    for ino in inodes:
        ns, ns_paths = _build(
            NamespaceId(dev, ino),
            is_host=ino == host_ino,
            pids=scan.net_pids.get(ino, []),
            fd_holders=scan.fd_holders.get(ino, []),
            bind_mounts=mount_scan.mounts.get(ino, []),
            containers=container_ns.get(ino, []),
            own_ino=own.ino,
            proc=proc,
        )
        namespaces.append(ns)
        paths[ns.id] = ns_paths
    namespaces.sort(key=_sort_key)
    meta = (("euid", str(os.geteuid())), ("kernel", os.uname().release))
    snap = Snapshot(
        hostname=socket.gethostname(),
        collected_at=now_iso(),
        namespaces=tuple(namespaces),
        warnings=tuple(warnings),
        engines=tuple(engines),
        meta=meta,
    )
    return Discovery(snap, paths, NamespaceId(dev, host_ino))


def _sort_key(ns: NetNamespace) -> tuple[int, str, int]:
    return (_GROUP_ORDER.get(str(group_of(ns)), 9), ns.label, ns.inode)


def _host_inode(scan: procfs.ProcScan, proc: str, own_ino: int) -> int:
    """The initial netns: that of PID 1, or of kthreadd (PID 2) when PID 1 is not
    readable (it is not dumpable on some machines), or else our own."""
    for pid in (1, 2):
        ino = scan.pid_net.get(pid)
        if ino is not None:
            return ino
    return own_ino


def _daemon_pid(proc: str) -> int | None:
    """The dockerd serving DOCKER_HOST: the one whose command line names its socket, or
    the only dockerd running."""
    pids = procfs.pids_named("dockerd", proc)
    if len(pids) <= 1:
        return pids[0] if pids else None
    sock = docker_engine.docker_host().removeprefix("unix://")
    for pid in pids:
        if any(sock in arg for arg in procfs.read_cmdline(pid, proc)):
            return pid
    return None


def _map_containers(
    containers: Sequence[Container],
    scan: procfs.ProcScan,
    bind_mounts: Mapping[int, list[BindMount]],
    daemon_pid: int | None,
    proc: str,
) -> tuple[dict[int, list[Container]], list[str]]:
    """netns inode -> containers in it. A container in container:<x> mode belongs to
    x's namespace."""
    out: dict[int, list[Container]] = {}
    warnings: list[str] = []
    by_id: dict[str, int] = {}
    pending: list[Container] = []
    mount_ino = {m.path: ino for ino, ms in bind_mounts.items() for m in ms}
    for c in containers:
        ino = _container_inode(c, scan, mount_ino, daemon_pid, proc)
        if ino is None:
            if c.shares_with:
                pending.append(c)
            else:
                warnings.append(
                    f"container {c.name} ({c.short_id}): its network namespace could not be "
                    "found (stopped, or not readable)"
                )
            continue
        by_id[c.id] = ino
        out.setdefault(ino, []).append(c)
    for c in pending:
        target = c.shares_with
        ino = by_id.get(target)
        if ino is None:
            for cid, i in by_id.items():
                if cid.startswith(target) or any(
                    x.name == target for x in out.get(i, ()) if x.id == cid
                ):
                    ino = i
                    break
        if ino is None:
            warnings.append(
                f"container {c.name} ({c.short_id}) shares the network of {target[:12]}, "
                "whose namespace was not found"
            )
            continue
        out.setdefault(ino, []).append(c)
    return out, warnings


def _container_inode(
    c: Container,
    scan: procfs.ProcScan,
    mount_ino: Mapping[str, int],
    daemon_pid: int | None,
    proc: str,
) -> int | None:
    if c.pid is not None:
        ino = scan.pid_net.get(c.pid)
        if ino is not None:
            return ino
        try:
            return nsfs.stat_namespace(f"{proc}/{c.pid}/ns/net").ino
        except OSError:
            pass
    if not c.sandbox_key:
        return None
    if c.sandbox_key in mount_ino:
        return mount_ino[c.sandbox_key]
    # A live nsfs file only: a stale 0-byte SandboxKey left after `docker rm` is not.
    candidates = [c.sandbox_key]
    if daemon_pid is not None:
        candidates.append(f"{proc}/{daemon_pid}/root{c.sandbox_key}")
    for path in candidates:
        try:
            return nsfs.stat_namespace(path).ino
        except OSError:
            continue
    return None


def _build(
    ns_id: NamespaceId,
    *,
    is_host: bool,
    pids: list[int],
    fd_holders: list[tuple[int, int]],
    bind_mounts: list[BindMount],
    containers: list[Container],
    own_ino: int,
    proc: str,
) -> tuple[NetNamespace, list[str]]:
    sources: list[Source] = []
    if is_host:
        sources.append(Source.HOST)
    if containers:
        sources.append(Source.CONTAINER)
    if bind_mounts:
        sources.append(Source.BIND_MOUNT)
    if pids:
        sources.append(Source.PROCESS)
    if fd_holders:
        sources.append(Source.FD)
    names = tuple(
        sorted({n for m in bind_mounts if not m.hidden if (n := netns_name(m.path)) is not None})
    )
    # Owners first: a container:<x> member is listed after the container it joins.
    ordered = sorted(containers, key=lambda c: (bool(c.shares_with), c.name))

    paths: list[str] = []
    visible = [m.path for m in bind_mounts if not m.hidden]
    paths.extend(sorted(visible, key=lambda p: netns_name(p) is None))
    paths.extend(f"{proc}/{p}/ns/net" for p in pids[:3])
    paths.extend(f"{proc}/{c.pid}/ns/net" for c in ordered if c.pid is not None)
    paths.extend(m.reach_path for m in bind_mounts if m.hidden)
    paths.extend(f"{proc}/{p}/fd/{fd}" for p, fd in fd_holders[:3])
    if ns_id.ino == own_ino:
        paths.append(nsfs.OWN_NETNS)
    paths = list(dict.fromkeys(paths))

    ns = NetNamespace(
        id=ns_id,
        is_host=is_host,
        label=_label(is_host, names, ordered, bind_mounts, pids, fd_holders, proc),
        sources=tuple(sources),
        names=names,
        bind_mounts=tuple(sorted(bind_mounts, key=lambda m: (m.hidden, m.path))),
        pids=tuple(pids),
        fd_holders=tuple(FdHolder(p, fd) for p, fd in fd_holders),
        containers=tuple(ordered),
        access_path=_access_path(paths, ns_id.ino == own_ino),
    )
    return ns, paths


def _access_path(paths: list[str], is_own: bool) -> str:
    for p in paths:
        if p != nsfs.OWN_NETNS:
            return p
    return nsfs.OWN_NETNS if is_own else ""


def _label(  # noqa: PLR0917 - private helper, called once
    is_host: bool,
    names: tuple[str, ...],
    containers: list[Container],
    bind_mounts: list[BindMount],
    pids: list[int],
    fd_holders: list[tuple[int, int]],
    proc: str,
) -> str:
    if is_host:
        return "host"
    if containers:
        return ", ".join(c.name for c in containers)
    if names:
        return ", ".join(names)
    if bind_mounts:
        return bind_mounts[0].path
    for pid in pids[:5]:
        comm = procfs.read_comm(pid, proc)
        if comm:
            return f"pid {pid} ({comm})"
    if pids:
        return f"pid {pids[0]}"
    if fd_holders:
        pid, fd = fd_holders[0]
        comm = procfs.read_comm(pid, proc)
        return f"fd {fd} of pid {pid} ({comm})" if comm else f"fd {fd} of pid {pid}"
    return "unknown"
