"""Two Enters (or two Escapes) in one read close a dialog once: the second key used to
run the prompt's callback again and pop the screen below it, and with only the main
screen below, end the app (ScreenStackError). Seen in tmux with `send-keys -l
$'xip -br a\\r\\r'`; keys are posted here without waiting between them (``burst``)."""

from __future__ import annotations

from helpers import burst, settle
from uifixtures import LAB_A, AppFactory, FakeRunner

from nsexplorer.ui.main_screen import MainScreen
from nsexplorer.ui.screens.dialogs import PromptScreen

SIZE = (120, 36)


async def test_two_enters_in_one_read_run_the_command_once_and_keep_the_app(
    make_app: AppFactory,
) -> None:
    runner = FakeRunner()
    app = make_app(runner=runner)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, ["slash", *"nsxlab-a", "enter"])
        await settle(pilot)
        assert app.selected == LAB_A
        for _round in range(3):
            burst(app, ["x", *"ip -br a", "enter", "enter"])
            await settle(pilot)
            assert app.is_running and isinstance(app.screen, MainScreen), app.screen_stack
        assert [(inode, argv) for inode, argv, _ in runner.runs] == [
            (LAB_A, ("ip", "-br", "a"))
        ] * 3
        burst(app, ["x", "enter", "enter"])  # an empty prompt, closed by the first
        await settle(pilot)
        burst(app, ["x", "escape", "escape"])
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, MainScreen), app.screen_stack
        assert not isinstance(app.screen, PromptScreen)
        assert len(runner.runs) == 3
