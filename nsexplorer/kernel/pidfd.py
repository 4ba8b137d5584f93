"""Another process's file descriptors, through pidfds: which network namespace its
sockets live in.

A socket keeps its network namespace alive after every process left it; nothing under
/proc/PID/ns shows that namespace. ``pidfd_getfd`` (Linux 5.6) copies the socket into
this process and ``SIOCGSKNS`` returns an fd to its namespace, as util-linux ``lsns``
2.41 does. Both copies are closed at once: the other process's socket is untouched.
Needs PTRACE_MODE_ATTACH over the process (root) and CAP_NET_ADMIN over the namespace.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import select
import socket
import stat
from collections.abc import Callable

from nsexplorer import TYPE_CHECKING
from nsexplorer.kernel.libc import libc

if TYPE_CHECKING:
    pass

SIOCGSKNS = 0x894C  # ioctl: an fd to the socket's network namespace
# SO_MARK of the netlink sockets an nsexplorer keeps in each namespace to watch it
# ("nsx"). Those sockets keep their namespace alive, so they must not count as holders
# for another nsexplorer: two of them would keep each other's namespaces alive after
# every real holder left (a deleted netns, its veths up, for as long as both ran).
# Anyone with CAP_NET_ADMIN over a socket's netns may set any mark, and an unprivileged
# user has that in a namespace of its own (`unshare -Urn`): the mark is believed only on
# a socket held by root of our own user namespace (see trusted_watcher_holder), else a
# user could hide a namespace by marking the socket that holds it (or by handing it to
# a setuid-root program that waits, su at its password prompt: real uid not 0).
WATCHER_MARK = 0x6E7378
NOT_A_HOLDER = -1  # SocketResolver.netns: a watcher socket of an nsexplorer
SYS_PIDFD_GETFD = 438  # the same number on every architecture (new-style syscall table)


def pidfd_open(pid: int) -> int:
    return os.pidfd_open(pid)


def pidfd_getfd(pidfd: int, target_fd: int) -> int:
    """A copy (close-on-exec) of fd ``target_fd`` of the process behind ``pidfd``."""
    lib = libc()
    fd = int(lib.syscall(SYS_PIDFD_GETFD, pidfd, target_fd, 0))
    if fd < 0:
        import ctypes

        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return fd


def mark_watcher(sock: socket.socket) -> None:
    """Mark a watcher socket (see WATCHER_MARK). Setting SO_MARK needs CAP_NET_ADMIN;
    without it the socket stays unmarked (and counts as a holder to other instances)."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, WATCHER_MARK)


def is_watcher(sock_fd: int) -> bool:
    """Socket ``sock_fd`` is a netlink socket marked as an nsexplorer's watcher."""
    sock = socket.socket(fileno=sock_fd)
    try:
        return (
            sock.getsockopt(socket.SOL_SOCKET, socket.SO_DOMAIN) == socket.AF_NETLINK
            and sock.getsockopt(socket.SOL_SOCKET, socket.SO_MARK) == WATCHER_MARK
        )
    finally:
        sock.detach()  # the fd stays the caller's


def socket_netns(sock_fd: int) -> int:
    """An fd (O_RDONLY, close-on-exec) to the network namespace of socket ``sock_fd``."""
    return int(fcntl.ioctl(sock_fd, SIOCGSKNS))


def netns_of_socket(
    pid: int,
    fd: int,
    *,
    pidfd: int | None = None,
    socket_inode: int | None = None,
    skip_watchers: Callable[[], bool] | None = None,
) -> int:
    """An fd to the network namespace of socket ``fd`` of process ``pid``; the caller
    closes it. ``socket_inode``: the socket expected there (the fd number may have been
    reused since it was listed). ``skip_watchers``: NOT_A_HOLDER for a socket marked as
    an nsexplorer's watcher, if this says its holder may be believed. Raises OSError
    (ESRCH, EBADF, EPERM, ENOTSOCK, ESTALE ...) when it cannot."""
    own = pidfd is None
    pfd = pidfd_open(pid) if pidfd is None else pidfd
    try:
        copy = pidfd_getfd(pfd, fd)
    finally:
        if own:
            os.close(pfd)
    try:
        st = os.fstat(copy)
        if not stat.S_ISSOCK(st.st_mode):
            raise OSError(errno.ENOTSOCK, "not a socket (the fd number was reused)")
        if socket_inode is not None and st.st_ino != socket_inode:
            raise OSError(errno.ESTALE, "another socket (the fd number was reused)")
        if skip_watchers is not None and is_watcher(copy) and skip_watchers():
            return NOT_A_HOLDER
        return socket_netns(copy)
    finally:
        os.close(copy)


def trusted_watcher_holder(pid: int, pidfd: int) -> bool:
    """Process ``pid`` (alive behind ``pidfd``) is root in our own user namespace, real
    uid too (not a setuid program a user started): only such a holder's WATCHER_MARK
    is believed (an nsexplorer runs as root there)."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            status = f.read(16384)
        ours, theirs = os.stat("/proc/self/ns/user"), os.stat(f"/proc/{pid}/ns/user")
    except OSError:
        return False
    uid = next((line.split() for line in status.splitlines() if line.startswith(b"Uid:")), [])
    root = uid[1:5] == [b"0", b"0", b"0", b"0"]  # real, effective, saved and fs
    if not root or (ours.st_dev, ours.st_ino) != (theirs.st_dev, theirs.st_ino):
        return False
    # still the process the pidfd names (not a new one under a reused pid)
    return not select.select([pidfd], [], [], 0)[0]


class SocketResolver:
    """socket inode -> netns inode for many sockets of many processes, each socket
    asked once (forked processes share theirs) and each process's pidfd opened once."""

    def __init__(self) -> None:
        self.by_socket: dict[int, int | None] = {}
        self._pidfds: dict[int, int] = {}
        self._trusted: dict[int, bool] = {}  # pid -> its watcher marks are believed
        self.failed = 0  # sockets not answered, for any reason
        # ... because we may not ask (EPERM, EACCES) or the kernel cannot (ENOSYS,
        # ENOTTY before Linux 5.6): the others ended or changed mid-scan, a race.
        self.denied = 0

    def netns(self, pid: int, fd: int, socket_inode: int) -> int | None:
        if socket_inode in self.by_socket:
            return self.by_socket[socket_inode]
        ino: int | None = None
        try:
            pfd = self._pidfds.get(pid)
            if pfd is None:
                try:
                    pfd = pidfd_open(pid)
                except OSError:
                    self._pidfds[pid] = -1  # gone or not ours: not asked again
                    raise
                self._pidfds[pid] = pfd
            if pfd < 0:
                raise ProcessLookupError(errno.ESRCH, "process not reachable")

            def trusted(pid: int = pid, pfd: int = pfd) -> bool:
                if pid not in self._trusted:
                    self._trusted[pid] = trusted_watcher_holder(pid, pfd)
                return self._trusted[pid]

            ns_fd = netns_of_socket(
                pid, fd, pidfd=pfd, socket_inode=socket_inode, skip_watchers=trusted
            )
            if ns_fd == NOT_A_HOLDER:
                self.by_socket[socket_inode] = NOT_A_HOLDER
                return NOT_A_HOLDER
            try:
                ino = os.fstat(ns_fd).st_ino
            finally:
                os.close(ns_fd)
        except OSError as err:
            self.failed += 1
            if err.errno in (errno.EPERM, errno.EACCES, errno.ENOSYS, errno.ENOTTY):
                self.denied += 1
        self.by_socket[socket_inode] = ino
        return ino

    def close(self) -> None:
        for pfd in self._pidfds.values():
            if pfd >= 0:
                os.close(pfd)
        self._pidfds.clear()
        self._trusted.clear()
