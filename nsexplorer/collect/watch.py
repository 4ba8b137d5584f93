"""NetlinkWatcher: tells the UI when the host's picture may have changed, cheaply.

Sources of change, all waited on (never polled in a busy loop):
- rtnetlink multicast (links, addresses, routes, policy rules, nexthop objects) in every
  namespace the watcher can open (watch_all: those of the last full read), the host's and
  the selected one's first; each socket is made on the watcher's own thread after
  setns(CLONE_NEWNET), then the thread returns to its namespace (restored in finally).
  Each namespace is opened like every namespace (nsfs.open_verified): through the paths
  the collector found (a container's /proc/PID/ns/net, a thread's, a hidden mount's
  /proc/PID/root path, a socket, a pinned fd), verified to be that namespace. They are
  opened a batch at a time between polls, and at most a share of the open-file limit
  (watch_sockets.NamespaceSockets): the coverage callback says how many are watched,
  and the subscribed callback which ones were just opened (a change made after the
  read of a namespace but before its socket was subscribed is heard by neither: the UI
  re-reads those once, after the notice);
- /proc/self/mountinfo, which the kernel flags (POLLPRI) when our mount table changes
  (`ip netns add`, a name bind-mounted or removed);
- container engine events (container and network), one thread per engine, over the same
  engine object the collector asks (so the same daemon), reconnecting slowly when the
  daemon is absent; a hanging daemon blocks only that thread; each (re)connection is
  announced by the subscribed callback (no namespaces), as a change before it is
  heard only by a new read, and the end of a stream is a change (the daemon is gone);
- a rescan of /proc (processes and their threads) at most every ``rescan_interval``
  seconds for namespaces that come and go with plain processes, and soon after a
  process a namespace's socket was opened through exits (its pidfd is polled).

Nothing is parsed: any message is "something changed", and the UI debounces.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from nsexplorer.collect.watch_sockets import (
    NamespaceSockets,
    PathsOf,
    drain,
    netlink_socket,
    netlink_socket_in,
    nsfs_mounts,
)
from nsexplorer.kernel import nsfs, procfs
from nsexplorer.model import NamespaceId
from nsexplorer.ports import WatchCoverage

if TYPE_CHECKING:
    from nsexplorer.collect.engine import ContainerEngine

__all__ = [
    "MIN_GAP",
    "NetlinkWatcher",
    "PathsOf",
    "netlink_socket",
    "netlink_socket_in",
    "nsfs_mounts",
    "scan_proc_netns",
]

MIN_GAP = 0.25  # at most four notifications a second, however busy the host is
# After a process a watched namespace was opened through exits: a rescan this soon
# after the last (a burst of exits, `docker stop` of many, costs a few scans a second).
EXIT_RESCAN_GAP = 0.2
ERRORS_KEPT = 100  # the latest diagnostics; older ones are dropped


def scan_proc_netns(proc: str = "/proc") -> dict[int, str]:
    """netns inode -> one /proc path into it, for every process and thread (one /proc
    scan, procfs's)."""
    scan = procfs.scan(proc, fds=False, mounts=False)
    found = {ino: f"{proc}/{pids[0]}/ns/net" for ino, pids in scan.net_pids.items()}
    for ino, holders in scan.thread_holders.items():
        pid, tid = holders[0]
        found.setdefault(ino, f"{proc}/{pid}/task/{tid}/ns/net")
    return found


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
        max_sockets: int | None = None,
    ) -> None:
        """``engines``: the container engines whose events to follow (default: the
        process's shared ones, those the collector asks). ``paths``: where the
        collector found each namespace (LiveSource.paths_of), tried first.
        ``max_sockets``: at most this many namespace sockets (default: half the
        descriptors free, see watch_sockets.fd_share)."""
        self.rescan_interval = rescan_interval
        self.docker = docker
        self.docker_timeout = docker_timeout
        self.docker_retry = docker_retry
        self.max_sockets = max_sockets
        self._engines = engines
        self._paths = paths
        self._on_change: Callable[[str], None] | None = None
        self._on_coverage: Callable[[WatchCoverage], None] | None = None
        self._on_subscribed: Callable[[tuple[NamespaceId, ...]], None] | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._want: NamespaceId | None = None
        self._host: tuple[NamespaceId, str] | None = None  # the host's, if not our own
        self._all: dict[NamespaceId, tuple[str, ...]] | None = None  # watch_all's
        self._all_round = 0  # how many times watch_all was called
        self._coverage: WatchCoverage | None = None
        self._wake_r, self._wake_w = -1, -1
        self._thread: threading.Thread | None = None
        self._engine_threads: list[threading.Thread] = []
        self._live_engines: list[ContainerEngine] = []
        self.errors: list[str] = []  # what could not be watched, for diagnostics
        self.watching: NamespaceId | None = None  # the selected one, when a socket is open
        self.watching_host: NamespaceId | None = None  # the host's, when it is not ours
        self.sockets = 0  # namespace sockets open now (besides the thread's own)

    # --- ports.ChangeWatcher --------------------------------------------------------

    def start(
        self,
        on_change: Callable[[str], None],
        on_coverage: Callable[[WatchCoverage], None] | None = None,
        on_subscribed: Callable[[tuple[NamespaceId, ...]], None] | None = None,
    ) -> None:
        if self._thread is not None:
            return
        self._on_change = on_change
        self._on_coverage = on_coverage
        self._on_subscribed = on_subscribed
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._thread = threading.Thread(target=self._loop, name="nsx-watch", daemon=True)
        self._thread.start()
        if self.docker:
            t = threading.Thread(target=self._engines_start, name="nsx-watch-engines", daemon=True)
            self._engine_threads.append(t)
            t.start()

    def watch_all(self, namespaces: Mapping[NamespaceId, Sequence[str]]) -> None:
        with self._lock:
            self._all = {ns: tuple(paths) for ns, paths in namespaces.items()}
            self._all_round += 1
        self._wake()

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

    def coverage(self) -> WatchCoverage | None:
        """What watch_all's namespaces came to, as last settled (None before)."""
        with self._lock:
            return self._coverage

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

    def _error(self, msg: str) -> None:
        self.errors.append(msg)
        if len(self.errors) > 2 * ERRORS_KEPT:
            del self.errors[:-ERRORS_KEPT]

    def _notify(self, reason: str) -> None:
        self._call("on_change", self._on_change, reason)

    def _call(self, what: str, cb: Callable[[Any], None] | None, arg: object) -> None:
        """One of the UI's callbacks, unless stopping; its failure is kept, not raised."""
        if cb is not None and not self._stop.is_set():
            try:
                cb(arg)
            except Exception as err:  # the UI may be shutting down
                self._error(f"{what} failed: {err}")

    def _loop(self) -> None:
        try:
            self._watch()
        except Exception as err:  # no socket, no pipe, a bug: say so, never "live"
            why = f"{type(err).__name__}: {err}"
            self._error(f"watching stopped: {why}")
            with self._lock:
                asked = len(self._all or ())
            self._report(WatchCoverage(unwatched=asked, stopped=why))

    def _watch(self) -> None:
        poller = select.poll()
        own = netlink_socket()
        poller.register(own.fileno(), select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        mounts = None
        try:
            mounts = open("/proc/self/mountinfo", "rb")  # noqa: SIM115 - held for polling
            mounts.read()
            poller.register(mounts.fileno(), select.POLLPRI | select.POLLERR)
        except OSError as err:
            self._error(f"mountinfo: {err}")
        own_id: NamespaceId | None = None
        with contextlib.suppress(OSError):
            own_id = nsfs.own_netns()
        socks = NamespaceSockets(
            poller,
            own_id,
            max_sockets=self.max_sockets,
            paths=self._paths,
            scan=scan_proc_netns,
            error=self._error,
        )
        known = scan_proc_netns()
        last_scan = time.monotonic()
        # Our own namespace's socket, the mount table and the /proc scan date from now,
        # after the read that started us: whatever changed in between is re-read.
        self._subscribed((own_id,) if own_id is not None else ())
        last_note = 0.0
        reasons: set[str] = set()  # seen, not told yet (MIN_GAP since the last telling)
        planned = -1  # the watch_all round the sockets follow
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                wait = max(0.0, self._scan_due(socks, last_scan) - now)
                if reasons:
                    wait = min(wait, max(0.0, last_note + MIN_GAP - now))
                # Opening under way: look at events, then open the next batch at once.
                # Never a sleep here: the gap between two tellings is waited in poll,
                # so events keep being drained and sockets opened meanwhile.
                events = poller.poll(0 if socks.walking else int(wait * 1000) + 1)
                replan = changed = False
                for fd, _ev in events:
                    if fd == own.fileno():
                        drain(own)
                        reasons.add("host netlink")
                    elif fd == self._wake_r:
                        _drain_fd(self._wake_r)
                        replan = True
                    elif mounts is not None and fd == mounts.fileno():
                        mounts.seek(0)
                        mounts.read()
                        reasons.add("mounts")
                        # `ip netns del`: let that namespace go now, not after a read
                        changed |= socks.prune_mounts()
                    elif socks.holder_exited(fd):
                        pass  # a process a socket was opened through: rescan now
                    elif (ns := socks.drain(fd)) is not None:
                        host = self._host
                        is_host = host is not None and ns == host[0]
                        reasons.add("host netlink" if is_host else "namespace netlink")
                if replan:
                    planned = self._plan(socks, planned)
                now = time.monotonic()
                if now >= self._scan_due(socks, last_scan):
                    last_scan = now
                    current = scan_proc_netns()
                    if current.keys() != known.keys():
                        reasons.add("processes")
                    # Every time (a process may have come and gone between two scans):
                    # a dict lookup per socket.
                    changed |= socks.prune_processes(current)
                    known = current
                if socks.walking:
                    if opened := socks.step(known):
                        self._subscribed(tuple(opened))
                    changed = True
                if replan or changed:
                    self._settled(socks, planned)
                now = time.monotonic()
                if reasons and now >= last_note + MIN_GAP and not self._stop.is_set():
                    last_note = now
                    self._notify(", ".join(sorted(reasons)))
                    reasons = set()
        except nsfs.ThreadStranded as err:
            # Stuck in another namespace: nothing this thread does can be trusted now.
            self._error(f"watching stopped: {err}")
            left = socks.coverage()
            socks.close_all()
            self._report(
                WatchCoverage(
                    unwatched=left.watched + left.unwatched + left.pending,
                    stopped=f"thread stranded: {err}",
                )
            )
        finally:
            own.close()
            socks.close_all()
            self.sockets = 0
            if mounts is not None:
                mounts.close()

    def _scan_due(self, socks: NamespaceSockets, last_scan: float) -> float:
        """When the next /proc rescan is due: soon after a holder exited, else at the
        interval."""
        gap = EXIT_RESCAN_GAP if socks.rescan_wanted else self.rescan_interval
        return last_scan + gap

    def _plan(self, socks: NamespaceSockets, planned: int) -> int:
        """Tell ``socks`` what to watch now, best first: the host's namespace, the
        selected one, then the rest of the last full read. Returns the watch_all round."""
        with self._lock:
            want, host, every, round_ = self._want, self._host, self._all, self._all_round
        order: list[NamespaceId] = []
        paths: dict[NamespaceId, tuple[str, ...]] = dict(every or {})
        if host is not None:
            order.append(host[0])
            paths[host[0]] = (host[1], *paths.get(host[0], ()))
        if want is not None:
            order.append(want)
        order.extend(every or ())
        urgent = [ns for ns in (host[0] if host else None, want) if ns is not None]
        # A new full read: try again what failed before; a new selection: that one.
        retry: bool | list[NamespaceId] = True if round_ != planned else urgent
        socks.want(order, paths, retry=retry, urgent=urgent)
        return round_

    def _settled(self, socks: NamespaceSockets, planned: int) -> None:
        """Publish what is watched; report coverage once opening is done and it moved."""
        with self._lock:
            want, host = self._want, self._host
        self.watching = want if want is not None and socks.holds(want) else None
        self.watching_host = host[0] if host is not None and socks.holds(host[0]) else None
        self.sockets = socks.count
        if socks.walking or planned < 1:
            return  # watch_all not called yet: nothing to be honest about
        coverage = socks.coverage()
        with self._lock:
            if coverage == self._coverage:
                return
            self._coverage = coverage
        self._report(coverage)

    def _subscribed(self, opened: tuple[NamespaceId, ...]) -> None:
        """Sockets of ``opened`` are subscribed now (none: a container engine's event
        stream): changes from here on are heard."""
        self._call("on_subscribed", self._on_subscribed, opened)

    def _report(self, coverage: WatchCoverage) -> None:
        self._call("on_coverage", self._on_coverage, coverage)

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
            if self._follow(e):  # the daemon went away (or restarts): read what is left
                self._notify(f"{e.name} events ended")
            self._stop.wait(self.docker_retry)

    def _follow(self, e: ContainerEngine) -> bool:
        """One connection to ``e``'s event stream, until it ends; whether it connected."""
        connected = threading.Event()

        def subscribed() -> None:
            # Connected (again): what changed while not subscribed (since the read
            # before the watcher started, or while the daemon was away) is re-read.
            connected.set()
            self._subscribed(())

        try:
            for reason in e.events(subscribed=subscribed):
                if self._stop.is_set():
                    break
                self._notify(reason)
        except Exception as err:
            msg = f"{e.name} events: {type(err).__name__}: {err}"
            if not self.errors or self.errors[-1] != msg:
                self._error(msg)
        return connected.is_set()


def _drain_fd(fd: int) -> None:
    with contextlib.suppress(OSError):
        while os.read(fd, 4096):
            pass
