"""Colours come from the theme (ui/roles.py, app.tcss): render.py names roles, never
colours; switching the theme recolours what is shown; what a colour says is also said
by an emphasis that NO_COLOR keeps."""

from __future__ import annotations

import pytest
from helpers import settle
from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.geometry import Region
from uifixtures import PAIR_D, WEB, AppFactory, lab_snapshot

from nsexplorer.model import NetNamespace
from nsexplorer.ui import render, roles
from nsexplorer.ui.contrast import Legible
from nsexplorer.ui.widgets.panes import InterfacesPane

ROLE_VARIABLES = {roles.KIND: "text-primary", roles.BAD: "text-error", roles.GOOD: "text-success"}


def rendered(ns: NetNamespace, lookup: render.Lookup) -> list[Text]:
    texts = [render.ns_title(ns), render.ns_sidebar_text(ns), render.details_text(ns)]
    for iface in ns.interfaces:
        texts += [*render.interface_cells(iface, lookup), render.wire_link_text(iface, lookup)]
        texts += [render.wire_bridge_text(iface, "x", "", lookup)]
        texts += [render.wire_peer_text(iface.name, "x", iface)]
    for c in ns.containers:
        texts.append(render.container_text(c))
    return texts


def test_render_names_roles_never_colours() -> None:
    snap = lab_snapshot()
    lookup = {ns.inode: ns for ns in snap.namespaces}
    seen: set[str] = set()
    texts = [render.command_line_text("ip a"), render.count_text(3, bad=True)]
    texts.append(render.warnings_text(snap.warnings))
    for ns in snap.namespaces:
        texts += rendered(ns, lookup)
    for text in texts:
        for span in [*text.spans, *([text.style] if text.style else [])]:
            style = span.style if hasattr(span, "style") else span
            assert isinstance(style, str), style
            if style.startswith("nsx."):
                seen.add(style)
                continue
            parsed = Style.parse(style)
            assert parsed.color is None and parsed.bgcolor is None, f"a colour: {style!r}"
    assert {roles.GOOD, roles.BAD, roles.KIND, roles.LINK, roles.PLACE, roles.PROMPT} <= seen


def segment_colour(app: object, table: InterfacesPane, word: str) -> object:
    size = table.size
    for strip in table.render_lines(Region(0, 0, size.width, size.height)):
        for segment in strip:
            if segment.text.strip() == word:
                return segment.style.color if segment.style else None
    raise AssertionError(f"{word!r} not drawn")


@pytest.mark.parametrize("theme", ["nord", "textual-light", "gruvbox"])
async def test_switching_the_theme_recolours_what_is_shown(
    make_app: AppFactory, theme: str
) -> None:
    app = make_app()
    # judged as a truecolor terminal shows it (headless, the console says 16 colours)
    app._legible = Legible("truecolor")
    async with app.run_test(size=(140, 36)) as pilot:
        await settle(pilot)
        app.goto(PAIR_D)  # dc0: a veth whose state is down
        await settle(pilot)
        table = app.query_one(InterfacesPane)
        before = segment_colour(app, table, "veth")
        app.theme = theme
        for _ in range(20):
            await pilot.pause(0.02)
        variables = app.get_css_variables()
        for role, variable in ROLE_VARIABLES.items():
            expected = Color.parse(variables[variable]).rich_color
            assert app.console.get_style(role).color == expected, (role, theme)
        kind = Color.parse(variables["text-primary"]).rich_color
        assert segment_colour(app, table, "veth") == kind != before


async def test_emphasis_survives_no_colour(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app()
    async with app.run_test(size=(140, 36)) as pilot:
        await settle(pilot)
        for role in (roles.BAD, roles.ALERT, roles.HEADING_WARN, roles.BRIDGE, roles.PROMPT):
            assert app.console.get_style(role).bold, role
        assert app.console.get_style(roles.HEADING_WARN).underline
        app.goto(PAIR_D)
        await settle(pilot)
        segments = [s for strip in app.screen._compositor.render_strips() for s in strip]
        down = [s for s in segments if s.text.strip() == "admin down"]
        assert down and all(s.style is not None and s.style.bold for s in down)
        app.goto(WEB)
        await pilot.press("5")  # Details: headings underlined
        await settle(pilot)
        segments = [s for strip in app.screen._compositor.render_strips() for s in strip]
        assert any(
            s.text.strip() == "Namespace" and s.style and s.style.underline for s in segments
        )
