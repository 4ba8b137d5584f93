"""Collection scheduling for the app: thread workers that read the host (a cheap
discover pass, then the full read after the first paint, one namespace's detail, its
processes), the watcher's change events debounced into re-reads, and merging each
snapshot into what is shown (a vanished namespace stays listed, marked gone, a while).

Workers only post messages; the handlers here run on the app thread.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import replace

from textual import on
from textual.timer import Timer

from nsexplorer.errors import NamespaceGone, NsxError
from nsexplorer.model import NetNamespace, ProcessInfo, Snapshot
from nsexplorer.ports import ChangeWatcher, SnapshotSource
from nsexplorer.ui.acting import ActingApp
from nsexplorer.ui.messages import (
    ChangeDetected,
    CollectFailed,
    NamespaceDetailed,
    NamespaceVanished,
    ProcessesFetched,
    SnapshotArrived,
)
from nsexplorer.ui.widgets.panes import ProcessesPane
from nsexplorer.ui.widgets.sidebar import NamespaceTree

PROCESS_CACHE_LIMIT = 64
GONE_KEEP_SECONDS = 120.0  # a vanished namespace stays listed (marked gone) this long


class CollectingApp(ActingApp):
    """The app's data side. State is initialised by ``NsxApp.__init__``."""

    source: SnapshotSource
    watcher: ChangeWatcher | None
    replay_name: str
    debounce: float
    min_collect_gap: float
    snapshot: Snapshot | None
    namespaces: list[NetNamespace]
    _by_inode: dict[int, NetNamespace]
    selected: int | None
    pane: str
    _processes: dict[int, tuple[ProcessInfo, ...]]
    _collecting: bool
    _collect_again: bool
    _complete: bool
    _debounce_timer: Timer | None
    _collect_started: float
    _collect_cost: float
    _gone_since: dict[int, float]
    _first_paint: threading.Event | None
    _watching: bool

    # provided by NsxApp
    def select(self, inode: int) -> None:
        raise NotImplementedError

    def _refresh_panes(self) -> None:
        raise NotImplementedError

    def _rebuild_sidebar(self) -> None:
        raise NotImplementedError

    def _set_status(self, status: str) -> None:
        raise NotImplementedError

    def _startup_done(self) -> None:
        raise NotImplementedError

    def _start_watching(self) -> None:
        """After the first full read: changes before it are in that read anyway, and the
        watcher's start-up (sockets, a /proc scan, the docker SDK) stays off the first
        paint."""
        if self.watcher is None or not self.source.live or self._watching:
            return
        self._watching = True
        try:
            self.watcher.start(self._on_watcher_change)
        except Exception as err:  # a broken watcher costs live updates, not the app
            self.notify(f"live updates off: {err}", severity="warning")
            return
        ns = self.selected_ns
        if ns is not None and not ns.gone:
            with contextlib.suppress(Exception):
                self.watcher.watch_namespace(ns.id)

    # --- collection (workers) -------------------------------------------------------

    def _on_watcher_change(self, reason: str) -> None:
        # Called from the watcher's threads: post_message is thread-safe.
        self.post_message(ChangeDetected(reason))

    def _start_collect(self, *, discover_first: bool = False) -> None:
        if self._collecting:
            self._collect_again = True
            return
        self._collecting = True
        self._collect_started = time.monotonic()
        source = self.source

        shown = threading.Event()
        self._first_paint = shown

        def work() -> None:
            try:
                if discover_first:
                    self.post_message(SnapshotArrived(source.discover(), complete=False))
                    # Let the sidebar reach the screen before the full read competes for
                    # the GIL (netlink parsing is Python work).
                    shown.wait(2.0)
                self.post_message(SnapshotArrived(source.collect(), complete=True))
            except Exception as err:  # one failure is a message, never a crash
                self.post_message(CollectFailed(_describe(err)))

        self.run_worker(work, thread=True, exit_on_error=False, group="collect")

    def _collect_done(self) -> None:
        self._collecting = False
        self._collect_cost = time.monotonic() - self._collect_started
        if self._collect_again:
            self._collect_again = False
            self._start_collect()

    def _fetch_detail(self, ns: NetNamespace) -> None:
        source = self.source

        def work() -> None:
            try:
                self.post_message(NamespaceDetailed(source.detail(ns)))
            except NamespaceGone as err:
                self.post_message(NamespaceVanished(ns.inode, err.message))
            except Exception as err:
                self.post_message(NamespaceVanished(ns.inode, _describe(err)))

        self.run_worker(work, thread=True, exit_on_error=False, group="detail", exclusive=True)

    def _fetch_processes(self, ns: NetNamespace) -> None:
        source = self.source

        def work() -> None:
            try:
                procs = source.processes(ns)
                self.post_message(ProcessesFetched(ns.inode, tuple(procs)))
            except Exception as err:
                self.post_message(ProcessesFetched(ns.inode, (), _describe(err)))

        self.run_worker(work, thread=True, exit_on_error=False, group="procs", exclusive=True)

    @on(SnapshotArrived)
    def snapshot_arrived(self, message: SnapshotArrived) -> None:
        if message.complete:
            self._complete = True
            self._collect_done()
            self.call_after_refresh(self._start_watching)
        elif self._complete:
            return  # a late cheap pass never overwrites a full one
        self._apply_snapshot(message.snapshot, complete=message.complete)
        self.call_after_refresh(self._startup_done)
        if not message.complete and self._first_paint is not None:
            self.call_after_refresh(self._first_paint.set)

    @on(CollectFailed)
    def collect_failed(self, message: CollectFailed) -> None:
        self._collect_done()
        self._startup_done()
        self._set_status("collection failed")
        self.notify(message.message, title="collection failed", severity="error", markup=False)

    @on(NamespaceDetailed)
    def namespace_detailed(self, message: NamespaceDetailed) -> None:
        ns = message.ns
        old = self._by_inode.get(ns.inode)
        if old is None:
            return
        self._replace_namespace(replace(ns, gone=False))
        if self.selected == ns.inode:
            self._refresh_panes()

    @on(NamespaceVanished)
    def namespace_vanished(self, message: NamespaceVanished) -> None:
        old = self._by_inode.get(message.inode)
        if old is None or old.gone:
            return
        warnings = (*old.warnings, message.message)
        self._replace_namespace(replace(old, gone=True, warnings=warnings))
        self._rebuild_sidebar()
        if self.selected == message.inode:
            self._refresh_panes()

    @on(ProcessesFetched)
    def processes_fetched(self, message: ProcessesFetched) -> None:
        if message.error:
            if self.selected == message.inode:
                self.query_one(ProcessesPane).show_message(message.error)
            return
        if len(self._processes) >= PROCESS_CACHE_LIMIT:
            self._processes.clear()
        self._processes[message.inode] = message.processes
        if self.selected == message.inode and self.pane == "processes":
            self.query_one(ProcessesPane).show_processes(message.processes)

    @on(ChangeDetected)
    def change_detected(self, message: ChangeDetected) -> None:
        """Re-read soon, but not for every event: one timer at a time (a busy host does not
        postpone the update forever), and a gap after each read that grows with its cost
        (a host that never stops changing costs at most a fifth of a core)."""
        if self._debounce_timer is not None:
            return
        gap = max(self.min_collect_gap, 4 * self._collect_cost)
        delay = max(self.debounce, self._collect_started + gap - time.monotonic())
        self._debounce_timer = self.set_timer(delay, self._debounced_collect)

    def _debounced_collect(self) -> None:
        self._debounce_timer = None
        self._processes.clear()
        self._start_collect()

    # --- applying snapshots ---------------------------------------------------------

    def _apply_snapshot(self, incoming: Snapshot, *, complete: bool) -> None:
        merged: list[NetNamespace] = []
        seen: set[int] = set()
        for fresh in incoming.namespaces:
            ns = fresh
            old = self._by_inode.get(ns.inode)
            if not ns.detailed and old is not None and old.detailed and not old.gone:
                ns = replace(ns, interfaces=old.interfaces, routes=old.routes, detailed=True)
            merged.append(ns)
            seen.add(ns.inode)
        now = time.monotonic()
        for inode in seen:
            self._gone_since.pop(inode, None)
        for old in self.namespaces:
            if old.inode in seen:
                continue
            since = self._gone_since.setdefault(old.inode, now)
            if now - since < GONE_KEEP_SECONDS or old.inode == self.selected:
                merged.append(old if old.gone else replace(old, gone=True))
        self.snapshot = replace(incoming, namespaces=tuple(merged))
        self.namespaces = merged
        self._by_inode = {ns.inode: ns for ns in merged}
        self._rebuild_sidebar()
        live = "live" if self.source.live else f"replay {self.replay_name}".strip()
        state = live if complete else "reading interfaces…"
        self._set_status(f"{len(incoming.namespaces)} namespaces · {state}")
        if self.selected is None:
            tree = self.query_one(NamespaceTree)
            first = tree.selected_inode
            if first is not None:
                self.select(first)
        else:
            self._refresh_panes()

    def _replace_namespace(self, ns: NetNamespace) -> None:
        self.namespaces = [ns if n.inode == ns.inode else n for n in self.namespaces]
        self._by_inode[ns.inode] = ns
        if self.snapshot is not None:
            self.snapshot = replace(self.snapshot, namespaces=tuple(self.namespaces))


def _describe(err: BaseException) -> str:
    if isinstance(err, NsxError):
        return err.message
    return f"{type(err).__name__}: {err}"
