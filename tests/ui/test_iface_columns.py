"""The Interfaces pane at the sizes a responder has (120x40, 80x24): the columns that
matter stay in view (a capped name column, a compact state word, the Docker network in
the master column), → and ← scroll one column, Home and End go to the first and last
row, a jump from an mtu finding lands with the mtu in view."""

from __future__ import annotations

import dataclasses

from helpers import settle, widget_text
from uifixtures import HOST, LAB_A, AppFactory, lab_snapshot

from nsexplorer.model import Snapshot
from nsexplorer.ui.screens.problems import ProblemsScreen
from nsexplorer.ui.widgets.panes import InterfacesPane


def _with(snap: Snapshot, inode: int, name: str, **changes: object) -> Snapshot:
    """``snap`` with interface ``name`` of namespace ``inode`` changed."""
    ns = snap.by_inode(inode)
    assert ns is not None
    ifaces = tuple(
        dataclasses.replace(i, **changes) if i.name == name else i  # type: ignore[arg-type]
        for i in ns.interfaces
    )
    new = dataclasses.replace(ns, interfaces=ifaces)
    return dataclasses.replace(
        snap, namespaces=tuple(new if n.inode == inode else n for n in snap.namespaces)
    )


def _peer_down() -> Snapshot:
    """nsxlab-a's veth0 admin down: the host end nsxlab-a-h is up with no carrier."""
    snap = _with(lab_snapshot(), LAB_A, "veth0", state="down", flags=("BROADCAST", "MULTICAST"))
    flags = ("NO-CARRIER", "BROADCAST", "MULTICAST", "UP")
    return _with(snap, HOST, "nsxlab-a-h", state="lowerlayerdown", flags=flags)


def _lines(app) -> list[str]:  # type: ignore[no-untyped-def]
    return widget_text(app.query_one(InterfacesPane)).splitlines()


def _line(app, name: str) -> str:  # type: ignore[no-untyped-def]
    return next(line for line in _lines(app) if line.strip().startswith(name))


async def test_at_120x40_the_name_stays_narrow_and_the_peer_is_in_view(
    make_app: AppFactory,
) -> None:
    app = make_app(_peer_down())
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.goto(HOST)
        await settle(pilot)
        table = app.query_one(InterfacesPane)
        name, state = table.ordered_columns[0], table.ordered_columns[1]
        assert name.width <= 16  # a Docker network no longer widens it
        assert state.width <= 10  # "no carrier", not "up, no carrier (peer admin down)"
        assert "no carrier" in _line(app, "nsxlab-a-h")
        # the cause beside the end to set up, in the peer column; other peers say nothing
        assert table.get_row("11")[3].plain == "→ veth0 in nsxlab-a, admin down"
        assert "admin down" not in table.get_row("12")[3].plain
        assert "→ eth0 in nsxlab-web" in _line(app, "veth46024eb")  # namespace not cut
        # the Docker network is still told, in the master column of its bridge
        bridge = table.get_row("5")
        assert bridge[0].plain == "br-1a2b3c4d5e6f"
        assert bridge[4].plain == "docker:nsxlab-net"
        # the cause is the row's tooltip, in show's words
        table.focus()
        row = table.ifindexes.index(11)
        table.move_cursor(row=row)
        await pilot.pause()
        assert str(table.tooltip) == "nsxlab-a-h: up, no carrier: peer admin down in nsxlab-a"


async def test_right_and_left_step_a_column_home_and_end_move_rows(
    make_app: AppFactory,
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.goto(HOST)
        await settle(pilot)
        table = app.query_one(InterfacesPane)
        table.focus()
        widths = [c.get_render_width(table) for c in table.ordered_columns]
        await pilot.press("right")
        await pilot.pause()
        assert table.scroll_x == widths[1]  # the state column, whole, off to the left
        assert _lines(app)[0].split()[1:2] == ["…addresses"]  # next to the name, cut marked
        await pilot.press("right")
        await pilot.pause()
        assert table.scroll_x == widths[1] + widths[2]
        await pilot.press("left", "left")
        await pilot.pause()
        assert table.scroll_x == 0
        await pilot.press("end")
        await pilot.pause()
        assert table.cursor_row == table.row_count - 1
        assert table.scroll_x == 0  # End is the last row, not the far right
        await pilot.press("home")
        await pilot.pause()
        assert table.cursor_row == 0


async def test_a_refill_of_the_same_namespace_keeps_the_sideways_scroll(
    make_app: AppFactory,
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.goto(HOST)
        await settle(pilot)
        table = app.query_one(InterfacesPane)
        table.focus()
        await pilot.press("right", "right")
        await pilot.pause()
        scrolled = table.scroll_x
        assert scrolled > 0
        host = app.main.selected_ns
        assert host is not None
        lookup = app.main.nsx.inventory.by_inode
        renamed = dataclasses.replace(host.interfaces[1], alias="uplink")
        changed = dataclasses.replace(
            host, interfaces=(host.interfaces[0], renamed, *host.interfaces[2:])
        )
        table.show_namespace(changed, lookup)
        await pilot.pause()
        assert "uplink" in "".join(c.plain for c in table.get_row("2"))  # it was refilled
        assert table.scroll_x == scrolled


async def test_a_jump_from_an_mtu_mismatch_lands_with_the_mtu_in_view(
    make_app: AppFactory,
) -> None:
    app = make_app(_with(lab_snapshot(), LAB_A, "veth0", mtu=1400))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProblemsScreen)
        row = next(
            n
            for n, p in enumerate(screen.problems)
            if p.kind == "mtu-mismatch" and p.namespace_inode == LAB_A
        )
        for _ in range(row):
            await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        assert app.selected == LAB_A
        table = app.query_one(InterfacesPane)
        assert table.selected_ifindex == 2
        lines = _lines(app)
        assert "mtu" in lines[0].split()
        assert "1400" in _line(app, "veth0")
