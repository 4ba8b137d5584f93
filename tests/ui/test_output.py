"""Output a responder can trust: one entry per run headed by namespace, time and
command, streamed as it arrives, a running indicator, argv vs `!` shell mode, a key
that clears; the shell from `s` names its namespace."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence

from helpers import settle, widget_text
from uifixtures import DB, LAB_A, AppFactory, FakeRunner

from nsexplorer.model import NetNamespace
from nsexplorer.ports import RunResult
from nsexplorer.ui.widgets.output import OutputPane

SIZE = (120, 36)


def transcript(app) -> list[str]:  # type: ignore[no-untyped-def]
    return list(app.query_one(OutputPane).transcript)


class StreamingRunner(FakeRunner):
    """Writes one line, then waits for the test before the rest and the end."""

    def __init__(self) -> None:
        super().__init__()
        self.go_on = threading.Event()

    def run(
        self,
        ns: NetNamespace,
        argv: Sequence[str],
        *,
        all_namespaces: bool = False,
        timeout: float | None = None,
        cancel: Callable[[], bool] | None = None,
        on_output: Callable[[str], None] | None = None,
        via_pid: int | None = None,
    ) -> RunResult:
        self.runs.append((ns.inode, tuple(argv), all_namespaces))
        assert on_output is not None
        on_output("first line\nsecond ")
        self.go_on.wait(10)
        on_output("half\nlast line\n")
        return RunResult(tuple(argv), 3, "first line\nsecond half\nlast line\n")


async def test_output_is_streamed_under_a_header_naming_where_and_what(
    make_app: AppFactory,
) -> None:
    runner = StreamingRunner()
    app = make_app(runner=runner)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await pilot.press("x", *"ping -c 3 10.213.0.1", "enter")
        for _ in range(100):
            await pilot.pause(0.02)
            if "first line" in transcript(app):
                break
        lines = transcript(app)
        n, header = next((n, line) for n, line in enumerate(lines) if line.startswith("── "))
        assert re.fullmatch(
            rf"── nsxlab-a · \d\d:\d\d:\d\d ── \$ ping -c 3 10.213.0.1  \(netns {LAB_A}\)", header
        )  # the command as typed, first
        equivalent = "$ nsenter --net=/run/netns/nsxlab-a ping -c 3 10.213.0.1"
        assert lines[n + 1] == f"   runs as: {equivalent}"  # the exact one, on its own line
        assert "first line" in lines and "second half" not in lines  # as it arrives
        assert app.command_running
        assert "running" in widget_text(app.query_one("#cmdbar"))
        assert "●" in widget_text(app.query_one("#panebar"))
        runner.go_on.set()
        await settle(pilot)
        lines = transcript(app)
        assert lines[-3:-1] == ["second half", "last line"]
        assert lines[-1].startswith("[exit 3] after ")
        assert lines.count("first line") == 1  # streamed output is not printed again
        assert "running" not in widget_text(app.query_one("#cmdbar"))


async def test_entries_of_two_namespaces_are_apart(make_app: AppFactory) -> None:
    app = make_app(runner=FakeRunner())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await pilot.press("x", *"hostname", "enter")
        await settle(pilot)
        app.goto(DB)
        await pilot.press("x", *"hostname", "enter")
        await settle(pilot)
        headers = [line for line in transcript(app) if line.startswith("── ")]
        assert len(headers) == 2
        assert "nsxlab-a" in headers[0] and "nsxlab-db" in headers[1]
        await pilot.press("ctrl+l")
        assert transcript(app) == []


async def test_a_leading_bang_runs_the_line_through_sh(make_app: AppFactory) -> None:
    runner = FakeRunner()
    app = make_app(runner=runner)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await pilot.press("x")
        note = app.screen.query_one("#dialog-note")
        assert "argv mode" in widget_text(note)
        await pilot.press(*"!ss -tan | head -3; echo done")
        assert "shell mode" in widget_text(note) and "sh -c" in widget_text(note)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("x", *"echo a;b | c", "enter")
        await settle(pilot)
        assert runner.runs == [
            (LAB_A, ("sh", "-c", "ss -tan | head -3; echo done"), False),
            (LAB_A, ("echo", "a;b", "|", "c"), False),  # argv mode: no shell
        ]


def test_the_shell_prompt_label_is_harmless() -> None:
    """The label goes into PS1 and the environment: nothing a prompt would expand or a
    terminal would obey (the banner and env themselves are checked in tests/e2e)."""
    from nsexplorer.cli.tui import prompt_safe

    assert prompt_safe("nsxlab-a") == "nsxlab-a"
    assert prompt_safe("$(reboot)`x`\\\x1b") == "?(reboot)?x???x1b"


async def test_copy_inside_tmux_is_wrapped_and_says_what_tmux_needs(
    make_app: AppFactory,
) -> None:
    from nsexplorer.ports import TerminalInfo

    app = make_app(runner=FakeRunner(), terminal=TerminalInfo(tmux=True))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await settle(pilot)
        written: list[str] = []
        driver = app._driver
        assert driver is not None
        driver.write = written.append  # type: ignore[method-assign]
        await pilot.press("c")
        command = "nsenter --net=/run/netns/nsxlab-a sh"
        assert app.clipboard == command
        payload = "bnNlbnRlciAtLW5ldD0vcnVuL25ldG5zL25zeGxhYi1hIHNo"  # base64 of it
        assert f"\x1b]52;c;{payload}\x07" in written  # plain, for set-clipboard on
        assert f"\x1bPtmux;\x1b\x1b]52;c;{payload}\x07\x1b\\" in written  # passthrough
        note = list(app._notifications)[-1].message
        assert "tmux passes it on only with `set -g set-clipboard on`" in note
        assert f"sent {len(command)} bytes" in note
        assert f"$ {command}" in transcript(app)  # to copy by hand too


async def test_copy_outside_tmux_is_plain_osc52(make_app: AppFactory) -> None:
    app = make_app(runner=FakeRunner())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        written: list[str] = []
        driver = app._driver
        assert driver is not None
        driver.write = written.append  # type: ignore[method-assign]
        await pilot.press("c")
        assert not any("tmux" in w for w in written)
        assert any(w.startswith("\x1b]52;c;") for w in written)
        assert "tmux" not in list(app._notifications)[-1].message


class WrappingRunner(FakeRunner):
    """A container's equivalent as the real runner gives it: long (nsenter, unshare, a
    fresh sysfs) before the user's own command."""

    def equivalent_command(
        self,
        ns: NetNamespace,
        argv: Sequence[str],
        all_namespaces: bool = False,
        *,
        via_pid: int | None = None,
    ) -> str:
        wrap = (
            "nsenter --target 3101 --net unshare --mount --propagation private sh -c "
            '\'mount -t sysfs nsx /sys && exec "$0" "$@"\''
        )
        return f"{wrap} {' '.join(argv)}"


async def test_the_typed_command_heads_the_entry_not_the_wrapper(make_app: AppFactory) -> None:
    """QA: for containers the echoed command was the long wrapper; the user's own command
    was off the right edge of the Output pane."""
    app = make_app(runner=WrappingRunner())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.goto(DB)
        await pilot.press("x", *"ip -br addr", "enter")
        await settle(pilot)
        shown = widget_text(app.query_one(OutputPane)).splitlines()
        head = next(line for line in shown if line.startswith("── "))
        assert "$ ip -br addr" in head  # in view at 80 columns
        assert transcript(app)[1].startswith("   runs as: $ nsenter --target 3101 --net unshare")
        assert transcript(app)[1].endswith(" ip -br addr")  # the exact equivalent, in full


async def test_a_long_entry_header_ends_in_an_ellipsis_never_cut_silently(
    make_app: AppFactory,
) -> None:
    app = make_app(runner=FakeRunner())
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await pilot.press("x", *("echo " + "abcdefghij" * 12 + " END"), "enter")
        await settle(pilot)
        pane = app.query_one(OutputPane)
        await pilot.pause(0.2)
        rows = widget_text(pane).splitlines()
        header = next(r for r in rows if r.startswith("── nsxlab-a · "))
        assert header.rstrip().endswith("…"), header  # the command goes on past the edge
        runs_as = next(r for r in rows if r.startswith("   runs as: "))
        assert runs_as.rstrip().endswith("…"), runs_as
        short = next(r for r in rows if r.startswith("1: lo:"))
        assert "…" not in short  # a line that fits is not marked
        pane.scroll_to(x=pane.max_scroll_x, animate=False)
        await pilot.pause(0.2)
        rows = widget_text(pane).splitlines()
        end = next(r for r in rows if f"(netns {LAB_A})" in r)
        assert end.startswith("…") and end.rstrip().endswith(f"END  (netns {LAB_A})"), end
        # QA: the next entry, and the pane after ctrl+l, kept that sideways offset
        await pilot.press("x", *"echo next", "enter")
        await settle(pilot)
        await pilot.pause(0.2)
        assert pane.scroll_x == 0
        assert any(r.startswith("── nsxlab-a · ") for r in widget_text(pane).splitlines())
        pane.scroll_to(x=pane.max_scroll_x, animate=False)
        await pilot.press("ctrl+l")
        await pilot.pause(0.2)
        assert pane.scroll_x == 0


async def test_output_at_its_end_stays_there_when_the_terminal_shrinks(
    make_app: AppFactory,
) -> None:
    """Walk-through: after 120x36 -> 80x24 the latest run's lines were below the edge and
    older entries (another namespace's) sat at the bottom, the scroll offset kept."""
    runner = FakeRunner(output="\n".join(f"line {n}" for n in range(60)) + "\nLAST-LINE")
    app = make_app(runner=runner)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        for _ in range(3):
            await pilot.press("x", *"seq 60", "enter")
            await settle(pilot)
        pane = app.query_one(OutputPane)
        assert pane.scroll_y == pane.max_scroll_y > 0
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert pane.max_scroll_y > 0 and pane.scroll_y == pane.max_scroll_y
        assert "LAST-LINE" in widget_text(pane)
        pane.scroll_to(y=0, animate=False)  # scrolled back on purpose: left there
        await settle(pilot)
        await pilot.resize_terminal(100, 30)
        await settle(pilot)
        assert pane.scroll_y == 0
