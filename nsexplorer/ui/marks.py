"""Marked sidebar rows (space toggles) and what a fan-out runs in: the marked
namespaces that are still shown, or, with none marked, every namespace shown.

Plain Python (no Textual). Marks are namespace inodes; a namespace that went away keeps
no mark, and a mark hidden by the filter is not acted on (what you act on is what you
see).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from nsexplorer.model import NetNamespace


class Marks:
    def __init__(self) -> None:
        self._marked: set[int] = set()
        # Marks whose namespace was replaced by a new one under the same inode: they
        # still count (a fan-out never falls back to every row), but run nowhere.
        self._stale: set[int] = set()

    def toggle(self, inode: int) -> bool:
        """Mark or unmark; returns whether ``inode`` is marked now."""
        if inode in self._stale:  # marking the new namespace there, knowingly
            self._stale.discard(inode)
            self._marked.add(inode)
            return True
        if inode in self._marked:
            self._marked.discard(inode)
            return False
        self._marked.add(inode)
        return True

    def __contains__(self, inode: object) -> bool:
        return inode in self._marked

    def __len__(self) -> int:
        return len(self._marked) + len(self._stale)

    def inodes(self) -> frozenset[int]:
        return frozenset(self._marked)

    def clear(self) -> None:
        self._marked.clear()
        self._stale.clear()

    def keep_only(self, present: Iterable[int]) -> None:
        """Forget marks on namespaces no longer in the snapshot."""
        kept = set(present)
        self._marked &= kept
        self._stale &= kept

    def forget(self, inodes: Iterable[int]) -> None:
        """These inodes now name new namespaces: what was marked there is gone, and the
        new one is not marked (the mark still counts, so nothing falls back to "every
        shown namespace"; marking the row again marks the new one)."""
        moved = self._marked & set(inodes)
        self._marked -= moved
        self._stale |= moved

    def targets(self, shown: Sequence[NetNamespace]) -> list[NetNamespace]:
        """Where "run in marked / all shown" runs. With any mark set: the marked rows
        that are shown and not gone (possibly none: the caller refuses), never a
        fallback to every row. With no mark: every shown namespace that is not gone."""
        live = [ns for ns in shown if not ns.gone]
        if self._marked or self._stale:
            return [ns for ns in live if ns.inode in self._marked]
        return live

    def left_out(self, shown: Sequence[NetNamespace]) -> int:
        """Marks that :meth:`targets` leaves out (hidden by the filter or gone), for
        the confirmation to say so."""
        kept = {ns.inode for ns in shown if not ns.gone}
        return len(self._marked - kept) + len(self._stale)
