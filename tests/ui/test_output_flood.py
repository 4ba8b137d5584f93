"""A command that floods the Output pane (`seq 300000`, `conntrack -L`) once held the UI
and ctrl+c for a minute: each line was one RichLog write. Now a flood is drawn at most
every DRAIN_GAP s, its kept tail only, and a line that comes alone is shown at once."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult

from nsexplorer.ui.widgets.output import DRAIN_GAP, MAX_LINES, OutputPane


class OutputApp(App[None]):
    def compose(self) -> ComposeResult:
        yield OutputPane()


def counting_writes(pane: OutputPane) -> list[int]:
    writes: list[int] = []
    write = pane.write

    def counted(content: Any, *args: Any, **kwargs: Any) -> Any:
        writes.append(1)
        return write(content, *args, **kwargs)

    pane.write = counted  # type: ignore[method-assign]
    return writes


async def test_a_flood_is_drawn_a_few_times_and_keeps_its_last_lines() -> None:
    text = "".join(f"{i}\n" for i in range(1, 300_001))
    app = OutputApp()
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(OutputPane)
        writes = counting_writes(pane)
        for start in range(0, len(text), 65536):  # as the pipe delivers it
            pane.stream(1, text[start : start + 65536])
        pane.flush(1)
        await pilot.pause()
        assert len(writes) <= 6, len(writes)  # was one per line: 300,000
        assert list(pane.transcript)[-1] == "300000"
        assert len(pane.transcript) == MAX_LINES
        kept = [int(line) for line in list(pane.transcript) if line.isdigit()]
        assert kept == list(range(300_001 - len(kept), 300_001))  # the tail, in order
        assert any("lines skipped: the pane keeps the last" in s for s in pane.transcript)


async def test_a_line_that_comes_alone_is_shown_at_once_and_a_burst_soon_after() -> None:
    app = OutputApp()
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(OutputPane)
        pane.stream(1, "64 bytes from 127.0.0.1: icmp_seq=1\n")
        assert list(pane.transcript) == ["64 bytes from 127.0.0.1: icmp_seq=1"]
        pane.stream(1, "64 bytes from 127.0.0.1: icmp_seq=2\n")  # within DRAIN_GAP
        await pilot.pause(DRAIN_GAP * 3)
        assert list(pane.transcript)[-1] == "64 bytes from 127.0.0.1: icmp_seq=2"
