"""Small helpers for Pilot tests: settle the app, read what the screen shows."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widget import Widget
from textual.geometry import Region

from nsexplorer.ui.app import NsxApp


async def settle(pilot: Pilot[None]) -> None:
    app = pilot.app
    for _ in range(3):
        await app.workers.wait_for_complete()
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
