"""A one-line text widget that repaints itself only: changing what it shows never asks
for a new layout (a Static's update does, and a layout pass repaints neighbours too)."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget


class Line(Widget):
    DEFAULT_CSS = "Line { height: 1; }"

    text: reactive[Text] = reactive(Text(""), layout=False)
    tail: reactive[Text] = reactive(Text(""), layout=False)
    """Shown at the right edge (the text is cut first): the header's problem count."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._head = self._keep = 0

    def show(self, text: Text, head: int = 0, keep: int = 0) -> None:
        """Show ``text`` on one line, cut with an ellipsis at the end; the same again is
        a no-op. When its first ``keep`` characters do not fit, its first ``head``
        characters give way (down to HEAD_MIN cells) so that the rest of them stays in
        view: the header's label gives way to the inode after it."""
        shown = _one_line(text)
        if (head, keep) != (self._head, self._keep):
            self._head, self._keep = head, keep
            self.refresh()
        if shown.plain != self.text.plain or shown.spans != self.text.spans:
            self.text = shown

    def show_tail(self, tail: Text) -> None:
        """Show ``tail`` at the right edge; the same again is a no-op."""
        shown = _one_line(tail)
        if shown.plain != self.tail.plain or shown.spans != self.tail.spans:
            self.tail = shown

    def render(self) -> Text:
        width = self.size.width
        tail = self.tail
        with_tail = bool(tail.cell_len) and width > tail.cell_len + 4
        if with_tail and _least(self.text, self._head, self._keep) > width - tail.cell_len - 1:
            with_tail = False  # what must stay in view comes first (the badges still say)
        room = width - tail.cell_len - 1 if with_tail else width
        shown = _head_cut(self.text, self._head, self._keep, room)
        if with_tail:
            if shown.cell_len > room:
                shown.truncate(room, overflow="ellipsis")
            shown.append(" " * (width - shown.cell_len - tail.cell_len))
            shown.append_text(tail)
            return shown
        if width > 0 and shown.cell_len > width:
            shown.truncate(width, overflow="ellipsis")
        return shown


HEAD_MIN = 24  # cells a cut head keeps (with its ellipsis): enough to tell names apart


def _needed(text: Text, keep: int) -> int:
    """Cells the first ``keep`` characters of ``text`` take, and a cell for the ellipsis
    that cuts what follows them."""
    return text[:keep].cell_len + (1 if len(text) > keep else 0)


def _least(text: Text, head: int, keep: int) -> int:
    """The fewest cells the first ``keep`` characters of ``text`` can take: its head cut
    to HEAD_MIN."""
    if keep <= 0:
        return 0
    first = text[:head].cell_len
    return _needed(text, keep) - first + min(first, HEAD_MIN)


def _head_cut(text: Text, head: int, keep: int, room: int) -> Text:
    """A copy of ``text`` whose first ``head`` characters are cut (ellipsis) as far as it
    takes for its first ``keep`` characters to fit ``room`` cells, to HEAD_MIN at most."""
    over = _needed(text, keep) - room
    if head <= 0 or over <= 0:
        return text.copy()
    first = text[:head]
    cells = max(HEAD_MIN, first.cell_len - over)
    if cells >= first.cell_len:
        return text.copy()
    first.truncate(cells, overflow="ellipsis")
    return Text.assemble(first, text[head:], no_wrap=True, overflow="ellipsis", end="")


def _one_line(text: Text) -> Text:
    shown = text.copy()
    shown.no_wrap = True
    shown.overflow = "ellipsis"
    shown.end = ""
    return shown
