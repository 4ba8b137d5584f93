"""The Problems view: every finding of the snapshot, worst first; Enter jumps to the
namespace and interface it belongs to (the screen dismisses with a :class:`Jump`).

The findings come from ``nsexplorer.problems`` (find_problems, counters_growing); this
screen only needs the fields of ``render_views.Finding``. Each row and the detail under
the table are built by ``ui.render_views`` (escaped, never markup).
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

from nsexplorer.model import Snapshot, ns_label
from nsexplorer.ui.render_views import (
    SEVERITY_ORDER,
    Finding,
    problem_cells,
    problem_detail_text,
    problems_summary_text,
)


@dataclass(frozen=True, slots=True)
class Jump:
    """Where to go: a namespace, and an interface in it (None: the namespace itself)."""

    namespace_inode: int
    interface: str | None = None


def ifindex_for(snapshot: Snapshot, jump: Jump) -> int | None:
    """The ifindex of the jump's interface in its namespace (None: no interface named,
    or it is not there any more: the jump then lands on the namespace)."""
    ns = snapshot.by_inode(jump.namespace_inode)
    if ns is None or jump.interface is None:
        return None
    for iface in ns.interfaces:
        if iface.name == jump.interface:
            return iface.ifindex
    return None


def where_label(snapshot: Snapshot, inode: int) -> str:
    """The raw label of the namespace ``inode`` (escape it for display)."""
    ns = snapshot.by_inode(inode)
    return ns_label(ns) if ns is not None else f"netns {inode} (gone)"


def ordered(problems: Sequence[Finding]) -> list[Finding]:
    """Errors first, then warnings, then information; stable within a severity."""
    rank = {s: n for n, s in enumerate(SEVERITY_ORDER)}
    return sorted(problems, key=lambda p: rank.get(p.severity, len(rank)))


class ProblemsScreen(Screen[Jump | None]):
    """Full-screen list of findings. Enter: jump; Escape: back."""

    CSS_PATH = "../views.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back"),
        Binding("enter", "jump", "Go to namespace", priority=True),
    ]

    def __init__(self, problems: Sequence[Finding], snapshot: Snapshot) -> None:
        super().__init__()
        self._problems = ordered(problems)
        self._snapshot = snapshot
        self._where = [where_label(snapshot, p.namespace_inode) for p in self._problems]
        self._done = False

    @property
    def problems(self) -> list[Finding]:
        return self._problems

    def compose(self) -> ComposeResult:
        with Vertical(id="problems"):
            title = Text("Problems  ", style="bold")
            summary = problems_summary_text(self._problems)
            title.append_text(summary if summary else Text("none found", style="green"))
            yield Static(title, id="problems-title")
            table: DataTable[Text] = DataTable(id="problems-table", cursor_type="row")
            yield table
            yield Static(Text(), id="problems-detail")

    def on_mount(self) -> None:
        table = self.query_one("#problems-table", DataTable)
        table.add_columns("severity", "namespace", "interface", "problem")
        for n, (p, where) in enumerate(zip(self._problems, self._where, strict=True)):
            table.add_row(*problem_cells(p, where), key=str(n))
        table.focus()
        self._show_detail(0)

    def _show_detail(self, row: int) -> None:
        detail = self.query_one("#problems-detail", Static)
        if 0 <= row < len(self._problems):
            detail.update(problem_detail_text(self._problems[row], self._where[row]))
        else:
            detail.update(Text("Nothing wrong was found in this snapshot.", style="dim"))

    @on(DataTable.RowHighlighted, "#problems-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail(event.cursor_row)

    @on(DataTable.RowSelected, "#problems-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_jump()

    def action_jump(self) -> None:
        row = self.query_one("#problems-table", DataTable).cursor_row
        if self._done or not 0 <= row < len(self._problems):
            return
        self._done = True
        p = self._problems[row]
        self.dismiss(Jump(p.namespace_inode, p.interface))

    def action_close(self) -> None:
        if not self._done:
            self._done = True
            self.dismiss(None)
