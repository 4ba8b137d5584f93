"""Docker network names on their bridges (docker0, br-<id>) in the Interfaces and
Wiring panes, from the snapshot's engines (model.bridge_networks), escaped."""

from __future__ import annotations

from dataclasses import replace

from helpers import settle, widget_text
from uifixtures import DB, HOST, AppFactory, lab_snapshot

from nsexplorer.model import DockerNetwork, Snapshot
from nsexplorer.ui.app import NsxApp
from nsexplorer.ui.widgets.panes import InterfacesPane, WiringPane

SIZE = (160, 40)


def _cells(app: NsxApp, name: str) -> str:
    table = app.main.query_one(InterfacesPane)
    for n in range(table.row_count):
        cell = str(table.get_row_at(n)[0])
        if cell.split(" ", maxsplit=1)[0] == name:
            return cell
    raise AssertionError(f"no row {name!r}")


def _networks(snap: Snapshot, *nets: DockerNetwork, netns: int | None = None) -> Snapshot:
    engine = replace(snap.engines[0], networks=nets, netns_inode=netns)
    return replace(snap, engines=(engine,))


async def test_bridges_are_named_by_their_docker_network(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(HOST)
        await settle(pilot)
        assert _cells(app, "docker0") == "docker0 docker:bridge"
        assert _cells(app, "br-1a2b3c4d5e6f") == "br-1a2b3c4d5e6f docker:nsxlab-net"
        assert _cells(app, "nsxlab-br0") == "nsxlab-br0"  # not Docker's
        await pilot.press("3")
        await settle(pilot)
        wiring = widget_text(app.main.query_one(WiringPane))
        assert "bridge docker0 docker:bridge in host" in wiring
        assert "bridge nsxlab-br0 in host" in wiring
        app.goto(DB)  # the far side: the container's wire leads to its network's bridge
        await settle(pilot)
        wiring = widget_text(app.main.query_one(WiringPane))
        assert "bridge br-1a2b3c4d5e6f docker:nsxlab-net in host" in wiring


async def test_a_hostile_network_name_is_shown_escaped(make_app: AppFactory) -> None:
    evil = "n\x1b]2;x\x07[b]et[/"
    snap = _networks(lab_snapshot(), DockerNetwork("x", evil, "bridge", "docker0"))
    app = make_app(snap)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(HOST)
        await settle(pilot)
        assert _cells(app, "docker0") == "docker0 docker:n\\x1b]2;x\\x07[b]et[/"
        await pilot.press("3")
        await settle(pilot)
        wiring = widget_text(app.main.query_one(WiringPane))
        assert "docker0 docker:n\\x1b]2;x\\x07[b]et[/ in host" in wiring
        assert "\x1b" not in wiring


async def test_an_engine_in_another_namespace_names_its_bridges_only(
    make_app: AppFactory,
) -> None:
    """A daemon in its own netns: same-named bridges in the host are not its."""
    snap = _networks(lab_snapshot(), DockerNetwork("x", "elsewhere", "bridge", "docker0"), netns=DB)
    app = make_app(snap)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(HOST)
        await settle(pilot)
        assert _cells(app, "docker0") == "docker0"
