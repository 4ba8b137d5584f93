"""Reading the host for the app: thread workers (a cheap discover pass, then the full
read after the first paint; one namespace's detail; its processes), the watcher's change
events debounced into re-reads, and the snapshots merged into the inventory.

Workers only post messages, each failure as a typed message through one error path
(``_reporting``); the handlers here run on the app thread and tell the main screen.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import App
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.timer import Timer

from nsexplorer.errors import NsxError
from nsexplorer.model import (
    NamespaceId,
    NetNamespace,
    Snapshot,
    candidate_paths,
    same_namespace,
)
from nsexplorer.ports import ChangeWatcher, SnapshotSource, WatchCoverage
from nsexplorer.textsafe import counted, visible
from nsexplorer.ui.inventory import Inventory
from nsexplorer.ui.messages import (
    ChangeDetected,
    CollectFailed,
    NamespaceDetailed,
    NamespaceVanished,
    ProcessesFetched,
    SnapshotArrived,
    WatchCoverageChanged,
    WatchSubscribed,
)
from nsexplorer.ui.problemboard import ProblemBoard, live_board

if TYPE_CHECKING:
    from nsexplorer.ui.main_screen import MainScreen


class CollectingApp(App[None]):
    """The data side of NsxApp."""

    def __init__(
        self,
        source: SnapshotSource,
        *,
        watcher: ChangeWatcher | None,
        debounce: float,
        gap: float,
    ) -> None:
        super().__init__()
        self.source = source
        self.watcher = watcher
        self.debounce = debounce
        self.min_collect_gap = gap
        self.inventory = Inventory()
        # What is wrong, after each full read (badges, the header, Problems, Details).
        self.board: ProblemBoard = live_board()
        self.replay_name = ""
        self._collecting = False
        self._collect_again = False
        self._debounce_timer: Timer | None = None
        self._collect_started = 0.0
        self._collect_cost = 0.0
        self._first_paint: threading.Event | None = None
        self._watching = False
        self._watch_failed = False
        self._coverage: WatchCoverage | None = None  # as the watcher last reported it
        self._live_count: int | None = None  # namespaces in the status line's "live" state
        self._notices_shown: dict[tuple[str, str], float] = {}  # (text, title) -> until

    def notify(
        self,
        message: str | Sequence[str],
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Notifications often quote untrusted names: never markup, always visible. A
        notice of several lines comes as a sequence: each line is made visible on its
        own, so only the breaks between them are real newlines. A notice already on
        screen is not stacked again."""
        lines = [message] if isinstance(message, str) else message
        text = "\n".join(visible(line) for line in lines)
        shown = visible(title)
        now = time.monotonic()
        if self._notices_shown.get((text, shown), 0.0) > now:
            return  # the same notice is on screen already (a key pressed again): not twice
        timeout = self.NOTIFICATION_TIMEOUT if timeout is None else timeout
        self._notices_shown = {k: t for k, t in self._notices_shown.items() if t > now}
        self._notices_shown[(text, shown)] = now + timeout
        super().notify(text, title=shown, severity=severity, timeout=timeout, markup=False)

    # provided by NsxApp
    @property
    def main(self) -> MainScreen:
        raise NotImplementedError

    @property
    def main_up(self) -> bool:
        raise NotImplementedError

    def startup_done(self) -> None:
        raise NotImplementedError

    @property
    def settled(self) -> bool:
        """A full snapshot is shown and no collection is under way (for tests, benches)."""
        return self.inventory.complete and not self._collecting and self._debounce_timer is None

    # --- one error path for every worker --------------------------------------------

    @contextlib.contextmanager
    def _reporting(self, failed: Callable[[str], Message]) -> Iterator[None]:
        """Any exception in the block becomes the message ``failed(why)``: one bad read
        is a message, never a crash."""
        try:
            yield
        except Exception as err:
            self.post_message(failed(describe(err)))

    # --- reading --------------------------------------------------------------------

    def request_collect(self) -> None:
        self.start_collect()

    def request_idle_collect(self) -> None:
        """A full read unless one is under way (a periodic ask: on a host whose read
        takes longer than the period, reads must not follow each other back to back)."""
        if not self._collecting:
            self.start_collect()

    def start_collect(self, *, discover_first: bool = False) -> None:
        if self._collecting:
            self._collect_again = True
            return
        self._collecting = True
        self._collect_started = time.monotonic()
        self._first_paint = threading.Event()
        self._collect_worker(discover_first, self._first_paint, self.board.previous)

    @work(thread=True, exit_on_error=False, group="collect", description="collect")
    def _collect_worker(
        self, discover_first: bool, shown: threading.Event, previous: Snapshot | None
    ) -> None:
        with self._reporting(CollectFailed):
            if discover_first:
                self.post_message(SnapshotArrived(self.source.discover(), complete=False))
                # Let the sidebar reach the screen before the full read competes for
                # the GIL (netlink parsing is Python work).
                shown.wait(2.0)
            snapshot = self.source.collect()
            # The findings too, here: at N=1000 they are tens of ms, not for the loop.
            try:
                found = self.board.findings(snapshot, previous)
            except Exception as err:  # a broken check costs the badges, not the read
                self.post_message(SnapshotArrived(snapshot, True, None, describe(err)))
                return
            self.post_message(SnapshotArrived(snapshot, complete=True, problems=found))

    def request_detail(self, ns: NetNamespace) -> None:
        self._detail_worker(ns)

    @work(thread=True, exit_on_error=False, group="detail", exclusive=True, description="detail")
    def _detail_worker(self, ns: NetNamespace) -> None:
        with self._reporting(lambda why: NamespaceVanished(ns, why)):
            self.post_message(NamespaceDetailed(self.source.detail(ns)))

    def request_processes(self, ns: NetNamespace) -> None:
        self._processes_worker(ns)

    @work(thread=True, exit_on_error=False, group="procs", exclusive=True, description="procs")
    def _processes_worker(self, ns: NetNamespace) -> None:
        with self._reporting(lambda why: ProcessesFetched(ns, (), why)):
            self.post_message(ProcessesFetched(ns, tuple(self.source.processes(ns))))

    def _collect_done(self) -> None:
        self._collecting = False
        self._collect_cost = time.monotonic() - self._collect_started
        if self._collect_again:
            self._collect_again = False
            self.start_collect()

    # --- what the workers found -----------------------------------------------------

    @on(SnapshotArrived)
    def snapshot_arrived(self, message: SnapshotArrived) -> None:
        if message.complete:
            if message.problems is not None:
                self.board.update(message.snapshot, message.problems)
            elif message.problems_error:
                self.notify(message.problems_error, title="problems not checked", severity="error")
            self.inventory.complete = True
            self._collect_done()
            self.call_after_refresh(self._start_watching)
            self.call_after_refresh(self._watch_every_namespace, message.snapshot)
        elif self.inventory.complete:
            return  # a late cheap pass never overwrites a full one
        if not self.main_up:
            return
        main = self.main
        self.inventory.apply(message.snapshot, selected=main.selected)
        if self.inventory.replaced_now:  # the kernel reused the inode of a deleted one
            self.notify(
                replaced_notice(self.inventory.replaced_now, self.inventory.get, main.selected),
                title="namespace replaced",
                severity="warning",
                markup=False,
            )
        count = len(message.snapshot.namespaces)
        if message.complete and self.source.live:
            self._live_count = count
            main.set_status(self._live_status(count))
        else:
            state = "reading interfaces…" if self.source.live else f"replay {self.replay_name}"
            main.set_status(f"{counted(count, 'namespace')} · {state.strip()}")
        main.show_inventory()
        self.startup_done()
        if not message.complete and self._first_paint is not None:
            self.call_after_refresh(self._first_paint.set)

    @on(CollectFailed)
    def collect_failed(self, message: CollectFailed) -> None:
        self._collect_done()
        self._live_count = None
        if not self.main_up:
            return
        self.startup_done()
        self.main.set_status("collection failed")
        self.notify(message.message, title="collection failed", severity="error")

    @on(NamespaceDetailed)
    def namespace_detailed(self, message: NamespaceDetailed) -> None:
        if not self.main_up:
            return
        ns = message.ns
        old = self.inventory.get(ns.inode)
        if old is None or not same_namespace(old, ns):
            return  # gone, or its inode now names a new namespace: not this one's facts
        if ns != old:
            self.inventory.replace_namespace(ns)
        self.main.namespace_updated(ns.inode)

    @on(NamespaceVanished)
    def namespace_vanished(self, message: NamespaceVanished) -> None:
        if not self.main_up:
            return
        if not self._still_shown(message.ns):
            return  # a late answer about a namespace whose inode a new one took
        if self.inventory.mark_gone(message.ns.inode, message.message):
            self.main.namespace_updated(message.ns.inode)

    @on(ProcessesFetched)
    def processes_fetched(self, message: ProcessesFetched) -> None:
        if not self.main_up:
            return
        if not self._still_shown(message.ns):
            return
        if not message.error:
            self.inventory.remember_processes(message.ns.inode, message.processes)
        self.main.processes_ready(message.ns.inode, message.error)

    def _still_shown(self, ns: NetNamespace) -> bool:
        """Whether ``ns`` is still what its inode's row shows (not a newcomer there)."""
        now = self.inventory.get(ns.inode)
        return now is not None and same_namespace(now, ns)

    # --- watching -------------------------------------------------------------------

    def _start_watching(self) -> None:
        """After the first full read: changes before it are in that read anyway, and the
        watcher's start-up (sockets, a /proc scan, the docker SDK) stays off the first
        paint."""
        if self.watcher is None or not self.source.live or self._watching:
            return
        self._watching = True
        try:
            self.watcher.start(
                self._on_watcher_change, self._on_watch_coverage, self._watcher_subscribed
            )
        except Exception as err:  # a broken watcher costs live updates, not the app
            self._watch_failed = True
            self._show_live_status()
            self.notify(f"live updates off: {err}", severity="warning", markup=False)
            return
        host = self.inventory.snapshot.host if self.inventory.snapshot else None
        if host is not None and host.access_path:
            try:
                self.watcher.watch_host(host.id, host.access_path)
            except Exception as err:
                self.notify(f"host changes not watched: {err}", severity="warning", markup=False)
        if self.main_up:
            self.watch_selected_namespace(self.main.selected_ns)

    def _watch_every_namespace(self, snapshot: Snapshot) -> None:
        """After each full read: every namespace it found is watched (the watcher opens
        the new ones and closes those that went), each through the paths that opened it."""
        if not self._watching or self._watch_failed or self.watcher is None:
            return
        every = {ns.id: candidate_paths(ns) for ns in snapshot.namespaces if not ns.gone}
        try:
            self.watcher.watch_all(every)
        except Exception as err:
            self.log.warning(f"watch_all failed: {err}")

    def _live_status(self, count: int) -> str:
        """The status line of a live, fully read host: "live" only when every namespace
        is watched (short: the sidebar is 24 columns at 80x24)."""
        return live_status(
            count, self._coverage, failed=self._watch_failed, watcher=self.watcher is not None
        )

    def _show_live_status(self) -> None:
        if self._live_count is not None and not self._collecting and self.main_up:
            self.main.set_status(self._live_status(self._live_count))

    def _on_watch_coverage(self, coverage: WatchCoverage) -> None:
        # Called from the watcher's thread: post_message is thread-safe.
        self.post_message(WatchCoverageChanged(coverage))

    @on(WatchCoverageChanged)
    def watch_coverage_changed(self, message: WatchCoverageChanged) -> None:
        self._coverage = message.coverage
        self._show_live_status()

    def _watcher_subscribed(self, namespaces: tuple[NamespaceId, ...]) -> None:
        # Called from the watcher's thread: post_message is thread-safe.
        self.post_message(WatchSubscribed(namespaces))

    @on(WatchSubscribed)
    def watch_subscribed(self, message: WatchSubscribed) -> None:
        """Sockets just subscribed: a change between the read those namespaces came from
        and now was heard by nobody, so they are read once more (the debounced full
        read: a burst of batches at start-up comes to one or two reads; sockets kept
        across reads are not announced again, so this does not loop)."""
        self._schedule_collect()

    def watch_selected_namespace(self, ns: NetNamespace | None) -> None:
        if not self._watching or self.watcher is None:
            return
        try:
            self.watcher.watch_namespace(None if ns is None or ns.gone else ns.id)
        except Exception as err:
            self.log.warning(f"watch_namespace failed: {err}")

    def stop_watching(self) -> None:
        if self.watcher is not None:
            with contextlib.suppress(Exception):  # shutting down anyway
                self.watcher.stop()

    def _on_watcher_change(self, reason: str) -> None:
        # Called from the watcher's threads: post_message is thread-safe.
        self.post_message(ChangeDetected(reason))

    @on(ChangeDetected)
    def change_detected(self, message: ChangeDetected) -> None:
        """Re-read soon, but not for every event: one timer at a time (a busy host does not
        postpone the update forever), and a gap after each read that grows with its cost
        (a host that never stops changing costs at most a fifth of a core)."""
        self._schedule_collect()

    def _schedule_collect(self) -> None:
        if self._debounce_timer is not None:
            return
        gap = max(self.min_collect_gap, 4 * self._collect_cost)
        delay = max(self.debounce, self._collect_started + gap - time.monotonic())
        self._debounce_timer = self.set_timer(delay, self._debounced_collect)

    def _debounced_collect(self) -> None:
        self._debounce_timer = None
        self.inventory.processes.clear()
        self.start_collect()


def live_status(
    count: int,
    coverage: WatchCoverage | None,
    *,
    failed: bool = False,
    watcher: bool = True,
) -> str:
    """The status line of a live, fully read host of ``count`` namespaces: "live" only
    when the watcher follows every one; otherwise what is true, "not live: why"
    (short: the sidebar is 24 columns at 80x24; the count gives way, the tree shows it).
    ``watcher``: one was given at all; ``failed``: it would not start."""
    if not watcher:
        return "not live: no watcher"  # nothing re-reads but r
    if failed:
        return "not live: watch failed"  # the notification says why
    if coverage is not None and coverage.stopped:
        return "not live: watch ended"  # its thread ended (watcher.errors says why)
    if coverage is not None and coverage.watched == 0 and coverage.unwatched:
        return "not live: none watched"
    if coverage is None or coverage.pending:
        return f"{counted(count, 'namespace')} · watch…"  # the watcher is opening its sockets
    if coverage.unwatched:
        # The count gives way: "N namespaces · live · ..." would be cut before the news.
        return f"live · {coverage.unwatched} not watched"
    return f"{counted(count, 'namespace')} · live"


def describe(err: BaseException) -> str:
    if isinstance(err, NsxError):
        return err.message
    return f"{type(err).__name__}: {err}"


REPLACED_NAMED = 3  # namespaces named in one notice; the rest are counted


def replaced_notice(
    replaced: Mapping[int, NetNamespace],
    now: Callable[[int], NetNamespace | None],
    selected: int | None,
) -> list[str]:
    """Which namespaces were deleted and what now holds each inode: "netns N: OLD was
    deleted; its inode now names a new namespace, NEW" (and, for the selected row, that
    it shows the new one now), one line each."""
    lines = []
    for inode in sorted(replaced)[:REPLACED_NAMED]:
        fresh = now(inode)
        newcomer = "a new namespace" + (f", {visible(fresh.label)}" if fresh is not None else "")
        shown = " (the selected row shows it now)" if inode == selected else ""
        lines.append(
            f"netns {inode}: {visible(replaced[inode].label)} was deleted; "
            f"its inode now names {newcomer}{shown}"
        )
    if len(replaced) > REPLACED_NAMED:
        lines.append(f"and {counted(len(replaced) - REPLACED_NAMED, 'more namespace')}")
    return lines
