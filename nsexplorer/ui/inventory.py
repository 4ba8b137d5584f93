"""What the UI currently knows: the namespaces shown, merged from successive snapshots.

Pure bookkeeping, no widgets: a vanished namespace stays listed, marked gone with its
label kept, for ``GONE_KEEP_SECONDS`` (or while it is selected); a cheap discover() pass
never throws away interfaces a full read already gave.

The kernel reuses a freed namespace's inode number (within a second here), so a row is
the namespace it was read as: the same inode with another kernel id (cookie) is a new
namespace, and nothing of the old one carries over to it. It takes the row at once, the
selected one too: holding it back while the old row stayed selected hid a running
container (restarted, or another one that got the inode) behind a "gone" row, from the
filter too. The UI says so (a notice, the Changes view), and whatever was opened for the
old one (a prompt, a dialog) is refused by its kernel id.
"""

from __future__ import annotations

import time
from dataclasses import replace

from nsexplorer.model import NetNamespace, ProcessInfo, Snapshot, same_namespace

GONE_KEEP_SECONDS = 120.0
PROCESS_CACHE_LIMIT = 64


class Inventory:
    def __init__(self) -> None:
        self.snapshot: Snapshot | None = None
        self.namespaces: list[NetNamespace] = []
        self.by_inode: dict[int, NetNamespace] = {}
        self.complete = False  # a full collect() arrived at least once
        self.processes: dict[int, tuple[ProcessInfo, ...]] = {}
        self._gone_since: dict[int, float] = {}
        self._gone_clock: dict[int, str] = {}  # HH:MM:SS it was found gone, for people
        # (inode, cookie) of namespaces whose inode a new namespace took.
        self._replaced: set[tuple[int, int | None]] = set()
        # inode -> the namespace that was shown there, for those the last apply() found
        # replaced by a new one
        self.replaced_now: dict[int, NetNamespace] = {}

    def was_replaced(self, ns: NetNamespace) -> bool:
        """Whether ``ns``'s inode was found to name a new namespace (another cookie)."""
        return ns.identity in self._replaced

    def gone_since(self, inode: int) -> str:
        """When namespace ``inode`` was found gone (local HH:MM:SS; "" if it is not)."""
        return self._gone_clock.get(inode, "")

    def _found_gone(self, inode: int, now: float) -> float:
        self._gone_clock.setdefault(inode, time.strftime("%H:%M:%S"))
        return self._gone_since.setdefault(inode, now)

    def get(self, inode: int | None) -> NetNamespace | None:
        return self.by_inode.get(inode) if inode is not None else None

    def apply(self, incoming: Snapshot, *, selected: int | None, now: float | None = None) -> None:
        """Merge a new snapshot in."""
        now = time.monotonic() if now is None else now
        merged: list[NetNamespace] = []
        seen: set[int] = set()
        self.replaced_now = {}
        for fresh in incoming.namespaces:
            ns = fresh
            old = self.by_inode.get(ns.inode)
            if old is not None and not same_namespace(old, ns):
                if old.identity not in self._replaced:  # said once, not at every refresh
                    self._replaced.add(old.identity)
                    self.replaced_now[ns.inode] = old
                self.processes.pop(ns.inode, None)
                old = None  # nothing of it carries over to the new one
            if not ns.detailed and old is not None and old.detailed and not old.gone:
                ns = replace(ns, interfaces=old.interfaces, routes=old.routes, detailed=True)
            merged.append(ns)
            seen.add(ns.inode)
        for inode in seen:
            self._gone_since.pop(inode, None)
            self._gone_clock.pop(inode, None)
        for old in self.namespaces:
            if old.inode in seen:
                continue
            since = self._found_gone(old.inode, now)
            if now - since < GONE_KEEP_SECONDS or old.inode == selected:
                merged.append(old if old.gone else replace(old, gone=True))
            else:
                self._gone_since.pop(old.inode, None)
                self._gone_clock.pop(old.inode, None)
        self.snapshot = replace(incoming, namespaces=tuple(merged))
        self.namespaces = merged
        self.by_inode = {ns.inode: ns for ns in merged}

    def replace_namespace(self, ns: NetNamespace) -> None:
        self.namespaces = [ns if n.inode == ns.inode else n for n in self.namespaces]
        self.by_inode[ns.inode] = ns
        if self.snapshot is not None:
            self.snapshot = replace(self.snapshot, namespaces=tuple(self.namespaces))

    def mark_gone(self, inode: int, why: str) -> bool:
        """Mark one namespace gone (its label kept); False if unknown or already gone."""
        old = self.by_inode.get(inode)
        if old is None or old.gone:
            return False
        self._found_gone(inode, time.monotonic())
        self.replace_namespace(replace(old, gone=True, warnings=(*old.warnings, why)))
        return True

    def remember_processes(self, inode: int, processes: tuple[ProcessInfo, ...]) -> None:
        if len(self.processes) >= PROCESS_CACHE_LIMIT:
            self.processes.clear()
        self.processes[inode] = processes
