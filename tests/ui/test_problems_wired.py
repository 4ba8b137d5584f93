"""The Problems view in the real app: `p` lists nsexplorer.problems' findings, Enter
jumps to the namespace with the interface highlighted; Escape leaves the selection."""

from __future__ import annotations

import dataclasses

from helpers import settle
from uifixtures import AppFactory, lab_snapshot

from nsexplorer.model import Snapshot
from nsexplorer.ui.screens.problems import ProblemsScreen
from nsexplorer.ui.widgets.panes import InterfacesPane


def _faulty() -> tuple[Snapshot, int, int]:
    snap = lab_snapshot()
    a = next(ns for ns in snap.namespaces if ns.label == "nsxlab-a")
    veth = next(i for i in a.interfaces if i.name == "veth0")
    down = dataclasses.replace(veth, state="down", flags=("BROADCAST", "MULTICAST"))
    a2 = dataclasses.replace(a, interfaces=tuple(down if i is veth else i for i in a.interfaces))
    faulty = dataclasses.replace(
        snap, namespaces=tuple(a2 if ns is a else ns for ns in snap.namespaces)
    )
    return faulty, a.inode, veth.ifindex


async def test_p_lists_problems_and_enter_jumps_to_namespace_and_interface(
    make_app: AppFactory,
) -> None:
    snap, inode, ifindex = _faulty()
    app = make_app(snap)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        start = app.selected
        assert start != inode
        await pilot.press("p")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProblemsScreen)
        row = next(n for n, p in enumerate(screen.problems) if p.kind == "veth-admin-down")
        for _ in range(row):
            await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, ProblemsScreen)
        assert app.selected == inode
        assert app.main.query_one(InterfacesPane).selected_ifindex == ifindex


async def test_escape_from_problems_keeps_the_selection(make_app: AppFactory) -> None:
    snap, _, _ = _faulty()
    app = make_app(snap)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        start = app.selected
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, ProblemsScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, ProblemsScreen)
        assert app.selected == start
