"""A table whose rows are what the cursor moves over."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable


class RowTable(DataTable[Text]):
    """Home and End go to the first and last row (the README's key table), not to the
    leftmost and rightmost column as in DataTable, where they scroll sideways."""

    def action_scroll_home(self) -> None:
        self.action_scroll_top()

    def action_scroll_end(self) -> None:
        self.action_scroll_bottom()
