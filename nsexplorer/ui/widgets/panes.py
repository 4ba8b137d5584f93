"""The main area's panes, each showing one facet of the selected namespace."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.coordinate import Coordinate
from textual.geometry import Size
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import DataTable, Static, Tree
from textual.widgets.data_table import RowKey
from textual.widgets.tree import TreeNode

from nsexplorer.link_state import state_sentence
from nsexplorer.model import Interface, NetNamespace, ProcessInfo, ns_label
from nsexplorer.textsafe import visible
from nsexplorer.ui import render
from nsexplorer.ui.widgets.labels import fit

# (pane id, title); the number key for each is its position + 1.
PANES: tuple[tuple[str, str], ...] = (
    ("interfaces", "Interfaces"),
    ("routes", "Routes"),
    ("wiring", "Wiring"),
    ("processes", "Processes"),
    ("details", "Details"),
    ("output", "Output"),
    ("counters", "Counters"),
    ("inside", "Inside"),
)

# A namespace's bridges -> the Docker network(s) each carries (model.bridge_networks).
NetworksOf = Callable[[NetNamespace], Mapping[str, str]]


def no_networks(ns: NetNamespace) -> Mapping[str, str]:
    return {}


MAX_COLUMN_WIDTH = 80
FIRST_ROWS = 100  # a table adds this many rows at once, the rest after the next frame

VIM_KEYS: list[BindingType] = [
    Binding("j", "cursor_down", "Down", show=False),
    Binding("k", "cursor_up", "Up", show=False),
]


# Shorter titles for a narrow main area (80 columns leave it 55).
SHORT_TITLES = {
    "interfaces": "Ifaces",
    "processes": "Procs",
    "details": "Det",
    "output": "Out",
    "counters": "Count",
}


class PaneBar(Widget):
    """One line naming the panes, the active one highlighted (reverse: it survives
    NO_COLOR and 16 colours); titles shortened, then numbers only, to fit."""

    DEFAULT_CSS = "PaneBar { height: 1; }"

    active: reactive[str] = reactive(PANES[0][0])
    running: reactive[str] = reactive("")

    def show_active(self, active: str, running: str = "") -> None:
        self.active = active  # reactives: setting the same value repaints nothing
        self.running = running

    def render(self) -> Text:
        width = self.size.width
        for titles in ("full", "short", "numbers"):
            text = self._bar(titles)
            if text.cell_len <= width or titles == "numbers":
                text.truncate(max(width, 1), overflow="ellipsis")
                return text
        return Text("")  # pragma: no cover - the loop always returns

    def _bar(self, titles: str) -> Text:
        text = Text("" if self.active == PANES[0][0] else " ", end="", no_wrap=True)
        sep = "  " if titles == "full" else " "
        for n, (pane_id, full) in enumerate(PANES, start=1):
            active = pane_id == self.active
            title = SHORT_TITLES.get(pane_id, full) if titles != "full" else full
            if titles == "numbers" and not active:
                title = ""
            mark = self.running if pane_id == "output" else ""
            label = f"{n} {title}{mark}" if title else f"{n}{mark}"
            if n > 1:
                text.append(sep)
            text.append(f" {label} " if active else label, style="bold reverse" if active else "")
        return text


class SafeTable(DataTable[Text]):
    """A row-cursor table; cells are always ``Text`` (never parsed as markup). A column
    cut by the pane's edge ends in an ellipsis; refilling with what is shown already
    changes nothing (and sends nothing to the terminal)."""

    BINDINGS: ClassVar[list[BindingType]] = VIM_KEYS

    def __init__(
        self,
        columns: Sequence[str],
        *,
        id: str | None = None,
        fixed_columns: int = 0,
        caps: Mapping[int, int] | None = None,
        floors: Mapping[int, int] | None = None,
    ) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.fixed_columns = fixed_columns
        self._columns = columns
        self._caps = dict(caps or {})  # column -> its widest (cells past it: an ellipsis)
        # column -> its narrowest: a column whose cells grow from read to read (a rate)
        # keeps its width, so the columns right of it stay where a jump scrolled them
        self._floors = dict(floors or {})
        self._column_wanted: int | None = None  # show_column's, until the table has a width
        self._filled: tuple[object, ...] | None = None
        self._cell_widths: list[list[int]] = []
        self._pending: list[tuple[str, list[Text]]] = []  # rows a fill adds after a frame

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        widths = self._row_widths(y)
        if widths is None or self.size.width < 4:
            return strip
        left, right = self._cut(widths)
        if right:
            strip = mark_cut(strip, self.size.width - 1)
        if left:
            strip = mark_cut(strip, self._fixed_width())
        return strip

    def _row_widths(self, y: int) -> list[int] | None:
        """The cell widths of the row drawn on line ``y`` (the header's labels on 0)."""
        if self.show_header and y == 0:
            return [len(label) for label in self._columns]
        row = y - (1 if self.show_header else 0) + self.scroll_offset.y
        return self._cell_widths[row] if 0 <= row < len(self._cell_widths) else None

    def _fixed_width(self) -> int:
        return sum(c.get_render_width(self) for c in self.ordered_columns[: self.fixed_columns])

    def _cut(self, widths: Sequence[int]) -> tuple[bool, bool]:
        """Whether a non-empty cell of the row is cut by the left or the right edge."""
        columns = self.ordered_columns
        fixed = self._fixed_width()
        first = self.scroll_offset.x + fixed  # visible virtual x range of the scrolled part
        last = self.scroll_offset.x + self.size.width
        x = 0
        left = right = False
        for n, column in enumerate(columns):
            span = column.get_render_width(self)
            start = x + self.cell_padding
            end = start + (widths[n] if n < len(widths) else 0)
            if end > start and n >= self.fixed_columns:
                left = left or start < first
                right = right or end > last
            x += span
        return left, right

    def on_mount(self) -> None:
        if not self.columns:  # filled before it was mounted (a pane mounted on demand)
            self.add_columns(*self._columns)

    # --- keys: sideways a column at a time, Home/End to the first/last row ----------

    def _column_starts(self) -> list[int]:
        """The scroll_x that puts each scrolled column at the left edge of the scrolled
        part (the fixed columns stay put)."""
        starts, x = [], -self._fixed_width()
        for n, column in enumerate(self.ordered_columns):
            if n >= self.fixed_columns:
                starts.append(x)
            x += column.get_render_width(self)
        return starts

    def action_cursor_right(self) -> None:
        now = round(self.scroll_target_x)
        step = next((x for x in self._column_starts() if x > now), None)
        if step is not None and now < self.max_scroll_x:
            self.scroll_to(x=min(step, self.max_scroll_x), animate=False)

    def action_cursor_left(self) -> None:
        now = round(self.scroll_target_x)
        step = max((x for x in self._column_starts() if x < now), default=None)
        if step is not None:
            self.scroll_to(x=step, animate=False)

    def action_scroll_home(self) -> None:
        self.action_scroll_top()  # Home: the first row (the sideways start is ← or 0)

    def action_scroll_end(self) -> None:
        self.complete()  # the rows a fill left for the next frame: the last is among them
        self.action_scroll_bottom()

    def show_column(self, index: int) -> None:
        """Scroll sideways so column ``index`` is in view: after the next layout, as the
        table's width is known only then (a pane just switched to has none yet: it is
        done when it gets one)."""
        self._column_wanted = index
        self.call_after_refresh(self._scroll_to_wanted)

    def on_resize(self) -> None:
        if self._column_wanted is not None:
            self._scroll_to_wanted()

    def _scroll_to_wanted(self) -> None:
        index = self._column_wanted
        if index is None or self.size.width == 0:
            return
        self._column_wanted = None
        starts = [0] * self.fixed_columns + self._column_starts()
        if index < self.fixed_columns or index >= len(starts):
            return
        columns = self.ordered_columns
        end = starts[index] + columns[index].get_render_width(self)
        visible = self.size.width - self._fixed_width()
        if starts[index] < self.scroll_x or end > self.scroll_x + visible:
            self.scroll_to(x=min(starts[index], self.max_scroll_x), animate=False)

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        """Textual measures every cell of every new row, for columns sized by content and
        rows of several lines; fill() gives every column its width and rows are one
        line, so only the scrollable size changes (the host's 1,000 interfaces cost
        their 9,000 measurements before its first frame)."""
        rows = [self.rows.get(key) for key in new_rows]
        columns = self.columns.values()
        if any(c.auto_width for c in columns) or any(
            r and (r.auto_height or r.label) for r in rows
        ):
            super()._update_dimensions(new_rows)
            return
        width = sum(c.get_render_width(self) for c in columns) + self._row_label_column_width
        header = self.header_height if self.show_header else 0
        self.virtual_size = Size(width, self._total_row_height + header)

    def reset(self, widths: Sequence[int] | None = None) -> None:
        # Columns get explicit widths from their content: auto widths only ever grow,
        # and are measured lazily (two quick refills could leave them at header width).
        self.clear(columns=True)
        for n, label in enumerate(self._columns):
            content = widths[n] if widths and n < len(widths) else 0
            width = max(len(label), content, self._floors.get(n, 0))
            self.add_column(label, width=min(width, MAX_COLUMN_WIDTH))

    def fill(
        self, rows: Sequence[tuple[str, tuple[Text, ...]]], keep_row: int = 0, owner: object = None
    ) -> bool:
        """Show ``rows`` (key, cells); False when they are what is shown already.
        ``owner`` (a namespace inode) keeps the cursor row across refills of the same one."""
        signature = (owner, tuple((key, *(c.plain for c in cells)) for key, cells in rows))
        styles = tuple((str(c.style), *c.spans) for _, cells in rows for c in cells)
        if self._filled == (signature, styles):
            return False
        keep_x = 0.0
        if self._filled is not None and self._filled[0][0] == owner and owner is not None:  # type: ignore[index]
            keep_row, keep_x = self.cursor_row, self.scroll_x  # the same one, read again
        self._filled = (signature, styles)
        widths = [0] * len(self._columns)
        shown: list[tuple[str, list[Text]]] = []
        cell_widths: list[list[int]] = []
        for key, cells in rows:
            row, lens = [], []
            for column, cell in enumerate(cells):
                cap = self._caps.get(column, MAX_COLUMN_WIDTH)
                n = cell.cell_len
                row.append(_fit(cell, cap) if n > cap else cell)
                lens.append(min(n, cap))
            for n, width in enumerate(lens[: len(widths)]):
                widths[n] = max(widths[n], width)
            shown.append((key, row))
            cell_widths.append(lens)
        self.reset(widths)
        self._cell_widths = cell_widths
        # The rows a screen can show, and the cursor's, now; the rest once this frame is
        # drawn (a host's 1,000 interfaces: ~0.1 s of add_row before its first frame).
        now = max(FIRST_ROWS, keep_row + self.size.height + 1)
        for key, row in shown[:now]:
            self.add_row(*row, key=key)
        self._pending = shown[now:]  # (a refill replaces them: never two namespaces)
        if self._pending:
            self.call_after_refresh(self.complete)
        if rows:
            self.move_cursor(row=min(keep_row, len(rows) - 1), scroll=True)
        if keep_x:
            self.call_after_refresh(self.scroll_to, x=keep_x, animate=False)
        return True

    def complete(self) -> None:
        """Add the rows a fill left for later (before moving the cursor to one of them)."""
        pending, self._pending = self._pending, []
        for key, row in pending:
            self.add_row(*row, key=key)

    def show_message(self, message: str) -> None:
        cells = (render.plain(message, "dim italic"), *[Text("")] * (len(self._columns) - 1))
        self.fill([("message", cells)])


# An interface name has at most 15 bytes (IFNAMSIZ); only escapes make one longer.
NAME_WIDTH = 16


class InterfacesPane(SafeTable):
    def __init__(self) -> None:
        super().__init__(
            render.INTERFACE_COLUMNS, id="interfaces", fixed_columns=1, caps={0: NAME_WIDTH}
        )
        self.ifindexes: list[int | None] = []  # per row (None: a row that is no interface)
        self._states: list[str] = []  # per row: its name and state in full (raw)

    def show_namespace(
        self,
        ns: NetNamespace,
        lookup: render.Lookup,
        networks: Mapping[str, str] | None = None,
        gone_since: str = "",
    ) -> None:
        """``gone_since``: when a gone namespace was found gone (its rows are what was
        last seen, and say so)."""
        if not ns.detailed and not ns.interfaces:
            self.show_message("reading interfaces…" if not ns.gone else GONE_MESSAGE)
            return
        nets = networks or {}
        rows = [
            (str(i.ifindex), render.interface_cells(i, lookup, nets.get(i.name, ""), gone=ns.gone))
            for i in ns.interfaces
        ]
        self.ifindexes = [i.ifindex for i in ns.interfaces]
        # the state in full (the column has the compact word): the row's tooltip
        was = "was " if ns.gone else ""
        self._states = [
            f"{i.name}: {was}{state_sentence(i, lookup, ns_label)}"
            + (f" (altname {', '.join(i.altnames)})" if i.altnames else "")
            + (f"; vxlan {i.vxlan.words()}" if i.vxlan is not None else "")
            + (f"; device group {i.group}" if i.group else "")  # not a vxlan's group
            + (f"; qlen {i.unusual_txqlen}" if i.unusual_txqlen is not None else "")
            for i in ns.interfaces
        ]
        if ns.gone:
            cells = render.gone_row_cells(gone_since)
            rows.insert(0, ("gone", (*cells, *[Text("")] * (len(self._columns) - len(cells)))))
            self.ifindexes.insert(0, None)
            self._states.insert(0, "gone: the rows below are what was last seen")
        self.fill(rows, owner=ns.inode)
        self._show_tooltip()

    def show_message(self, message: str) -> None:
        self.ifindexes, self._states = [], []
        super().show_message(message)
        self._show_tooltip()

    def watch_cursor_coordinate(self, old: Coordinate, new: Coordinate) -> None:
        super().watch_cursor_coordinate(old, new)
        self._show_tooltip()  # synchronously: the tooltip never names the previous row

    def watch_hover_coordinate(self, old: Coordinate, value: Coordinate) -> None:
        super().watch_hover_coordinate(old, value)
        self._show_tooltip(value.row)  # the pointer's row, when it moves over one (QA)

    def _show_tooltip(self, row: int | None = None) -> None:
        """The state in full of ``row`` (the one under the pointer), else the cursor's."""
        row = self.cursor_row if row is None else row
        self.tooltip = render.safe(self._states[row]) if 0 <= row < len(self._states) else None

    def select_ifindex(self, ifindex: int, column: str | None = None) -> bool:
        """Put the cursor on ``ifindex``'s row and, if given, ``column`` in view (a
        problem's jump: an mtu mismatch lands with the mtu shown)."""
        if ifindex in self.ifindexes:
            self.complete()
            self.move_cursor(row=self.ifindexes.index(ifindex), scroll=True)
            if column in render.INTERFACE_COLUMNS:
                self.show_column(render.INTERFACE_COLUMNS.index(column))
            return True
        return False

    @property
    def selected_ifindex(self) -> int | None:
        if not self.ifindexes or self.cursor_row < 0 or self.cursor_row >= len(self.ifindexes):
            return None
        return self.ifindexes[self.cursor_row]


class RoutesPane(SafeTable):
    def __init__(self) -> None:
        super().__init__(render.ROUTE_COLUMNS, id="routes")

    def show_namespace(self, ns: NetNamespace) -> None:
        if not ns.detailed and not ns.routes:
            self.show_message("reading routes…" if not ns.gone else GONE_MESSAGE)
            return
        if not ns.routes:
            self.show_message("no routes")
            return
        rows = [(str(n), render.route_cells(r)) for n, r in enumerate(ns.routes)]
        self.fill(rows, owner=ns.inode)


class ProcessesPane(SafeTable):
    def __init__(self) -> None:
        super().__init__(render.PROCESS_COLUMNS, id="processes")

    def show_processes(self, inode: int, processes: Sequence[ProcessInfo]) -> None:
        if not processes:
            self.show_message("no processes in this namespace")
            return
        self.fill([(str(p.pid), render.process_cells(p)) for p in processes], owner=inode)

    def show_not_recorded(self, ns: NetNamespace) -> None:
        """A replayed snapshot holds pids, not processes: say so, and list the pids."""
        if not ns.pids:
            self.show_message("processes are not recorded in a snapshot (no pid known)")
            return
        note = render.plain("not recorded in the snapshot", "dim italic")
        rows = [(str(pid), (render.plain(str(pid)), Text(""), note)) for pid in ns.pids]
        self.fill(rows, owner=ns.inode)


WireRef = tuple[int, int]  # (namespace inode, ifindex): where Enter jumps to


class WiringPane(Tree[WireRef]):
    """veths, their peers, the bridge they hang on, the other ports and who is behind."""

    BINDINGS: ClassVar[list[BindingType]] = VIM_KEYS

    def __init__(self) -> None:
        super().__init__(Text("wiring"), id="wiring")
        self.auto_expand = False  # enter follows the wire; space folds
        self.guide_depth = 3
        self._shown: tuple[object, ...] | None = None
        self._nets: dict[int, Mapping[str, str]] = {}

    def process_label(self, label: str | Text) -> Text:
        if isinstance(label, str):
            return Text(visible(label).replace("\n", " "))
        return label

    def _bridge(
        self, bridge: Interface, ns: NetNamespace, where: str, lookup: render.Lookup
    ) -> Text:
        """A bridge's line, named by the Docker network(s) it carries, with its state
        when it is not up (no port forwarding...)."""
        network = self._nets.get(ns.inode, {}).get(bridge.name, "")
        return render.wire_bridge_text(bridge, where, network, lookup)

    def render_label(self, node: TreeNode[WireRef], base_style: Style, style: Style) -> Text:
        return fit(self, node, super().render_label(node, base_style, style))

    def show_namespace(
        self, ns: NetNamespace, lookup: render.Lookup, networks: NetworksOf = no_networks
    ) -> None:
        near = _neighbours(ns, lookup)
        nets = {inode: networks(other) for inode, other in ((ns.inode, ns), *near.items())}
        shown = (
            ns,
            tuple(near[inode] for inode in sorted(near)),
            tuple((inode, tuple(sorted(n.items()))) for inode, n in sorted(nets.items()) if n),
        )
        if shown == self._shown:
            return  # the same picture: keep the cursor and send nothing
        self._shown = shown
        self._nets = nets
        self.clear()
        self.root.set_label(render.ns_title(ns))
        self.root.expand()
        if not ns.interfaces:
            self.root.add_leaf(
                render.plain("reading…" if not ns.detailed else "no interfaces", "dim")
            )
            return
        here = ns_label(ns)
        bridges = {i.name for i in ns.interfaces if i.kind == "bridge"}
        for iface in ns.interfaces:
            if iface.kind == "loopback" or iface.name == "lo":
                continue
            if iface.kind == "bridge":
                bnode = self.root.add(self._bridge(iface, ns, here, lookup), expand=True)
                for port in _ports(ns, iface.name):
                    self._add_port(bnode, ns, port, lookup)
            elif iface.master in bridges:
                continue  # shown under its bridge
            elif iface.peer is not None or iface.kind == "veth":
                node = self.root.add(
                    render.wire_link_text(iface, lookup),
                    data=(ns.inode, iface.ifindex),
                    expand=True,
                )
                self._add_peer_side(node, iface, lookup)
            else:
                self.root.add_leaf(
                    render.wire_link_text(iface, lookup), data=(ns.inode, iface.ifindex)
                )
        _settle(self.root)

    def _add_peer_side(
        self, node: TreeNode[WireRef], iface: Interface, lookup: render.Lookup
    ) -> None:
        peer = iface.peer
        if peer is None or not peer.resolved or peer.netns_inode is None:
            node.add_leaf(render.peer_text(iface, lookup))
            return
        where = render.short_ref(lookup, peer.netns_inode)
        ref = (peer.netns_inode, peer.ifindex) if peer.ifindex is not None else None
        peer_ns = lookup.get(peer.netns_inode)
        peer_iface = (
            peer_ns.interface(peer.ifindex)
            if peer_ns is not None and peer.ifindex is not None
            else None
        )
        pnode = node.add(render.wire_peer_text(peer.name, where, peer_iface), data=ref, expand=True)
        if peer_ns is None or peer.ifindex is None:
            return
        self._add_containers(pnode, peer_ns)
        if peer_iface is None or not peer_iface.master:
            return
        bridge = next((i for i in peer_ns.interfaces if i.name == peer_iface.master), None)
        if bridge is None:
            pnode.add_leaf(render.safe(f"on {peer_iface.master}"))
            return
        bnode = pnode.add(self._bridge(bridge, peer_ns, where, lookup), expand=True)
        for port in _ports(peer_ns, bridge.name):
            if port.ifindex != peer_iface.ifindex:
                self._add_port(bnode, peer_ns, port, lookup)

    def _add_port(
        self, bnode: TreeNode[WireRef], ns: NetNamespace, port: Interface, lookup: render.Lookup
    ) -> None:
        node = bnode.add(
            render.wire_link_text(port, lookup), data=(ns.inode, port.ifindex), expand=True
        )
        peer = port.peer
        if peer is None:
            return
        if not peer.resolved or peer.netns_inode is None:
            node.add_leaf(render.peer_text(port, lookup))
            return
        where = render.short_ref(lookup, peer.netns_inode)
        ref = (peer.netns_inode, peer.ifindex) if peer.ifindex is not None else None
        pnode = node.add(render.wire_peer_text(peer.name, where), data=ref, expand=True)
        other = lookup.get(peer.netns_inode)
        if other is not None:
            self._add_containers(pnode, other)

    def _add_containers(self, node: TreeNode[WireRef], ns: NetNamespace) -> None:
        if ns.is_host:
            return
        for c in ns.containers:
            line = render.plain("container ", "dim")
            line.append_text(render.container_text(c))
            node.add_leaf(line)


def _settle(node: TreeNode[WireRef]) -> None:
    """No expander on nodes that turned out to have no children."""
    for child in node.children:
        if child.children:
            _settle(child)
        else:
            child.allow_expand = False


def _ports(ns: NetNamespace, bridge: str) -> list[Interface]:
    return [i for i in ns.interfaces if i.master == bridge]


def _neighbours(ns: NetNamespace, lookup: render.Lookup) -> dict[int, NetNamespace]:
    """The namespaces up to two links away from ``ns`` (all its wiring draws)."""
    out: dict[int, NetNamespace] = {}
    for first in _peers_of(ns, lookup):
        out[first.inode] = first
        for second in _peers_of(first, lookup):
            out[second.inode] = second
    return out


def _peers_of(ns: NetNamespace, lookup: render.Lookup) -> list[NetNamespace]:
    found = []
    for iface in ns.interfaces:
        peer = iface.peer
        if peer is not None and peer.netns_inode is not None:
            other = lookup.get(peer.netns_inode)
            if other is not None:
                found.append(other)
    return found


GONE_MESSAGE = "gone: this namespace no longer exists"
INDENT = 16  # where a Details value starts: wrapped lines continue there, not at column 0


def hanging(text: Text, width: int, indent: int = INDENT) -> Text:
    """``text`` with each line longer than ``width`` broken into pieces, the pieces after
    the first indented to ``indent`` (long ids and paths never wrap to column 0); a piece
    ends after a word when one ends in its second half ("larger" is never "large" / "r")."""
    out = Text(end="", no_wrap=True)
    for n, line in enumerate(text.split("\n", allow_blank=True)):
        if n:
            out.append("\n")
        if line.cell_len <= width:
            out.append_text(line)
            continue
        first, rest = _piece(line, width)
        out.append_text(first)
        step = width - indent
        while rest.cell_len:
            piece, rest = _piece(rest, step)
            out.append("\n" + " " * indent)
            out.append_text(piece)
    return out


def _piece(line: Text, limit: int) -> tuple[Text, Text]:
    """The first piece of ``line`` at most ``limit`` long and the rest: broken at a
    space in the piece's second half (the space dropped), else where it must (an id)."""
    plain = line.plain
    if len(plain) <= limit:
        return line, Text()
    space = plain.rfind(" ", limit // 2, limit + 1)
    if space > 0:
        return line[:space], line[space + 1 :]
    return line[:limit], line[limit:]


def _fit(cell: Text, width: int = MAX_COLUMN_WIDTH) -> Text:
    if cell.cell_len <= width:
        return cell
    cut = cell.copy()
    cut.truncate(width, overflow="ellipsis")
    return cut


def mark_cut(strip: Strip, x: int) -> Strip:
    """``strip`` with the cell at ``x`` replaced by an ellipsis (in that cell's style)."""
    cell = strip.crop(x, x + 1)
    style = next((seg.style for seg in cell if seg.text), None)
    return Strip.join([strip.crop(0, x), Strip([Segment("…", style)], 1), strip.crop(x + 1)])


class DetailsPane(VerticalScroll):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(id="details", can_focus=True)
        self._body = Static(Text(""), id="details-body")
        self._shown: str | None = None
        self._text = Text("")

    def compose(self):  # type: ignore[no-untyped-def]
        yield self._body

    def show_text(self, text: Text) -> None:
        key = f"{text.plain}\0{text.spans!r}"
        if key == self._shown:
            return
        self._shown = key
        self._text = text
        self._draw()

    def on_resize(self) -> None:
        if self._shown is not None:
            self._draw()

    def _draw(self) -> None:
        width = self.scrollable_content_region.width
        self._body.update(hanging(self._text, width) if width > INDENT + 10 else self._text)
