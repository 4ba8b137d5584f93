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

    def show(self, text: Text) -> None:
        """Show ``text`` on one line, cut with an ellipsis; the same again is a no-op."""
        shown = _one_line(text)
        if shown.plain != self.text.plain or shown.spans != self.text.spans:
            self.text = shown

    def show_tail(self, tail: Text) -> None:
        """Show ``tail`` at the right edge; the same again is a no-op."""
        shown = _one_line(tail)
        if shown.plain != self.tail.plain or shown.spans != self.tail.spans:
            self.tail = shown

    def render(self) -> Text:
        shown = self.text.copy()
        width = self.size.width
        tail = self.tail
        if tail.cell_len and width > tail.cell_len + 4:
            room = width - tail.cell_len - 1
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
