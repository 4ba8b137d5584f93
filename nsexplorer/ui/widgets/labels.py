"""Tree labels cut to the width they have, with an ellipsis (never silently); a tail
(a badge) kept at the right edge."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode


def fit(tree: Tree[Any], node: TreeNode[Any], text: Text, tail: Text | None = None) -> Text:
    """``text`` (a rendered label of ``node``) cut with an ellipsis to what is left of
    the tree's width after the guides of the node's depth; with ``tail``, cut shorter
    and the tail right-aligned at the edge (it is never the part that is cut)."""
    depth = 0
    parent = node.parent
    while parent is not None:
        depth += 1
        parent = parent.parent
    if not tree.show_root:
        depth -= 1
    room = tree.scrollable_content_region.width - max(0, depth) * tree.guide_depth
    if tail is not None and tail.cell_len and room > tail.cell_len + 2:
        room -= tail.cell_len + 1
        if text.cell_len > room:
            text.truncate(room, overflow="ellipsis")
        text.append(" " * (room - text.cell_len + 1))
        text.append_text(tail)
        return text
    if room > 1 and text.cell_len > room:
        text.truncate(room, overflow="ellipsis")
    return text
