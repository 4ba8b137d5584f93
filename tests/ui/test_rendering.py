"""Rendering a responder can read: nothing cut without an ellipsis, natural order, a
sidebar that widens, Details that never wrap to column 0, a help page that fits 80x24,
gone namespaces marked one way with their label, replays that say where and when."""

from __future__ import annotations

from dataclasses import replace

import pytest
from helpers import screen_text, settle, widget_text
from textual.containers import VerticalScroll
from uifixtures import (
    HIDDEN,
    LAB_A,
    LAB_B,
    PROC,
    WEB,
    AppFactory,
    FakeSource,
    FakeWatcher,
    lab_snapshot,
)

from nsexplorer.model import NamespaceId
from nsexplorer.natural import natural_key
from nsexplorer.ui.widgets.counters import CountersPane
from nsexplorer.ui.widgets.output import OutputPane
from nsexplorer.ui.widgets.sidebar import NamespaceTree

SIZE = (120, 36)


def test_natural_order() -> None:
    names = ["n10", "n2", "n1", "N11", "n1a", "host"]
    assert sorted(names, key=natural_key) == ["host", "n1", "n1a", "n2", "n10", "N11"]


async def test_sidebar_lists_in_natural_order(make_app: AppFactory) -> None:
    snap = lab_snapshot()
    lab_a = snap.by_inode(LAB_A)
    assert lab_a is not None
    extra = [
        replace(lab_a, id=NamespaceId(4, 4026539000 + n), names=(f"qa-n{n}",), label=f"qa-n{n}")
        for n in (10, 2, 1, 11)
    ]
    app = make_app(replace(snap, namespaces=(*snap.namespaces, *extra)))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = widget_text(app.query_one(NamespaceTree))
        order = [
            text.index(f"qa-n{n} ") if f"qa-n{n} " in text else text.index(f"qa-n{n}\n")
            for n in (1, 2, 10, 11)
        ]
        assert order == sorted(order)


async def test_cut_labels_end_in_an_ellipsis_and_the_sidebar_widens(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        tree = app.query_one(NamespaceTree)
        text = widget_text(tree)
        assert "nsxlab-hostnet nsx…" in text  # cut, and said so
        width = app.query_one("#sidebar").size.width
        await pilot.press(*["greater_than_sign"] * 4)
        await pilot.pause()
        assert app.query_one("#sidebar").size.width > width
        assert "nsxlab-hostnet nsx-busybox:test host" in widget_text(tree)
        await pilot.press(*["less_than_sign"] * 5)
        await pilot.pause()
        assert app.query_one("#sidebar").size.width < width


async def test_a_cut_path_keeps_its_end_in_view(make_app: AppFactory) -> None:
    """Walk-through: hidden namespaces under one directory all read
    `/run/nsx-testbed/exec/netns…` at 80 columns; a path is cut in the middle instead,
    so the part that tells them apart stays."""
    snap = lab_snapshot()
    hidden = snap.by_inode(HIDDEN)
    assert hidden is not None
    ends = ("8a354208d04f", "9cb600649689")
    extra = [
        replace(hidden, id=NamespaceId(4, 4026539100 + n), label=f"/run/docker-private/netns/{e}")
        for n, e in enumerate(ends)
    ]
    app = make_app(replace(snap, namespaces=(*snap.namespaces, *extra)))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        rows = widget_text(app.query_one(NamespaceTree)).splitlines()
        for end in ends:
            row = next((r for r in rows if f"…/{end}" in r), None)
            assert row is not None and row.split()[1].startswith("/run"), (end, rows)
        await pilot.press(*["greater_than_sign"] * 4)  # room for all of it: not cut
        await pilot.pause()
        text = widget_text(app.query_one(NamespaceTree))
        assert all(f"/run/docker-private/netns/{e}" in text for e in ends), text


async def test_details_never_wrap_to_column_0(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(90, 30)) as pilot:
        await settle(pilot)
        app.goto(HIDDEN)
        await pilot.press("5")
        await settle(pilot)
        lines = widget_text(app.query_one("#details-body")).splitlines()
        heads = ("Namespace", "Paths reaching it", "Host", "Container", "Warnings", "Collection")
        for line in lines:
            if line.strip():
                assert line.startswith(("  ", *heads)), f"wrapped to column 0: {line!r}"
        joined = "".join(line.strip() for line in lines)
        assert "/proc/5151/root/tmp/nsxlab-hidden/ns" in joined  # nothing lost


async def test_help_fits_80x24_and_says_how_to_close(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        scroll = app.screen.query_one("#help", VerticalScroll)
        assert scroll.max_scroll_y == 0, "the help does not fit 80x24"
        text = screen_text(app)
        assert "escape, q or ? closes this help" in text
        for key in ("x ", "s ", "n ", "N ", "c ", "/ ", "r ", "^c", "1…8", "> / <"):
            assert key in text, key
        await pilot.press("escape")
        assert len(app.screen_stack) == 1


async def test_gone_is_one_mark_and_the_label_stays(make_app: AppFactory) -> None:
    full = lab_snapshot()
    source = FakeSource(full)
    watcher = FakeWatcher()
    app = make_app(source=source, watcher=watcher, debounce=0.01, min_collect_gap=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_B)
        await settle(pilot)
        source.snapshot = replace(
            full, namespaces=tuple(ns for ns in full.namespaces if ns.inode != LAB_B)
        )
        assert watcher.on_change is not None
        watcher.on_change("host netlink")
        await pilot.pause(0.1)
        await settle(pilot)
        assert "gone nsxlab-b" in widget_text(app.query_one(NamespaceTree))
        title = widget_text(app.query_one("#title"))
        assert "nsxlab-b" in title and "GONE" in title
        await pilot.press("x")
        await settle(pilot)
        assert len(app.screen_stack) == 1
        out = "\n".join(app.query_one(OutputPane).transcript)
        assert f"nsxlab-b (netns {LAB_B}) is gone; nothing ran" in out


async def test_a_replay_says_where_and_when_and_what_was_not_recorded(
    make_app: AppFactory,
) -> None:
    app = make_app(live=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        bar = widget_text(app.query_one("#cmdbar"))
        assert "replay: read-only nsxt-host at 2026-01-01 00:00:00 UTC" in bar
        app.goto(WEB)
        await pilot.press("5")
        await settle(pilot)
        details = widget_text(app.query_one("#details-body"))
        assert "collected at" in details and "2026-01-01T00:00:00+00:00" in details
        await pilot.press("4")
        await settle(pilot)
        procs = widget_text(app.query_one("#processes"))
        assert "not recorded in the snapshot" in procs and "3101" in procs
        assert "no processes" not in procs
        app.goto(PROC)
        await pilot.press("7")
        await settle(pilot)
        pane = app.query_one(CountersPane)
        veth0 = [cell.plain for cell in pane.get_row_at(1)]
        assert veth0[0] == "veth0" and veth0[-1] == "not live" and "1000 B" in veth0


@pytest.mark.parametrize("style", ["", "bold", "bold reverse"])
def test_an_escape_stands_out_from_the_text_around_it(style: str) -> None:
    """An escape is drawn in reverse video against its neighbours, also inside text
    that is reversed itself (an Output entry's header label): there it is not."""
    from rich.console import Console

    from nsexplorer.ui.render import safe

    segments = list(safe("a\x1bb", style).render(Console(width=40)))
    reverse = {seg.text: bool(seg.style and seg.style.reverse) for seg in segments if seg.text}
    assert set(reverse) == {"a", "\\x1b", "b"}, reverse
    assert reverse["a"] == reverse["b"] != reverse["\\x1b"], reverse


def test_a_route_row_shows_its_paths_metric_and_selectors() -> None:
    """QA: the Routes pane left a multipath or nexthop-object route with no gateway and
    no dev (it looked like it went nowhere), and two routes differing only by metric
    looked the same."""
    from nsexplorer.model_net import Nexthop, Route
    from nsexplorer.ui import render
    from nsexplorer.ui.roles import BAD, WARN

    def row(route: Route) -> dict[str, str]:
        cells = [c.plain for c in render.route_cells(route)]
        return dict(zip(render.ROUTE_COLUMNS, cells, strict=True))

    base = Route(4, 254, "10.9.0.0/24", None, None, "universe", "static")
    ecmp = replace(
        base,
        nexthops=(Nexthop("10.0.0.1", "eth0", 1), Nexthop("10.0.1.1", "eth1", 2, ("onlink",))),
    )
    assert row(ecmp)["gateway"] == "10.0.0.1 w1, 10.0.1.1 w2 onlink"
    assert row(ecmp)["dev"] == "eth0, eth1"
    # review: a linkdown or dead path read like a working one, and the devs, deduplicated,
    # no longer lined up with the gateways (three gateways, two devs)
    down = replace(
        base,
        nexthops=(
            Nexthop("10.1.0.2", "d1"),
            Nexthop("10.2.0.2", "d2", 1, ("linkdown",)),
            Nexthop("10.1.0.3", "d1", 1, ("dead",)),
        ),
    )
    assert row(down)["gateway"] == "10.1.0.2, 10.2.0.2 linkdown, 10.1.0.3 dead"
    assert row(down)["dev"] == "d1, d2, d1"
    cell = render.route_cells(down)[render.ROUTE_COLUMNS.index("gateway")]
    styled = {cell.plain[sp.start : sp.end]: str(sp.style) for sp in cell.spans}
    assert styled.get("linkdown") == WARN and styled.get("dead") == BAD, styled
    group = replace(
        base, nhid=7, nexthops=(Nexthop("10.0.0.1", "eth0"), Nexthop("10.0.0.2", "eth0"))
    )
    assert row(group)["gateway"] == "nhid 7: 10.0.0.1, 10.0.0.2" and row(group)["dev"] == "eth0"
    assert row(replace(base, nhid=9))["gateway"] == "nhid 9"
    one, two = (replace(base, gateway="10.0.0.1", dev="eth0", metric=m) for m in (100, 200))
    assert row(one) != row(two) and row(two)["metric"] == "200"
    assert row(replace(base, metric=None))["metric"] == ""
    special = replace(base, family=6, dst="::/0", src="2001:db8::/64", tos=0x10, flags=("onlink",))
    assert row(special)["destination"] == "::/0 from 2001:db8::/64 tos 0x10"
    assert row(special)["type"] == "unicast onlink"


def test_an_address_that_does_not_work_says_so() -> None:
    """QA: a dadfailed IPv6 address read like a working one (same text, same colour),
    and so did a tentative or deprecated one; a point-to-point address lost its peer."""
    from nsexplorer.model_net import Address, Interface
    from nsexplorer.ui import render
    from nsexplorer.ui.roles import BAD, WARN

    iface = Interface(
        3, "eth0", "veth", "up", 1500, "02:00:00:00:00:01",
        addresses=(
            Address(4, "10.0.0.1", 32, "global", peer="10.0.0.2"),
            Address(6, "fd00::1", 64, "global", ("dadfailed", "tentative")),
            Address(6, "fd00::2", 64, "global", ("deprecated",)),
            Address(6, "fd00::3", 64, "global"),
            Address(6, "fe80::1", 64, "link", ("tentative",)),  # link scope: not listed
        ),
    )  # fmt: skip
    text = render.addresses_text(iface)
    assert text.plain == (
        "10.0.0.1 peer 10.0.0.2/32 fd00::1/64 (dadfailed) (tentative) "
        "fd00::2/64 (deprecated) fd00::3/64"
    )
    styles = {text.plain[s.start : s.end]: str(s.style) for s in text.spans}
    assert styles[" (dadfailed)"] == BAD and styles[" (deprecated)"] == WARN


def test_a_long_details_line_breaks_between_words() -> None:
    """QA: Details broke "larger" into "large" / "r frames are dropped"; a piece ends
    after a word when one ends in its second half, and an id is still cut where it must."""
    from rich.text import Text

    from nsexplorer.ui.widgets.panes import hanging

    text = Text("  mtu-mismatch: mtu 1400, but its peer nsxlab-a-h has mtu 1500: larger frames")
    lines = hanging(text, 50, indent=4).plain.split("\n")
    assert lines[0] == "  mtu-mismatch: mtu 1400, but its peer nsxlab-a-h"
    assert lines[1] == "    has mtu 1500: larger frames"
    cut = hanging(Text("x" * 60), 50, indent=4).plain.split("\n")
    assert cut == ["x" * 50, "    " + "x" * 10]
