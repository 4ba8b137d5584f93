"""The sidebar: every namespace, grouped the way a responder looks for it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from nsexplorer.model import Group, NetNamespace, group_of
from nsexplorer.textsafe import visible
from nsexplorer.ui import render


def matches(ns: NetNamespace, query: str) -> bool:
    """Every whitespace-separated word of ``query`` occurs in the namespace's facts."""
    blob = render.search_blob(ns)
    return all(word in blob for word in query.lower().split())


def _sort_key(ns: NetNamespace) -> tuple[bool, str, int]:
    return (ns.gone, render.ns_label(ns).lower(), ns.inode)


class NamespaceTree(Tree[int]):
    """Groups of namespaces; each node's data is the namespace inode (None for groups)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(Text("namespaces"), id=id)
        self.show_root = False
        self.auto_expand = False  # enter goes into the pane; it does not fold the node
        self.guide_depth = 2
        self._signature: tuple[object, ...] = ()
        self._inode_nodes: dict[int, TreeNode[int]] = {}

    def process_label(self, label: str | Text) -> Text:
        # Never parse markup, whatever reaches here.
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

    @property
    def selected_inode(self) -> int | None:
        node = self.cursor_node
        return node.data if node is not None else None

    def show(self, namespaces: Sequence[NetNamespace], query: str, keep: int | None) -> bool:
        """Rebuild from ``namespaces`` filtered by ``query`` if anything visible changed.

        Returns True when the tree was rebuilt. The cursor stays on inode ``keep`` when
        it is still listed.
        """
        shown = [ns for ns in namespaces if not query or matches(ns, query)]
        signature = (*[self._node_signature(ns) for ns in shown], query)
        if signature == self._signature:
            return False
        self._signature = signature
        self.clear()
        self._inode_nodes = {}
        by_group: dict[Group, list[NetNamespace]] = {}
        for ns in shown:
            by_group.setdefault(group_of(ns), []).append(ns)
        for group in Group:
            members = by_group.get(group)
            if not members:
                continue
            gnode = self.root.add(render.group_text(group, len(members)), expand=True)
            for ns in sorted(members, key=_sort_key):
                self._add_namespace(gnode, ns)
        if (keep is None or not self.select_inode(keep)) and shown:
            self.select_inode(shown_first(shown))
        return True

    def _node_signature(self, ns: NetNamespace) -> tuple[object, ...]:
        return (
            ns.inode,
            ns.gone,
            render.ns_label(ns),
            tuple((c.name, c.image, c.network_mode, c.status) for c in ns.containers),
            group_of(ns),
        )

    def _add_namespace(self, parent: TreeNode[int], ns: NetNamespace) -> None:
        primary = render.primary_container(ns)
        others = [c for c in ns.containers if c is not primary]
        if ns.is_host:
            others = list(ns.containers)
        label = render.ns_sidebar_text(ns)
        if others:
            node = parent.add(label, data=ns.inode, expand=True)
            for c in others:
                child = render.plain("↳ ", "dim")
                child.append_text(render.container_text(c))
                node.add_leaf(child, data=ns.inode)
        else:
            node = parent.add_leaf(label, data=ns.inode)
        self._inode_nodes[ns.inode] = node

    def select_inode(self, inode: int) -> bool:
        node = self._inode_nodes.get(inode)
        if node is None:
            return False
        _ = self.last_line  # make sure line numbers are computed before moving
        self.move_cursor(node)
        return True

    def inodes(self) -> Iterable[int]:
        return self._inode_nodes.keys()


def shown_first(shown: Sequence[NetNamespace]) -> int:
    """The first namespace in display order."""
    for ns in sorted(shown, key=lambda n: (list(Group).index(group_of(n)), _sort_key(n))):
        return ns.inode
    return shown[0].inode
