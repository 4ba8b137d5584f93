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
from textual.screen import Screen
from textual.widgets import DataTable, Static

from nsexplorer.changes import changes_between
from nsexplorer.diffing import Change
from nsexplorer.model import Snapshot
from nsexplorer.problems import find_problems
from nsexplorer.ui.render_views import change_cells
from nsexplorer.ui.screens.problems import KEYS_HINT, Jump

# Kinds whose subject is an interface name (a jump lands on that interface).
_IFACE_KINDS = (
    "interface-appeared",
    "interface-gone",
    "interface-changed",
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


class ChangeTracker:
    """Differences from one baseline snapshot, each with its first-seen time: what
    ``diff_snapshots`` finds, and problems that appeared or cleared."""

    def __init__(self, baseline: Snapshot, *, origin: str = "first full read") -> None:
        self.baseline = baseline
        self.origin = origin
        self._seen: dict[Change, str] = {}
        self._baseline_problems = find_problems(baseline)

    def update(self, current: Snapshot, when: str) -> tuple[Change, ...]:
        """Compare ``current`` with the baseline; return the changes new since the last
        update (the caller may announce them)."""
        now = changes_between(self.baseline, current, self._baseline_problems)
        fresh = tuple(c for c in now if c not in self._seen)
        self._seen = {c: self._seen.get(c, when) for c in now}
        return fresh

    @property
    def entries(self) -> list[Seen]:
        """The current differences, newest first (stable within one time)."""
        items = [Seen(when, c) for c, when in self._seen.items()]
        return sorted(items, key=lambda s: s.when, reverse=True)

    def inodes(self) -> set[int]:
        """Namespaces with at least one change (for marking sidebar rows)."""
        return {c.namespace_inode for c in self._seen}


def jump_for(c: Change) -> Jump:
    return Jump(c.namespace_inode, c.subject or None if c.kind in _IFACE_KINDS else None)


class ChangesScreen(Screen[Jump | None]):
    """Everything that changed since the baseline. Enter: jump; Escape: back."""

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
            title = Text(end="")
            title.append("Changes since ", style="bold")
            title.append(self._origin, style="bold")
            title.append(f"  {len(self._entries)}", style="dim")
            yield Static(title, id="changes-title")
            yield DataTable(id="changes-table", cursor_type="row")
            if not self._entries:
                nothing = Text("Nothing changed since the baseline.", style="dim")
                yield Static(nothing, id="changes-empty")
            yield Static(KEYS_HINT, classes="view-keys")

    def on_mount(self) -> None:
        table: DataTable[Text] = self.query_one("#changes-table", DataTable)
        table.add_columns("first seen", "namespace", "kind", "change")
        for n, seen in enumerate(self._entries):
            table.add_row(*change_cells(seen.when, seen.change), key=str(n))
        table.focus()

    @on(DataTable.RowSelected, "#changes-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_jump()

    def action_jump(self) -> None:
        row = self.query_one("#changes-table", DataTable).cursor_row
        if self._done or not 0 <= row < len(self._entries):
            return
        self._done = True
        self.dismiss(jump_for(self._entries[row].change))

    def action_close(self) -> None:
        if not self._done:
            self._done = True
            self.dismiss(None)
