"""Pilot tests for the Problems view, the Inside pane and the Changes view, each mounted
in a small harness App over recorded-style data."""

from __future__ import annotations

import dataclasses
from functools import partial

from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import DataTable, Static
from uifixtures import FakeRunner, lab_snapshot
from viewfixtures import (
    HOSTILE_COMM,
    RULES,
    FailingRunner,
    FakeInside,
    FakeProblem,
    InsideHarness,
    ScreenHarness,
    lab_problems,
)

from nsexplorer.actions.fanout import run_in_each
from nsexplorer.collect.recorded import SnapshotReplay
from nsexplorer.model import Snapshot
from nsexplorer.ui.render_views import badge_text, namespace_problems_text, problems_summary_text
from nsexplorer.ui.screens.changes import ChangesScreen, ChangeTracker
from nsexplorer.ui.screens.fanout import FanOutScreen
from nsexplorer.ui.screens.problems import Jump, ProblemsScreen, ifindex_for
from nsexplorer.ui.widgets.inside import InsidePane


def widget_text(widget: Widget) -> str:
    """Every line ``widget`` draws, its border included (helpers.widget_text crops to
    the content size)."""
    size = widget.outer_size
    return "\n".join(s.text for s in widget.render_lines(Region(0, 0, size.width, size.height)))


def _ns(snapshot: Snapshot, label: str):  # type: ignore[no-untyped-def]
    return next(ns for ns in snapshot.namespaces if ns.label == label)


# ---------------------------------------------------------------- problems


async def test_problems_lists_worst_first_and_enter_jumps_to_namespace_and_interface() -> None:
    snap = lab_snapshot()
    app = ScreenHarness()
    async with app.run_test(size=(140, 30)) as pilot:
        app.push_screen(ProblemsScreen(lab_problems(), snap), app.record)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProblemsScreen)
        table = screen.query_one("#problems-table", DataTable)
        assert table.row_count == 3
        first = [str(c) for c in table.get_row_at(0)]
        assert first[0] == "error" and first[1] == "nsxlab-a" and first[2] == "veth0"
        # the hostile message is escaped, never interpreted
        assert "\\x1b[2J[red]x[/red]" in first[3]
        detail = widget_text(screen.query_one("#problems-detail", Static))
        assert "look closer: ip netns exec nsxlab-a ip link show veth0" in detail
        await pilot.press("down")
        detail = widget_text(screen.query_one("#problems-detail", Static))
        assert "no carrier: peer admin down in nsxlab-a" in detail
        await pilot.press("enter")
        await pilot.pause()
    assert app.results == [Jump(4026532602, "veth0", "state")]  # its state in view


async def test_problems_escape_returns_nothing_and_empty_list_says_so() -> None:
    app = ScreenHarness()
    async with app.run_test(size=(120, 20)) as pilot:
        app.push_screen(ProblemsScreen((), lab_snapshot()), app.record)
        await pilot.pause()
        title = widget_text(app.screen.query_one("#problems-title", Static))
        assert "none found" in title
        await pilot.press("enter")  # nothing to jump to: stays
        await pilot.pause()
        assert app.results == []
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [None]


def test_a_jump_finds_the_interface_by_name_or_lands_on_the_namespace() -> None:
    snap = lab_snapshot()
    veth = next(i for i in _ns(snap, "nsxlab-b").interfaces if i.name == "veth0")
    assert ifindex_for(snap, Jump(4026532602, "veth0")) == veth.ifindex
    assert ifindex_for(snap, Jump(4026532602, "gone0")) is None
    assert ifindex_for(snap, Jump(4026532602, None)) is None
    assert ifindex_for(snap, Jump(1, "veth0")) is None


def test_badges_present_for_a_finding_and_absent_when_healthy() -> None:
    assert badge_text("error").plain == "E"
    assert badge_text("warning").plain == "W"
    assert badge_text(None).plain == ""
    assert problems_summary_text(lab_problems()).plain == "1 error 2 warnings"
    assert problems_summary_text(()).plain == ""


def test_details_problems_only_for_their_namespace_and_escaped() -> None:
    mine = [p for p in lab_problems() if p.namespace_inode == 4026532601]
    text = namespace_problems_text(mine).plain
    assert text.startswith("  E veth0: admin down \\x1b[2J[red]x[/red]")
    assert "\x1b" not in text
    assert "ip netns exec nsxlab-a ip link show veth0" in text
    assert "nsxlab-b" not in text
    assert namespace_problems_text(()).plain == ""


# ---------------------------------------------------------------- inside


async def test_inside_pane_shows_every_part_with_hostile_names_escaped() -> None:
    snap = lab_snapshot()
    ns = dataclasses.replace(_ns(snap, "nsxlab-web"), rules=RULES)
    source = FakeInside()
    app = InsideHarness()
    async with app.run_test(size=(140, 60)) as pilot:
        pane = app.query_one(InsidePane)
        pane.load(source, ns)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert pane.facts is not None
        text = widget_text(pane.query_one("#inside-body", Static))
    assert source.calls == [ns.inode]
    assert "Sockets (4)" in text
    assert "tcp4  LISTEN     0.0.0.0:80  nginx(101)" in text
    assert "10.0.0.2:80 -> 10.0.0.9:5555" in text
    assert "\\x1b[31mev[b]il\\x07(202)" in text
    assert HOSTILE_COMM not in text and "\x1b" not in text
    assert "[::]:53" in text
    assert "@nsx\\x0asock" in text  # a newline in a unix path stays on its line
    assert "+ 3 in TIME-WAIT" in text
    assert "10.0.0.9 02:00:00:00:00:09 REACHABLE dev eth0" in text
    assert "master br0" in text
    assert "published 0.0.0.0:8080 -> 80/tcp" in text
    assert "iptables nat DOCKER: tcp dport 8080 -> 10.0.0.2:80" in text
    assert "nf_conntrack not loaded" in text
    assert "Policy rules (3)" in text
    assert "ipv4 0: from all lookup local" in text  # table names as `show` gives them
    assert "ipv4 32766: from all lookup main" in text and "lookup 25" not in text
    assert "iif eth\\x1b0" in text


async def test_inside_pane_in_replay_says_not_recorded() -> None:
    snap = lab_snapshot()
    ns = _ns(snap, "nsxlab-web")
    source = SnapshotReplay(snap, origin="saved.json")
    app = InsideHarness()
    async with app.run_test(size=(140, 40)) as pilot:
        pane = app.query_one(InsidePane)
        pane.load(source, ns)
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = widget_text(pane.query_one("#inside-body", Static))
    assert text.count("not recorded (saved.json holds no sockets") == 5
    assert "Sockets (" not in text  # not "0 sockets": not read
    assert "no sockets" not in [line.strip() for line in text.splitlines()]


async def test_inside_pane_says_when_the_namespace_vanished_and_drops_stale_results() -> None:
    snap = lab_snapshot()
    web, db = _ns(snap, "nsxlab-web"), _ns(snap, "nsxlab-db")
    source = FakeInside(gone={web.inode})
    app = InsideHarness()
    async with app.run_test(size=(120, 30)) as pilot:
        pane = app.query_one(InsidePane)
        pane.load(source, web)
        await app.workers.wait_for_complete()
        await pilot.pause()
        body = pane.query_one("#inside-body", Static)
        assert f"namespace {web.inode} vanished" in widget_text(body)
        pane.load(source, db)
        await app.workers.wait_for_complete()
        await pilot.pause()
        pane.show(web, source.inside(db))  # a late result for another namespace
        assert pane.facts is not None and pane.facts.namespace_inode == db.inode


# ---------------------------------------------------------------- changes


def _changed_snapshot(snap: Snapshot) -> Snapshot:
    a = _ns(snap, "nsxlab-a")
    veth = next(i for i in a.interfaces if i.name == "veth0")
    a2 = dataclasses.replace(
        a,
        interfaces=tuple(
            dataclasses.replace(i, mtu=1400) if i is veth else i for i in a.interfaces
        ),
    )
    return dataclasses.replace(
        snap,
        namespaces=tuple(a2 if ns is a else ns for ns in snap.namespaces if ns.label != "nsxlab-d"),
    )


def test_tracker_keeps_first_seen_time_and_forgets_a_reverted_change() -> None:
    base = lab_snapshot()
    tracker = ChangeTracker(base)
    assert tracker.update(base, "23:00:00") == ()
    changed = _changed_snapshot(base)
    fresh = tracker.update(changed, "23:01:00")
    kinds = sorted(c.kind for c in fresh)
    # the smaller MTU is also a problem on both ends of that veth (a is its far end)
    assert kinds == ["interface-changed", "namespace-gone", "problem-appeared", "problem-appeared"]
    assert tracker.update(changed, "23:02:00") == ()
    assert {s.when for s in tracker.entries} == {"23:01:00"}
    assert tracker.inodes() == {4026532601, 4026532604, 4026531840}
    tracker.update(base, "23:03:00")
    assert tracker.entries == []


async def test_changes_view_lists_with_times_and_jumps_to_the_interface() -> None:
    base = lab_snapshot()
    tracker = ChangeTracker(base)
    tracker.update(_changed_snapshot(base), "23:01:00")
    app = ScreenHarness()
    async with app.run_test(size=(140, 20)) as pilot:
        app.push_screen(ChangesScreen(tracker.entries), app.record)
        await pilot.pause()
        table = app.screen.query_one("#changes-table", DataTable)
        rows = [[str(c) for c in table.get_row_at(n)] for n in range(table.row_count)]
        assert [
            "23:01:00",
            "nsxlab-a",
            "interface-changed",
            "interface changed veth0: mtu 1500 -> mtu 1400",
        ] in rows
        index = next(n for n, r in enumerate(rows) if r[2] == "interface-changed")
        for _ in range(index):
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause()
    # with the field's column in view, and its label for a notice
    veth0 = next(i for i in _ns(base, "nsxlab-a").interfaces if i.name == "veth0")
    assert app.results == [
        Jump(4026532601, "veth0", "mtu", label="nsxlab-a", ifindex=veth0.ifindex)
    ]


# ---------------------------------------------------------------- fan-out


async def test_fanout_groups_results_per_namespace_with_exit_status() -> None:
    snap = lab_snapshot()
    chosen = [_ns(snap, label) for label in ("nsxlab-a", "nsxlab-b", "nsxlab-c")]
    runner = FailingRunner(bad={chosen[1].inode}, output="ok\x07\n")
    app = ScreenHarness()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = FanOutScreen(partial(run_in_each, runner, parallel=2), chosen, ["ip", "-br", "l"])
        app.push_screen(screen, app.record)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.finished
        groups = [widget_text(screen.query_one(f"#fanout-{n}", Static)) for n in range(3)]
        status = widget_text(screen.query_one("#fanout-status", Static))
        title = widget_text(screen.query_one("#fanout-title", Static))
        await pilot.press("escape")
        await pilot.pause()
    assert sorted(inode for inode, _, _ in runner.runs) == sorted(ns.inode for ns in chosen)
    assert "nsxlab-a" in groups[0] and "exit 0" in groups[0] and "ok\\x07" in groups[0]
    assert "nsxlab-b" in groups[1] and "exit 2" in groups[1]
    assert "RTNETLINK \\x1b[31m[b]no[/b]" in groups[1]
    assert "3 namespace(s): 2 ok, 1 failed" in status
    assert "$ ip -br l  in 3 namespace(s)" in title
    assert app.results == [None]


async def test_fanout_that_breaks_says_so_and_the_app_stays_up() -> None:
    snap = lab_snapshot()
    chosen = [_ns(snap, "nsxlab-a")]

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("bug \x1b[31m[b]x")

    app = ScreenHarness()
    async with app.run_test(size=(120, 30)) as pilot:
        screen = FanOutScreen(broken, chosen, ["true"])  # type: ignore[arg-type]
        app.push_screen(screen, app.record)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.is_running and screen.finished
        status = widget_text(screen.query_one("#fanout-status", Static))
        await pilot.press("escape")
        await pilot.pause()
    assert "stopped by an error: RuntimeError('bug \\x1b[31m[b]x')" in status, status
    assert app.results == [None]


async def test_fanout_escape_cancels_what_still_runs() -> None:
    snap = lab_snapshot()
    chosen = [_ns(snap, label) for label in ("nsxlab-a", "nsxlab-b")]
    runner = FakeRunner(block=True)
    app = ScreenHarness()
    async with app.run_test(size=(120, 30)) as pilot:
        screen = FanOutScreen(partial(run_in_each, runner), chosen, ["sleep", "100"])
        app.push_screen(screen, app.record)
        await pilot.pause()
        assert not screen.finished
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.finished
        status = widget_text(screen.query_one("#fanout-status", Static))
        assert app.results == []  # the first Escape cancels, it does not close
        await pilot.press("escape")
        await pilot.pause()
    assert "2 namespace(s): 0 ok, 0 failed, 2 cancelled" in status  # not "2 failed"
    assert "(Escape cancelled the run)" in status
    assert all(r.exit_status is None for r in screen.results.values())
    assert app.results == [None]


async def test_problems_and_changes_say_their_keys_at_80x24() -> None:
    """QA: neither view showed a key hint (there is no footer on them)."""
    base = lab_snapshot()
    tracker = ChangeTracker(base)
    tracker.update(_changed_snapshot(base), "23:01:00")
    app = ScreenHarness()
    async with app.run_test(size=(80, 24)) as pilot:
        for screen in (ProblemsScreen(lab_problems(), base), ChangesScreen(tracker.entries)):
            app.push_screen(screen, app.record)
            await pilot.pause()
            shown = _screen_lines(app)
            assert any("enter: go to" in line and "escape: back" in line for line in shown)
            await pilot.press("escape")
            await pilot.pause()


def _screen_lines(app: ScreenHarness) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


async def test_many_information_findings_of_one_kind_are_one_line() -> None:
    """QA: 1000 "drops grew" findings buried the list; they are one line with the count
    (after every error and warning), listed by Enter on it, each one still a jump."""
    from nsexplorer.ui.screens.problems import GROUP_AT, Group

    snap = lab_snapshot()
    inodes = [ns.inode for ns in snap.namespaces]
    drops = tuple(
        FakeProblem(
            "counters-growing",
            "info",
            inodes[n % len(inodes)],
            f"veth{n}",
            f"rx_dropped +{n + 1} since 2026-01-01T00:00:00+00:00",
        )
        for n in range(1000)
    )
    few = tuple(FakeProblem("leaked-netns", "info", inodes[1], None, "m") for _ in range(2))
    app = ScreenHarness()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = ProblemsScreen((*drops, *few, *lab_problems()), snap)
        app.push_screen(screen, app.record)
        await pilot.pause()
        table = screen.query_one("#problems-table", DataTable)
        rows = [[str(c) for c in table.get_row_at(n)] for n in range(table.row_count)]
        assert table.row_count == 3 + 2 + 1  # the three, the two few, one line for 1000
        assert [r[0] for r in rows[:3]] == ["error", "warning", "warning"]  # worst first
        (line,) = [n for n, r in enumerate(rows) if r[0].endswith("info") and "▸" in r[0]]
        assert rows[line][1:] == [
            f"{len(inodes)} namespaces",
            "1000 interfaces",
            "1000 counters-growing findings  enter lists them",
        ]
        assert isinstance(screen.rows[line], Group) and GROUP_AT > 2  # the few are not grouped
        for _ in range(line):
            await pilot.press("down")
        assert "1000 findings" in widget_text(screen.query_one("#problems-detail", Static))
        await pilot.press("enter")  # lists them, right under the line
        await pilot.pause()
        assert table.row_count == 6 + 1000 and app.results == []
        assert table.cursor_row == line
        member = [str(c) for c in table.get_row_at(line + 1)]
        assert member[0] == "  info" and member[3].startswith("rx_dropped +")
        await pilot.press("down", "enter")  # a member jumps
        await pilot.pause()
    first = screen.problems[screen.rows[line + 1]]  # type: ignore[index]
    # a counter that grew is shown in Counters (this fake finding names no counter)
    assert app.results == [Jump(first.namespace_inode, first.interface, None, pane="counters")]


def test_groups_fold_and_keep_their_place() -> None:
    from nsexplorer.ui.screens.problems import Group, rows_of

    many = [FakeProblem("counters-growing", "info", 1, f"e{n}", "x") for n in range(6)]
    found = [FakeProblem("dad-failed", "info", 1, "e", "y"), *many]
    assert rows_of(found) == [0, Group("counters-growing", (1, 2, 3, 4, 5, 6))]
    opened = rows_of(found, frozenset({"counters-growing"}))
    assert opened == [0, Group("counters-growing", (1, 2, 3, 4, 5, 6)), 1, 2, 3, 4, 5, 6]
