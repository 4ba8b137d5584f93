"""`n` (name a namespace for `ip netns`) while a filter is active: the filter and the
selection stay as they were, before and after the name takes effect."""

from __future__ import annotations

from dataclasses import replace

from helpers import burst, screen_text, settle
from uifixtures import LAB_A, LAB_B, PROC, AppFactory, FakeRunner, FakeSource, lab_snapshot

from nsexplorer.model import NetNamespace
from nsexplorer.ui.screens.dialogs import ConfirmScreen, PromptScreen
from nsexplorer.ui.widgets.filterbar import FilterBar
from nsexplorer.ui.widgets.sidebar import NamespaceTree

SIZE = (120, 36)


class NamingRunner(FakeRunner):
    """Naming adds the name to the source's snapshot, and relabels the namespace as
    discovery does (a namespace without containers is labelled by its names)."""

    def __init__(self, source: FakeSource) -> None:
        super().__init__()
        self.source = source

    def name(self, ns: NetNamespace, name: str) -> str:
        path = super().name(ns, name)
        snap = self.source.snapshot
        self.source.snapshot = replace(
            snap,
            namespaces=tuple(
                _named(n, name) if n.inode == ns.inode else n for n in snap.namespaces
            ),
        )
        return path


def _named(ns: NetNamespace, name: str) -> NetNamespace:
    names = (*ns.names, name)
    return replace(ns, names=names, label=ns.label if ns.containers else ", ".join(names))


async def _name_it(app, pilot, name: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("n")
    await settle(pilot)
    assert isinstance(app.screen, PromptScreen)
    await pilot.press(*name, "enter")
    await settle(pilot)
    assert isinstance(app.screen, ConfirmScreen)
    await pilot.press("y")
    await settle(pilot)
    await pilot.pause(0.2)  # the collect that follows the action
    await settle(pilot)


async def test_naming_keeps_the_filter_and_the_selection(make_app: AppFactory) -> None:
    source = FakeSource(lab_snapshot())
    runner = NamingRunner(source)
    app = make_app(source=source, runner=runner)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, ["slash", *"nsxlab-", "enter"])
        await settle(pilot)
        tree = app.query_one(NamespaceTree)
        listed = set(tree.inodes())
        app.goto(LAB_B)  # not the best match
        await settle(pilot)
        assert app.selected == LAB_B
        await _name_it(app, pilot, "nsxqf-named")
        assert runner.named == [(LAB_B, "nsxqf-named")]
        assert app.query_one(FilterBar).value == "nsxlab-"
        assert app.selected == LAB_B
        assert tree.highlighted == LAB_B
        assert set(tree.inodes()) == listed
        assert app.selected != LAB_A


async def test_naming_a_row_the_filter_found_by_label_keeps_it(make_app: AppFactory) -> None:
    """`/sleep` finds "pid 6161 (sleep)" by its label; named, it is relabelled
    "nsxqf-sleeper" and no longer matches: it stays listed and selected, the filter
    stays, until the filter is changed."""
    source = FakeSource(lab_snapshot())
    runner = NamingRunner(source)
    app = make_app(source=source, runner=runner)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, ["slash", *"6161 (sl", "enter"])
        await settle(pilot)
        tree = app.query_one(NamespaceTree)
        assert app.selected == PROC
        listed = set(tree.inodes())
        await _name_it(app, pilot, "nsxqf-nm")
        assert runner.named == [(PROC, "nsxqf-nm")]
        ns = app.main.selected_ns
        assert ns is not None and ns.label == "nsxqf-nm"  # the new snapshot arrived
        assert app.query_one(FilterBar).value == "6161 (sl"
        assert app.selected == PROC
        assert tree.highlighted == PROC
        assert set(tree.inodes()) == listed
        await pilot.press(*["greater_than_sign"] * 4)  # wide enough for the reason
        await settle(pilot)
        assert "names changed: kept until the filter changes" in screen_text(app)
        # A new filter is a new question: the row is no longer kept.
        burst(app, ["slash", "right", "backspace", "enter"])  # edited, not replaced
        await settle(pilot)
        assert PROC not in set(tree.inodes())


async def test_a_declined_name_leaves_neither_its_command_nor_a_change(
    make_app: AppFactory,
) -> None:
    source = FakeSource(lab_snapshot())
    runner = NamingRunner(source)
    app = make_app(source=source, runner=runner)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_B)
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        note = screen_text(app)
        assert "enter: name it (asks first) · escape: cancel" in note  # the keys, said
        await pilot.press(*"nsxqf-no", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "nsxqf-no" in app.main.current_command
        await pilot.press("n")  # no
        await settle(pilot)
        assert runner.named == []
        assert "nsxqf-no" not in app.main.current_command  # the bar offers the shell again
        assert "nsxqf-no" not in screen_text(app)
