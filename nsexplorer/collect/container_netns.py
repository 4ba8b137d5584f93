"""Which network namespace each container is in.

A container's namespace is its sandbox (SandboxKey, a netns file the engine bind-mounts,
often in the daemon's private mount namespace) and, normally, also that of its main
process (State.Pid). When the two differ, the process left the sandbox (an application
that setns()'d or ran under nsenter): the container's interfaces, addresses and ports
are still in the sandbox, so it is mapped there, with a warning naming both. A container
in ``container:<x>`` mode belongs to x's namespace.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from nsexplorer.collect import nsfs
from nsexplorer.kernel import procfs
from nsexplorer.model import BindMount, Container


def map_containers(
    containers: Sequence[Container],
    scan: procfs.ProcScan,
    bind_mounts: Mapping[int, list[BindMount]],
    daemon_pid: int | None,
    proc: str,
) -> tuple[dict[int, list[Container]], list[str]]:
    """netns inode -> containers in it, and warnings."""
    out: dict[int, list[Container]] = {}
    warnings: list[str] = []
    by_id: dict[str, int] = {}
    pending: list[Container] = []
    mount_ino = _mount_inodes(bind_mounts, daemon_pid, proc)
    for c in containers:
        ino, warning = container_inode(c, scan, mount_ino, daemon_pid, proc)
        if warning:
            warnings.append(warning)
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


def _mount_inodes(
    bind_mounts: Mapping[int, list[BindMount]], daemon_pid: int | None, proc: str
) -> dict[str, int]:
    """Bind-mount path -> netns inode; the daemon's own mount namespace wins when the
    same path exists in several."""
    daemon_mnt = None
    if daemon_pid is not None:
        try:
            daemon_mnt = nsfs.parse_ns_link(os.readlink(f"{proc}/{daemon_pid}/ns/mnt"), "mnt")
        except OSError:
            daemon_mnt = None
    out: dict[str, int] = {}
    for ino, ms in bind_mounts.items():
        for m in ms:
            if m.path not in out or m.mount_ns_inode == daemon_mnt:
                out[m.path] = ino
    return out


def container_inode(
    c: Container,
    scan: procfs.ProcScan,
    mount_ino: Mapping[str, int],
    daemon_pid: int | None,
    proc: str,
) -> tuple[int | None, str]:
    """(netns inode or None, a warning or '') for one container."""
    pid_ino: int | None = None
    if c.pid is not None:
        pid_ino = scan.pid_net.get(c.pid)
        if pid_ino is None:
            try:
                pid_ino = nsfs.stat_namespace(f"{proc}/{c.pid}/ns/net").ino
            except OSError:
                pid_ino = None
    sandbox = _sandbox_inode(c, mount_ino, daemon_pid, proc, search=pid_ino is None)
    if sandbox is not None and pid_ino is not None and sandbox != pid_ino:
        return sandbox, (
            f"container {c.name} ({c.short_id}): its process (pid {c.pid}) is in netns "
            f"{pid_ino}, not in its sandbox {c.sandbox_key} (netns {sandbox}); the "
            "container is shown in its sandbox's namespace"
        )
    return (sandbox if sandbox is not None else pid_ino), ""


def _sandbox_inode(
    c: Container,
    mount_ino: Mapping[str, int],
    daemon_pid: int | None,
    proc: str,
    *,
    search: bool,
) -> int | None:
    """The inode of the netns at the container's SandboxKey: from the mount tables
    (free), else, when nothing else maps the container (``search``), by opening the
    path (through the daemon's root when it hides it). A stale 0-byte SandboxKey left
    after `docker rm` is no namespace."""
    if not c.sandbox_key:
        return None
    if c.sandbox_key in mount_ino:
        return mount_ino[c.sandbox_key]
    if not search:
        return None
    candidates = [c.sandbox_key]
    if daemon_pid is not None:
        candidates.append(f"{proc}/{daemon_pid}/root{c.sandbox_key}")
    for path in candidates:
        try:
            return nsfs.stat_namespace(path).ino
        except OSError:
            continue
    return None
