"""The main area's panes, each showing one facet of the selected namespace."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, RichLog, Static, Tree
from textual.widgets.tree import TreeNode

from nsexplorer.model import Interface, NetNamespace, ProcessInfo
from nsexplorer.textsafe import visible
from nsexplorer.ui import render

# (pane id, title); the number key for each is its position + 1.
PANES: tuple[tuple[str, str], ...] = (
    ("interfaces", "Interfaces"),
    ("routes", "Routes"),
    ("wiring", "Wiring"),
    ("processes", "Processes"),
    ("details", "Details"),
    ("output", "Output"),
)

MAX_COLUMN_WIDTH = 80

VIM_KEYS: list[BindingType] = [
    Binding("j", "cursor_down", "Down", show=False),
    Binding("k", "cursor_up", "Up", show=False),
]


class PaneBar(Static):
    """One line naming the panes, the active one highlighted."""

    def show_active(self, active: str) -> None:
        text = Text(end="")
        for n, (pane_id, title) in enumerate(PANES, start=1):
            style = "bold reverse" if pane_id == active else "dim"
            text.append(f" {n} {title} ", style=style)
        self.update(text)


class SafeTable(DataTable[Text]):
    """A row-cursor table; cells are always ``Text`` (never parsed as markup)."""

    BINDINGS: ClassVar[list[BindingType]] = VIM_KEYS

    def __init__(self, columns: Sequence[str], *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._columns = columns

    def on_mount(self) -> None:
        if not self.columns:  # filled before it was mounted (a pane mounted on demand)
            self.add_columns(*self._columns)

    def reset(self, widths: Sequence[int] | None = None) -> None:
        # Columns get explicit widths from their content: auto widths only ever grow,
        # and are measured lazily (two quick refills could leave them at header width).
        self.clear(columns=True)
        for n, label in enumerate(self._columns):
            width = max(len(label), widths[n] if widths and n < len(widths) else 0)
            self.add_column(label, width=min(width, MAX_COLUMN_WIDTH))

    def fill(self, rows: Sequence[tuple[str, tuple[Text, ...]]], keep_row: int = 0) -> None:
        widths = [0] * len(self._columns)
        for _, cells in rows:
            for n, cell in enumerate(cells[: len(widths)]):
                widths[n] = max(widths[n], cell.cell_len)
        self.reset(widths)
        for key, cells in rows:
            self.add_row(*cells, key=key)
        if rows:
            self.move_cursor(row=min(keep_row, len(rows) - 1), scroll=True)

    def show_message(self, message: str) -> None:
        self.reset([len(message)])
        cells = [render.plain(message, "dim italic")] + [Text("")] * (len(self._columns) - 1)
        self.add_row(*cells)


class InterfacesPane(SafeTable):
    def __init__(self) -> None:
        super().__init__(render.IFACE_COLUMNS, id="interfaces")
        self.ifindexes: list[int] = []
        self._shown: tuple[object, ...] = ()

    def show_namespace(self, ns: NetNamespace, lookup: render.Lookup) -> None:
        if not ns.detailed and not ns.interfaces:
            self.ifindexes = []
            self._shown = ()
            self.show_message("reading interfaces…" if not ns.gone else "namespace gone")
            return
        rows = [(str(i.ifindex), render.iface_cells(i, lookup)) for i in ns.interfaces]
        shown = (ns.inode, tuple((key, *(c.plain for c in cells)) for key, cells in rows))
        if shown == self._shown:
            return  # unchanged: a re-read must not cost a table rebuild (1000s of rows)
        keep = self.cursor_row if self._shown and self._shown[0] == ns.inode else 0
        self._shown = shown
        self.ifindexes = [i.ifindex for i in ns.interfaces]
        self.fill(rows, keep)

    def select_ifindex(self, ifindex: int) -> bool:
        if ifindex in self.ifindexes:
            self.move_cursor(row=self.ifindexes.index(ifindex), scroll=True)
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
            self.show_message("reading routes…" if not ns.gone else "namespace gone")
            return
        if not ns.routes:
            self.show_message("no routes")
            return
        self.fill([(str(n), render.route_cells(r)) for n, r in enumerate(ns.routes)])


class ProcessesPane(SafeTable):
    def __init__(self) -> None:
        super().__init__(render.PROCESS_COLUMNS, id="processes")

    def show_processes(self, processes: Sequence[ProcessInfo]) -> None:
        if not processes:
            self.show_message("no processes in this namespace")
            return
        self.fill([(str(p.pid), render.process_cells(p)) for p in processes])


WireRef = tuple[int, int]  # (namespace inode, ifindex): where Enter jumps to


class WiringPane(Tree[WireRef]):
    """veths, their peers, the bridge they hang on, the other ports and who is behind."""

    BINDINGS: ClassVar[list[BindingType]] = VIM_KEYS

    def __init__(self) -> None:
        super().__init__(Text("wiring"), id="wiring")
        self.auto_expand = False  # enter follows the wire; space folds
        self.guide_depth = 3

    def process_label(self, label: str | Text) -> Text:
        if isinstance(label, str):
            return Text(visible(label).replace("\n", " "))
        return label

    def show_namespace(self, ns: NetNamespace, lookup: render.Lookup) -> None:
        self.clear()
        self.root.set_label(render.ns_title(ns))
        self.root.expand()
        if not ns.interfaces:
            self.root.add_leaf(
                render.plain("reading…" if not ns.detailed else "no interfaces", "dim")
            )
            return
        here = render.ns_label(ns)
        bridges = {i.name for i in ns.interfaces if i.kind == "bridge"}
        for iface in ns.interfaces:
            if iface.kind == "loopback" or iface.name == "lo":
                continue
            if iface.kind == "bridge":
                bnode = self.root.add(render.wire_bridge_text(iface, here), expand=True)
                for port in _ports(ns, iface.name):
                    self._add_port(bnode, ns, port, lookup)
            elif iface.master in bridges:
                continue  # shown under its bridge
            elif iface.peer is not None or iface.kind == "veth":
                node = self.root.add(
                    render.wire_iface_text(iface), data=(ns.inode, iface.ifindex), expand=True
                )
                self._add_peer_side(node, iface, lookup)
            else:
                self.root.add_leaf(render.wire_iface_text(iface), data=(ns.inode, iface.ifindex))
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
        pnode = node.add(render.wire_peer_text(peer.name, where), data=ref, expand=True)
        peer_ns = lookup.get(peer.netns_inode)
        if peer_ns is None or peer.ifindex is None:
            return
        self._add_containers(pnode, peer_ns)
        peer_iface = peer_ns.interface(peer.ifindex)
        if peer_iface is None or not peer_iface.master:
            return
        bridge = next((i for i in peer_ns.interfaces if i.name == peer_iface.master), None)
        if bridge is None:
            pnode.add_leaf(render.safe(f"on {peer_iface.master}"))
            return
        bnode = pnode.add(render.wire_bridge_text(bridge, where), expand=True)
        for port in _ports(peer_ns, bridge.name):
            if port.ifindex != peer_iface.ifindex:
                self._add_port(bnode, peer_ns, port, lookup)

    def _add_port(
        self, bnode: TreeNode[WireRef], ns: NetNamespace, port: Interface, lookup: render.Lookup
    ) -> None:
        node = bnode.add(render.wire_iface_text(port), data=(ns.inode, port.ifindex), expand=True)
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


class DetailsPane(VerticalScroll):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(id="details", can_focus=True)
        self._body = Static(Text(""), id="details-body")

    def compose(self):  # type: ignore[no-untyped-def]
        yield self._body

    def show_namespace(self, ns: NetNamespace, lookup: render.Lookup) -> None:
        self._body.update(render.details_text(ns))


class OutputPane(RichLog):
    """Output of commands run from the UI, bounded."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
    ]

    MAX_LINES = 5000

    def __init__(self) -> None:
        super().__init__(
            id="output", max_lines=self.MAX_LINES, wrap=False, markup=False, highlight=False
        )
        self.can_focus = True
        # What was written, as plain text (the log renders lazily while hidden).
        self.transcript: deque[str] = deque(maxlen=self.MAX_LINES)

    def add(self, line: Text) -> None:
        self.transcript.append(line.plain)
        self.write(line)
