"""Problems in the running app: a badge on each affected sidebar row and the count in the
title after every full read (live) or from the replayed snapshot; a namespace's Details
holds its own findings and only the warnings that are about it; counters that grow
between two reads become findings, badges and Problems rows that jump."""

from __future__ import annotations

from dataclasses import replace

import pytest
from helpers import screen_text, settle, widget_text
from textual.geometry import Region
from textual.pilot import Pilot
from uifixtures import (
    DB,
    HOST,
    LAB_A,
    ORPHAN,
    PAIR_C,
    PAIR_D,
    WEB,
    AppFactory,
    FakeSource,
    FakeWatcher,
    lab_snapshot,
)

from nsexplorer.model import Counters, Interface, NetNamespace, Snapshot
from nsexplorer.problems.base import COUNTERS_GROWING
from nsexplorer.ui import main_screen, problemboard
from nsexplorer.ui.app import NsxApp
from nsexplorer.ui.screens.problems import ProblemsScreen
from nsexplorer.ui.widgets.counters import CountersPane
from nsexplorer.ui.widgets.sidebar import NamespaceTree

SIZE = (120, 36)
FAULTY = {PAIR_C, PAIR_D, ORPHAN}  # the lab fixture's veth pair with an end down, lost0


def _title(app: NsxApp) -> str:
    """The title line as drawn, its padding included."""
    line = app.main.query_one("#title")
    width = line.outer_size.width
    return "".join(s.text for s in line.render_lines(Region(0, 0, width, 1))).strip()


def _row(app: NsxApp, label: str) -> str:
    """The sidebar line of the namespace labelled ``label`` (plain characters)."""
    tree = app.main.query_one(NamespaceTree)
    lines = widget_text(tree).splitlines()
    return next(line for line in lines if f" {label}" in line and "↳" not in line)


def _replace_ns(snap: Snapshot, inode: int, **changes: object) -> Snapshot:
    ns = snap.by_inode(inode)
    assert ns is not None
    new = replace(ns, **changes)  # type: ignore[arg-type]
    return replace(snap, namespaces=tuple(new if n.inode == inode else n for n in snap.namespaces))


def _healed(snap: Snapshot) -> Snapshot:
    """The pair's down end set up again: nsxlab-c and nsxlab-d are healthy."""
    for inode in (PAIR_C, PAIR_D):
        ns = snap.by_inode(inode)
        assert ns is not None
        up = tuple(
            replace(i, state="up", flags=("BROADCAST", "MULTICAST", "UP", "LOWER_UP"))
            if i.name in ("cd0", "dc0")
            else i
            for i in ns.interfaces
        )
        snap = _replace_ns(snap, inode, interfaces=up)
    return snap


def _found_lost0(snap: Snapshot) -> Snapshot:
    """lost0's carrier back: the orphan is healthy too."""
    orphan = snap.by_inode(ORPHAN)
    assert orphan is not None
    lost = orphan.interfaces[1]
    fixed = replace(lost, state="up", flags=("BROADCAST", "MULTICAST", "UP", "LOWER_UP"))
    return _replace_ns(snap, ORPHAN, interfaces=(orphan.interfaces[0], fixed))


async def _reread(pilot: Pilot[None], watcher: FakeWatcher) -> None:
    assert watcher.on_change is not None
    watcher.on_change("host netlink")
    await pilot.pause(0.1)
    await settle(pilot)


async def test_badges_on_affected_rows_only_and_the_count_in_the_title(
    make_app: AppFactory,
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        tree = app.main.query_one(NamespaceTree)
        for ns in app.namespaces:
            assert tree.badge_of(ns.inode) == ("error" if ns.inode in FAULTY else None)
        # drawn at the right edge of the row, the label left where it was
        assert _row(app, "nsxlab-c").rstrip().endswith(" E")
        assert _row(app, "nsxlab-a").rstrip().endswith("nsxlab-a")
        assert _row(app, "pid 8181 (orphan)").rstrip().endswith(" E")
        assert _title(app).endswith("p: 3 errors")
        assert _title(app).startswith("host  netns")


async def test_badges_and_count_follow_each_full_read(make_app: AppFactory) -> None:
    source = FakeSource(lab_snapshot())
    watcher = FakeWatcher()
    app = make_app(source=source, watcher=watcher, debounce=0.01, min_collect_gap=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        tree = app.main.query_one(NamespaceTree)
        assert tree.badge_of(PAIR_C) == "error"
        source.snapshot = _healed(source.snapshot)
        await _reread(pilot, watcher)
        assert tree.badge_of(PAIR_C) is None and tree.badge_of(PAIR_D) is None
        assert tree.badge_of(ORPHAN) == "error"
        assert _row(app, "nsxlab-c").rstrip().endswith("nsxlab-c")
        assert _title(app).endswith("p: 1 error")
        source.snapshot = _found_lost0(source.snapshot)
        await _reread(pilot, watcher)
        assert all(tree.badge_of(ns.inode) is None for ns in app.namespaces)
        assert _title(app).endswith("p: no problems")


async def test_a_replay_badges_from_the_snapshot(make_app: AppFactory) -> None:
    app = make_app(live=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        tree = app.main.query_one(NamespaceTree)
        assert {ns.inode for ns in app.namespaces if tree.badge_of(ns.inode)} == FAULTY
        assert "p: 3 errors" in screen_text(app)


async def test_nothing_is_claimed_before_the_full_read(make_app: AppFactory) -> None:
    """The cheap first pass has no interfaces: no badge, no count, and `p` says why."""
    import threading

    gate = threading.Event()
    source = FakeSource(lab_snapshot(), collect_gate=gate)
    app = make_app(source=source)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(50):
            await pilot.pause(0.02)
            if app.namespaces:
                break
        assert app.namespaces and not app.inventory.complete
        tree = app.main.query_one(NamespaceTree)
        assert all(tree.badge_of(ns.inode) is None for ns in app.namespaces)
        assert "p:" not in _title(app)
        await pilot.press("p")
        await pilot.pause()
        assert not isinstance(app.screen, ProblemsScreen)
        gate.set()
        await settle(pilot)
        assert tree.badge_of(PAIR_C) == "error"


# ---------------------------------------------------------------- Details


def _with_warnings(snap: Snapshot) -> Snapshot:
    return replace(
        snap,
        warnings=(
            "2 namespace(s) could not be read over netlink: entering a network namespace "
            "needs root (CAP_SYS_ADMIN)",
            f"veth 'ghost0' in namespace {LAB_A}: peer not found",
        ),
    )


async def _details(app: NsxApp, pilot: Pilot[None], inode: int) -> str:
    app.goto(inode)
    await pilot.press("5")
    await settle(pilot)
    return widget_text(app.main.query_one("#details-body"))


async def test_details_hold_only_what_belongs_to_the_namespace(make_app: AppFactory) -> None:
    app = make_app(_with_warnings(lab_snapshot()))
    async with app.run_test(size=(140, 60)) as pilot:
        await settle(pilot)
        web = await _details(app, pilot, WEB)
        assert "Problems" not in web and "Warnings" not in web
        assert "could not be read over netlink" not in web and "ghost0" not in web
        lab_a = await _details(app, pilot, LAB_A)
        assert "ghost0" in lab_a and "could not be read over netlink" not in lab_a
        assert "Problems" not in lab_a
        host = await _details(app, pilot, HOST)
        assert "Collection warnings" in host and "could not be read over netlink" in host
        assert "ghost0" not in host
        pair_c = await _details(app, pilot, PAIR_C)
        problems = pair_c[pair_c.index("Problems") :]
        assert "E cd0: no carrier: peer dc0 admin down in nsxlab-d" in problems
        assert "ip -n nsxlab-d -d link show dev dc0" in problems
        assert "dc0: admin down" not in pair_c  # nsxlab-d's own finding stays there
        pair_d = await _details(app, pilot, PAIR_D)
        assert "E dc0: admin down" in pair_d


async def test_details_of_a_replay_put_the_snapshot_first_then_the_problems(
    make_app: AppFactory,
) -> None:
    app = make_app(_with_warnings(lab_snapshot()), live=False)
    async with app.run_test(size=(140, 60)) as pilot:
        await settle(pilot)
        text = await _details(app, pilot, PAIR_D)
        assert text.index("Snapshot") < text.index("Problems") < text.index("Namespace")
        assert "could not be read over netlink" not in text


# ---------------------------------------------------------------- counters growing


def _counters(iface: Interface, rx_errors: int, rx_dropped: int) -> Interface:
    return replace(
        iface,
        counters=Counters(rx_bytes=1000, rx_packets=10, rx_errors=rx_errors, rx_dropped=rx_dropped),
    )


def _web_eth0(snap: Snapshot, rx_errors: int, rx_dropped: int = 0) -> Snapshot:
    web = snap.by_inode(WEB)
    assert web is not None
    ifaces = tuple(
        _counters(i, rx_errors, rx_dropped) if i.name == "eth0" else i for i in web.interfaces
    )
    return _replace_ns(snap, WEB, interfaces=ifaces)


def _eth0(app: NsxApp) -> NetNamespace:
    ns = app.inventory.get(WEB)
    assert ns is not None
    return ns


async def test_counters_growing_between_reads_become_a_badge_and_a_problem_that_jumps(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = FakeSource(_web_eth0(_found_lost0(_healed(lab_snapshot())), rx_errors=3))
    watcher = FakeWatcher()
    app = make_app(source=source, watcher=watcher, debounce=0.01, min_collect_gap=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        tree = app.main.query_one(NamespaceTree)
        assert tree.badge_of(WEB) is None  # one read: nothing to compare with
        source.snapshot = _web_eth0(source.snapshot, rx_errors=10, rx_dropped=2)
        await _reread(pilot, watcher)
        assert tree.badge_of(WEB) == "warning"
        assert _row(app, "nsxlab-web").rstrip().endswith(" W")
        assert _title(app).endswith("p: 1 warning")
        app.goto(WEB)
        await pilot.press("5")
        await settle(pilot)
        assert "W eth0: rx_errors +7" in widget_text(app.main.query_one("#details-body"))
        app.goto(DB)
        await settle(pilot)
        await pilot.press("p")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProblemsScreen)
        (growing,) = screen.problems
        assert growing.kind == "counters-growing" and growing.interface == "eth0"
        assert "rx_errors +7" in growing.message and "rx_dropped +2" in growing.message
        await pilot.press("enter")
        await settle(pilot)
        assert app.selected == WEB
        # QA: it opened Interfaces, with no counter in view; the counter is in Counters
        assert app.main.pane == "counters"
        eth0 = next(i for i in _eth0(app).interfaces if i.name == "eth0")
        counters = app.main.query_one(CountersPane)
        assert counters.cursor_row == [i.ifindex for i in _eth0(app).interfaces].index(eth0.ifindex)
        assert "rx err" in widget_text(counters).splitlines()[0]
        # counters that stopped growing: still listed at the next read (a burst stays
        # in view a while), cleared once the hold is over
        await _reread(pilot, watcher)
        assert tree.badge_of(WEB) == "warning"
        monkeypatch.setattr(problemboard, "HOLD", -1.0)
        await _reread(pilot, watcher)
        assert tree.badge_of(WEB) is None


async def test_counters_growing_between_full_reads_are_badged_from_the_selected_reads(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A quiet host gets no full read; the Counters pane's reads of the selected
    namespace still badge its growing counters (compared with the last full read)."""
    monkeypatch.setattr(main_screen, "COUNTERS_EVERY", 0.05)
    source = FakeSource(_web_eth0(_found_lost0(_healed(lab_snapshot())), rx_errors=3))
    app = make_app(source=source, watcher=FakeWatcher(), debounce=0.01, min_collect_gap=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        tree = app.main.query_one(NamespaceTree)
        app.goto(WEB)
        await settle(pilot)
        await pilot.press("7")
        await pilot.pause(0.2)
        assert tree.badge_of(WEB) is None  # nothing grew yet
        collects = source.collects
        source.snapshot = _web_eth0(source.snapshot, rx_errors=5)
        await pilot.pause(0.3)
        await settle(pilot)
        assert source.collects == collects  # no full read happened
        assert tree.badge_of(WEB) == "warning"
        assert _title(app).endswith("p: 1 warning")
        (growing,) = app.board.problems
        assert growing.kind == COUNTERS_GROWING and "rx_errors +2" in growing.message
        # back to the full read's value: nothing grows since it; once the hold is over
        # (a burst stays in view a while), the badge clears
        monkeypatch.setattr(problemboard, "HOLD", -1.0)
        source.snapshot = _web_eth0(source.snapshot, rx_errors=3)
        await pilot.pause(0.3)
        await settle(pilot)
        assert tree.badge_of(WEB) is None


async def test_hostile_problem_text_in_details_is_escaped(make_app: AppFactory) -> None:
    snap = lab_snapshot()
    d = snap.by_inode(PAIR_D)
    assert d is not None
    evil = "d\x1b]2;x\x07[b]0"
    ifaces = tuple(replace(i, name=evil) if i.name == "dc0" else i for i in d.interfaces)
    snap = _replace_ns(snap, PAIR_D, interfaces=ifaces)
    app = make_app(snap)
    async with app.run_test(size=(140, 60)) as pilot:
        await settle(pilot)
        text = await _details(app, pilot, PAIR_D)
        assert "E d\\x1b]2;x\\x07[b]0: admin down" in text
        assert "\x1b" not in screen_text(app)


@pytest.mark.parametrize("width", [90, 120])
async def test_enter_on_a_tx_drop_finding_shows_the_tx_drop_column(
    make_app: AppFactory, width: int
) -> None:
    """QA: at 120 columns, Enter on a `tx_dropped` finding opened Counters with `tx drop`
    three presses of → away."""

    def web_tx(snap: Snapshot, dropped: int) -> Snapshot:
        web = snap.by_inode(WEB)
        assert web is not None
        counted = Counters(rx_bytes=1000, rx_packets=10, tx_dropped=dropped, tx_packets=5)
        ifaces = tuple(
            replace(i, counters=counted) if i.name == "eth0" else i for i in web.interfaces
        )
        return _replace_ns(snap, WEB, interfaces=ifaces)

    source = FakeSource(web_tx(_found_lost0(_healed(lab_snapshot())), 3))
    watcher = FakeWatcher()
    app = make_app(source=source, watcher=watcher, debounce=0.01, min_collect_gap=0)
    async with app.run_test(size=(width, 36)) as pilot:
        await settle(pilot)
        source.snapshot = web_tx(source.snapshot, 9)
        await _reread(pilot, watcher)
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, ProblemsScreen)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.pause(0.3)
        assert app.main.pane == "counters"
        header = widget_text(app.main.query_one(CountersPane)).splitlines()[0]
        assert "tx drop" in header, header
