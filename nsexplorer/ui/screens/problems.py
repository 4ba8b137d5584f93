"""The Problems view: every finding of the snapshot, worst first; Enter jumps to the
namespace and interface it belongs to (the screen dismisses with a :class:`Jump`).

The findings come from ``nsexplorer.problems`` (find_problems, counters_growing); this
screen only needs the fields of ``render_views.Finding``. Each row and the detail under
the table are built by ``ui.render_views`` (escaped, never markup).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from nsexplorer import problems as kinds
from nsexplorer.model import Snapshot, ns_label
from nsexplorer.ui.render_views import (
    SEVERITY_ORDER,
    Finding,
    group_cells,
    group_detail_text,
    problem_cells,
    problem_detail_text,
    problems_summary_text,
)
from nsexplorer.ui.roles import GOOD
from nsexplorer.ui.screens.once import OnceScreen
from nsexplorer.ui.widgets.labels import fit_label
from nsexplorer.ui.widgets.panes import SafeTable


@dataclass(frozen=True, slots=True)
class Jump:
    """Where to go: a namespace, and an interface in it (None: the namespace itself)."""

    namespace_inode: int
    interface: str | None = None
    column: str | None = None  # the column that shows the fact (mtu, mac, tx drop...)
    pane: str = "interfaces"  # where that column is: a counter that grew is in Counters
    # About a namespace that went (Changes' namespace-gone): never lands on a live
    # namespace that took its inode since; ``label`` names it in the notice that says so.
    gone: bool = False
    label: str = ""
    ifindex: int | None = None  # the interface, when known: a name can be another's now


# The Interfaces column each kind of finding is about: the jump brings it into view.
COLUMN_OF_KIND = {
    kinds.VETH_ADMIN_DOWN: "state",
    kinds.VETH_NO_CARRIER: "state",
    kinds.BRIDGE_DOWN: "state",
    kinds.BRIDGE_PORT_DOWN: "state",
    kinds.PEER_UNRESOLVED: "peer",
    kinds.PEER_UNREACHABLE: "peer",
    kinds.DUPLICATE_IP: "addresses",
    kinds.DAD_FAILED: "addresses",
    kinds.CONTAINER_ADDRESS_MISMATCH: "addresses",
    kinds.DUPLICATE_MAC: "mac",
    kinds.MTU_MISMATCH: "mtu",
    kinds.TUN_NOT_HELD: "state",
}


# A counters finding's evidence line, "eth0: tx_dropped 3 -> 9" (problems/counters.py),
# names the first counter that grew; the Counters column that shows it:
COUNTER_COLUMN = {
    "rx_errors": "rx err", "rx_dropped": "rx drop", "tx_errors": "tx err",
    "tx_dropped": "tx drop", "rx_bytes": "rx bytes", "tx_bytes": "tx bytes",
    "rx_packets": "rx pkts", "tx_packets": "tx pkts",
}  # fmt: skip


def jump_of(p: Finding) -> Jump:
    """Where Enter on finding ``p`` goes: its namespace and interface, with the column
    that shows the fact in view (a counter that grew: in the Counters pane)."""
    if p.kind == kinds.COUNTERS_GROWING:
        words = p.evidence[0].partition(": ")[2].split() if p.evidence else []
        column = COUNTER_COLUMN.get(words[0]) if words else None
        return Jump(p.namespace_inode, p.interface, column, pane="counters")
    return Jump(p.namespace_inode, p.interface, COLUMN_OF_KIND.get(p.kind))


def ifindex_for(snapshot: Snapshot, jump: Jump) -> int | None:
    """The ifindex of the jump's interface in its namespace (None: no interface named,
    or it is not there any more: the jump then lands on the namespace). By its ifindex
    when the jump has one (renamed since, it is still that one; gone, an interface that
    took its name is not it), else by its name."""
    ns = snapshot.by_inode(jump.namespace_inode)
    if ns is None or jump.interface is None:
        return None
    if jump.ifindex is not None:
        return jump.ifindex if ns.interface(jump.ifindex) is not None else None
    for iface in ns.interfaces:
        if iface.name == jump.interface:
            return iface.ifindex
    return None


def ordered(problems: Sequence[Finding]) -> list[Finding]:
    """Errors first, then warnings, then information; stable within a severity."""
    rank = {s: n for n, s in enumerate(SEVERITY_ORDER)}
    return sorted(problems, key=lambda p: rank.get(p.severity, len(rank)))


PROBLEM_COLUMNS = ("severity", "namespace", "interface", "problem")
REREAD_EVERY = 10.0  # seconds between the full reads asked for while the view is open
# The widest a namespace's cell is in the list views (a long path is cut in the middle:
# one hidden namespace's label no longer widens the column for every row).
PLACE_WIDTH = 28

# The keys of a list view (Problems, Changes): said on screen, there is no footer here.
KEYS_HINT = Text("↑↓ choose · enter: go to its namespace and interface · escape: back", end="")

GROUPS_HINT = Text("↑↓ choose · enter: go there, or list a ▸ line's findings · escape: back")
GROUP_AT = 5  # this many information findings of one kind are one line (Enter lists them)


@dataclass(frozen=True, slots=True)
class Group:
    """One line standing for many information findings of one kind."""

    kind: str
    members: tuple[int, ...]  # indexes into the ordered findings


Row = int | Group  # a finding (its index) or a group line


def rows_of(problems: Sequence[Finding], expanded: frozenset[str] = frozenset()) -> list[Row]:
    """The lines of the view: every finding in order, except that GROUP_AT or more
    information findings of one kind are one line where the first of them was, with its
    members under it when that kind is ``expanded``."""
    members: dict[str, list[int]] = {}
    for n, p in enumerate(problems):
        if p.severity == "info":
            members.setdefault(p.kind, []).append(n)
    grouped = {kind: tuple(ns) for kind, ns in members.items() if len(ns) >= GROUP_AT}
    rows: list[Row] = []
    for n, p in enumerate(problems):
        group = grouped.get(p.kind) if p.severity == "info" else None
        if group is None:
            rows.append(n)
        elif group[0] == n:
            rows.append(Group(p.kind, group))
            if p.kind in expanded:
                rows.extend(group)
    return rows


class ProblemsScreen(OnceScreen[Jump | None]):
    """Full-screen list of findings, worst first; many information findings of one kind
    are one line. Kept current while open (:meth:`show`). Enter: jump (on a group line:
    list its findings, or fold them); Escape: back."""

    CSS_PATH = "../views.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back"),
        Binding("enter", "jump", "Go to namespace", priority=True),
    ]

    def __init__(
        self,
        problems: Sequence[Finding],
        snapshot: Snapshot,
        reread: Callable[[], None] | None = None,
    ) -> None:
        """``reread``: asks for a full read (live sessions), at once and every
        REREAD_EVERY seconds while the view is open: counters that grow are compared
        between full reads, and a quiet host has none."""
        super().__init__()
        self._expanded: frozenset[str] = frozenset()
        self._done = False
        self._reread = reread
        self._take(problems, snapshot)

    def _take(self, problems: Sequence[Finding], snapshot: Snapshot) -> None:
        self._problems = ordered(problems)
        labels = {ns.inode: ns_label(ns) for ns in snapshot.namespaces}  # once, not per row
        self._where = [
            labels.get(p.namespace_inode) or f"netns {p.namespace_inode} (gone)"
            for p in self._problems
        ]
        self._rows = rows_of(self._problems, self._expanded)

    @property
    def problems(self) -> list[Finding]:
        return self._problems

    def compose(self) -> ComposeResult:
        with Vertical(id="problems"):
            yield Static(self._title(), id="problems-title")
            yield SafeTable(PROBLEM_COLUMNS, id="problems-table", fixed_columns=1)
            yield Static(Text(), id="problems-detail")
            yield Static(self._hint(), classes="view-keys")

    def _title(self) -> Text:
        title = Text(end="")
        title.append("Problems  ", style="bold")
        summary = problems_summary_text(self._problems)
        title.append_text(summary if summary else Text("none found", style=GOOD))
        return title

    def _hint(self) -> Text:
        return GROUPS_HINT if any(isinstance(row, Group) for row in self._rows) else KEYS_HINT

    @property
    def rows(self) -> list[Row]:
        """The lines shown, in order (a finding's index, or a group)."""
        return list(self._rows)

    def on_mount(self) -> None:
        table = self.query_one("#problems-table", SafeTable)
        self._fill(table)
        table.focus()
        self._show_detail(0)
        if self._reread is not None:
            self._reread()
            self.set_interval(REREAD_EVERY, self._reread_shown)

    def _reread_shown(self) -> None:
        if self.app.screen is self and self._reread is not None:  # (not under help)
            self._reread()

    def show(self, problems: Sequence[Finding], snapshot: Snapshot) -> None:
        """A read changed the findings while the view is open: show them, the cursor on
        the finding it was on (or at the same place); nothing is redrawn when nothing
        changed."""
        if self._done:
            return
        if not self.is_mounted:  # pushed, not built yet: on_mount shows what is taken
            self._take(problems, snapshot)
            return
        table = self.query_one("#problems-table", SafeTable)
        row = table.cursor_row
        was = self._row_identity(row)
        before = (self._problems, self._where)
        self._take(problems, snapshot)
        if (self._problems, self._where) == before:
            return
        ids = [self._row_identity(n) for n in range(len(self._rows))]
        at = ids.index(was) if was in ids else max(0, min(row, len(ids) - 1))
        self._fill(table, keep_row=at)
        self.query_one("#problems-title", Static).update(self._title())
        self.query_one(".view-keys", Static).update(self._hint())
        self._show_detail(at)

    def _row_identity(self, row: int) -> tuple[str, int, str] | None:
        """What line ``row`` stands for, from read to read: a finding by its kind, place
        and interface (its words can change: a counter grew again), a group by its kind."""
        if not 0 <= row < len(self._rows):
            return None
        shown = self._rows[row]
        if isinstance(shown, Group):
            return (shown.kind, -1, "")
        p = self._problems[shown]
        return (p.kind, p.namespace_inode, p.interface or "")

    def _fill(self, table: SafeTable, keep_row: int = 0) -> None:
        under = {i for r in self._rows if isinstance(r, Group) for i in r.members}
        rows: list[tuple[str, tuple[Text, ...]]] = []
        for n, row in enumerate(self._rows):
            if isinstance(row, Group):
                found = [self._problems[i] for i in row.members]
                where = {self._where[i] for i in row.members}
                open_ = row.kind in self._expanded
                cells = group_cells(found, len(where), expanded=open_)
            else:
                cells = problem_cells(self._problems[row], self._where[row])
                if row in under:
                    cells = (Text("  ") + cells[0], *cells[1:])  # under its group line
            rows.append((str(n), (cells[0], fit_label(cells[1], PLACE_WIDTH), *cells[2:])))
        table.fill(rows, keep_row=keep_row)

    def _show_detail(self, row: int) -> None:
        detail = self.query_one("#problems-detail", Static)
        if 0 <= row < len(self._rows):
            shown = self._rows[row]
            if isinstance(shown, Group):
                found = [self._problems[i] for i in shown.members]
                where = {self._where[i] for i in shown.members}
                open_ = shown.kind in self._expanded
                detail.update(group_detail_text(found, len(where), expanded=open_))
            else:
                detail.update(problem_detail_text(self._problems[shown], self._where[shown]))
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
        table = self.query_one("#problems-table", SafeTable)
        row = table.cursor_row
        if self._done or not 0 <= row < len(self._rows):
            return
        shown = self._rows[row]
        if isinstance(shown, Group):  # list its findings under it, or fold them
            self._expanded ^= {shown.kind}
            self._rows = rows_of(self._problems, self._expanded)
            self._fill(table, keep_row=row)
            self._show_detail(row)
            return
        self._done = True
        p = self._problems[shown]
        self.dismiss(jump_of(p))

    def action_close(self) -> None:
        if not self._done:
            self._done = True
            self.dismiss(None)
