"""A host with hundreds of interfaces: the Interfaces table adds the rows a screen shows
at once and the rest right after the frame; every row is there once settled, a jump to
a row far down finds it at once, and a refill in between never mixes two namespaces."""

from __future__ import annotations

from dataclasses import replace

from helpers import settle
from uifixtures import HOST, LAB_A, AppFactory, lab_snapshot, veth

from nsexplorer.model import Snapshot
from nsexplorer.ui.widgets.panes import FIRST_ROWS, InterfacesPane

MANY = 3 * FIRST_ROWS


def many_veths() -> Snapshot:
    snap = lab_snapshot()
    spaces = []
    for ns in snap.namespaces:
        if ns.inode == HOST:
            extra = tuple(
                veth(
                    1000 + n, f"vethmany{n:04d}", f"02:00:00:00:{n // 256:02x}:{n % 256:02x}", None
                )
                for n in range(MANY)
            )
            ns = replace(ns, interfaces=(*ns.interfaces, *extra))  # noqa: PLW2901
        spaces.append(ns)
    return replace(snap, namespaces=tuple(spaces))


async def test_every_row_arrives_and_a_far_row_is_found_at_once(make_app: AppFactory) -> None:
    snap = many_veths()
    host = next(ns for ns in snap.namespaces if ns.inode == HOST)
    app = make_app(snap)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        app.goto(HOST)
        await settle(pilot)
        table = app.query_one(InterfacesPane)
        assert table.row_count == len(host.interfaces)
        assert [str(k.value) for k in table.rows] == [str(i.ifindex) for i in host.interfaces]
        # away and back, then at once (no frame in between) to the last row
        app.goto(LAB_A)
        await settle(pilot)
        app.goto(HOST)
        assert table.row_count < len(host.interfaces)  # the rest comes after the frame
        assert table.select_ifindex(1000 + MANY - 1)
        assert table.selected_ifindex == 1000 + MANY - 1
        # a refill before the rest arrived: only the new namespace's rows
        app.goto(HOST)
        app.goto(LAB_A)
        await settle(pilot)
        lab_a = next(ns for ns in snap.namespaces if ns.inode == LAB_A)
        assert table.row_count == len(lab_a.interfaces)
