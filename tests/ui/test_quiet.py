"""Light over a slow link: what changes nothing visible draws nothing, and nothing
blinks. Frames are counted where the app hands them to the terminal (App._display)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from helpers import settle
from textual.widgets import Input
from uifixtures import LAB_A, WEB, AppFactory, FakeRunner, FakeSource, FakeWatcher, lab_snapshot

from nsexplorer.ui.app import NsxApp

SIZE = (120, 36)


@contextmanager
def frames(app: NsxApp) -> Iterator[list[object]]:
    """Every non-empty update the app would write to the terminal meanwhile."""
    seen: list[object] = []
    display = app._display

    def counting(screen, renderable) -> None:  # type: ignore[no-untyped-def]
        if renderable is not None:
            seen.append(renderable)
        display(screen, renderable)

    app._display = counting  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        app._display = display  # type: ignore[method-assign]


async def test_a_refresh_that_changes_nothing_draws_nothing(make_app: AppFactory) -> None:
    source = FakeSource(lab_snapshot())
    watcher = FakeWatcher()
    app = make_app(source=source, watcher=watcher, debounce=0.01, min_collect_gap=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for pane in ("1", "2", "3", "5", "7", "8"):
            app.goto(WEB)
            await pilot.press(pane)
            await settle(pilot)
            await pilot.pause(0.2)
            before = source.collects
            with frames(app) as drawn:
                assert watcher.on_change is not None
                watcher.on_change("host netlink")
                await pilot.pause(0.1)
                await settle(pilot)
                await pilot.pause(0.2)
            assert source.collects == before + 1  # it did read again
            assert drawn == [], f"pane {pane}: {len(drawn)} frame(s) for an unchanged read"


async def test_a_change_is_drawn(make_app: AppFactory) -> None:
    """The check above can fail: a real change does reach the screen."""
    from dataclasses import replace

    source = FakeSource(lab_snapshot())
    watcher = FakeWatcher()
    app = make_app(source=source, watcher=watcher, debounce=0.01, min_collect_gap=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await settle(pilot)
        snap = source.snapshot
        lab_a = snap.by_inode(LAB_A)
        assert lab_a is not None
        moved = replace(
            lab_a, interfaces=(*lab_a.interfaces[:1], replace(lab_a.interfaces[1], mtu=1400))
        )
        source.snapshot = replace(
            snap, namespaces=tuple(moved if ns.inode == LAB_A else ns for ns in snap.namespaces)
        )
        with frames(app) as drawn:
            assert watcher.on_change is not None
            watcher.on_change("host netlink")
            await pilot.pause(0.1)
            await settle(pilot)
            await pilot.pause(0.2)
        assert drawn


async def test_no_input_blinks(make_app: AppFactory) -> None:
    app = make_app(runner=FakeRunner())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await pilot.pause()
        field = app.screen.query_one(Input)
        assert field.has_focus
        assert field.cursor_blink is False
        with frames(app) as drawn:
            await pilot.pause(1.2)  # two blink periods
        assert drawn == []
