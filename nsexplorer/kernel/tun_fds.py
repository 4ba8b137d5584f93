"""Which processes have a tun/tap device open: their /dev/net/tun fds, the device each is
attached to, and the namespace that device is in now, proved on the fd itself.

/proc/PID/fdinfo/FD's ``iff:`` line names the device, but a name is unique only within
one network namespace, and a device may be moved to another one after it was attached.
So each candidate fd is copied with pidfd_getfd and asked: TUNGETIFF (its device's name
now) and TUNGETDEVNETNS (Linux 5.2: an fd to its device's namespace). Where that is not
possible (an old kernel, EPERM) the fd is reported unproved, by its fdinfo name alone.
Costs one readlink per fd of every process: only on demand, never in a periodic sweep.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from collections.abc import Collection
from dataclasses import dataclass

from nsexplorer.kernel.nsfs import namespace_cookie, read_bounded
from nsexplorer.kernel.pidfd import pidfd_getfd, pidfd_open
from nsexplorer.kernel.procfs import all_pids

TUN_PATH = "/dev/net/tun"
TUN_RDEV = os.makedev(10, 200)  # the misc device behind /dev/net/tun
TUNGETIFF = 0x800454D2  # _IOR('T', 210, unsigned int): struct ifreq with the name
TUNGETDEVNETNS = 0x54E3  # _IO('T', 227): an fd to the device's network namespace
IFREQ_SIZE = 40
FDINFO_LIMIT = 4096


@dataclass(frozen=True, slots=True)
class TunFd:
    """One fd of one process on a tun/tap device."""

    pid: int
    fd: int
    name: str  # the device it is attached to
    # (st_dev, st_ino, cookie) of the device's namespace, read on the fd itself; None:
    # unproved (``why`` says why). cookie None: the kernel has no NS_GET_ID.
    netns: tuple[int, int, int | None] | None = None
    why: str = ""


def tun_fds(names: Collection[str] | None = None, proc: str = "/proc") -> list[TunFd]:
    """Every fd on /dev/net/tun attached to a device, of every process but this one;
    ``names``: only those attached to a device so named (by fdinfo, before any
    pidfd is opened). Processes and fds that vanish mid-scan are skipped."""
    own = os.getpid() if proc == "/proc" else None
    out: list[TunFd] = []
    for pid in all_pids(proc):
        if pid == own:
            continue
        found = _attached_fds(f"{proc}/{pid}", names)
        if found:
            out.extend(_proved(pid, found))
    return out


def _attached_fds(base: str, names: Collection[str] | None) -> list[tuple[int, str]]:
    """(fd, device name) of the process's /dev/net/tun fds that are attached."""
    try:
        fds = os.listdir(f"{base}/fd")
    except OSError:  # gone, or not ours to read
        return []
    out: list[tuple[int, str]] = []
    for fd in fds:
        try:
            # readlink, never stat: stat follows the link into the file's file system (a
            # hung FUSE mount hangs it). Any node named tun is a candidate (a chroot's or
            # container's, one deleted since): _ask proves the device on the fd itself.
            if not _tun_node(os.readlink(f"{base}/fd/{fd}")):
                continue
            data, _ = read_bounded(f"{base}/fdinfo/{fd}", FDINFO_LIMIT)
        except OSError:
            continue
        name = _iff(data)
        if name and (names is None or name in names) and fd.isdigit():
            out.append((int(fd), name))
    return out


def _tun_node(target: str) -> bool:
    """An fd's link target that may be the tun device: /dev/net/tun, or a node of
    that name elsewhere, also one deleted since."""
    path = target.removesuffix(" (deleted)")
    return path == TUN_PATH or path.endswith("/tun")


def _iff(fdinfo: bytes) -> str:
    """The device name in a tun fd's fdinfo ("iff:\\tNAME"; empty when not attached)."""
    for line in fdinfo.splitlines():
        if line.startswith(b"iff:"):
            return os.fsdecode(line[4:].strip())
    return ""


def _proved(pid: int, fds: list[tuple[int, str]]) -> list[TunFd]:
    try:
        pidfd = pidfd_open(pid)
    except ProcessLookupError:
        return []
    except OSError as err:
        return [TunFd(pid, fd, name, None, _reason(err)) for fd, name in fds]
    try:
        out = []
        for fd, name in fds:
            try:
                out.append(_ask(pidfd, pid, fd))
            except (ProcessLookupError, FileNotFoundError, _NotTun):
                continue  # the process or its fd went away, or the number was reused
            except OSError as err:
                out.append(TunFd(pid, fd, name, None, _reason(err)))
        return out
    finally:
        os.close(pidfd)


class _NotTun(OSError):
    """The fd is no longer a tun fd attached to a device."""


def _ask(pidfd: int, pid: int, fd: int) -> TunFd:
    """The device's name and namespace, from a copy of the process's fd."""
    try:
        copy = pidfd_getfd(pidfd, fd)
    except OSError as err:
        if err.errno == errno.EBADF:
            raise _NotTun(err.errno, "the fd was closed") from err
        raise
    try:
        st = os.fstat(copy)
        if not stat.S_ISCHR(st.st_mode) or st.st_rdev != TUN_RDEV:
            raise _NotTun(errno.ENOTTY, "the fd number was reused")
        try:
            ifreq = fcntl.ioctl(copy, TUNGETIFF, bytes(IFREQ_SIZE))
        except OSError as err:  # EBADFD: detached since the fdinfo was read
            raise _NotTun(err.errno, "not attached") from err
        name = os.fsdecode(ifreq[:16].split(b"\0", 1)[0])
        try:
            ns_fd = int(fcntl.ioctl(copy, TUNGETDEVNETNS))
        except OSError as err:  # ENOTTY/EINVAL before Linux 5.2; EPERM
            return TunFd(pid, fd, name, None, _reason(err))
        try:
            ns = os.fstat(ns_fd)
            return TunFd(pid, fd, name, (ns.st_dev, ns.st_ino, namespace_cookie(ns_fd)))
        finally:
            os.close(ns_fd)
    finally:
        os.close(copy)


def _reason(err: OSError) -> str:
    return errno.errorcode.get(err.errno or 0, str(err.errno))
