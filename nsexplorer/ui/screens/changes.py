"""Change tracking: what differs from the baseline (the first full read, or the
``--since`` file), with the time each difference was first seen, and the Changes view.

:class:`ChangeTracker` is plain Python (no Textual): each full read is compared with the
baseline by ``nsexplorer.diffing.diff_snapshots``; a difference keeps the time it was
first seen while it lasts, and drops out when the state returns to the baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from nsexplorer.changes import changes_between
from nsexplorer.diffing import Change, ChangeIdentity
from nsexplorer.model import Snapshot
from nsexplorer.problems import find_problems
from nsexplorer.ui.render_views import change_cells, change_detail_text
from nsexplorer.ui.screens.once import OnceScreen
from nsexplorer.ui.screens.problems import KEYS_HINT, PLACE_WIDTH, Jump
from nsexplorer.ui.widgets.labels import fit_label
from nsexplorer.ui.widgets.panes import SafeTable

CHANGE_COLUMNS = ("first seen", "namespace", "kind", "change")

# Kinds whose subject is an interface name (a jump lands on that interface).
_IFACE_KINDS = (
    "interface-appeared",
    "interface-gone",
    "interface-changed",
    "interface-moved",
    "address-added",
    "address-removed",
    "address-changed",
    "problem-appeared",
    "problem-cleared",
)


@dataclass(frozen=True, slots=True)
class Seen:
    when: str  # HH:MM:SS (local time of the session), or a full stamp
    change: Change
    changed: str = ""  # when its words last changed (a peer that moved on again), or ""


class ChangeTracker:
    """Differences from one baseline snapshot, each with its first-seen time: what
    ``diff_snapshots`` finds, and problems that appeared or cleared. A difference is
    known by its identity, so its words can change (an mtu changed twice) without
    losing the time it was first seen: the time an incident timeline needs."""

    def __init__(self, baseline: Snapshot, *, origin: str = "first full read") -> None:
        self.baseline = baseline
        self.origin = origin
        self._seen: dict[ChangeIdentity, Seen] = {}
        # (the read it was first seen in, its place in that read's list)
        self._order: dict[ChangeIdentity, tuple[int, int]] = {}
        self._reads = 0
        self._baseline_problems = find_problems(baseline)

    def update(self, current: Snapshot, when: str) -> tuple[Change, ...]:
        """Compare ``current`` with the baseline; return the news since the last update
        (the caller may announce them): changes first seen now, and those whose state
        moved on (an mtu set again). A problem worded anew (drops that grew further)
        and a rename of the namespace or interface alone are not news."""
        now = changes_between(self.baseline, current, self._baseline_problems)
        seen: dict[ChangeIdentity, Seen] = {}
        news: list[Change] = []
        self._reads += 1
        for place, c in enumerate(now):
            old = self._seen.get(c.identity)
            if old is None:
                seen[c.identity] = Seen(when, c)
                self._order[c.identity] = (-self._reads, place)
                news.append(c)
            elif old.change == c:
                seen[c.identity] = old
            elif (old.change.before, old.change.after) == (c.before, c.after):
                # only its interface's name or namespace's label is new: the same words
                # of the change, so not a "last changed" (a rename after an mtu change)
                seen[c.identity] = Seen(old.when, c, old.changed)
            else:
                seen[c.identity] = Seen(old.when, c, changed=when)
                if not c.kind.startswith("problem-"):
                    news.append(c)
        self._seen = seen
        self._order = {k: n for k, n in self._order.items() if k in seen}
        return tuple(news)

    @property
    def entries(self) -> list[Seen]:
        """The current differences, the newest first (by the read they were first seen
        in, not by the clock's words: 00:01 comes after 23:59), in the order of the
        comparison within one read."""
        return [self._seen[k] for k in sorted(self._seen, key=self._order.__getitem__)]

    def inodes(self) -> set[int]:
        """Namespaces with at least one change (for marking sidebar rows)."""
        return {s.change.namespace_inode for s in self._seen.values()}


# The Interfaces column an interface-changed's field is in: the jump brings it into view.
_COLUMN_OF_FIELD = {"state": "state", "peer": "peer", "mtu": "mtu", "mac": "mac",
                    "master": "master", "kind": "kind", "port state": "master"}  # fmt: skip


def jump_for(c: Change) -> Jump:
    """Where Enter on ``c`` goes: its namespace, the interface it names (with the column
    of the field that changed in view); a namespace that went, only to its gone row."""
    interface = c.subject or None if c.kind in _IFACE_KINDS else None
    column = _COLUMN_OF_FIELD.get(c.topic) if c.kind == "interface-changed" else None
    gone = c.kind == "namespace-gone"
    return Jump(c.namespace_inode, interface, column, gone=gone, label=c.namespace_label,
                ifindex=c.ifindex if interface else None)  # fmt: skip


class ChangesScreen(OnceScreen[Jump | None]):
    """Everything that changed since the baseline, kept current while it is open
    (:meth:`show`). Enter: jump; Escape: back."""

    CSS_PATH = "../views.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back"),
        Binding("enter", "jump", "Go to namespace", priority=True),
    ]

    def __init__(self, entries: Sequence[Seen], *, origin: str = "first full read") -> None:
        super().__init__()
        self._entries = list(entries)
        self._origin = origin
        self._done = False

    def compose(self) -> ComposeResult:
        with Vertical(id="changes"):
            yield Static(self._title(), id="changes-title")
            yield SafeTable(CHANGE_COLUMNS, id="changes-table", fixed_columns=1)
            nothing = Text("Nothing changed since the baseline.", style="dim")
            yield Static(nothing, id="changes-empty")
            yield Static(Text(), id="changes-detail")
            yield Static(KEYS_HINT, classes="view-keys")

    def _title(self) -> Text:
        title = Text(end="")
        title.append("Changes since ", style="bold")
        title.append(self._origin, style="bold")
        title.append(f"  {len(self._entries)}", style="dim")
        return title

    def on_mount(self) -> None:
        table = self.query_one("#changes-table", SafeTable)
        self._fill(table)
        table.focus()
        self._show_detail(0)

    def _fill(self, table: SafeTable, keep_row: int = 0) -> None:
        rows = []
        for n, seen in enumerate(self._entries):
            when, where, *rest = change_cells(seen.when, seen.change, seen.changed)
            rows.append((str(n), (when, fit_label(where, PLACE_WIDTH), *rest)))
        table.fill(rows, keep_row=keep_row)
        self.query_one("#changes-empty").display = not self._entries
        self.query_one("#changes-detail").display = bool(self._entries)

    def _show_detail(self, row: int) -> None:
        if 0 <= row < len(self._entries):
            seen = self._entries[row]
            text = change_detail_text(seen.when, seen.change, seen.changed)
            self.query_one("#changes-detail", Static).update(text)

    @on(DataTable.RowHighlighted, "#changes-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail(event.cursor_row)

    @property
    def entries(self) -> list[Seen]:
        return list(self._entries)

    def show(self, entries: Sequence[Seen]) -> None:
        """A full read changed the list while the view is open: show it, the cursor on
        the change it was on (or at the same place); nothing is redrawn when nothing
        changed."""
        if list(entries) == self._entries or self._done:
            return
        if not self.is_mounted:  # pushed, not built yet: on_mount shows these
            self._entries = list(entries)
            return
        table = self.query_one("#changes-table", SafeTable)
        row = table.cursor_row
        was = self._entries[row].change.identity if 0 <= row < len(self._entries) else None
        self._entries = list(entries)
        ids = [seen.change.identity for seen in self._entries]
        at = ids.index(was) if was in ids else max(0, min(row, len(ids) - 1))
        self._fill(table, keep_row=at)
        self.query_one("#changes-title", Static).update(self._title())
        self._show_detail(at)

    @on(DataTable.RowSelected, "#changes-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_jump()

    def action_jump(self) -> None:
        row = self.query_one("#changes-table", SafeTable).cursor_row
        if self._done or not 0 <= row < len(self._entries):
            return
        self._done = True
        self.dismiss(jump_for(self._entries[row].change))

    def action_close(self) -> None:
        if not self._done:
            self._done = True
            self.dismiss(None)
