"""Hostile names: no crash, rendered literally, no injected action, no escape sequence.

Linux accepts ``[ ] @ =`` in interface names and anything in aliases; netns names,
container names, images and process names are attacker-chosen too. Every pane of every
namespace is drawn; then every rendered segment is inspected.
"""

from __future__ import annotations

import re

from helpers import settle
from textual.strip import Strip
from uifixtures import HOSTILE, LAB_A, PROC, WEB, AppFactory, FakeRunner, hostile_snapshot

from nsexplorer.ui.app import NsxApp
from nsexplorer.ui.widgets.panes import PANES

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
SIZE = (200, 50)


def strips_of(app: NsxApp) -> list[Strip]:
    return list(app.screen._compositor.render_strips())


def assert_screen_is_clean(app: NsxApp) -> str:
    """No control character and no action metadata in anything the app draws (the
    footer's own key actions aside); returns the screen as text."""
    for strip in strips_of(app):
        for seg in strip:
            assert not CONTROL.search(seg.text), f"raw control character in {seg.text!r}"
            meta = seg.style.meta if seg.style is not None else {}
            click = meta.get("@click") if meta else None
            assert click is None or "quit" not in str(click), f"injected action {click!r}"
    return "\n".join(strip.text for strip in strips_of(app))


async def visit_everything(app: NsxApp, pilot) -> str:  # type: ignore[no-untyped-def]
    seen = []
    for ns in list(app.namespaces):
        app.goto(ns.inode)
        for pane_id, _ in PANES:
            app.action_show_pane(pane_id)
            await pilot.pause()
            seen.append(assert_screen_is_clean(app))
    return "\n".join(seen)


async def test_hostile_names_render_literally_and_inject_nothing(make_app: AppFactory) -> None:
    app = make_app(hostile_snapshot(), runner=FakeRunner())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        everything = await visit_everything(app, pilot)
        assert app.is_running
        # shown literally, not interpreted
        assert HOSTILE["iface_close"] in everything  # eth0[/]
        assert HOSTILE["iface_click"] in everything  # [@click=app.quit]x
        assert HOSTILE["iface_reverse"] in everything  # x[reverse]
        assert HOSTILE["netns"] in everything  # [bold]x[/
        assert HOSTILE["container"] in everything
        # control characters made visible
        assert "\\x1b]2;pwned\\x07" in everything
        assert "sleep\\x1b]52;c;ZXZpbA==\\x07" in everything
        assert "\\x1b[2J\\x1b[31mred[bold]x[/" in everything


async def test_clicking_a_hostile_label_runs_no_action(make_app: AppFactory) -> None:
    app = make_app(hostile_snapshot(), runner=FakeRunner())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await pilot.pause()
        table = app.query_one("#interfaces")
        # click on every row of the interfaces table, where "[@click=app.quit]x" is drawn
        for row in range(4):
            await pilot.click(table, offset=(3, row + 1))
            await pilot.pause()
        assert app.is_running


async def test_hostile_names_in_palette_and_dialogs(make_app: AppFactory) -> None:
    runner = FakeRunner()
    app = make_app(hostile_snapshot(), runner=runner)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause(0.5)
        await pilot.press(*"evil")
        await pilot.pause(0.5)
        text = assert_screen_is_clean(app)
        assert HOSTILE["container"].replace("evil", "") in text or "evil" in text
        await pilot.press("enter")
        await pilot.pause()
        assert app.selected == WEB
        # a run prompt and a confirmation quoting hostile names
        app.goto(LAB_A)
        await pilot.press("x")
        await pilot.pause()
        assert HOSTILE["netns"] in assert_screen_is_clean(app)
        await pilot.press("escape")
        app.goto(PROC)
        await pilot.press("x", *"echo hi", "enter")
        await settle(pilot)
        assert_screen_is_clean(app)
        assert app.is_running


async def test_notifications_do_not_parse_markup(make_app: AppFactory) -> None:
    app = make_app(hostile_snapshot())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.notify("[@click=app.quit]boom[/] \x1b]2;x\x07", title="\x1b[2J[b]t")
        await pilot.pause()
        notes = list(app._notifications)
        assert notes
        for note in notes:
            assert note.markup is False
            assert not CONTROL.search(note.message + note.title)
        assert notes[-1].message == "[@click=app.quit]boom[/] \\x1b]2;x\\x07"
        assert app.is_running
