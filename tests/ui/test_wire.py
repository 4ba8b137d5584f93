"""What reaches the terminal (ui.wire): the updates Textual makes while a person uses the
app, played on a test terminal both as Textual writes them and as nsexplorer encodes
them, must show the same cells after every step, and cost fewer bytes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from helpers import burst, settle
from rich.color import ColorSystem
from rich.segment import Segment
from rich.style import Style
from screengrid import Grid
from textual._compositor import CompositorUpdate, LayoutUpdate
from textual.geometry import Region, Size
from textual.pilot import Pilot
from textual.strip import Strip
from uifixtures import LAB_B, AppFactory, hostile_snapshot, lab_snapshot

from nsexplorer.model import Snapshot
from nsexplorer.ui.app import NsxApp
from nsexplorer.ui.wire import Wire


@dataclass
class Tap:
    """Every update the app displays, written three ways onto three test terminals."""

    app: NsxApp
    wires: tuple[Wire, Wire] = field(default_factory=lambda: (Wire(erase=True), Wire()))
    grids: list[Grid] = field(default_factory=list)
    sent: list[int] = field(default_factory=lambda: [0, 0, 0])
    updates: int = 0

    def __post_init__(self) -> None:
        self.wires[1]._erase = False
        original = self.app._display

        def display(screen: Any, renderable: Any) -> None:
            if isinstance(renderable, CompositorUpdate) and not self.app._holding_first_frame:
                self.play(renderable)
            original(screen, renderable)

        self.app._display = display  # type: ignore[method-assign]

    def play(self, update: CompositorUpdate) -> None:
        size = self.app.size
        if not self.grids or (self.grids[0].width, self.grids[0].height) != tuple(size):
            self.grids = [Grid(size.width, size.height) for _ in range(3)]
        textual = update.render_segments(self.app.console)
        system = self.app.console._color_system or ColorSystem.TRUECOLOR
        ours = [wire.encode(update, Size(*size), system) for wire in self.wires]
        for n, data in enumerate((textual, *ours)):
            assert data is not None
            self.grids[n].feed(data)
            self.sent[n] += len(data.encode())
        self.updates += 1

    def check(self, what: str) -> None:
        textual, *ours = (grid.shown() for grid in self.grids)
        for n, shown in enumerate(ours):
            if shown != textual:
                rows = [y for y in range(len(shown)) if shown[y] != textual[y]]
                y = rows[0]
                raise AssertionError(
                    f"{what}: wire {n} differs on rows {rows}:\n"
                    f"textual: {self.grids[0].text().splitlines()[y]!r}\n"
                    f"wire:    {self.grids[n + 1].text().splitlines()[y]!r}"
                )


Step = Callable[[Pilot[None]], Awaitable[None]]


def keys(*names: str) -> Step:
    async def step(pilot: Pilot[None]) -> None:
        await pilot.press(*names)

    return step


def bunched(*names: str) -> Step:
    async def step(pilot: Pilot[None]) -> None:
        burst(pilot.app, names)  # type: ignore[arg-type]

    return step


def resize(width: int, height: int) -> Step:
    async def step(pilot: Pilot[None]) -> None:
        await pilot.resize_terminal(width, height)

    return step


SCRIPT: list[tuple[str, Step]] = [
    ("down the sidebar", keys(*"jjjjjjjjjjjj")),
    ("up again", keys(*"kkkkkk")),
    ("a burst of Downs", bunched(*["down"] * 20)),
    ("a burst of Ups", bunched(*["up"] * 20)),
    ("a filter typed", keys("slash", *"nsxlab")),
    ("narrowed", keys(*"-b")),
    ("widened", keys("backspace", "backspace", "backspace")),
    ("cleared", keys("escape", "escape")),
    ("every pane", keys(*"1234567", "tab", "tab", "1")),
    ("help and back", keys("question_mark")),
    ("help closed", keys("escape")),
    ("the palette", keys("ctrl+p", *"web")),
    ("palette closed", keys("escape")),
    ("a wider sidebar", keys(*["greater_than_sign"] * 3)),
    ("a smaller terminal", resize(80, 24)),
    ("moving there", keys(*"jjjkk")),
    ("a bigger one", resize(130, 40)),
    ("moving again", keys(*"jjjjj", "3", "enter", "j")),
]


async def full_frame(pilot: Pilot[None], tap: Tap) -> None:
    """One full frame to start both terminals from."""
    seen = tap.updates
    pilot.app.screen.refresh()
    for _ in range(100):
        await pilot.pause(0.01)
        if tap.updates > seen:
            return
    raise AssertionError("no frame displayed")


async def play(app: NsxApp, size: tuple[int, int]) -> Tap:
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        tap = Tap(app)
        await full_frame(pilot, tap)
        tap.check("start")
        for what, step in SCRIPT:
            await step(pilot)
            await settle(pilot)
            await pilot.pause(0.1)
            tap.check(what)
        assert tap.updates > len(SCRIPT)
    return tap


def with_wide_names(snap: Snapshot) -> Snapshot:
    """Names whose width terminals may dispute: CJK, an emoji, a combining accent."""
    name = "nsxlab-日本-🚀-e\u0301"
    spaces = [
        replace(ns, names=(name,), label=name) if ns.inode == LAB_B else ns
        for ns in snap.namespaces
    ]
    return replace(snap, namespaces=tuple(spaces))


@pytest.mark.parametrize(
    "snapshot",
    [lab_snapshot, hostile_snapshot, lambda: with_wide_names(lab_snapshot())],
    ids=["lab", "hostile", "wide"],
)
async def test_the_terminal_shows_what_textual_would_have_drawn(
    make_app: AppFactory, snapshot: Callable[[], Snapshot]
) -> None:
    tap = await play(make_app(snapshot()), (120, 36))
    textual, erased, blanks = tap.sent
    assert erased < blanks < textual * 0.7, tap.sent


async def test_a_step_that_changes_nothing_sends_nothing(make_app: AppFactory) -> None:
    app = make_app(lab_snapshot())
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        tap = Tap(app)
        await full_frame(pilot, tap)
        before = list(tap.sent)
        app.screen.refresh()  # the whole screen again, the same picture
        app.main.show_inventory()  # the same snapshot merged again
        await pilot.pause()
        assert tap.sent[0] > before[0]  # Textual rewrote everything
        assert tap.sent[1:] == before[1:]  # nothing reached the terminal
        tap.check("refreshed")


def strip(*parts: tuple[str, Style | None]) -> Strip:
    return Strip([Segment(text, style) for text, style in parts])


def update(y: int, *strips: Strip) -> LayoutUpdate:
    width = sum(s.cell_length for s in strips)
    return LayoutUpdate([list(strips)], Region(0, y, width, 1))


RED = Style(color="red", bgcolor="black")
RED_BOLD = Style(color="red", bgcolor="black", bold=True)
BLUE = Style(color="blue", bgcolor="black")


def test_styles_change_only_where_they_change() -> None:
    wire = Wire(erase=False)
    size = Size(40, 2)
    first = wire.encode(
        update(0, strip(("ab", RED), ("cd", RED), ("ef", BLUE))), size, ColorSystem.STANDARD
    )
    # one SGR for the two red runs, only the colour for blue, a reset at the end
    assert first == "\x1b[1H\x1b[0;31;40mabcd\x1b[34mef\x1b[0m"
    # the same again: nothing; one character changed: only it
    same = update(0, strip(("ab", RED), ("cd", RED), ("ef", BLUE)))
    assert wire.encode(same, size, ColorSystem.STANDARD) == ""
    one = update(0, strip(("ab", RED), ("cX", RED), ("ef", BLUE)))
    assert wire.encode(one, size, ColorSystem.STANDARD) == "\x1b[1;4H\x1b[0;31;40mX\x1b[0m"
    bold = update(0, strip(("ab", RED), ("cX", RED_BOLD), ("ef", BLUE)))
    assert wire.encode(bold, size, ColorSystem.STANDARD) == "\x1b[1;3H\x1b[0;1;31;40mcX\x1b[0m"


def test_a_changed_line_with_wide_characters_is_sent_whole() -> None:
    wire = Wire(erase=False)
    size = Size(40, 2)
    wire.encode(update(1, strip(("名前 abc", RED))), size, ColorSystem.STANDARD)
    again = wire.encode(update(1, strip(("名前 abX", RED))), size, ColorSystem.STANDARD)
    assert again == "\x1b[2H\x1b[0;31;40m名前 abX\x1b[0m"


def test_blanks_are_erased_only_where_the_terminal_fills_them_in_colour() -> None:
    blank = update(0, strip(("x" + " " * 30 + "y", RED)))
    erased = Wire(erase=True).encode(blank, Size(40, 1), ColorSystem.STANDARD)
    assert erased == "\x1b[1H\x1b[0;31;40mx\x1b[30X\x1b[30Cy\x1b[0m"
    kept = Wire(erase=False).encode(blank, Size(40, 1), ColorSystem.STANDARD)
    assert kept == "\x1b[1H\x1b[0;31;40mx" + " " * 30 + "y\x1b[0m"
    underlined = update(0, strip((" " * 30, Style(underline=True, bgcolor="black"))))
    assert "X" not in (Wire(erase=True).encode(underlined, Size(40, 1), ColorSystem.STANDARD) or "")


def test_a_new_size_forgets_the_picture() -> None:
    wire = Wire(erase=False)
    line = update(0, strip(("abc", RED)))
    assert wire.encode(line, Size(40, 2), ColorSystem.STANDARD)
    assert wire.encode(line, Size(40, 2), ColorSystem.STANDARD) == ""
    assert wire.encode(line, Size(50, 2), ColorSystem.STANDARD)  # resized: all again
    wire.forget()  # back from a suspend
    assert wire.encode(line, Size(50, 2), ColorSystem.STANDARD)


@pytest.mark.parametrize(
    ("term", "erases"),
    [("xterm-256color", True), ("linux", True), ("tmux-256color", False), ("screen", False),
     ("no-such-terminal", False)],
)  # fmt: skip
def test_erasing_follows_terminfo(term: str, erases: bool) -> None:
    # curses reads one terminfo entry per process: ask a fresh one each time
    code = "from nsexplorer.ui.wire import erases_in_colour; print(erases_in_colour())"
    env = {**os.environ, "TERM": term}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == str(erases)
