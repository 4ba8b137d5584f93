"""State a responder can act on: admin state and carrier apart, with the cause; the
columns in the order they are read, the name kept while scrolling sideways; counters
with rates and a sparkline."""

from __future__ import annotations

from dataclasses import replace

import pytest
from helpers import settle, widget_text
from uifixtures import LAB_A, ORPHAN, PAIR_C, PAIR_D, AppFactory, FakeSource, lab_snapshot

from nsexplorer.model import Counters, NetNamespace
from nsexplorer.ui import main_screen
from nsexplorer.ui.widgets.counters import CountersPane
from nsexplorer.ui.widgets.panes import InterfacesPane

SIZE = (160, 36)


def rows(app) -> list[str]:  # type: ignore[no-untyped-def]
    return widget_text(app.query_one(InterfacesPane)).splitlines()


def row_of(app, name: str) -> str:  # type: ignore[no-untyped-def]
    return next(line for line in rows(app) if line.strip().startswith(name))


def tooltip_of(app, name: str) -> object:  # type: ignore[no-untyped-def]
    table = app.query_one(InterfacesPane)
    ns = app.main.selected_ns
    table.move_cursor(row=[i.name for i in ns.interfaces].index(name))
    return table.tooltip


async def test_admin_down_and_no_carrier_are_told_apart(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(PAIR_D)
        await settle(pilot)
        assert " admin down " in row_of(app, "dc0")
        app.goto(PAIR_C)
        await settle(pilot)
        # the column's compact word; the cause in the row's tooltip (and its Details)
        assert " no carrier " in row_of(app, "cd0")
        assert str(tooltip_of(app, "cd0")) == "cd0: up, no carrier: peer admin down in nsxlab-d"
        app.goto(ORPHAN)
        await settle(pilot)
        assert " no carrier " in row_of(app, "lost0")
        assert str(tooltip_of(app, "lost0")) == "lost0: up, no carrier: peer unresolved"
        app.goto(LAB_A)
        await settle(pilot)
        assert " up " in row_of(app, "veth0") and "carrier" not in row_of(app, "veth0")


async def test_flags_not_recorded_fall_back_to_the_kernels_word(make_app: AppFactory) -> None:
    snap = lab_snapshot()
    lab_a = snap.by_inode(LAB_A)
    assert lab_a is not None
    old = replace(lab_a, interfaces=tuple(replace(i, flags=()) for i in lab_a.interfaces))
    snap = replace(snap, namespaces=tuple(old if n.inode == LAB_A else n for n in snap.namespaces))
    app = make_app(snap)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await settle(pilot)
        assert " unknown " in row_of(app, "lo")  # lo's operstate, as the kernel says


async def test_columns_in_reading_order_and_the_name_stays(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await settle(pilot)
        header = rows(app)[0].split()
        assert header[:4] == ["name", "state", "addresses", "peer"]
        table = app.query_one(InterfacesPane)
        assert rows(app)[0].rstrip().endswith("…")  # more columns to the right, said so
        table.scroll_to(x=40, animate=False)
        await pilot.pause()
        text = rows(app)
        assert text[0].startswith(" name ")  # the name column does not scroll away
        assert any(line.startswith(" veth0 ") for line in text)
        assert "…" in text[0][:12]  # and what is cut on its left is marked


class TickingSource(FakeSource):
    """detail() returns counters that grow by 1000 rx / 500 tx bytes per reading."""

    def __init__(self) -> None:
        super().__init__(lab_snapshot())
        self.readings = 0

    def detail(self, ns: NetNamespace) -> NetNamespace:
        self.readings += 1
        n = self.readings
        ifaces = tuple(
            replace(
                i,
                counters=Counters(
                    rx_bytes=1000 * n, tx_bytes=500 * n, rx_errors=3, read_at=float(n)
                ),
            )
            for i in ns.interfaces
        )
        return replace(ns, interfaces=ifaces)


async def test_counters_show_rates_and_a_sparkline(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(main_screen, "COUNTERS_EVERY", 0.05)
    source = TickingSource()
    app = make_app(source=source)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await pilot.press("7")
        for _ in range(100):
            await pilot.pause(0.05)
            if source.readings >= 5:
                break
        await pilot.pause(0.1)
        text = widget_text(app.query_one(CountersPane))
        header = text.splitlines()[0]
        for column in ("rx bytes", "rx/s", "rx err", "tx drop"):
            assert column in header
        veth0 = next(line for line in text.splitlines() if line.strip().startswith("veth0"))
        assert "/s" in veth0  # a rate from two readings
        assert any(ch in veth0 for ch in "▁▂▃▄▅▆▇█")  # the sparkline
        await pilot.press("1")  # leaving the pane stops the readings
        await settle(pilot)
        seen = source.readings
        await pilot.pause(0.3)
        assert source.readings == seen


async def test_counters_in_a_replay_say_they_are_not_live(make_app: AppFactory) -> None:
    app = make_app(live=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await pilot.press("7")
        await settle(pilot)
        pane = app.query_one(CountersPane)
        assert "1000 B" in widget_text(pane)
        pane.scroll_to(x=pane.max_scroll_x, animate=False)  # the sparkline's column, last
        await pilot.pause()
        assert "not live" in widget_text(pane)


async def test_a_bridge_port_that_does_not_forward_says_so(make_app: AppFactory) -> None:
    """QA: a port up with carrier but disabled (or learning, under STP) drops every
    frame, and its bridge's "no carrier" was blamed on "no port up". The port says its
    STP state in the master column and on the wire; the bridge says no port forwards."""
    snap = lab_snapshot()
    host = snap.host
    assert host is not None

    def stalled(i):  # type: ignore[no-untyped-def]
        if i.name == "nsxlab-a-h":
            return replace(i, port_state="learning")
        if i.name == "nsxlab-br0":
            return replace(i, flags=("NO-CARRIER", "BROADCAST", "MULTICAST", "UP"), state="down")
        return replace(i, port_state="forwarding") if i.master else i

    now = replace(host, interfaces=tuple(stalled(i) for i in host.interfaces))
    spaces = tuple(now if ns.inode == host.inode else ns for ns in snap.namespaces)
    app = make_app(source=FakeSource(replace(snap, namespaces=spaces)))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(host.inode)
        await settle(pilot)
        assert "nsxlab-br0 (learning)" in row_of(app, "nsxlab-a-h")
        assert "(forwarding)" not in row_of(app, "nsxlab-b-h")  # nothing to say
        assert (
            str(tooltip_of(app, "nsxlab-br0")) == "nsxlab-br0: up, no carrier: no port forwarding"
        )
        app.goto(LAB_A)
        await pilot.press("3")
        await settle(pilot)
        wiring = widget_text(app.query_one("#wiring"))
        assert "⇄ nsxlab-a-h in host port learning" in wiring, wiring
        # the bridge's own line says why nothing crosses it (QA)
        assert "bridge nsxlab-br0 in host up, no carrier (no port forwarding)" in wiring


async def test_a_vxlan_shows_its_tunnel(make_app: AppFactory) -> None:
    """QA: a vxlan showed no VNI, remote or group (its "peer", for an overlay)."""
    from nsexplorer.model_net import Interface, Vxlan

    snap = lab_snapshot()
    lab_a = snap.by_inode(LAB_A)
    assert lab_a is not None
    tunnel = Interface(90, "vx43", "vxlan", "up", 1450, "02:00:00:00:00:43",
                       flags=("BROADCAST", "MULTICAST", "UP", "LOWER_UP"),
                       vxlan=Vxlan(43, "239.1.1.1", port=4789), txqlen=0, group=7)  # fmt: skip
    now = replace(lab_a, interfaces=(*lab_a.interfaces, tunnel))
    spaces = tuple(now if ns.inode == LAB_A else ns for ns in snap.namespaces)
    app = make_app(source=FakeSource(replace(snap, namespaces=spaces)))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await settle(pilot)
        assert "→ group 239.1.1.1 (id 43)" in row_of(app, "vx43")
        assert str(tooltip_of(app, "vx43")) == (
            "vx43: up; vxlan id 43 group 239.1.1.1 dstport 4789; device group 7; qlen 0"
        )


async def test_the_tooltip_follows_the_pointer_s_row(make_app: AppFactory) -> None:
    """QA: hovering a row showed the cursor row's state (the tooltip named `lo` while
    the pointer was on a tap): it names the row under the pointer."""
    from textual.coordinate import Coordinate

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await settle(pilot)
        table = app.query_one(InterfacesPane)
        ns = app.main.selected_ns
        assert ns is not None and len(ns.interfaces) > 1
        table.move_cursor(row=0)
        table.hover_coordinate = Coordinate(1, 0)  # as a mouse move over row 1 sets it
        await pilot.pause()
        assert str(table.tooltip).startswith(f"{ns.interfaces[1].name}:")
        table.move_cursor(row=0)
        table.move_cursor(row=len(ns.interfaces) - 1)  # the keys: the cursor's row again
        await pilot.pause()
        assert str(table.tooltip).startswith(f"{ns.interfaces[-1].name}:")
