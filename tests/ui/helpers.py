"""Small helpers for Pilot tests: settle the app, read what the screen shows."""

from __future__ import annotations

from collections.abc import Iterable

from textual import events
from textual.app import _character_to_key
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget

from nsexplorer.ui.app import NsxApp


async def settle(pilot: Pilot[None]) -> None:
    """Wait until the app shows a full snapshot and no worker is running."""
    app = pilot.app
    for _ in range(500):
        await app.workers.wait_for_complete()
        await pilot.pause()
        busy = any(w.is_running for w in app.workers)
        if getattr(app, "settled", True) and not busy:
            break
        await pilot.pause(0.01)
    await pilot.pause()


def widget_text(widget: Widget) -> str:
    """The characters ``widget`` renders, line by line."""
    size = widget.size
    strips = widget.render_lines(Region(0, 0, size.width, size.height))
    return "\n".join(strip.text for strip in strips)


def screen_text(app: NsxApp) -> str:
    """Everything on the screen, as plain characters (from the compositor)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def segments(app: NsxApp):  # type: ignore[no-untyped-def]
    for strip in app.screen._compositor.render_strips():
        yield from strip


def burst(app: NsxApp, keys: Iterable[str]) -> None:
    """Post every key at once, as a paste or a fast typist over a laggy link delivers
    them: unlike ``pilot.press``, nothing waits for the app between two keys."""
    driver = app._driver
    assert driver is not None
    for key in keys:
        name = key
        if len(key) == 1 and not key.isalnum():
            name = _character_to_key(key)
        char = key if len(key) == 1 else None
        event = events.Key(name, char)
        event.set_sender(app)
        driver.send_message(event)
