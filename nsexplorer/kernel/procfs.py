"""The /proc scan: which network and mount namespace each process is in, which threads
are in another netns than their process, and which processes hold a network or mount
namespace open through a file descriptor or a socket.

Processes come and go during the scan: ENOENT/ESRCH mean "gone" and are skipped; EACCES
is counted so the snapshot can say what needs root.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from nsexplorer.kernel.nsfs import CLONE_NEWNET, nsfs_dev, parse_ns_link
from nsexplorer.kernel.pidfd import NOT_A_HOLDER

COMM_LIMIT = 64
NS_GET_NSTYPE = 0xB703  # _IO(0xb7, 0x3)
CLONE_NEWNS = 0x00020000


# Resolves (pid, fd, socket inode) to the socket's netns inode (pidfd.SocketResolver),
# None when it cannot, pidfd.NOT_A_HOLDER for another nsexplorer's watcher socket.
SocketNetns = Callable[[int, int, int], "int | None"]


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
    # netns inode -> [(pid, tid)] of threads in it whose main thread is elsewhere
    thread_holders: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    # netns inode -> [(pid, fd, socket inode)] of sockets in it, outside their process's
    # own netns
    socket_holders: dict[int, list[tuple[int, int, int]]] = field(default_factory=dict)
    # mount ns inode -> [(pid, fd)] of processes holding a mount namespace open
    mnt_fd_holders: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    denied: int = 0  # processes whose namespaces we may not read (not root)
    denied_pids: list[int] = field(default_factory=list)
    fd_denied: int = 0  # processes whose fd table we may not read
    sockets_failed: int = 0  # sockets whose namespace could not be asked
    scanned: int = 0


def all_pids(proc: str = "/proc") -> list[int]:
    """Every pid under ``proc`` now (an unreadable /proc gives none)."""
    try:
        return sorted(int(name) for name in os.listdir(proc) if name.isdigit())
    except OSError:
        return []


def scan(
    proc: str = "/proc",
    *,
    fds: bool = True,
    threads: bool = True,
    mounts: bool = True,
    sockets: SocketNetns | None = None,
) -> ProcScan:
    """One pass over /proc.

    ``threads``: also the netns of every thread but the main one, for processes with
    more than one thread (one stat of /proc/PID/task each tells). ``sockets``: ask the
    namespace of every socket (needs ``fds``); costly, so only for the full pass.
    nsexplorer's own threads and fds are skipped: its reader threads visit namespaces
    and hold fds to them, which must not make it look like a holder.
    """
    out = ProcScan()
    own = os.getpid() if proc == "/proc" else None
    for pid in all_pids(proc):
        out.scanned += 1
        base = f"{proc}/{pid}"
        net: int | None = None
        try:
            net = parse_ns_link(os.readlink(f"{base}/ns/net"), "net")
        except PermissionError:
            out.denied += 1
            out.denied_pids.append(pid)
            continue
        except OSError:  # ENOENT, ESRCH: the process ended (or only its main thread did)
            if not threads:
                continue
        if net is not None:
            out.net_pids.setdefault(net, []).append(pid)
            out.pid_net[pid] = net
            if mounts:
                try:
                    mnt = parse_ns_link(os.readlink(f"{base}/ns/mnt"), "mnt")
                except OSError:
                    mnt = None
                if mnt is not None:
                    out.mnt_pids.setdefault(mnt, []).append(pid)
        if pid == own:
            continue
        if threads:
            _scan_threads(out, base, pid, net)
        if fds and net is not None:
            _scan_fds(out, base, pid, net, sockets)
    for pids in out.net_pids.values():
        pids.sort()
    for pids in out.mnt_pids.values():
        pids.sort()
    return out


def _scan_threads(out: ProcScan, base: str, pid: int, net: int | None) -> None:
    task = f"{base}/task"
    try:
        # st_nlink of /proc/PID/task is 2 + the number of threads: one stat, no listing,
        # for the (usual) single-threaded process.
        if net is not None and os.stat(task).st_nlink <= 3:
            return
        tids = os.listdir(task)
    except OSError:
        return
    own = str(pid)
    for tid in tids:
        if tid == own or not tid.isdigit():
            continue
        try:
            ino = parse_ns_link(os.readlink(f"{task}/{tid}/ns/net"), "net")
        except OSError:  # the thread ended
            continue
        if ino is not None and ino != net:
            out.thread_holders.setdefault(ino, []).append((pid, int(tid)))


def _scan_fds(out: ProcScan, base: str, pid: int, net: int, sockets: SocketNetns | None) -> None:
    """nsfs fds (network and mount namespaces) and, with ``sockets``, sockets that live
    in another netns than the process's own."""
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
        if not fd.isdigit():
            continue
        # Cheap prefix tests first: almost every fd is a file, socket, pipe or anon
        # inode. An fd opened from /proc/<pid>/ns/net reads "net:[N]"; one opened through
        # a bind mount reads as the mount's path, and as "/" once that mount is gone
        # (then only the fd pins the namespace): those few are checked with stat.
        if target.startswith("socket:["):
            sock = parse_ns_link(target, "socket") if sockets is not None else None
            if sockets is not None and sock is not None:
                ino = sockets(pid, int(fd), sock)
                if ino is None:
                    out.sockets_failed += 1
                elif ino not in (net, NOT_A_HOLDER):
                    out.socket_holders.setdefault(ino, []).append((pid, int(fd), sock))
            continue
        ino = None
        if target.startswith("net:["):
            ino = parse_ns_link(target, "net")
        elif target.startswith("mnt:["):
            mnt = parse_ns_link(target, "mnt")
            if mnt is not None:
                out.mnt_fd_holders.setdefault(mnt, []).append((pid, int(fd)))
            continue
        elif target == "/":
            kind, found = _nsfs_fd(f"{fd_dir}/{fd}")
            if kind == CLONE_NEWNS and found is not None:
                out.mnt_fd_holders.setdefault(found, []).append((pid, int(fd)))
                continue
            ino = found if kind == CLONE_NEWNET else None
        if ino is not None:
            out.fd_holders.setdefault(ino, []).append((pid, int(fd)))


def _nsfs_fd(path: str) -> tuple[int | None, int | None]:
    """(namespace type, inode) if the fd at ``path`` (a /proc magic link) is a network
    or mount namespace, else (None, None)."""
    try:
        # O_PATH opens nothing (the fd number could have been reused for a device or
        # FIFO since the readlink); nsfs is checked before the ioctl.
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return None, None
    try:
        st = os.fstat(fd)
        if st.st_dev != nsfs_dev():
            return None, None
        real = os.open(f"/proc/self/fd/{fd}", os.O_RDONLY | os.O_CLOEXEC)
        try:
            kind = fcntl.ioctl(real, NS_GET_NSTYPE)
        finally:
            os.close(real)
    except OSError:
        return None, None
    finally:
        os.close(fd)
    return (kind, st.st_ino) if kind in (CLONE_NEWNET, CLONE_NEWNS) else (None, None)


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
