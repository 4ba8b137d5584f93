"""The Inside pane (key 8) in the running app: read for the selected namespace only,
only while the pane shows, in a worker; a late result for a namespace no longer selected
is dropped; a failed read is a message; a replay says "not recorded" unless the snapshot
holds inside facts."""

from __future__ import annotations

import threading
from collections.abc import Collection

from helpers import settle, widget_text
from textual.pilot import Pilot
from uifixtures import DB, LAB_A, WEB, AppFactory, FakeSource, FakeWatcher, lab_snapshot
from viewfixtures import HOSTILE_COMM, inside_facts

from nsexplorer.collect.recorded import SnapshotReplay
from nsexplorer.model import NetNamespace
from nsexplorer.model_inside import InsideFacts
from nsexplorer.ui.app import NsxApp
from nsexplorer.ui.widgets.inside import InsidePane

SIZE = (120, 40)


def _inside(app: NsxApp) -> str:
    return widget_text(app.main.query_one("#inside-body"))


def _ns(inode: int) -> NetNamespace:
    ns = lab_snapshot().by_inode(inode)
    assert ns is not None
    return ns


async def _go(app: NsxApp, pilot: Pilot[None], inode: int) -> None:
    app.goto(inode)
    await settle(pilot)


async def test_read_only_while_the_pane_shows_and_only_for_the_selected(
    make_app: AppFactory,
) -> None:
    source = FakeSource(lab_snapshot())
    source.inside_facts[WEB] = inside_facts(_ns(WEB))
    app = make_app(source=source)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _go(app, pilot, WEB)
        assert source.inside_calls == []  # not shown: not read
        await pilot.press("8")
        await settle(pilot)
        assert app.pane == "inside"
        assert source.inside_calls == [WEB]
        text = _inside(app)
        assert "tcp4  LISTEN     0.0.0.0:80  nginx(101)" in text
        assert "\\x1b[31mev[b]il\\x07(202)" in text and HOSTILE_COMM not in text
        await _go(app, pilot, DB)  # moving while it shows reads the new one
        assert source.inside_calls == [WEB, DB]
        assert "not in this test's data" in _inside(app) and "nginx" not in _inside(app)
        await pilot.press("1")
        await _go(app, pilot, LAB_A)
        await _go(app, pilot, WEB)
        assert source.inside_calls == [WEB, DB]  # another pane shows: nothing read
        await pilot.press("8")
        await settle(pilot)
        assert source.inside_calls == [WEB, DB, WEB]
        await pilot.press("8")  # shown already: not read again
        await settle(pilot)
        assert source.inside_calls == [WEB, DB, WEB]


class SlowSource(FakeSource):
    """Inside reads that wait for their namespace's gate."""

    def __init__(self) -> None:
        super().__init__(lab_snapshot())
        self.gates = {WEB: threading.Event(), DB: threading.Event()}
        self.started = {WEB: threading.Event(), DB: threading.Event()}

    def inside(self, ns: NetNamespace, parts: Collection[str] | None = None) -> InsideFacts:
        self.started[ns.inode].set()
        self.gates[ns.inode].wait(10)
        return super().inside(ns, parts)


async def test_a_result_for_a_namespace_no_longer_selected_is_dropped(
    make_app: AppFactory,
) -> None:
    source = SlowSource()
    source.inside_facts[WEB] = inside_facts(_ns(WEB))
    app = make_app(source=source)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("8")
        app.goto(WEB)
        await pilot.pause()
        assert source.started[WEB].wait(5)
        app.goto(DB)
        await pilot.pause()
        assert source.started[DB].wait(5)
        assert "reading sockets, neighbours and NAT of nsxlab-db" in _inside(app)
        source.gates[WEB].set()  # WEB's answer arrives after the selection moved on
        await pilot.pause(0.2)
        assert "nginx" not in _inside(app)
        assert "reading sockets, neighbours and NAT of nsxlab-db" in _inside(app)
        source.gates[DB].set()
        await settle(pilot)
        assert "not in this test's data" in _inside(app) and "nginx" not in _inside(app)
        pane = app.main.query_one(InsidePane)
        assert pane.facts is not None and pane.facts.namespace_inode == DB


class BrokenSource(FakeSource):
    def inside(self, ns: NetNamespace, parts: Collection[str] | None = None) -> InsideFacts:
        raise RuntimeError("sock_diag \x1b[31mbroke[/]")


async def test_a_failed_read_is_a_message_not_a_crash(make_app: AppFactory) -> None:
    app = make_app(source=BrokenSource(lab_snapshot()))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _go(app, pilot, WEB)
        await pilot.press("8")
        await settle(pilot)
        assert "RuntimeError: sock_diag \\x1b[31mbroke[/]" in _inside(app)
        await pilot.press("1")  # the app goes on
        await settle(pilot)
        assert app.pane == "interfaces"


async def test_a_full_read_reads_again_what_shows(make_app: AppFactory) -> None:
    source = FakeSource(lab_snapshot())
    watcher = FakeWatcher()
    app = make_app(source=source, watcher=watcher, debounce=0.01, min_collect_gap=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _go(app, pilot, WEB)
        await pilot.press("8")
        await settle(pilot)
        assert source.inside_calls == [WEB]
        source.inside_facts[WEB] = inside_facts(_ns(WEB))
        assert watcher.on_change is not None
        watcher.on_change("host netlink")
        await pilot.pause(0.1)
        await settle(pilot)
        assert source.inside_calls == [WEB, WEB]
        assert "nginx(101)" in _inside(app)


async def test_a_replay_says_not_recorded_unless_the_snapshot_holds_inside_facts(
    make_app: AppFactory,
) -> None:
    snap = lab_snapshot()
    source = SnapshotReplay(snap, origin="saved.json", inside={WEB: inside_facts(_ns(WEB))})
    app = make_app(source=source, live=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _go(app, pilot, WEB)
        await pilot.press("8")
        await settle(pilot)
        assert "tcp4  LISTEN     0.0.0.0:80  nginx(101)" in _inside(app)
        await _go(app, pilot, DB)
        text = _inside(app)
        assert "not recorded (saved.json holds no sockets" in text
        assert "Sockets (" not in text
