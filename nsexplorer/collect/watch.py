"""NetlinkWatcher: tells the UI when the host's picture may have changed, cheaply.

Sources of change, all waited on (never polled in a busy loop):
- rtnetlink multicast (links, addresses, routes) in the host netns and in the selected
  namespace; the latter's socket is made on the watcher's own thread after
  setns(CLONE_NEWNET), then the thread returns to its namespace (restored in finally);
- /proc/self/mountinfo, which the kernel flags (POLLPRI) when our mount table changes
  (`ip netns add`, a name bind-mounted or removed);
- Docker events (container and network), on a thread of their own, reconnecting slowly
  when the daemon is absent; a hanging daemon blocks only that thread;
- a rescan of /proc/*/ns/net at most every ``rescan_interval`` seconds (about 10 ms for
  2,000 processes) for namespaces that come and go with plain processes.

Nothing is parsed: any message is "something changed", and the UI debounces.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import select
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from nsexplorer.model import NamespaceId

CLONE_NEWNET = 0x40000000
NETLINK_ROUTE = 0
RTMGRP_LINK = 0x1
RTMGRP_IPV4_IFADDR = 0x10
RTMGRP_IPV4_ROUTE = 0x40
RTMGRP_IPV6_IFADDR = 0x100
RTMGRP_IPV6_ROUTE = 0x400
GROUPS = (
    RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_IFADDR | RTMGRP_IPV6_ROUTE
)
OWN_NETNS = "/proc/thread-self/ns/net"
NETNS_DIRS = ("/run/netns", "/var/run/netns", "/run/docker/netns")
MIN_GAP = 0.25  # at most four notifications a second, however busy the host is


def netlink_socket() -> socket.socket:
    """A non-blocking rtnetlink socket subscribed to link/address/route changes, in the
    calling thread's current network namespace."""
    sock = socket.socket(
        socket.AF_NETLINK,
        socket.SOCK_RAW | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC,
        NETLINK_ROUTE,
    )
    try:
        sock.bind((0, GROUPS))
    except OSError:
        sock.close()
        raise
    return sock


def _libc_setns() -> Callable[[int, int], int]:
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    fn = libc.setns
    fn.argtypes = [ctypes.c_int, ctypes.c_int]
    fn.restype = ctypes.c_int
    return fn


def _setns(fd: int) -> None:
    if _libc_setns()(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def netlink_socket_in(path: str, expect: NamespaceId | None = None) -> socket.socket:
    """A netlink socket bound inside the namespace at ``path`` (which must be ``expect``
    when given). MUST run on a thread the caller owns: it switches that thread's netns
    and switches it back."""
    flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK
    if not path.startswith("/proc/"):
        flags |= os.O_NOFOLLOW  # /proc's ns entries are magic links: O_NOFOLLOW is ELOOP
    home = os.open(OWN_NETNS, os.O_RDONLY | os.O_CLOEXEC)
    try:
        target = os.open(path, flags)
        try:
            st = os.fstat(target)
            if expect is not None and (st.st_dev, st.st_ino) != (expect.dev, expect.ino):
                raise OSError(errno.ESTALE, f"{path} is no longer netns {expect.ino}")
            _setns(target)
            try:
                return netlink_socket()
            finally:
                _setns(home)
        finally:
            os.close(target)
    finally:
        os.close(home)


def scan_proc_netns(proc: str = "/proc") -> dict[int, int]:
    """netns inode -> one pid in it, for every readable /proc/PID/ns/net."""
    found: dict[int, int] = {}
    try:
        entries = os.scandir(proc)
    except OSError:
        return found
    with entries:
        for entry in entries:
            if not entry.name.isdigit():
                continue
            try:
                link = os.readlink(f"{proc}/{entry.name}/ns/net")
            except OSError:
                continue
            if link.startswith("net:[") and link.endswith("]"):
                with contextlib.suppress(ValueError):
                    found.setdefault(int(link[5:-1]), int(entry.name))
    return found


def nsfs_mounts(mountinfo: str = "/proc/self/mountinfo") -> list[str]:
    """Mount points of nsfs mounts visible in our own mount namespace."""
    points: list[str] = []
    try:
        with open(mountinfo, encoding="utf-8", errors="surrogateescape") as f:
            for line in f:
                left, _, right = line.partition(" - ")
                if right.startswith("nsfs "):
                    fields = left.split(" ")
                    if len(fields) > 4:
                        points.append(_unescape(fields[4]))
    except OSError:
        pass
    return points


def _unescape(path: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as \ooo
    out, i = [], 0
    while i < len(path):
        if path[i] == "\\" and i + 3 < len(path) and path[i + 1 : i + 4].isdigit():
            out.append(chr(int(path[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(path[i])
            i += 1
    return "".join(out)


class NetlinkWatcher:
    """Implements ports.ChangeWatcher."""

    def __init__(
        self,
        *,
        docker: bool = True,
        rescan_interval: float = 5.0,
        docker_timeout: float = 3.0,
        docker_retry: float = 30.0,
    ) -> None:
        self.rescan_interval = rescan_interval
        self.docker = docker
        self.docker_timeout = docker_timeout
        self.docker_retry = docker_retry
        self._on_change: Callable[[str], None] | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._want: NamespaceId | None = None
        self._host: tuple[NamespaceId, str] | None = None  # the host's, if not our own
        self._wake_r, self._wake_w = -1, -1
        self._thread: threading.Thread | None = None
        self._docker_thread: threading.Thread | None = None
        self._docker_stream: Any = None
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
            self._docker_thread = threading.Thread(
                target=self._docker_loop, name="nsx-watch-docker", daemon=True
            )
            self._docker_thread.start()

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
        stream = self._docker_stream
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.close()
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
        self, poller: select.poll, old: socket.socket | None, known: dict[int, int]
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
        path = self._path_of(want, known)
        if path is None:
            self.errors.append(f"no path to watch netns {want.ino}")
            return None
        try:
            sock = netlink_socket_in(path)
        except OSError as err:
            self.errors.append(f"cannot watch netns {want.ino}: {err}")
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

    def _path_of(self, want: NamespaceId, known: dict[int, int]) -> str | None:
        candidates: list[str] = []
        pid = known.get(want.ino)
        if pid is not None:
            candidates.append(f"/proc/{pid}/ns/net")
        for d in NETNS_DIRS:
            with contextlib.suppress(OSError), os.scandir(d) as it:
                candidates += [e.path for e in it]
        candidates += nsfs_mounts()
        for path in candidates:
            try:
                st = os.stat(path)
            except OSError:
                continue
            if st.st_ino == want.ino and st.st_dev == want.dev:
                return path
        return None

    # --- docker events --------------------------------------------------------------

    def _docker_loop(self) -> None:
        try:
            import docker
        except ImportError:
            return
        while not self._stop.is_set():
            client = None
            try:
                client = docker.from_env(timeout=self.docker_timeout)
                stream = client.events(decode=True, filters={"type": ["container", "network"]})
                self._docker_stream = stream
                for event in stream:
                    if self._stop.is_set():
                        break
                    action = str(event.get("Action", "")) if isinstance(event, dict) else ""
                    if not action.startswith(("exec_", "health_status", "top")):
                        self._notify(f"docker {action}".strip())
            except Exception as err:
                msg = f"docker events: {type(err).__name__}"
                if not self.errors or self.errors[-1] != msg:
                    self.errors.append(msg)
            finally:
                self._docker_stream = None
                if client is not None:
                    with contextlib.suppress(Exception):
                        client.close()
            self._stop.wait(self.docker_retry)


def _is_own(ns: NamespaceId) -> bool:
    try:
        st = os.stat(OWN_NETNS)
    except OSError:
        return False
    return st.st_ino == ns.ino and st.st_dev == ns.dev


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
