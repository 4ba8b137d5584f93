"""Moving around: the sidebar filter (`/` focuses it, Enter or Down leaves it, Escape
clears it), and following wires: Enter on a veth (in Interfaces or Wiring) jumps to its
peer's namespace with the peer row selected; every jump is remembered, `b` goes back."""

from __future__ import annotations

from textual import on
from textual.widget import Widget
from textual.widgets import Input, Tree

from nsexplorer.model import NetNamespace
from nsexplorer.ui.collecting import CollectingApp
from nsexplorer.ui.widgets.panes import InterfacesPane
from nsexplorer.ui.widgets.sidebar import NamespaceTree

HISTORY_LIMIT = 100


class NavigatingApp(CollectingApp):
    """The filter, peer jumps and their history. State is initialised by ``NsxApp.__init__``."""

    _filter: str
    _history: list[tuple[int, str, int | None]]  # (namespace inode, pane, ifindex)
    _pending_row: tuple[int, int] | None  # select this ifindex once that table is drawn

    # provided by NsxApp
    def _draw_pane(self, pane_id: str, ns: NetNamespace) -> None:
        raise NotImplementedError

    def _focus(self, widget: Widget) -> None:
        raise NotImplementedError

    def _focus_pane(self) -> None:
        raise NotImplementedError

    def _show_status(self) -> None:
        raise NotImplementedError

    # --- the sidebar filter ---------------------------------------------------------

    def action_filter(self) -> None:
        filt = self.query_one("#filter", Input)
        self._focus(filt)

    @on(Input.Changed, "#filter")
    def filter_changed(self, event: Input.Changed) -> None:
        self._filter = event.value.strip()
        self._rebuild_sidebar()
        tree = self.query_one(NamespaceTree)
        self._show_status()
        inode = tree.selected_inode
        if inode is not None and inode != self.selected:
            self.select(inode)

    def action_filter_done(self) -> None:
        # The filter stays shown (escape clears and hides it): its last keystrokes may
        # still be on their way to the Input.
        self._focus(self.query_one(NamespaceTree))

    def action_to_sidebar(self) -> None:
        filt = self.query_one("#filter", Input)
        if filt.has_focus or (self.focused is self.query_one(NamespaceTree) and self._filter):
            filt.value = ""
            self._filter = ""
            self._rebuild_sidebar()
        self._focus(self.query_one(NamespaceTree))

    # --- following wires ---------------------------------------------------------

    @on(InterfacesPane.RowSelected, "#interfaces")
    def interface_chosen(self, event: InterfacesPane.RowSelected) -> None:
        ns = self.selected_ns
        table = self.query_one(InterfacesPane)
        ifindex = table.selected_ifindex
        if ns is None or ifindex is None:
            return
        iface = ns.interface(ifindex)
        if iface is None:
            return
        peer = iface.peer
        if peer is None or not peer.resolved or peer.netns_inode is None:
            if iface.kind == "veth":
                self.notify("this veth's peer could not be resolved", severity="warning")
            return
        self.jump(peer.netns_inode, peer.ifindex)

    @on(Tree.NodeSelected, "#wiring")
    def wire_chosen(self, event: Tree.NodeSelected[tuple[int, int]]) -> None:
        ref = event.node.data
        if ref is not None:
            self.jump(ref[0], ref[1])

    def jump(self, inode: int, ifindex: int | None, *, remember: bool = True) -> None:
        """Select namespace ``inode`` with interface ``ifindex`` highlighted."""
        if inode not in self._by_inode:
            self.notify(f"netns {inode} is not in the list", severity="warning")
            return
        if remember and self.selected is not None:
            here = self.query_one(InterfacesPane).selected_ifindex
            self._history.append((self.selected, self.pane, here))
            del self._history[:-HISTORY_LIMIT]
        self._goto(inode, "interfaces", ifindex)

    def _goto(self, inode: int, pane_id: str, ifindex: int | None) -> None:
        tree = self.query_one(NamespaceTree)
        if inode not in set(tree.inodes()) and self._filter:
            self._filter = ""
            filt = self.query_one("#filter", Input)
            filt.value = ""
        self._pending_row = (inode, ifindex) if ifindex is not None else None
        self.select(inode)
        self._rebuild_sidebar()
        tree.select_inode(inode)
        self.action_show_pane(pane_id)
        if pane_id == "interfaces" and ifindex is not None:
            self._draw_pane("interfaces", self._by_inode[inode])
        self._focus_pane()

    def goto(self, inode: int) -> None:
        """Go to a namespace (from the command palette)."""
        if self.selected is not None and inode != self.selected:
            self._history.append((self.selected, self.pane, None))
        self._goto(inode, self.pane, None)
        self._focus(self.query_one(NamespaceTree))

    def action_go_back(self) -> None:
        if not self._history:
            self.notify("nowhere to go back to")
            return
        inode, pane_id, ifindex = self._history.pop()
        if inode not in self._by_inode:
            return
        self._goto(inode, pane_id, ifindex)
