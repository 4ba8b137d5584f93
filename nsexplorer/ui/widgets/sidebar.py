"""The sidebar: every namespace, grouped the way a responder looks for it.

The highlighted row is the one source of truth for what is selected: ``highlighted``
changes synchronously with the cursor (never from a queued event), and is None only when
no namespace is listed (the cursor never rests on a group title).

A namespace with findings carries a badge (its worst severity) at the right edge of its
row: set with ``set_badges``, drawn by ``render_label``; changing badges repaints those
rows only, never rebuilds the tree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import ClassVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.reactive import var
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from nsexplorer.model import Group, NetNamespace, group_of, ns_label, primary_container
from nsexplorer.natural import natural_key
from nsexplorer.textsafe import visible
from nsexplorer.ui import render
from nsexplorer.ui.render_views import badge_text
from nsexplorer.ui.roles import ALERT
from nsexplorer.ui.widgets.labels import fit


def sort_key(ns: NetNamespace) -> tuple[object, ...]:
    return (ns.gone, natural_key(ns_label(ns)), ns.inode)


MARKED = "✓"  # a fan-out target (space)
CHANGED = "Δ"  # differs from the baseline (the Changes view lists how)


def decorated(label: Text, *, marked: bool, changed: bool) -> Text:
    """A row's label with its marks in front: ✓ marked, Δ changed since the baseline
    (a row with neither is unchanged, so nothing shifts)."""
    if not (marked or changed):
        return label
    text = Text(end="")
    if marked:
        text.append(MARKED, style="bold reverse")
    if changed:
        text.append(CHANGED, style=ALERT)
    text.append(" ")
    text.append_text(label)
    return text


def row_key(ns: NetNamespace, order: Mapping[int, int]) -> tuple[object, ...]:
    """A row's place in its group: under a filter, how well it matched (``order``:
    inode -> 0 for the best matches, 1 for the next...), so an exact match is never
    listed under prefix matches; then the sort key."""
    return (order.get(ns.inode, 0), *sort_key(ns))


def display_order(
    namespaces: Iterable[NetNamespace], order: Mapping[int, int] | None = None
) -> list[NetNamespace]:
    """Group by group, then the row key: the order rows appear in."""
    groups, order = list(Group), order or {}
    return sorted(namespaces, key=lambda ns: (groups.index(group_of(ns)), row_key(ns, order)))


class NamespaceTree(Tree[int]):
    """Groups of namespaces; each node's data is the namespace inode (None for groups)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        # marks the row (MainScreen), in key order, instead of Tree's fold/unfold
        Binding("space", "screen.toggle_mark", "Mark", show=False),
    ]

    highlighted: var[int | None] = var(None)
    """The inode of the highlighted, visible namespace row (None: nothing selected)."""
    highlighted_container: var[str | None] = var(None)
    """The id of the container whose own row (``↳``, one of several containers sharing
    the namespace) is highlighted; None on a namespace's row. Set before
    ``highlighted``: what watches that reads this one."""

    _rebuilding = False  # a class default: Tree.__init__ already moves the cursor
    _adding = False

    def __init__(self, *, id: str | None = None) -> None:
        # TreeNode.id of a ↳ row -> its container's (id, name); before Tree.__init__,
        # which already moves the cursor (see _highlight)
        self._container_rows: dict[int, tuple[str, str]] = {}
        super().__init__(Text("namespaces"), id=id)
        self.show_root = False
        self.auto_expand = False  # enter goes into the pane; it does not fold the node
        self.guide_depth = 2
        self._signature: tuple[object, ...] = ()
        self._inode_nodes: dict[int, TreeNode[int]] = {}
        self._badges: dict[int, str] = {}
        self._marked: frozenset[int] = frozenset()
        self._changed: frozenset[int] = frozenset()
        self._labels: dict[int, tuple[Text, bool, bool]] = {}  # undecorated, as drawn
        self._path_ends: dict[int, int] = {}  # rows labelled by a path: its last part's width

    # --- the label: never markup, cut with an ellipsis ------------------------------

    def process_label(self, label: str | Text) -> Text:
        if isinstance(label, str):
            return Text(visible(label).replace("\n", " "))
        return label

    def get_label_width(self, node: TreeNode[int]) -> int:
        """Textual's documented shortcut: the width without rendering the label (the tree
        measures every line when it is built; 1000 renders delayed the first frame)."""
        icon = ""
        if node.allow_expand:
            icon = self.ICON_NODE_EXPANDED if node.is_expanded else self.ICON_NODE
        label = node.label
        return cell_len(icon) + (label.cell_len if isinstance(label, Text) else cell_len(label))

    def render_label(self, node: TreeNode[int], base_style: Style, style: Style) -> Text:
        text = super().render_label(node, base_style, style)
        inode, end = node.data, 0
        if inode is not None and self._inode_nodes.get(inode) is node:  # not a container row
            end = self._path_ends.get(inode, 0)
        return fit(self, node, text, self._badge(node), end)

    # --- badges: the worst finding of each namespace --------------------------------

    def _badge(self, node: TreeNode[int]) -> Text | None:
        inode = node.data
        if inode is None or self._inode_nodes.get(inode) is not node:
            return None  # a group title, or a container row under its namespace
        severity = self._badges.get(inode)
        return badge_text(severity) if severity is not None else None

    def set_badges(self, badges: Mapping[int, str]) -> bool:
        """Badge each namespace in ``badges`` (inode -> worst severity), none elsewhere.
        Repaints the rows whose badge changed; False when none did."""
        changed = [
            inode
            for inode in self._badges.keys() | badges.keys()
            if self._badges.get(inode) != badges.get(inode)
        ]
        self._badges = dict(badges)
        for inode in changed:
            node = self._inode_nodes.get(inode)
            if node is not None:
                node.refresh()
        return bool(changed)

    def badge_of(self, inode: int) -> str | None:
        """The severity the row of ``inode`` is badged with (None: no badge)."""
        return self._badges.get(inode)

    def _invalidate(self) -> None:
        """Textual invalidates (and asks for a layout) on every node added: a rebuild of
        1,000 rows does it once, when they are all in (see _rebuild)."""
        if not self._adding:
            super()._invalidate()

    # --- the cursor: always on a namespace row, or nowhere --------------------------

    def validate_cursor_line(self, value: int) -> int:
        """The cursor never rests on a group title: a move onto one (Home, PageUp, a
        click, shift+left) goes on to the nearest namespace row in the direction it was
        going, or back if there is none that way."""
        line = super().validate_cursor_line(value)
        if line < 0 or self._rebuilding:
            return line
        node = self.get_node_at_line(line)
        if node is None or node.data is not None:
            return line
        step = 1 if line >= self.cursor_line else -1
        for direction in (step, -step):
            other = line + direction
            while 0 <= other <= self.last_line:
                found = self.get_node_at_line(other)
                if found is not None and found.data is not None:
                    return other
                other += direction
        return line  # no namespace row at all

    def action_scroll_home(self) -> None:
        self.cursor_line = 0  # the first namespace (the title above it stays in view)
        self.scroll_home(animate=False)

    def action_scroll_end(self) -> None:
        self.cursor_line = self.last_line
        self.scroll_end(animate=False)

    def watch_cursor_line(self, previous_line: int, line: int) -> None:
        super().watch_cursor_line(previous_line, line)
        if not self._rebuilding:  # mid-rebuild lines are stale: set once at the end
            self._highlight(self.cursor_node if line >= 0 else None)

    def _highlight(self, node: TreeNode[int] | None) -> None:
        row = self._container_rows.get(node.id) if node is not None else None
        self.highlighted_container = row[0] if row is not None else None
        self.highlighted = node.data if node is not None else None

    def _step(self, step: int) -> None:
        """Move to the next namespace row in direction ``step`` (group titles skipped)."""
        last = self.last_line
        if last < 0:
            return
        line = self.cursor_line
        while True:
            line = line + step if line >= 0 else (0 if step > 0 else last)
            if line < 0 or line > last:
                return
            node = self.get_node_at_line(line)
            if node is not None and node.data is not None:
                self.cursor_line = line
                self._keep_cursor_in_view()
                return

    def on_resize(self) -> None:
        # a smaller terminal must not hide the selected row (after the new layout)
        self.call_after_refresh(self._keep_cursor_in_view)

    def _keep_cursor_in_view(self) -> None:
        # only when it is off screen: a no-op scroll still repaints the scrollbar on
        # every row (bytes on a slow link)
        line = self.cursor_line
        top = self.scroll_offset.y
        if line >= 0 and not top <= line < top + self.scrollable_content_region.height:
            self.scroll_to_line(line, animate=False)

    def action_cursor_down(self) -> None:
        self._step(1)

    def action_cursor_up(self) -> None:
        self._step(-1)

    @property
    def selected_inode(self) -> int | None:
        return self.highlighted

    # --- contents -------------------------------------------------------------------

    def show(
        self,
        namespaces: Sequence[NetNamespace],
        reasons: Mapping[int, str] | None,
        keep: int | None,
        container: str | None = None,
        order: Mapping[int, int] | None = None,
    ) -> bool:
        """List ``namespaces`` (already filtered; ``reasons``: why each matched, None
        without a filter; ``order``: how well, see ``row_key``), rebuilding only if
        anything visible changed. The cursor goes
        to inode ``keep`` if it is listed (with ``container``, to that container's own
        row: the filter found it by its name), else to the first row.

        Returns True when the tree was rebuilt.
        """
        why, order = reasons or {}, order or {}
        signature = (
            *[
                (*self._node_signature(ns), why.get(ns.inode, ""), order.get(ns.inode, 0))
                for ns in namespaces
            ],
            reasons is None,
        )
        if signature == self._signature:
            on = self.highlighted_container
            if keep is not None and (keep != self.highlighted or (container and container != on)):
                self.select_inode(keep, container)
            return False
        self._signature = signature
        self._rebuilding = True
        try:
            self._rebuild(namespaces, why, keep, order)
            if container is not None and keep is not None:
                self.select_inode(keep, container)
        finally:
            self._rebuilding = False
        self._highlight(self.cursor_node if self.cursor_line >= 0 else None)
        return True

    def _rebuild(
        self,
        namespaces: Sequence[NetNamespace],
        why: Mapping[int, str],
        keep: int | None,
        order: Mapping[int, int],
    ) -> None:
        # on a ↳ row: the cursor goes back to that container's row, or to the row of the
        # same name (a container recreated under its name: the row shows the new one)
        node = self.cursor_node if self.cursor_line >= 0 else None
        was_on = self._container_rows.get(node.id) if node is not None else None
        self.clear()
        self.cursor_line = -1
        self._inode_nodes = {}
        self._labels = {}
        self._path_ends = {}
        self._container_rows = {}
        by_group: dict[Group, list[NetNamespace]] = {}
        for ns in namespaces:
            by_group.setdefault(group_of(ns), []).append(ns)
        first: TreeNode[int] | None = None  # of display_order, without sorting again
        self._adding = True  # one invalidation for all the nodes, not one per node
        try:
            for group in Group:
                members = by_group.get(group)
                if not members:
                    continue
                gnode = self.root.add(render.group_text(group, len(members)), expand=True)
                for ns in sorted(members, key=lambda ns: row_key(ns, order)):
                    node = self._add_namespace(gnode, ns, why.get(ns.inode, ""))
                    first = first or node
        finally:
            self._adding = False
            self._invalidate()
        if keep is None or not self.select_inode(keep):
            self._move_to(first)
        elif was_on is not None:  # the ↳ rows are the namespace row's children
            rows = [
                (self._container_rows[n.id], n)
                for n in self._inode_nodes[keep].children
                if n.id in self._container_rows
            ]
            same = next((n for (cid, _), n in rows if cid == was_on[0]), None)
            named = next((n for (_, name), n in rows if name == was_on[1]), None)
            if (row := same or named) is not None:
                self._move_to(row)

    def _node_signature(self, ns: NetNamespace) -> tuple[object, ...]:
        return (
            ns.inode,
            ns.gone,
            ns_label(ns),
            # the id too: a container recreated under its name is another one (its ↳
            # row must name the new one)
            tuple((c.id, c.name, c.image, c.network_mode, c.status) for c in ns.containers),
            group_of(ns),
        )

    def _add_namespace(self, parent: TreeNode[int], ns: NetNamespace, reason: str) -> TreeNode[int]:
        primary = primary_container(ns)
        others = [c for c in ns.containers if c is not primary]
        if ns.is_host:
            others = list(ns.containers)
        label = render.ns_sidebar_text(ns, reason)
        if (end := render.path_label_end(ns)) and not reason:
            self._path_ends[ns.inode] = end
        state = (label, ns.inode in self._marked, ns.inode in self._changed)
        self._labels[ns.inode] = state
        label = decorated(label.copy(), marked=state[1], changed=state[2])
        if others:
            node = parent.add(label, data=ns.inode, expand=True)
            for c in others:
                child = render.plain("↳ ", "dim")
                child.append_text(render.container_text(c))
                self._container_rows[node.add_leaf(child, data=ns.inode).id] = (c.id, c.name)
        else:
            node = parent.add_leaf(label, data=ns.inode)
        self._inode_nodes[ns.inode] = node
        return node

    def decorate(self, marked: frozenset[int], changed: frozenset[int] | set[int]) -> None:
        """Show which rows are marked and which changed; only rows whose marks differ
        from what they show are drawn again."""
        self._marked, self._changed = frozenset(marked), frozenset(changed)
        for inode, (label, was_marked, was_changed) in self._labels.items():
            now = (inode in self._marked, inode in self._changed)
            if now != (was_marked, was_changed):
                self._labels[inode] = (label, *now)
                node = self._inode_nodes[inode]
                node.set_label(decorated(label.copy(), marked=now[0], changed=now[1]))

    def _move_to(self, node: TreeNode[int] | None) -> None:
        _ = self.last_line  # line numbers are computed before moving
        self.move_cursor(node)

    def select_inode(self, inode: int, container: str | None = None) -> bool:
        """Highlight namespace ``inode``'s row, or, with ``container`` (an id), that
        container's own ↳ row when it has one (one of several sharing the namespace)."""
        node = self._inode_nodes.get(inode)
        if node is None:
            return False
        own = (n for n in node.children if self._container_rows.get(n.id, ("",))[0] == container)
        self._move_to(next(own, node) if container is not None else node)
        return True

    def inodes(self) -> Iterable[int]:
        return self._inode_nodes.keys()
