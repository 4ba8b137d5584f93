"""A one-line text widget that repaints itself only: changing what it shows never asks
for a new layout (a Static's update does, and a layout pass repaints neighbours too)."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget


class Line(Widget):
    DEFAULT_CSS = "Line { height: 1; }"

    text: reactive[Text] = reactive(Text(""), layout=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)

    def show(self, text: Text) -> None:
        """Show ``text`` on one line, cut with an ellipsis; the same again is a no-op."""
        shown = text.copy()
        shown.no_wrap = True
        shown.overflow = "ellipsis"
        shown.end = ""
        if shown.plain != self.text.plain or shown.spans != self.text.spans:
            self.text = shown

    def render(self) -> Text:
        shown = self.text.copy()
        width = self.size.width
        if width > 0 and shown.cell_len > width:
            shown.truncate(width, overflow="ellipsis")
        return shown
