"""nsfs bind mounts in every mount namespace.

One process per distinct mount namespace has its mountinfo read; each ``nsfs`` line whose
root is ``net:[N]`` is a bind mount of network namespace N. A mount that our own mount
namespace does not have is *hidden*: it is reached through ``/proc/<pid>/root<mountpoint>``
of a process in that mount namespace, with no mount-namespace switch.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from nsexplorer.collect.nsfs import read_bounded
from nsexplorer.model import BindMount

# mountinfo of a busy host is a few hundred KB; refuse to read absurd amounts.
MOUNTINFO_LIMIT = 32 * 1024 * 1024

_OCTAL = re.compile(rb"\\([0-7]{3})")


@dataclass(frozen=True, slots=True)
class NsfsMount:
    mount_point: str
    netns_inode: int


def unescape(field: bytes) -> str:
    """mountinfo escapes space, tab, newline and backslash as \\ooo."""
    return os.fsdecode(_OCTAL.sub(lambda m: bytes([int(m.group(1), 8)]), field))


# "<id> <parent> <maj:min> net:[<ino>] <mount point> <options...> - nsfs <source> <super>"
_NSFS_LINE = re.compile(rb"^\S+ \S+ \S+ net:\[(\d+)\] (\S+) [^\n]*? - nsfs ", re.MULTILINE)


def parse_mountinfo(data: bytes) -> list[NsfsMount]:
    """The nsfs network-namespace mounts in a mountinfo text (bytes, as read)."""
    out: list[NsfsMount] = []
    for ino, point in _NSFS_LINE.findall(data):
        path = unescape(point) if b"\\" in point else point.decode("utf-8", "surrogateescape")
        out.append(NsfsMount(path, int(ino)))
    return out


@dataclass(slots=True)
class MountScan:
    # netns inode -> bind mounts of it (deduplicated by (mount ns, path))
    mounts: dict[int, list[BindMount]]
    warnings: list[str]


def scan_mounts(
    mnt_pids: dict[int, list[int]],
    own_mnt: int,
    proc: str = "/proc",
) -> MountScan:
    """Bind mounts seen from every mount namespace in ``mnt_pids`` (plus our own)."""
    warnings: list[str] = []
    own = _read_own(proc, warnings)
    own_set = {(m.mount_point, m.netns_inode) for m in own}
    result: dict[int, list[BindMount]] = {}
    seen: set[tuple[int, str, int]] = set()

    def add(mnt_ns: int, m: NsfsMount, hidden: bool, via: int | None) -> None:
        key = (mnt_ns if hidden else own_mnt, m.mount_point, m.netns_inode)
        if key in seen:
            return
        seen.add(key)
        result.setdefault(m.netns_inode, []).append(
            BindMount(
                path=m.mount_point,
                mount_ns_inode=mnt_ns if hidden else own_mnt,
                hidden=hidden,
                via_pid=via if hidden else None,
            )
        )

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
            hidden = (m.mount_point, m.netns_inode) not in own_set
            add(mnt_ns, m, hidden, pid)
    return MountScan(result, warnings)


def _read_own(proc: str, warnings: list[str]) -> list[NsfsMount]:
    try:
        data, truncated = read_bounded(f"{proc}/thread-self/mountinfo", MOUNTINFO_LIMIT)
    except OSError as err:
        warnings.append(f"cannot read our own mount table: {err.strerror}")
        return []
    if truncated:
        warnings.append("our own mount table is larger than 32 MB; read the first 32 MB")
    return parse_mountinfo(data)


def _read_any(
    pids: list[int], proc: str, warnings: list[str], mnt_ns: int
) -> tuple[int, list[NsfsMount]] | None:
    """mountinfo of the first process of the mount namespace that we can read."""
    denied = False
    for pid in pids[:8]:
        try:
            data, truncated = read_bounded(f"{proc}/{pid}/mountinfo", MOUNTINFO_LIMIT)
        except PermissionError:
            denied = True
            continue
        except OSError:  # the process ended: try the next one
            continue
        if truncated:
            warnings.append(f"mount table of pid {pid} is larger than 32 MB; read part of it")
        return pid, parse_mountinfo(data)
    if denied:
        warnings.append(f"cannot read the mount table of mount namespace {mnt_ns} (needs root)")
    return None
