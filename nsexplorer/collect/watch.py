"""NetlinkWatcher: tells the UI when the host's picture may have changed, cheaply.

Sources of change, all waited on (never polled in a busy loop):
- rtnetlink multicast (links, addresses, routes, policy rules, nexthop objects) in the
  host netns and in the selected namespace; the latter's socket is made on the
  watcher's own thread after setns(CLONE_NEWNET), then the thread returns to its
  namespace (restored in finally).
  The selected namespace is opened like every namespace (nsfs.open_verified): through
  the paths the collector found (a container's /proc/PID/ns/net, a thread's, a hidden
  mount's /proc/PID/root path, a socket, a pinned fd), verified to be that namespace;
- /proc/self/mountinfo, which the kernel flags (POLLPRI) when our mount table changes
  (`ip netns add`, a name bind-mounted or removed);
- container engine events (container and network), one thread per engine, over the same
  engine object the collector asks (so the same daemon), reconnecting slowly when the
  daemon is absent; a hanging daemon blocks only that thread;
- a rescan of /proc (processes and their threads) at most every ``rescan_interval``
  seconds for namespaces that come and go with plain processes.

Nothing is parsed: any message is "something changed", and the UI debounces.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from nsexplorer.kernel import mountinfo, nsfs, procfs
from nsexplorer.model import NamespaceId

if TYPE_CHECKING:
    from nsexplorer.collect.engine import ContainerEngine

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
MIN_GAP = 0.25  # at most four notifications a second, however busy the host is

# Paths that may open a namespace, best first (e.g. LiveSource.paths_of).
PathsOf = Callable[[NamespaceId], Sequence[str]]


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
        with nsfs.entered(fd):
            return netlink_socket()
    finally:
        os.close(fd)


def scan_proc_netns(proc: str = "/proc") -> dict[int, str]:
    """netns inode -> one /proc path into it, for every process and thread (one /proc
    scan, procfs's)."""
    scan = procfs.scan(proc, fds=False, mounts=False)
    found = {ino: f"{proc}/{pids[0]}/ns/net" for ino, pids in scan.net_pids.items()}
    for ino, holders in scan.thread_holders.items():
        pid, tid = holders[0]
        found.setdefault(ino, f"{proc}/{pid}/task/{tid}/ns/net")
    return found


def nsfs_mounts(proc: str = "/proc") -> list[str]:
    """Mount points of netns bind mounts visible in our own mount namespace."""
    try:
        data, _ = nsfs.read_bounded(f"{proc}/thread-self/mountinfo", mountinfo.MOUNTINFO_LIMIT)
    except OSError:
        return []
    return [m.mount_point for m in mountinfo.parse_mountinfo(data)]


class NetlinkWatcher:
    """Implements ports.ChangeWatcher."""

    def __init__(
        self,
        *,
        docker: bool = True,
        rescan_interval: float = 5.0,
        docker_timeout: float = 3.0,
        docker_retry: float = 30.0,
        engines: Sequence[ContainerEngine] | None = None,
        paths: PathsOf | None = None,
    ) -> None:
        """``engines``: the container engines whose events to follow (default: the
        process's shared ones, those the collector asks). ``paths``: where the
        collector found each namespace (LiveSource.paths_of), tried first."""
        self.rescan_interval = rescan_interval
        self.docker = docker
        self.docker_timeout = docker_timeout
        self.docker_retry = docker_retry
        self._engines = engines
        self._paths = paths
        self._on_change: Callable[[str], None] | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._want: NamespaceId | None = None
        self._host: tuple[NamespaceId, str] | None = None  # the host's, if not our own
        self._wake_r, self._wake_w = -1, -1
        self._thread: threading.Thread | None = None
        self._engine_threads: list[threading.Thread] = []
        self._live_engines: list[ContainerEngine] = []
        self.errors: list[str] = []  # what could not be watched, for diagnostics
        self.watching: NamespaceId | None = None  # the namespace a socket is open in
        self.watching_host: NamespaceId | None = None  # the host's, when it is not ours

    # --- ports.ChangeWatcher --------------------------------------------------------

    def start(self, on_change: Callable[[str], None]) -> None:
        if self._thread is not None:
            return
        self._on_change = on_change
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._thread = threading.Thread(target=self._loop, name="nsx-watch", daemon=True)
        self._thread.start()
        if self.docker:
            t = threading.Thread(target=self._engines_start, name="nsx-watch-engines", daemon=True)
            self._engine_threads.append(t)
            t.start()

    def watch_namespace(self, ns: NamespaceId | None) -> None:
        with self._lock:
            self._want = ns
        self._wake()

    def watch_host(self, ns: NamespaceId, path: str) -> None:
        """The host's namespace is ``ns``, opened through ``path`` (the collector's
        access path for it). Started from another namespace (sshd in a management
        netns), the host's changes are watched through a second socket made there."""
        with self._lock:
            self._host = (ns, path)
        self._wake()

    def stop(self) -> None:
        self._stop.set()
        self._wake()
        for e in list(self._live_engines):
            with contextlib.suppress(Exception):
                e.close()
        if self._thread is not None:
            self._thread.join(timeout=2)
        for fd in (self._wake_r, self._wake_w):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._wake_r = self._wake_w = -1

    # --- the netlink / mounts / proc thread -----------------------------------------

    def _wake(self) -> None:
        if self._wake_w >= 0:
            with contextlib.suppress(OSError):
                os.write(self._wake_w, b"x")

    def _notify(self, reason: str) -> None:
        cb = self._on_change
        if cb is not None and not self._stop.is_set():
            try:
                cb(reason)
            except Exception as err:  # the UI may be shutting down
                self.errors.append(f"on_change failed: {err}")

    def _loop(self) -> None:
        poller = select.poll()
        host = netlink_socket()
        poller.register(host.fileno(), select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        mounts = None
        try:
            mounts = open("/proc/self/mountinfo", "rb")  # noqa: SIM115 - held for polling
            mounts.read()
            poller.register(mounts.fileno(), select.POLLPRI | select.POLLERR)
        except OSError as err:
            self.errors.append(f"mountinfo: {err}")
        ns_sock: socket.socket | None = None
        host_sock: socket.socket | None = None
        known = scan_proc_netns()
        last_scan = time.monotonic()
        last_note = 0.0
        try:
            while not self._stop.is_set():
                wait = max(0.0, last_scan + self.rescan_interval - time.monotonic())
                events = poller.poll(int(wait * 1000) + 1)
                reasons: set[str] = set()
                for fd, _ev in events:
                    if fd == host.fileno():
                        _drain(host)
                        reasons.add("host netlink")
                    elif ns_sock is not None and fd == ns_sock.fileno():
                        _drain(ns_sock)
                        reasons.add("namespace netlink")
                    elif host_sock is not None and fd == host_sock.fileno():
                        _drain(host_sock)
                        reasons.add("host netlink")
                    elif fd == self._wake_r:
                        _drain_fd(self._wake_r)
                        ns_sock = self._switch(poller, ns_sock, known)
                        if host_sock is None:
                            host_sock = self._open_host(poller)
                    elif mounts is not None and fd == mounts.fileno():
                        mounts.seek(0)
                        mounts.read()
                        reasons.add("mounts")
                now = time.monotonic()
                if now - last_scan >= self.rescan_interval:
                    last_scan = now
                    current = scan_proc_netns()
                    if current.keys() != known.keys():
                        reasons.add("processes")
                    known = current
                if reasons and not self._stop.is_set():
                    gap = last_note + MIN_GAP - now
                    if gap > 0:
                        self._stop.wait(gap)
                    last_note = time.monotonic()
                    self._notify(", ".join(sorted(reasons)))
        finally:
            host.close()
            for sock in (ns_sock, host_sock):
                if sock is not None:
                    sock.close()
            if mounts is not None:
                mounts.close()

    def _switch(
        self, poller: select.poll, old: socket.socket | None, known: dict[int, str]
    ) -> socket.socket | None:
        with self._lock:
            want = self._want
        if want == self.watching and (old is not None or want is None):
            return old
        if old is not None:
            with contextlib.suppress(KeyError, ValueError):
                poller.unregister(old.fileno())
            old.close()
        self.watching = None
        if want is None or _is_own(want):
            return None
        sock = None
        tried = self._candidates(want, known)
        last: OSError | None = None
        for path in tried:
            try:
                sock = netlink_socket_in(path, want)
                break
            except nsfs.ThreadStranded:
                raise  # this thread is stuck in another namespace: it must end
            except OSError as err:
                last = err
        if sock is None:
            why = f": {last}" if last is not None else ""
            self.errors.append(f"cannot watch netns {want.ino} (tried {len(tried)} paths){why}")
            return None
        poller.register(sock.fileno(), select.POLLIN)
        self.watching = want
        return sock

    def _open_host(self, poller: select.poll) -> socket.socket | None:
        with self._lock:
            host = self._host
        if host is None or _is_own(host[0]):  # on this thread: the loop's own netns
            return None
        ns, path = host
        try:
            sock = netlink_socket_in(path, expect=ns)
        except OSError as err:
            self.errors.append(f"cannot watch the host netns: {err}")
            return None
        poller.register(sock.fileno(), select.POLLIN)
        self.watching_host = ns
        return sock

    def _candidates(self, want: NamespaceId, known: dict[int, str]) -> list[str]:
        """Every path that may open ``want``: the collector's first, then a process or
        thread in it, then our own netns bind mounts. Each is verified when opened."""
        candidates: list[str] = []
        if self._paths is not None:
            with contextlib.suppress(Exception):  # the source may be mid-refresh
                candidates.extend(self._paths(want))
        fresh = known.get(want.ino) or scan_proc_netns().get(want.ino)
        if fresh:
            candidates.append(fresh)
        candidates.extend(nsfs_mounts())
        return [p for p in dict.fromkeys(candidates) if p]

    # --- container engine events ----------------------------------------------------

    def _engines_start(self) -> None:
        engines = self._engines
        if engines is None:
            from nsexplorer.collect import engine

            engines = engine.engines(self.docker_timeout)
        for e in engines:
            self._live_engines.append(e)
            t = threading.Thread(
                target=self._engine_loop, args=(e,), name=f"nsx-watch-{e.name}", daemon=True
            )
            self._engine_threads.append(t)
            t.start()

    def _engine_loop(self, e: ContainerEngine) -> None:
        while not self._stop.is_set():
            try:
                for reason in e.events():
                    if self._stop.is_set():
                        break
                    self._notify(reason)
            except Exception as err:
                msg = f"{e.name} events: {type(err).__name__}: {err}"
                if not self.errors or self.errors[-1] != msg:
                    self.errors.append(msg)
            self._stop.wait(self.docker_retry)


def _is_own(ns: NamespaceId) -> bool:
    try:
        return nsfs.own_netns() == ns
    except OSError:
        return False


def _drain(sock: socket.socket) -> None:
    for _ in range(1000):
        try:
            if not sock.recv(65536):
                return
        except BlockingIOError:
            return
        except OSError:  # ENOBUFS: we missed some, which is still "something changed"
            return


def _drain_fd(fd: int) -> None:
    with contextlib.suppress(OSError):
        while os.read(fd, 4096):
            pass
