"""One rtnetlink multicast socket in every namespace the watcher can open, within a share
of the open-file limit.

A NamespaceSockets lives on the watcher's thread: every method is called from it, since
each socket is made there after setns(CLONE_NEWNET) and the thread goes back home in a
``finally`` (nsfs.entered; nsfs.ThreadStranded if it cannot, and the thread must end).
Sockets are opened a batch at a time between polls, best first (the caller puts the host
and the selected namespace first), so hundreds of them never hold up events.

A socket keeps its namespace alive. So a watched namespace must not outlive what held it:
a socket opened through a bind mount is closed as soon as the mount table changes and
that path no longer leads to it (``ip netns del``), one opened through a process as soon
as the /proc rescan finds no process in it, before the next full read drops it for good.
That rescan is periodic, so a socket opened through a process also holds a pidfd of it:
when that process exits, the watcher rescans at once (``rescan_wanted``) instead of
keeping the namespace, and its veths, alive for up to a rescan interval.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import socket
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from nsexplorer.collect.ns_handles import GONE_ERRNOS, open_namespace
from nsexplorer.kernel import fdlimit, mountinfo, nsfs, pidfd
from nsexplorer.model import NamespaceId
from nsexplorer.ports import WatchCoverage

NETLINK_ROUTE = 0
RTMGRP_LINK = 0x1
RTMGRP_IPV4_IFADDR = 0x10
RTMGRP_IPV4_ROUTE = 0x40
RTMGRP_IPV6_IFADDR = 0x100
RTMGRP_IPV6_ROUTE = 0x400
GROUPS = (
    RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_IFADDR | RTMGRP_IPV6_ROUTE
)
# Policy rules and nexthop objects are in the snapshot too, so their changes count.
# Joined by group number (NETLINK_ADD_MEMBERSHIP): RTNLGRP_NEXTHOP (32) is past what the
# legacy bind() bit mask names, and one way for all three keeps it plain.
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
RTNLGRP_IPV4_RULE = 8
RTNLGRP_IPV6_RULE = 19
RTNLGRP_NEXTHOP = 32
MEMBERSHIPS = (RTNLGRP_IPV4_RULE, RTNLGRP_IPV6_RULE, RTNLGRP_NEXTHOP)

# Sockets opened per turn of the loop (~30 us each: a few ms a turn); events in the
# sockets already open are served between turns.
BATCH = 64

# Paths that may open a namespace, best first (e.g. LiveSource.paths_of).
PathsOf = Callable[[NamespaceId], Sequence[str]]

_PROC_NS = re.compile(r"/proc/\d+(/task/\d+)?/ns/net\Z")
_PROC_FD = re.compile(r"/proc/\d+/fd/\d+\Z")
_PROC_OWNER = re.compile(r"/proc/(\d+)(?:/task/(\d+))?/")
PIDFD_THREAD = os.O_EXCL  # pidfd_open of a thread, not its whole group (Linux 6.9)


def netlink_socket() -> socket.socket:
    """A non-blocking rtnetlink socket subscribed to link, address, route, policy-rule
    (IPv4 and IPv6) and nexthop-object changes, in the calling thread's current network
    namespace."""
    sock = socket.socket(
        socket.AF_NETLINK,
        socket.SOCK_RAW | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC,
        NETLINK_ROUTE,
    )
    try:
        pidfd.mark_watcher(sock)  # not a holder to another nsexplorer (see WATCHER_MARK)
        sock.bind((0, GROUPS))
        for group in MEMBERSHIPS:
            sock.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group)
    except OSError:
        sock.close()
        raise
    return sock


def netlink_socket_in(path: str, expect: NamespaceId | None = None) -> socket.socket:
    """A netlink socket bound inside the namespace at ``path`` (opened and verified as
    every namespace path is, so /proc's magic links work and nothing planted is
    followed). MUST run on a thread the caller owns: it switches that thread's netns and
    switches it back (nsfs.ThreadStranded if it cannot: the thread must then end)."""
    fd, _ = nsfs.open_verified(path, expect)
    try:
        return _socket_on(fd)
    finally:
        os.close(fd)


def _socket_on(fd: int) -> socket.socket:
    with nsfs.entered(fd):
        return netlink_socket()


def nsfs_mounts(proc: str = "/proc") -> list[str]:
    """Mount points of netns bind mounts visible in our own mount namespace."""
    try:
        data, _ = nsfs.read_bounded(f"{proc}/thread-self/mountinfo", mountinfo.MOUNTINFO_LIMIT)
    except OSError:
        return []
    return [m.mount_point for m in mountinfo.parse_mountinfo(data)]


def fd_share(held: int) -> int:
    """How many sockets the watcher may hold, ``held`` of them open now: half the
    descriptors that are free besides its own. The other half (and fdlimit.budget's
    reserve) stays for the reader's namespace handles, actions and their commands."""
    return max((fdlimit.budget() + held) // 2, 0)


@dataclass(slots=True)
class _Held:
    sock: socket.socket
    path: str
    via_process: bool  # opened through /proc/PID[/task/TID]/ns/net
    # What ``path`` was when opened (stat: a socket's inode for /proc/PID/fd/N of a
    # socket, else the namespace's): when it changes, the holder let go.
    mark: tuple[int, int] | None
    # A pidfd of the process (or thread) ``path`` goes through: readable once it exited.
    # None when ``path`` is not under /proc or the kernel cannot give one (a thread
    # before Linux 6.9); then only the periodic rescan notices.
    pidfd: int | None = None
    exit_watched: bool = False  # given a pidfd when opened (the budget allowed it)


def _owner_pidfd(path: str, still: Callable[[], bool]) -> int | None:
    """A pidfd of the process (a thread, for /proc/PID/task/TID/...) that ``path`` goes
    through, if ``still()`` says the path leads where it did once the pidfd is open
    (else that process exited, and its pid may be another's now)."""
    owner = _PROC_OWNER.match(path)
    if owner is None:
        return None
    pid, tid = owner.groups()
    try:
        fd = os.pidfd_open(int(tid), PIDFD_THREAD) if tid else os.pidfd_open(int(pid))
    except OSError:
        return None
    if still():
        return fd
    os.close(fd)
    return None


def _mark(path: str, *, follow: bool | None = None) -> tuple[int, int] | None:
    """(st_dev, st_ino) of ``path`` now, None if it leads nowhere. /proc/PID/fd/N is
    followed (a magic link: to the socket or namespace it is); any other last component
    is not (a bind mount's point is the namespace itself), unless ``follow``."""
    if follow is None:
        follow = _PROC_FD.match(path) is not None
    try:
        st = os.stat(path, follow_symlinks=follow)
    except OSError:
        return None
    return st.st_dev, st.st_ino


class NamespaceSockets:
    """The watcher's sockets, one per namespace asked for, at most ``cap`` of them."""

    def __init__(
        self,
        poller: select.poll,
        own: NamespaceId | None,
        *,
        max_sockets: int | None = None,
        paths: PathsOf | None = None,
        scan: Callable[[], Mapping[int, str]] | None = None,
        error: Callable[[str], None] = lambda _msg: None,
    ) -> None:
        """``own``: the thread's own namespace, watched by the caller's own socket.
        ``max_sockets``: at most this many sockets, within the descriptor share (which
        the sockets' pidfds count in too); for tests and small limits.
        ``paths``: where the collector found each namespace, tried first. ``scan``: a
        fresh /proc scan (inode -> path), for a first-priority namespace nothing else
        opens."""
        self._poller = poller
        self.own = own
        self.max_sockets = max_sockets
        self._paths = paths
        self._scan = scan
        self._error = error
        self._held: dict[NamespaceId, _Held] = {}
        self._by_fd: dict[int, NamespaceId] = {}
        self._order: list[NamespaceId] = []  # best first
        self._given: dict[NamespaceId, tuple[str, ...]] = {}
        self._urgent: set[NamespaceId] = set()
        self._failed: dict[NamespaceId, str] = {}  # could not be opened: why
        self._gone: set[NamespaceId] = set()  # no path leads to it any more
        self._capped: set[NamespaceId] = set()  # left out to stay within the budget
        self._mounts: dict[NamespaceId, str] | None = None  # per walk, when needed
        self._cap = 0
        self._by_pidfd: dict[int, NamespaceId] = {}
        self._cursor = 0
        self._kept = 0  # descriptors held within the cap: sockets and their pidfds
        self._kept_sockets = 0  # ... of which sockets, within max_sockets
        self._socket_cap = 0
        self.walking = False  # opening is under way (call step() until it is False)
        # A process a socket was opened through exited (or was already gone when its
        # pidfd was asked): the /proc rescan is due now, not at its interval.
        self.rescan_wanted = False

    # --- queries ----------------------------------------------------------------------

    @property
    def count(self) -> int:
        """Sockets open now."""
        return len(self._held)

    def holds(self, ns: NamespaceId) -> bool:
        return ns in self._held

    def drain(self, fd: int) -> NamespaceId | None:
        """Empty the socket ``fd`` (a poll said it is readable); its namespace, or None
        when ``fd`` is none of these sockets (closed since the poll)."""
        ns = self._by_fd.get(fd)
        if ns is not None:
            drain(self._held[ns].sock)
        return ns

    def holder_exited(self, fd: int) -> bool:
        """``fd`` (a poll said it is readable) is the pidfd of a process a socket was
        opened through: it exited. Its pidfd is closed and a rescan wanted; the rescan
        (prune_processes) closes the socket, or finds another process in the namespace."""
        ns = self._by_pidfd.get(fd)
        if ns is None:
            return False
        self._disarm(self._held[ns])
        self.rescan_wanted = True
        return True

    def coverage(self) -> WatchCoverage:
        asked = set(self._order)
        watched = len(self._held) + (1 if self.own in asked else 0)
        failed = sum(1 for ns in self._failed if ns in asked)
        gone = sum(1 for ns in self._gone if ns in asked)
        capped = len(self._capped)
        pending = len(asked) - watched - failed - gone - capped if self.walking else 0
        return WatchCoverage(
            watched=watched,
            unwatched=failed + capped,
            over_budget=capped,
            pending=max(pending, 0),
            gone=gone,
        )

    # --- changes ----------------------------------------------------------------------

    def want(
        self,
        order: Sequence[NamespaceId],
        paths: Mapping[NamespaceId, Sequence[str]],
        *,
        retry: bool | Collection[NamespaceId],
        urgent: Collection[NamespaceId] = (),
    ) -> None:
        """Watch ``order`` (best first), each opened through the collector's paths and
        then ``paths``; close the sockets of namespaces not in it. ``retry``: try again
        those that could not be opened (all of them, or these). ``urgent``: worth a fresh
        /proc scan when nothing else opens them (the host, the selected namespace)."""
        self._order = list(dict.fromkeys(order))
        self._given = {ns: tuple(p) for ns, p in paths.items()}
        self._urgent = set(urgent)
        wanted = set(self._order)
        for ns in [ns for ns in self._held if ns not in wanted]:
            self._close(ns)
        if retry is True:
            self._failed.clear()
            self._gone.clear()
        else:
            for ns in retry or ():
                self._failed.pop(ns, None)
                self._gone.discard(ns)
            self._failed = {ns: why for ns, why in self._failed.items() if ns in wanted}
            self._gone &= wanted
        self._restart()

    def step(self, known: Mapping[int, str]) -> list[NamespaceId]:
        """Open up to BATCH more sockets; ``known``: inode -> a /proc path into it, from
        the watcher's last rescan (a way in when the collector's paths fail). Returns the
        namespaces whose sockets were opened (subscribed) in this step."""
        opened = 0
        subscribed: list[NamespaceId] = []
        while self.walking and opened < BATCH:
            if self._cursor >= len(self._order):
                self._finish()
                break
            ns = self._order[self._cursor]
            if ns == self.own or ns in self._failed or ns in self._gone:
                self._cursor += 1
                continue
            if self._kept >= self._cap or self._kept_sockets >= self._socket_cap:
                self._finish()
                break
            self._cursor += 1
            if (held := self._held.get(ns)) is not None:
                self._kept += _descriptors(held)
                self._kept_sockets += 1
                continue
            opened += 1
            try:
                self._open(ns, known)
            except nsfs.ThreadStranded:
                raise  # this thread is stuck in another namespace: it must end
            except OSError as err:
                if fdlimit.is_out_of_fds(err):
                    self._error(f"descriptors ran out after {len(self._held)} sockets: {err}")
                    self._cap = self._kept
                    self._cursor -= 1
                    self._finish()
                elif err.errno in GONE_ERRNOS:
                    self._gone.add(ns)
                else:
                    self._failed[ns] = str(err)
                    self._error(f"cannot watch netns {ns.ino}: {err}")
                continue
            self._kept += _descriptors(self._held[ns])
            self._kept_sockets += 1
            subscribed.append(ns)
        return subscribed

    def prune_mounts(self) -> bool:
        """After a mount-table change: close every socket opened through a bind mount
        that no longer leads to its namespace; True if any was (step() then reopens it
        through another path, if one still leads there)."""
        stale = [
            ns
            for ns, held in self._held.items()
            if not held.path.startswith("/proc/") and _mark(held.path) != held.mark
        ]
        return self._drop(stale)

    def prune_processes(self, current: Mapping[int, str]) -> bool:
        """After a /proc rescan (``current``: the netns inodes processes are in): close
        every socket opened through a process when no process is in that namespace, and
        through another process's descriptor or mount table (/proc/PID/fd/N,
        /proc/PID/root/...) when that path no longer leads where it did (one stat each:
        there are few of those)."""
        self.rescan_wanted = False
        stale = []
        for ns, held in self._held.items():
            if held.via_process:
                if ns.ino not in current:
                    stale.append(ns)
                elif held.exit_watched and held.pidfd is None:
                    # the process it was opened through left; another is in it now (or
                    # the same path: a new process got that pid; the arming checks it)
                    held.path = current[ns.ino]
                    self._arm(ns, held)
            elif held.path.startswith("/proc/") and _mark(held.path) != held.mark:
                stale.append(ns)
        return self._drop(stale)

    def close_all(self) -> None:
        for ns in list(self._held):
            self._close(ns)
        self.walking = False

    # --- inside -----------------------------------------------------------------------

    def _restart(self) -> None:
        self._capped.clear()
        self._mounts = None
        limit = fd_share(sum(_descriptors(held) for held in self._held.values()))
        self._cap = limit
        self._socket_cap = limit if self.max_sockets is None else self.max_sockets
        self._cursor = self._kept = self._kept_sockets = 0
        self.walking = True

    def _finish(self) -> None:
        """The budget is spent (or the list done): whatever is left is over it."""
        for ns in self._order[self._cursor :]:
            if ns == self.own or ns in self._failed or ns in self._gone:
                continue
            if ns in self._held:
                self._close(ns)
            self._capped.add(ns)
        self._cursor = len(self._order)
        self.walking = False

    def _drop(self, stale: list[NamespaceId]) -> bool:
        for ns in stale:
            self._close(ns)
        if stale:
            self._restart()
        return bool(stale)

    def _open(self, ns: NamespaceId, known: Mapping[int, str]) -> None:
        candidates: list[str] = []
        if self._paths is not None:
            try:
                candidates.extend(self._paths(ns))
            except Exception as err:  # the source may be mid-refresh
                self._error(f"paths of netns {ns.ino}: {err}")
        candidates.extend(self._given.get(ns, ()))
        if (seen := known.get(ns.ino)) is not None:
            candidates.append(seen)
        try:
            fd, path = open_namespace(ns, [p for p in dict.fromkeys(candidates) if p])
        except OSError as err:
            if fdlimit.is_out_of_fds(err) or err.errno not in GONE_ERRNOS:
                raise
            fd, path = self._open_otherwise(ns, err)
        try:
            sock = _socket_on(fd)
        finally:
            os.close(fd)
        via_process = _PROC_NS.match(path) is not None
        held = _Held(sock, path, via_process, None if via_process else _mark(path))
        self._held[ns] = held
        self._by_fd[sock.fileno()] = ns
        self._poller.register(sock.fileno(), select.POLLIN)
        if self._kept + 2 <= self._cap:  # the pidfd is a descriptor of the budget too
            held.exit_watched = True
            self._arm(ns, held)

    def _arm(self, ns: NamespaceId, held: _Held) -> None:
        """Give ``held`` a pidfd of the process its path goes through, polled for exit."""

        def still() -> bool:
            if held.via_process:  # /proc/PID/ns/net, followed: the namespace itself
                return _mark(held.path, follow=True) == (ns.dev, ns.ino)
            return _mark(held.path) == held.mark

        held.pidfd = _owner_pidfd(held.path, still)
        if held.pidfd is None:
            self.rescan_wanted |= _PROC_OWNER.match(held.path) is not None and not still()
            return
        self._by_pidfd[held.pidfd] = ns
        self._poller.register(held.pidfd, select.POLLIN)

    def _disarm(self, held: _Held) -> None:
        if held.pidfd is None:
            return
        self._by_pidfd.pop(held.pidfd, None)
        with contextlib.suppress(KeyError, ValueError):
            self._poller.unregister(held.pidfd)
        os.close(held.pidfd)
        held.pidfd = None

    def _open_otherwise(self, ns: NamespaceId, first: OSError) -> tuple[int, str]:
        """The known paths lead nowhere: a netns bind mount of ours, or (for the host and
        the selected namespace only: it costs a /proc scan) a process in it now."""
        if self._mounts is None:
            self._mounts = {}
            for point in nsfs_mounts():
                try:
                    st = os.stat(point, follow_symlinks=False)
                except OSError:
                    continue
                self._mounts.setdefault(NamespaceId(st.st_dev, st.st_ino), point)
        more = [self._mounts[ns]] if ns in self._mounts else []
        if ns in self._urgent and self._scan is not None:
            fresh = self._scan().get(ns.ino)
            if fresh:
                more.append(fresh)
        if not more:
            raise first
        return open_namespace(ns, more)

    def _close(self, ns: NamespaceId) -> None:
        held = self._held.pop(ns, None)
        if held is None:
            return
        self._disarm(held)
        fd = held.sock.fileno()
        self._by_fd.pop(fd, None)
        with contextlib.suppress(KeyError, ValueError):
            self._poller.unregister(fd)
        held.sock.close()


def _descriptors(held: _Held) -> int:
    return 1 if held.pidfd is None else 2


def drain(sock: socket.socket) -> None:
    for _ in range(1000):
        try:
            if not sock.recv(65536):
                return
        except BlockingIOError:
            return
        except OSError:  # ENOBUFS: we missed some, which is still "something changed"
            return
