"""What the TUI knows is wrong right now: the findings of the last full read plus the
error/drop counters that grew since the read before it, indexed for the sidebar badges,
the header count, the Problems view and each namespace's Details.

Plain Python (no Textual). The finders are given, not imported, so this module stays
testable on its own: the app passes ``nsexplorer.problems.find_problems`` and
``counters_growing``. A finding is shown only for the namespace it names (never a
global warning repeated in every namespace's Details).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from nsexplorer.model import NetNamespace, Snapshot
from nsexplorer.ui.render_views import SEVERITY_ORDER, Finding
from nsexplorer.ui.session import now_iso

Finder = Callable[[Snapshot], Sequence[Finding]]
Grower = Callable[[Snapshot, Snapshot], Sequence[Finding]]

_RANK = {s: n for n, s in enumerate(SEVERITY_ORDER)}

# A counter that grew between two reads stays listed this long after (seconds): drops
# in a burst are what a responder came for, and the next read, often seconds later and
# caused by something else, would otherwise take them away before they were seen.
HOLD = 60.0


def _key(p: Finding) -> tuple[str, int, str | None, str]:
    return (p.kind, p.namespace_inode, p.interface, p.message)


class ProblemBoard:
    """Findings of the latest snapshot; ``update`` says which appeared and cleared."""

    def __init__(
        self,
        find: Finder,
        growing: Grower | None = None,
        growing_kind: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._find = find
        self._growing = growing
        self._growing_kind = growing_kind  # the kind ``growing``'s findings carry
        self._clock = clock
        # (namespace, interface) -> its last counters finding, when it was found, and
        # what it was found on (so a namespace or interface that took its place since,
        # under the same inode or name, never inherits it)
        self._grown: dict[tuple[int, str | None], tuple[Finding, float, _Place]] = {}
        self._previous: Snapshot | None = None
        self._all: tuple[Finding, ...] = ()
        self._by_ns: dict[int, tuple[Finding, ...]] = {}
        self._worst: dict[int, str] = {}

    @property
    def previous(self) -> Snapshot | None:
        """The snapshot of the last update (what counters are compared against)."""
        return self._previous

    def findings(self, snapshot: Snapshot, previous: Snapshot | None) -> tuple[Finding, ...]:
        """What ``update`` would show for ``snapshot``, counters compared to ``previous``.
        Pure (the board is not changed): a worker thread computes it off the event loop."""
        found = list(self._find(snapshot))
        if self._growing is not None and previous is not None:
            found.extend(self._growing(previous, snapshot))
        return tuple(found)

    def update(
        self, snapshot: Snapshot, found: Sequence[Finding] | None = None
    ) -> tuple[tuple[Finding, ...], tuple[Finding, ...]]:
        """Recompute from a full read (or take ``found``, what :meth:`findings` gave for
        it); returns (appeared, cleared) since the last one."""
        if found is None:
            found = self.findings(snapshot, self._previous)
        self._previous = snapshot
        where = {ns.inode: ns for ns in snapshot.namespaces if not ns.gone}
        self._grown = {
            k: v for k, v in self._grown.items() if _place(where.get(k[0]), k[1]) == v[2]
        }
        return self._take(found, where)

    def update_counters(self, ns: NetNamespace) -> bool:
        """A fresh read of one namespace between full reads (the selected one, read
        again on its events and every second while the Counters pane shows): its
        counters-growing findings become those since the last full read, so a drop
        counter growing on a quiet host is badged without waiting for a full read.
        True when the board changed."""
        before = self._previous
        if self._growing is None or before is None or not self._growing_kind:
            return False
        grown = self._growing(before, replace(before, namespaces=(ns,), collected_at=now_iso()))
        # every other finding as it was; the counters ones of the other namespaces come
        # back from the hold, with the times they were found (not re-stamped now)
        kept = [p for p in self._all if p.kind != self._growing_kind]
        appeared, cleared = self._take([*kept, *grown], {ns.inode: ns})
        return bool(appeared or cleared)

    def _held(self, found: Sequence[Finding], where: Mapping[int, NetNamespace]) -> list[Finding]:
        """``found`` and the counters findings of the last HOLD seconds that did not
        grow again since (each as last found: its words say when it grew); ``where``:
        the namespaces the findings were made on, by inode."""
        now = self._clock()
        grown = [p for p in found if p.kind == self._growing_kind]
        for p in grown:
            place = _place(where.get(p.namespace_inode), p.interface)
            self._grown[(p.namespace_inode, p.interface)] = (p, now, place)
        fresh = {(p.namespace_inode, p.interface) for p in grown}
        self._grown = {k: v for k, v in self._grown.items() if now - v[1] <= HOLD}
        return [*found, *(v[0] for k, v in self._grown.items() if k not in fresh)]

    def _take(
        self, found: Sequence[Finding], where: Mapping[int, NetNamespace] | None = None
    ) -> tuple[tuple[Finding, ...], tuple[Finding, ...]]:
        found = self._held(found, where or {})
        old = {_key(p): p for p in self._all}
        new = {_key(p): p for p in found}
        appeared = tuple(p for k, p in new.items() if k not in old)
        cleared = tuple(p for k, p in old.items() if k not in new)
        self._all = tuple(found)
        by_ns: dict[int, list[Finding]] = {}
        for p in found:
            by_ns.setdefault(p.namespace_inode, []).append(p)
        self._by_ns = {inode: tuple(ps) for inode, ps in by_ns.items()}
        self._worst = {
            inode: min((p.severity for p in ps), key=lambda s: _RANK.get(s, len(_RANK)))
            for inode, ps in self._by_ns.items()
        }
        return appeared, cleared

    @property
    def problems(self) -> tuple[Finding, ...]:
        return self._all

    def for_namespace(self, inode: int) -> tuple[Finding, ...]:
        """The findings that belong to this namespace only."""
        return self._by_ns.get(inode, ())

    def worst(self, inode: int) -> str | None:
        """The worst severity among this namespace's findings (its badge), or None."""
        return self._worst.get(inode)

    def for_interface(self, inode: int, name: str) -> tuple[Finding, ...]:
        return tuple(p for p in self.for_namespace(inode) if p.interface == name)

    def badges(self) -> dict[int, str]:
        """Namespace inode -> its worst severity, for every namespace with a finding."""
        return dict(self._worst)


# What a held finding was found on: the namespace (id and kernel cookie) and the
# interface's ifindex; None where that was not known.
_Place = tuple[object, int | None, int | None] | None


def _place(ns: NetNamespace | None, interface: str | None) -> _Place:
    if ns is None:
        return None
    ifindex = next((i.ifindex for i in ns.interfaces if i.name == interface), None)
    return (ns.id, ns.cookie, ifindex)


_NAMESPACE = re.compile(r"\bnamespace ([0-9]{1,20})\b", re.ASCII)  # an inode: bounded for int()


def split_warnings(snapshot: Snapshot) -> tuple[tuple[str, ...], dict[int, tuple[str, ...]]]:
    """The snapshot's collection warnings, (collection-wide, per namespace inode): a
    warning that names a namespace of the snapshot ("namespace 4026532601: ...", the
    collectors' way) belongs to that one (to each, when it names several); the others
    are about the whole read."""
    known = {ns.inode for ns in snapshot.namespaces}
    wide: list[str] = []
    per: dict[int, list[str]] = {}
    for w in snapshot.warnings:
        named = [n for n in dict.fromkeys(int(m) for m in _NAMESPACE.findall(w)) if n in known]
        if not named:
            wide.append(w)
        for inode in named:
            per.setdefault(inode, []).append(w)
    return tuple(wide), {inode: tuple(ws) for inode, ws in per.items()}


def live_board() -> ProblemBoard:
    """The board the app uses: nsexplorer.problems' findings plus counters growing.
    nsexplorer.problems is imported on first use (in the collect worker, after the first
    frame), not when the app is built."""

    def find(snapshot: Snapshot) -> Sequence[Finding]:
        from nsexplorer.problems import find_problems

        return find_problems(snapshot)

    def growing(before: Snapshot, after: Snapshot) -> Sequence[Finding]:
        from nsexplorer.problems import counters_growing

        return counters_growing(before, after)

    # the kind's one home is nsexplorer.problems.base (imported lazily, as above)
    return ProblemBoard(find, growing, growing_kind="counters-growing")
