"""The /proc scan: which network and mount namespace each process is in, and which
processes hold a network namespace open through a file descriptor.

Processes come and go during the scan: ENOENT/ESRCH mean "gone" and are skipped; EACCES
is counted so the snapshot can say what needs root.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass, field

from nsexplorer.collect.nsfs import CLONE_NEWNET, open_verified, parse_ns_link

COMM_LIMIT = 64
NS_GET_NSTYPE = 0xB703  # _IO(0xb7, 0x3)


@dataclass(slots=True)
class ProcScan:
    """What one pass over /proc found. Inodes only: every nsfs inode shares one st_dev."""

    # netns inode -> pids in it (ascending)
    net_pids: dict[int, list[int]] = field(default_factory=dict)
    # netns inode -> [(pid, fd)] of processes holding it open
    fd_holders: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    # mount ns inode -> pids in it (first one is the one we read mountinfo from)
    mnt_pids: dict[int, list[int]] = field(default_factory=dict)
    # pid -> netns inode
    pid_net: dict[int, int] = field(default_factory=dict)
    denied: int = 0  # processes whose namespaces we may not read (not root)
    denied_pids: list[int] = field(default_factory=list)
    fd_denied: int = 0  # processes whose fd table we may not read
    scanned: int = 0


def all_pids(proc: str = "/proc") -> list[int]:
    """Every pid under ``proc`` now (an unreadable /proc gives none)."""
    try:
        return sorted(int(name) for name in os.listdir(proc) if name.isdigit())
    except OSError:
        return []


def scan(proc: str = "/proc", *, fds: bool = True) -> ProcScan:
    out = ProcScan()
    for pid in all_pids(proc):
        out.scanned += 1
        base = f"{proc}/{pid}"
        try:
            net = parse_ns_link(os.readlink(f"{base}/ns/net"), "net")
        except PermissionError:
            out.denied += 1
            out.denied_pids.append(pid)
            continue
        except OSError:  # ENOENT, ESRCH: the process ended
            continue
        if net is None:
            continue
        out.net_pids.setdefault(net, []).append(pid)
        out.pid_net[pid] = net
        try:
            mnt = parse_ns_link(os.readlink(f"{base}/ns/mnt"), "mnt")
        except OSError:
            mnt = None
        if mnt is not None:
            out.mnt_pids.setdefault(mnt, []).append(pid)
        if fds:
            _scan_fds(out, base, pid)
    for pids in out.net_pids.values():
        pids.sort()
    for pids in out.mnt_pids.values():
        pids.sort()
    return out


def _scan_fds(out: ProcScan, base: str, pid: int) -> None:
    fd_dir = f"{base}/fd"
    try:
        fds = os.listdir(fd_dir)
    except PermissionError:
        out.fd_denied += 1
        return
    except OSError:
        return
    for fd in fds:
        try:
            target = os.readlink(f"{fd_dir}/{fd}")
        except OSError:
            continue
        # Cheap prefix test first: almost every fd is a file, socket, pipe or anon inode.
        # An fd opened from /proc/<pid>/ns/net reads "net:[N]"; one opened through a bind
        # mount reads as the mount's path, and as "/" once that mount is gone (then only
        # the fd pins the namespace): those few are checked with stat.
        ino = None
        if target.startswith("net:["):
            ino = parse_ns_link(target, "net")
        elif target == "/":
            ino = _netns_fd_inode(f"{fd_dir}/{fd}")
        if ino is not None and fd.isdigit():
            out.fd_holders.setdefault(ino, []).append((pid, int(fd)))


def _netns_fd_inode(path: str) -> int | None:
    """The inode if the fd at ``path`` (a /proc magic link) is a network namespace."""
    try:
        # Checked to be nsfs before it is really opened (the fd number could have been
        # reused for a device or FIFO since the readlink).
        fd, ident = open_verified(path)
    except OSError:
        return None
    try:
        if fcntl.ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET:
            return None
    except OSError:
        return None
    finally:
        os.close(fd)
    return ident.ino


def read_comm(pid: int, proc: str = "/proc") -> str:
    """The process name (``comm``), or '' if it is gone or unreadable."""
    try:
        fd = os.open(f"{proc}/{pid}/comm", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return ""
    try:
        data = os.read(fd, COMM_LIMIT)
    except OSError:
        return ""
    finally:
        os.close(fd)
    return os.fsdecode(data.rstrip(b"\n"))


def read_cmdline(pid: int, proc: str = "/proc", limit: int = 4096) -> list[str]:
    try:
        fd = os.open(f"{proc}/{pid}/cmdline", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return []
    try:
        data = os.read(fd, limit)
    except OSError:
        return []
    finally:
        os.close(fd)
    return [os.fsdecode(a) for a in data.split(b"\0") if a]


def pids_named(comm: str, proc: str = "/proc") -> list[int]:
    """Pids whose comm is exactly ``comm`` (used to find the Docker daemon)."""
    return [pid for pid in all_pids(proc) if read_comm(pid, proc) == comm]


def socket_owners(inodes: set[int], pids: list[int], proc: str = "/proc") -> dict[int, list[int]]:
    """socket inode -> pids (in ``pids`` order) whose fd table holds one of ``inodes``.

    One readlink per fd of each process asked about (the fd directory is opened once
    and each link read relative to it): the cost is the number of fds, not sockets.
    """
    want = {f"socket:[{ino}]": ino for ino in inodes}
    out: dict[int, list[int]] = {}
    if not want:
        return out
    for pid in pids:
        try:
            dfd = os.open(f"{proc}/{pid}/fd", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:  # gone, or not ours to read
            continue
        try:
            names = os.listdir(dfd)
            for name in names:
                try:
                    target = os.readlink(name, dir_fd=dfd)
                except OSError:
                    continue
                ino = want.get(target)
                if ino is not None:
                    holders = out.setdefault(ino, [])
                    if not holders or holders[-1] != pid:
                        holders.append(pid)
        except OSError:
            pass
        finally:
            os.close(dfd)
    return out
