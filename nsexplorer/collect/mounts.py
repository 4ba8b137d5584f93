"""nsfs bind mounts in every mount namespace.

One process per distinct mount namespace has its mountinfo read; each ``nsfs`` line whose
root is ``net:[N]`` is a bind mount of network namespace N. A mount that our own mount
namespace does not have is *hidden*: it is reached through ``/proc/<pid>/root<mountpoint>``
of a process in that mount namespace, with no mount-namespace switch. That process must
not be chrooted: its mountinfo and its ``root`` would show only what lies under its
chroot, so one whose root is the mount namespace's own root is chosen.

``mnt:[N]`` lines (mount namespaces bind-mounted somewhere) are collected too: a mount
namespace that no process is in is visited by :mod:`nsexplorer.collect.mountns`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from nsexplorer.kernel.mountinfo import (
    MOUNTINFO_LIMIT,
    MountEntry,
    NsfsMount,
    parse_nsfs,
)
from nsexplorer.kernel.nsfs import nsfs_dev, read_bounded
from nsexplorer.model import BindMount


def _at_or_above(point: str, path: str) -> bool:
    return point in (path, "/") or path.startswith(point.rstrip("/") + "/")


def covering_mounts(entries: list[MountEntry], mount_point: str, netns_ino: int) -> list[str]:
    """Mount points of the mounts that cover the nsfs bind mount of ``netns_ino`` at
    ``mount_point``, to detach in this order (outermost first, latest first): mounts
    attached to the bind mount's chain of parents (or stacked on it) at or above its
    path, that are not themselves in that chain. None of the bind mount's ancestors is
    ever listed. [] when nothing covers it, or when it is not in the table."""
    by_id = {e.id: e for e in entries}
    target = next(
        (
            e
            for e in entries
            if e.fstype == "nsfs"
            and e.root == f"net:[{netns_ino}]"
            and e.mount_point == mount_point
        ),
        None,
    )
    if target is None:
        return []
    chain: set[int] = set()
    cur = by_id.get(target.parent)
    while cur is not None and cur.id not in chain:
        chain.add(cur.id)
        cur = by_id.get(cur.parent)
    out = [
        e.mount_point
        for e in reversed(entries)
        if e.id != target.id
        and e.id not in chain
        and (e.parent in chain or e.parent == target.id)
        and _at_or_above(e.mount_point, mount_point)
    ]
    # Outermost first: a path under a covering mount cannot be reached to detach it.
    return sorted(out, key=lambda p: p.count("/") if p != "/" else 0)


@dataclass(slots=True)
class MountScan:
    """The nsfs bind mounts of every mount namespace that was read."""

    # netns inode -> bind mounts of it (deduplicated by (mount ns, path))
    mounts: dict[int, list[BindMount]]
    warnings: list[str]
    # mount ns inode -> paths that open it from our mount namespace (its nsfs bind
    # mounts, hidden ones through /proc/<pid>/root)
    mnt_mounts: dict[int, list[str]] = field(default_factory=dict)


def scan_mounts(
    mnt_pids: dict[int, list[int]],
    own_mnt: int,
    proc: str = "/proc",
) -> MountScan:
    """Bind mounts seen from every mount namespace in ``mnt_pids`` (plus our own)."""
    warnings: list[str] = []
    own = _read_own(proc, warnings)
    own_set = {(m.mount_point, m.netns_inode) for m in own if m.kind == "net"}
    scan = MountScan({}, warnings)
    seen: set[tuple[int, str, int]] = set()

    def add(mnt_ns: int, m: NsfsMount, hidden: bool, via: int | None) -> None:
        if m.kind == "mnt":
            reach = f"{proc}/{via}/root{m.mount_point}" if hidden else m.mount_point
            paths = scan.mnt_mounts.setdefault(m.netns_inode, [])
            if reach not in paths:
                paths.append(reach)
            return
        key = (mnt_ns if hidden else own_mnt, m.mount_point, m.netns_inode)
        if key in seen:
            return
        seen.add(key)
        scan.mounts.setdefault(m.netns_inode, []).append(
            BindMount(
                path=m.mount_point,
                mount_ns_inode=mnt_ns if hidden else own_mnt,
                hidden=hidden,
                via_pid=via if hidden else None,
            )
        )

    own_mnt_set = {(m.mount_point, m.netns_inode) for m in own if m.kind == "mnt"}
    for m in own:
        add(own_mnt, m, False, None)
    for mnt_ns, pids in sorted(mnt_pids.items()):
        if mnt_ns == own_mnt:
            continue
        mounts = _read_any(pids, proc, warnings, mnt_ns)
        if mounts is None:
            continue
        pid, found = mounts
        for m in found:
            known = own_mnt_set if m.kind == "mnt" else own_set
            hidden = (m.mount_point, m.netns_inode) not in known
            add(mnt_ns, m, hidden, pid)
    return scan


def mark_covered(
    scan: MountScan, proc: str = "/proc", lstat: Callable[[str], os.stat_result] = os.lstat
) -> None:
    """Mark the bind mounts whose path no longer opens them: another mount was made over
    the path or over a directory above it. The mount still holds the namespace (it is
    not gone); its path is just not a way in. One lstat per mount, which never opens
    anything nor follows the last component."""
    for ino, mounts in scan.mounts.items():
        for n, m in enumerate(mounts):
            path = m.path if not m.hidden else m.reach_path
            if m.hidden and m.via_pid is None:
                continue
            try:
                st = lstat(path)
            except (FileNotFoundError, NotADirectoryError):
                covered = True
            except OSError:  # not ours to see (not root): unknown, so not claimed
                continue
            else:
                covered = st.st_ino != ino or st.st_dev != nsfs_dev()
            if covered:
                mounts[n] = replace(m, covered=True)


def root_is_namespace_root(pid: int, proc: str = "/proc") -> bool | None:
    """Is the process's root the root of its mount namespace (not a chroot)? None when
    it cannot be told. ``..`` of a mount namespace's root is the root itself; of a chroot
    directory (or a chroot onto a mount point) it is something else."""
    try:
        root = os.stat(f"{proc}/{pid}/root")
        parent = os.stat(f"{proc}/{pid}/root/..")
    except OSError:
        return None
    return (root.st_dev, root.st_ino) == (parent.st_dev, parent.st_ino)


def _read_own(proc: str, warnings: list[str]) -> list[NsfsMount]:
    try:
        data, truncated = read_bounded(f"{proc}/thread-self/mountinfo", MOUNTINFO_LIMIT)
    except OSError as err:
        warnings.append(f"cannot read our own mount table: {err.strerror}")
        return []
    if truncated:
        warnings.append("our own mount table is larger than 32 MB; read the first 32 MB")
    return parse_nsfs(data)


def read_mountinfo(pid: int, proc: str, warnings: list[str]) -> list[NsfsMount]:
    """The nsfs mounts in ``pid``'s mount table (raises OSError as the read does)."""
    data, truncated = read_bounded(f"{proc}/{pid}/mountinfo", MOUNTINFO_LIMIT)
    if truncated:
        warnings.append(f"mount table of pid {pid} is larger than 32 MB; read part of it")
    return parse_nsfs(data)


CHROOT_CANDIDATES = 32  # processes of one mount namespace tried for an unchrooted one


def _read_any(
    pids: list[int], proc: str, warnings: list[str], mnt_ns: int
) -> tuple[int, list[NsfsMount]] | None:
    """mountinfo of a process of the mount namespace that is not chrooted; of a
    chrooted one only when every process tried is (its table is then what it sees)."""
    denied = False
    chrooted: list[int] = []
    for pid in pids[:CHROOT_CANDIDATES]:
        if root_is_namespace_root(pid, proc) is False:
            chrooted.append(pid)
            continue
        try:
            return pid, read_mountinfo(pid, proc, warnings)
        except PermissionError:
            denied = True
        except OSError:  # the process ended: try the next one
            continue
    for pid in chrooted[:8]:
        try:
            return pid, read_mountinfo(pid, proc, warnings)
        except PermissionError:
            denied = True
        except OSError:
            continue
    if denied:
        warnings.append(f"cannot read the mount table of mount namespace {mnt_ns} (needs root)")
    return None
