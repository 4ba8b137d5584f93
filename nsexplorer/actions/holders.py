"""Does anything but one name keep a namespace alive? (So unname never destroys one.)

Looks at every process's netns, its open fds, and nsfs bind mounts in every mount
namespace (read through /proc/<pid>/mountinfo of one process in each). Copies of the
name itself, propagated to other mount namespaces, do not count. Any /proc entry may
vanish or refuse access while we read it; that is skipped.
"""

from __future__ import annotations

import os

from nsexplorer.kernel.mountinfo import MOUNTINFO_LIMIT, parse_mountinfo
from nsexplorer.kernel.nsfs import read_bounded


def _nsfs_mounts(pid_dir: str, ino: int) -> list[str]:
    """Mount points of nsfs bind mounts of net:[ino] in one process's mount table."""
    try:
        data, _ = read_bounded(f"{pid_dir}/mountinfo", MOUNTINFO_LIMIT)
    except OSError:
        return []
    return [m.mount_point for m in parse_mountinfo(data) if m.netns_inode == ino]


# fd targets that are never a namespace file: no need to stat them.
_NOT_A_FILE = ("pipe:", "socket:", "anon_inode:")


def count_holders(
    ino: int, name_paths: tuple[str, ...], proc: str = "/proc", dev: int | None = None
) -> int:
    """How many things keep net:[ino] alive, apart from mounts at ``name_paths``.

    An fd opened through a path (``open("/run/netns/x")``, as ``ip`` and dockerd do)
    reads back as that path, not ``net:[ino]``: with ``dev`` (the nsfs st_dev) such
    fds are stat()ed (never opened) and compared by (dev, ino).
    Stops counting at the first one found: callers only ask "any at all?".
    """
    link = f"net:[{ino}]"
    mount_nses: dict[str, str] = {}
    try:
        pids = [e for e in os.listdir(proc) if e.isdigit()]
    except OSError:
        return 1  # cannot tell: assume held, never destroy by mistake
    for pid in pids:
        base = f"{proc}/{pid}"
        try:
            if os.readlink(f"{base}/ns/net") == link:
                return 1
            mount_nses.setdefault(os.readlink(f"{base}/ns/mnt"), pid)
        except OSError:
            continue
        try:
            fds = os.listdir(f"{base}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"{base}/fd/{fd}")
                if target == link:
                    return 1
                if dev is None or target.startswith(_NOT_A_FILE):
                    continue
                st = os.stat(f"{base}/fd/{fd}")
                if (st.st_dev, st.st_ino) == (dev, ino):
                    return 1
            except OSError:
                continue
    for pid in mount_nses.values():
        for point in _nsfs_mounts(f"{proc}/{pid}", ino):
            if point not in name_paths:
                return 1
    return 0
