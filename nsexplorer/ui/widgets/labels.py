"""Tree labels cut to the width they have, with an ellipsis (never silently); a tail
(a badge) kept at the right edge; a path cut in the middle, so its end (the part that
tells siblings apart: /var/run/docker/netns/<id>) stays in view."""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode


def fit(
    tree: Tree[Any], node: TreeNode[Any], text: Text, tail: Text | None = None, keep_end: int = 0
) -> Text:
    """``text`` (a rendered label of ``node``) cut with an ellipsis to what is left of
    the tree's width after the guides of the node's depth; with ``tail``, cut shorter
    and the tail right-aligned at the edge (it is never the part that is cut); with
    ``keep_end``, cut in the middle to keep up to that many cells of its end."""
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
        text = _cut(text, room, keep_end)
        text.append(" " * (room - text.cell_len + 1))
        text.append_text(tail)
        return text
    return _cut(text, room, keep_end) if room > 1 else text


HEAD_KEPT = 4  # cells of a path's start kept before the ellipsis ("/var…/1a2b3c4d5e6f")


def fit_label(text: Text, room: int) -> Text:
    """A namespace label cut to ``room`` cells for a table's column: a path (a hidden or
    bind-mounted namespace) keeps its last part, which tells siblings apart; any other
    label is cut at its end."""
    plain = text.plain
    keep = 0
    if plain.startswith("/"):
        keep = cell_len(plain) - cell_len(plain.rstrip("/").rpartition("/")[0])
    return _cut(text.copy(), room, keep)


def _cut(text: Text, room: int, keep_end: int) -> Text:
    if text.cell_len <= room:
        return text
    end_room = min(keep_end, room - 1 - HEAD_KEPT)
    if end_room <= 0:
        text.truncate(room, overflow="ellipsis")
        return text
    plain, start = text.plain, len(text.plain)
    while start > 0 and cell_len(plain[start - 1 :]) <= end_room:
        start -= 1
    head, end = text[:start], text[start:]
    head.truncate(room - 1 - end.cell_len)
    head.append("…")
    head.append_text(end)
    return head
