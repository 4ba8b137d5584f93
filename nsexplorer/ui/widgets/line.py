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
        self._shrink_first = 0

    def show(self, text: Text, shrink_first: int = 0) -> None:
        """Show ``text`` on one line, cut with an ellipsis; the same again is a no-op.
        ``shrink_first``: how many characters at its start give way first when it does
        not fit (the header's label, so that the inode after it stays in view)."""
        shown = _one_line(text)
        self._shrink_first = shrink_first
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
        room = width - tail.cell_len - 1 if tail.cell_len and width > tail.cell_len + 4 else width
        shown = _shrunk(self.text, self._shrink_first, room)
        if tail.cell_len and width > tail.cell_len + 4:
            if shown.cell_len > room:
                shown.truncate(room, overflow="ellipsis")
            shown.append(" " * (width - shown.cell_len - tail.cell_len))
            shown.append_text(tail)
            return shown
        if width > 0 and shown.cell_len > width:
            shown.truncate(width, overflow="ellipsis")
        return shown


def _one_line(text: Text) -> Text:
    shown = text.copy()
    shown.no_wrap = True
    shown.overflow = "ellipsis"
    shown.end = ""
    return shown


SHRUNK_HEAD_MIN = 12  # cells a shrunk head keeps (with its ellipsis)


def _shrunk(text: Text, head: int, room: int) -> Text:
    """``text`` with its first ``head`` characters cut (ellipsis) as far as it takes to
    fit ``room`` cells, down to SHRUNK_HEAD_MIN; the rest as it is."""
    over = text.cell_len - room
    if head <= 0 or over <= 0 or room <= 0:
        return text.copy()
    first, rest = text[:head], text[head:]
    keep = max(SHRUNK_HEAD_MIN, first.cell_len - over)
    if keep >= first.cell_len:
        return text.copy()
    first.truncate(keep, overflow="ellipsis")
    return Text.assemble(first, rest, no_wrap=True, overflow="ellipsis", end="")
