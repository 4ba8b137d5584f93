"""The Output pane: one entry per run, headed by where, when and what; output streamed
as it arrives, bounded."""

from __future__ import annotations

import time
from collections import deque
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.events import Resize
from textual.strip import Strip
from textual.timer import Timer
from textual.widgets import RichLog

from nsexplorer.ui import render
from nsexplorer.ui.widgets.panes import mark_cut

MAX_LINES = 5000
DRAIN_GAP = 0.25  # s between two drawings of output that keeps coming


class OutputPane(RichLog):
    """Output of commands run from the UI. ``transcript`` is what was written, as plain
    text (the log renders lazily while hidden)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(
            id="output", max_lines=MAX_LINES, wrap=False, markup=False, highlight=False
        )
        self.can_focus = True
        self.transcript: deque[str] = deque(maxlen=MAX_LINES)
        self._partial: dict[int, str] = {}  # run id -> text after its last newline
        self._queued: dict[int, list[str]] = {}  # run id -> output not shown yet
        self._drained_at = -DRAIN_GAP
        self._drain_timer: Timer | None = None

    _follow = True  # at the end (the latest output in view): stays there on a resize

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._follow = new_value >= self.max_scroll_y

    def on_resize(self, event: Resize) -> None:
        # A smaller pane keeps its scroll offset, which leaves the latest lines (the
        # run the status line names) below the edge and older entries, maybe of another
        # namespace, at the bottom; one that was at the end stays at the end. (Textual
        # also calls RichLog's own handler: each class's in the MRO.)
        if self._follow:
            self.call_after_refresh(self.scroll_end, animate=False)

    def _render_line(self, y: int, scroll_x: int, width: int) -> Strip:
        """A line as shown: one that goes on past the right edge ends in an ellipsis,
        one with more to its left (scrolled sideways) starts with one. Lines are not
        wrapped (command output keeps its columns); nothing is cut silently."""
        line = super()._render_line(y, scroll_x, width)
        if y >= len(self.lines) or width < 2:
            return line
        used = cell_len(self.lines[y].text.rstrip())
        if used > scroll_x + width:
            line = mark_cut(line, width - 1)
        if scroll_x > 0 and used > 0:
            line = mark_cut(line, 0)
        return line

    def add(self, line: Text) -> None:
        for part in line.split("\n") if "\n" in line.plain else [line]:
            self.transcript.append(part.plain)
            self.write(part)

    def begin(self, label: str, inode: int, clock: str, command: str, typed: str = "") -> None:
        """Open an entry: a blank line, then namespace, time and the command as typed,
        the exact equivalent ``command`` under it."""
        if self.transcript:
            self.add(Text(""))
        self.scroll_to(x=0, animate=False)  # a new entry's header from its first column
        self.add(render.entry_header_text(label, inode, clock, command, typed))

    def stream(self, run_id: int, text: str) -> None:
        """Output of run ``run_id`` as it arrived: whole lines are shown at once, a
        partial last line when the run ends (or when it grows long). A flood is shown
        at most every DRAIN_GAP s, its last MAX_LINES only: each drawing of 5,000 lines
        costs the UI a third of a second."""
        self._queued.setdefault(run_id, []).append(text)
        since = time.monotonic() - self._drained_at
        if since >= DRAIN_GAP:
            self._drain()
        elif self._drain_timer is None:
            self._drain_timer = self.set_timer(DRAIN_GAP - since, self._drain)

    def _drain(self) -> None:
        if self._drain_timer is not None:
            self._drain_timer.stop()
            self._drain_timer = None
        queued, self._queued = self._queued, {}
        for run_id, chunks in queued.items():
            self._show(run_id, "".join(chunks))
        self._drained_at = time.monotonic()  # from the end: the UI gets its turn between

    def _show(self, run_id: int, text: str) -> None:
        pending = self._partial.pop(run_id, "") + text
        *lines, rest = pending.split("\n")
        self._write_lines(lines)
        if len(rest) > 4096:
            self.add(render.safe(rest))
            rest = ""
        if rest:
            self._partial[run_id] = rest

    def _write_lines(self, lines: list[str]) -> None:
        """Whole lines of output, written at once: one write per line cost 0.2 ms, and
        `seq 300000` held the UI (and ctrl+c) for a minute. Only the last MAX_LINES can
        be kept, so only those are rendered; the skip is said where it happened."""
        if not lines:
            return
        if len(lines) >= MAX_LINES:  # the notice and the tail fill the pane
            skipped = len(lines) - (MAX_LINES - 1)
            lines = lines[skipped:]
            self.add(render.plain(f"… {skipped} lines skipped: the pane keeps the last "
                                  f"{MAX_LINES}", "dim"))  # fmt: skip
        shown = [render.safe(line.rstrip("\r").expandtabs()) for line in lines]
        self.transcript.extend(t.plain for t in shown)
        self.write(Text("\n").join(shown))

    def flush(self, run_id: int) -> None:
        self._drain()
        rest = self._partial.pop(run_id, "")
        if rest:
            self.add(render.safe(rest.rstrip("\r").expandtabs()))

    def clear_entries(self) -> None:
        self.clear()
        self.scroll_to(x=0, y=0, animate=False)
        self.transcript.clear()
        self._partial.clear()
        self._queued.clear()
