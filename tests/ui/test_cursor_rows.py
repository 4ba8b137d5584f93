"""The sidebar's cursor never rests on a group title (Home, End, PageUp, PageDown,
shift+left, a click all land on a namespace row), and when nothing is selected the
title and the refusals say the true reason."""

from __future__ import annotations

from dataclasses import replace

from helpers import settle, widget_text
from uifixtures import HOST, ORPHAN, AppFactory, FakeRunner, FakeSource, FakeWatcher, lab_snapshot

from nsexplorer.ports import WatchCoverage
from nsexplorer.ui.widgets.output import OutputPane
from nsexplorer.ui.widgets.sidebar import NamespaceTree

SIZE = (120, 30)


async def test_home_end_and_pages_land_on_namespace_rows(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 12)) as pilot:  # a short sidebar: pages matter
        await settle(pilot)
        tree = app.query_one(NamespaceTree)
        app.goto(ORPHAN)
        await settle(pilot)
        await pilot.press("home")
        await settle(pilot)
        assert app.selected == HOST  # the first namespace, not the "Host" title above it
        assert tree.scroll_y == 0  # and that title is in view
        assert "nothing selected" not in widget_text(app.query_one("#title"))
        await pilot.press("end")
        await settle(pilot)
        assert app.selected == ORPHAN
        for key in ("pageup", "pageup", "pagedown", "pageup", "shift+left", "pagedown"):
            await pilot.press(key)
            await settle(pilot)
            node = tree.cursor_node
            assert node is not None and node.data is not None, key
            assert app.selected == node.data, key


async def test_a_click_on_a_group_title_selects_a_namespace(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        tree = app.query_one(NamespaceTree)
        title_line = next(
            n for n in range(tree.last_line + 1) if tree.get_node_at_line(n).data is None and n
        )
        await pilot.click(tree, offset=(8, title_line))
        await settle(pilot)
        assert app.selected is not None
        assert tree.cursor_node is not None and tree.cursor_node.data == app.selected


async def test_nothing_selected_says_the_true_reason(make_app: AppFactory) -> None:
    runner = FakeRunner()
    app = make_app(replace(lab_snapshot(), namespaces=()), runner=runner)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        title = widget_text(app.query_one("#title"))
        assert "nothing selected: no namespace was found" in title
        await pilot.press("x")
        await settle(pilot)
        out = "\n".join(app.query_one(OutputPane).transcript)
        assert "nothing is selected (no namespace was found): nothing ran" in out
        assert "filter" not in out  # no filter is set: it does not blame one
        assert runner.runs == []


async def test_a_filter_that_matches_nothing_is_named_as_the_reason(
    make_app: AppFactory,
) -> None:
    app = make_app(runner=FakeRunner())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"no-such-thing", "enter")
        await settle(pilot)
        assert "the filter matches no namespace" in widget_text(app.query_one("#title"))
        await pilot.press("x")
        await settle(pilot)
        out = "\n".join(app.query_one(OutputPane).transcript)
        assert "nothing is selected (the filter matches no namespace): nothing ran" in out


async def test_one_namespace_is_one_namespace_in_the_status(make_app: AppFactory) -> None:
    snap = lab_snapshot()
    one = replace(snap, namespaces=snap.namespaces[:1])
    watcher = FakeWatcher(WatchCoverage(watched=1))  # watched: the count is shown
    app = make_app(source=FakeSource(one), watcher=watcher)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert widget_text(app.query_one("#status")).strip() == "1 namespace · live"


async def test_the_selected_row_stays_in_view_when_the_terminal_shrinks(
    make_app: AppFactory,
) -> None:
    """QA: after resizing to 80x24 the selected sidebar row had scrolled out of view."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.goto(ORPHAN)  # the last row
        await settle(pilot)
        tree = app.query_one(NamespaceTree)
        assert tree.scroll_y == 0  # everything fits at 120x40
        await pilot.resize_terminal(80, 16)
        await settle(pilot)
        top, height = tree.scroll_y, tree.scrollable_content_region.height
        assert tree.cursor_line >= height  # it would be below the bottom unscrolled...
        assert top <= tree.cursor_line < top + height  # ...but it is in view
        assert "pid 8181 (orphan)" in widget_text(tree)
