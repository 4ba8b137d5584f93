"""Escape followed at once by another key (typed fast, or batched by a slow SSH link)
reaches the app as one "alt+KEY" (Textual's parser sees ESC KEY inside its escape
delay). nsexplorer binds no alt key, so the app reads it as what was typed: escape,
then KEY. A prompt cancelled that way never runs what followed."""

from __future__ import annotations

from helpers import settle
from textual import events
from uifixtures import LAB_A, AppFactory, FakeRunner

from nsexplorer.ui.main_screen import MainScreen

SIZE = (120, 36)


def burst(app, *keys: tuple[str, str | None]) -> None:  # type: ignore[no-untyped-def]
    """Keys queued in one go, as the terminal driver does for one read."""
    for key, character in keys:
        app.post_message(events.Key(key, character))


async def test_escape_then_keys_in_one_burst_cancel_the_run_prompt(
    make_app: AppFactory,
) -> None:
    runner = FakeRunner()
    app = make_app(runner=runner)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await pilot.press("x")
        await pilot.pause()
        burst(app, ("alt+i", "i"), ("d", "d"), ("enter", "\r"))
        await settle(pilot)
        await pilot.pause(0.2)
        assert runner.runs == []
        assert isinstance(app.screen, MainScreen)


async def test_x_escape_p_enter_in_one_burst_runs_nothing(
    make_app: AppFactory,
) -> None:
    runner = FakeRunner()
    app = make_app(runner=runner)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await pilot.press("x")
        await pilot.pause()
        burst(app, ("alt+p", "p"), ("enter", "\r"))
        await settle(pilot)
        await pilot.pause(0.2)
        assert runner.runs == []


async def test_alt_key_on_the_main_screen_is_escape_then_the_key(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, ("alt+question_mark", "?"))
        await settle(pilot)
        assert not isinstance(app.screen, MainScreen)  # "?" opened the help


async def test_a_plain_escape_queued_with_the_next_keys_cancels_too(make_app: AppFactory) -> None:
    runner = FakeRunner()
    app = make_app(runner=runner)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await pilot.press("x")
        await pilot.pause()
        burst(app, ("escape", "\x1b"), ("i", "i"), ("d", "d"), ("enter", "\r"))
        await settle(pilot)
        await pilot.pause(0.2)
        assert runner.runs == []
