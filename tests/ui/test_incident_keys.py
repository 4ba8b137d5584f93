"""Issue 12's keys on recorded-style data with fake ports (no root): marks on the
sidebar, refusals (replay, read-only, tools not given), the capture prompt's bounds,
a --since baseline marking what differs, and hostile labels in the fan-out prompt."""

from __future__ import annotations

from dataclasses import replace

import pytest
from helpers import settle, widget_text
from textual.widgets import DataTable, Input, Static
from uifixtures import (
    LAB_A,
    LAB_B,
    PAIR_C,
    PAIR_D,
    AppFactory,
    FakeRunner,
    FakeSource,
    hostile_snapshot,
    lab_snapshot,
)

from nsexplorer.ports import BundleWritten, SessionEvidence
from nsexplorer.ui.capturing import CAPTURE_COUNT, CAPTURE_SECONDS, parse_capture_line
from nsexplorer.ui.incident import INODES_SHOWN, NAMES_SHOWN, IncidentTools
from nsexplorer.ui.screens.changes import ChangesScreen, ChangeTracker, jump_for
from nsexplorer.ui.screens.dialogs import PromptScreen
from nsexplorer.ui.typeahead import TYPING_GAP
from nsexplorer.ui.widgets.output import OutputPane
from nsexplorer.ui.widgets.sidebar import NamespaceTree

SIZE = (120, 36)


def output_text(app) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(app.main.output_pane().transcript)


def row_of(app, label: str) -> str:  # type: ignore[no-untyped-def]
    text = widget_text(app.query_one(NamespaceTree))
    return next(line for line in text.splitlines() if label in line)


def test_capture_prompt_bounds_then_filter() -> None:
    assert parse_capture_line("", "any") == parse_capture_line("  ", "any")
    order = parse_capture_line("", "veth0")
    assert (order.interface, order.count, order.seconds, order.filter) == (
        "veth0",
        CAPTURE_COUNT,
        CAPTURE_SECONDS,
        (),
    )
    order = parse_capture_line("-c 4 --seconds 2.5 icmp and host 10.0.0.1", "any")
    assert (order.count, order.seconds) == (4, 2.5)
    assert order.filter == ("icmp", "and", "host", "10.0.0.1")
    assert parse_capture_line("port 53 -c 9", "any").filter == ("port", "53", "-c", "9")
    for bad in ("-c", "-c x", "-c 0", "--seconds -1", "--seconds inf", "-c 1.5"):
        with pytest.raises(ValueError):
            parse_capture_line(bad, "any")


async def test_space_marks_the_highlighted_row_and_gone_namespaces_lose_it(
    make_app: AppFactory,
) -> None:
    full = lab_snapshot()
    source = FakeSource(full)
    app = make_app(source=source)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await pilot.press("space")
        app.goto(LAB_B)
        await pilot.press("space")
        await pilot.pause()
        assert row_of(app, "nsxlab-a").lstrip("├└ ").startswith("✓ nsxlab-a")
        assert "✓" in row_of(app, "nsxlab-b")
        assert app.main.marks.inodes() == {LAB_A, LAB_B}
        await pilot.press("space")  # toggles
        await pilot.pause()
        assert "✓" not in row_of(app, "nsxlab-b") and app.main.marks.inodes() == {LAB_A}
        source.snapshot = replace(
            full, namespaces=tuple(ns for ns in full.namespaces if ns.inode != LAB_A)
        )
        await pilot.press("r")
        await settle(pilot)
        assert "✓" in row_of(app, "gone nsxlab-a")  # still listed while gone...
        assert app.main.marks.targets(app.main.shown_namespaces()) == []  # ...never run in


async def test_replay_refuses_every_incident_action_but_changes(make_app: AppFactory) -> None:
    app = make_app(live=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        for key in ("X", "t", "T", "B"):
            await pilot.press(key)
            await pilot.pause(TYPING_GAP + 0.05)  # a key after a pause, not typing on
            assert len(app.screen_stack) == 1, key
        out = output_text(app)
        assert "refused: replaying a saved snapshot: running a command in several" in out
        assert "refused: replaying a saved snapshot: capturing packets is not possible" in out
        assert "refused: replaying a saved snapshot: termshark is not possible" in out
        assert "refused: the incident bundle is written from a live session" in out
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ChangesScreen)
        assert "Nothing changed" in widget_text(app.screen.query_one("#changes-empty", Static))


async def test_tools_not_given_are_refused_not_crashed(make_app: AppFactory) -> None:
    runner = FakeRunner()
    app = make_app(runner=runner)  # no IncidentTools: no fan-out, capture or bundle
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        for key in ("X", "t", "T", "B"):
            await pilot.press(key)
            await pilot.pause(TYPING_GAP + 0.05)  # a key after a pause, not typing on
        out = output_text(app)
        assert "refused: running in several namespaces is not available here" in out
        assert out.count("refused: packet capture is not available here") == 2
        assert "refused: the incident bundle is written from a live session" in out
        assert runner.runs == []


async def test_since_baseline_marks_what_differs_and_changes_lists_it(
    make_app: AppFactory,
) -> None:
    now = lab_snapshot()
    a = now.by_inode(LAB_A)
    assert a is not None
    older = replace(a, interfaces=a.interfaces[:1])  # a's veth0 appeared since
    baseline = replace(
        now, namespaces=tuple(older if ns.inode == LAB_A else ns for ns in now.namespaces)
    )
    tools = IncidentTools(baseline=baseline, baseline_origin="base.json (yesterday)")
    app = make_app(now, incident=tools)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "Δ" in row_of(app, "nsxlab-a") and "Δ" not in row_of(app, "nsxlab-b")
        await pilot.press("d")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ChangesScreen)
        title = widget_text(screen.query_one("#changes-title", Static))
        assert "Changes since base.json (yesterday)" in title
        table = screen.query_one("#changes-table", DataTable)
        rows = [[str(c) for c in table.get_row_at(n)] for n in range(table.row_count)]
        assert sorted({r[2] for r in rows if r[1] == "nsxlab-a"}) == ["interface-appeared"]
        await pilot.press("enter")
        await pilot.pause()
        assert app.selected == LAB_A


async def test_fan_out_prompt_escapes_hostile_labels(make_app: AppFactory) -> None:
    snap = hostile_snapshot()

    def fanout(namespaces, argv, *, cancel=None, on_done=None):  # type: ignore[no-untyped-def]
        return []

    app = make_app(snap, incident=IncidentTools(fanout=fanout))
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("X")
        await pilot.pause()
        title = app.screen.query_one("#dialog-title", Static)
        text = widget_text(title)
        assert "Run in " in text and "shown namespace(s)" in text
        assert "[link=http://x]evil[/link]" in text  # shown as written, never markup


def test_problems_that_appear_or_clear_are_changes() -> None:
    now = lab_snapshot()  # nsxlab-d's dc0 is admin down: both ends are problems
    d = now.by_inode(PAIR_D)
    assert d is not None
    fixed = replace(
        d,
        interfaces=tuple(
            replace(i, state="up", flags=("BROADCAST", "MULTICAST", "UP", "LOWER_UP"))
            if i.name == "dc0"
            else i
            for i in d.interfaces
        ),
    )
    c = now.by_inode(PAIR_C)
    assert c is not None
    c_fixed = replace(
        c,
        interfaces=tuple(
            replace(i, state="up", flags=("BROADCAST", "MULTICAST", "UP", "LOWER_UP"))
            if i.name == "cd0"
            else i
            for i in c.interfaces
        ),
    )
    healthy = replace(
        now,
        namespaces=tuple(
            {PAIR_D: fixed, PAIR_C: c_fixed}.get(ns.inode, ns) for ns in now.namespaces
        ),
    )
    tracker = ChangeTracker(healthy)
    fresh = tracker.update(now, "10:00:00")
    appeared = {(ch.namespace_inode, ch.subject) for ch in fresh if ch.kind == "problem-appeared"}
    assert appeared == {(PAIR_C, "cd0"), (PAIR_D, "dc0")}
    mine = next(ch for ch in fresh if ch.kind == "problem-appeared" and ch.subject == "dc0")
    assert "veth-admin-down" in mine.message
    assert jump_for(mine).interface == "dc0"
    assert tracker.update(now, "10:00:05") == ()  # the same problems: nothing new
    back = ChangeTracker(now).update(healthy, "10:01:00")
    cleared = {(ch.namespace_inode, ch.subject) for ch in back if ch.kind == "problem-cleared"}
    assert cleared == {(PAIR_C, "cd0"), (PAIR_D, "dc0")}


async def test_what_x_ran_is_kept_for_the_bundle(make_app: AppFactory) -> None:
    runner = FakeRunner(output="1: lo: <LOOPBACK,UP>\n")
    app = make_app(runner=runner)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await pilot.press("x", *"ip -br link", "enter")
        await settle(pilot)
        (kept,) = app.main.session.outputs
        assert (kept.label, kept.exit_status) == ("nsxlab-a", 0)
        assert kept.command == runner.equivalent_command(
            app.inventory.by_inode[LAB_A], ["ip", "-br", "link"]
        )
        assert "1: lo: <LOOPBACK,UP>" in kept.text
        evidence = app.main.session.evidence(app.snapshot, None)  # type: ignore[arg-type]
        assert "nsxlab-a (netns 4026532601)" in evidence.viewed


async def test_fan_out_prompt_names_every_target_by_label_and_inode(
    make_app: AppFactory,
) -> None:
    def fanout(namespaces, argv, *, cancel=None, on_done=None):  # type: ignore[no-untyped-def]
        return []

    snap = lab_snapshot()
    app = make_app(snap, incident=IncidentTools(fanout=fanout))
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        await pilot.press("X")  # no marks, no filter: every shown namespace
        await pilot.pause()
        text = " ".join(widget_text(app.screen.query_one("#dialog-title", Static)).split())
        shown = app.main.shown_namespaces()
        assert len(shown) > NAMES_SHOWN
        for ns in shown[:NAMES_SHOWN]:
            assert f"{ns.label} (netns {ns.inode})" in text, text
        rest = ", ".join(str(ns.inode) for ns in shown[NAMES_SHOWN:][:INODES_SHOWN])
        assert f"and {len(shown) - NAMES_SHOWN} more (netns {rest}" in text, text


async def test_quitting_during_a_fan_out_names_its_namespaces(make_app: AppFactory) -> None:
    """The quit confirmation said "(netns 0)" for a run in several namespaces."""

    def fanout(namespaces, argv, *, cancel=None, on_done=None):  # type: ignore[no-untyped-def]
        if cancel is not None:
            cancel.wait(10)
        return []

    app = make_app(lab_snapshot(), incident=IncidentTools(fanout=fanout))
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"nsxlab-", "enter", "X", *"true", "enter")
        await pilot.pause(0.2)
        targets = [ns.inode for ns in app.main.shown_namespaces()]
        assert app.command_running
        app.main.action_quit()
        await pilot.pause()
        text = widget_text(app.screen.query_one("#dialog-title", Static)).replace("\n", " ")
        text = " ".join(text.split())
        assert "(netns 0)" not in text
        listed = ", ".join(str(i) for i in targets[:8])
        assert f"namespaces (netns {listed}" in text, text
        await pilot.press("n")  # do not quit
        await pilot.pause()
        await pilot.press("q")  # the key itself, on the fan-out's screen (QA: it did nothing)
        await pilot.pause()
        text = widget_text(app.screen.query_one("#dialog-title", Static))
        assert "Stop it and quit?" in " ".join(text.split()), text
        await pilot.press("n")
        app.main.runs[max(app.main.runs)].cancel.set()
        await pilot.pause(0.2)


class FakeBundler:
    """A BundleWriter that records where it was asked to write, and writes nothing."""

    def __init__(self) -> None:
        self.paths: list[str | None] = []

    def default_path(self, hostname: str) -> str:
        return f"/var/tmp/nsxqf-{hostname}.tar.gz"

    def __call__(self, evidence: SessionEvidence, path: str | None = None) -> BundleWritten:
        self.paths.append(path)
        return BundleWritten(path or self.default_path(evidence.snapshot.hostname), 123, 0)


async def test_b_asks_where_with_an_editable_default_and_says_where(
    make_app: AppFactory,
) -> None:
    bundler = FakeBundler()
    app = make_app(incident=IncidentTools(bundle=bundler))
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        assert app.snapshot is not None
        default = bundler.default_path(app.snapshot.hostname)
        await pilot.press("B")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        assert app.screen.query_one(Input).value == default
        await pilot.press("escape")  # cancelled: nothing written
        await settle(pilot)
        assert bundler.paths == []
        await pilot.press("B")
        await pilot.pause()
        await pilot.press("enter")  # the default as offered
        await settle(pilot)
        assert bundler.paths == [None]
        out = "\n".join(app.query_one(OutputPane).transcript)
        assert f"bundle written: {default} (123 bytes" in out
        await pilot.press("B")
        await pilot.pause()
        await pilot.press("ctrl+u", *"/tmp/nsxqf-mine.tar.gz", "enter")  # edited
        await settle(pilot)
        assert bundler.paths == [None, "/tmp/nsxqf-mine.tar.gz"]
        said = [n.message for n in app._notifications]
        assert any(m.startswith("bundle written: /tmp/nsxqf-mine.tar.gz") for m in said), said


async def test_a_replays_changes_are_since_the_snapshot_not_a_read(make_app: AppFactory) -> None:
    # nothing is read in a replay: "since first full read (HH:MM:SS)" named the moment
    # the file was opened
    snap = lab_snapshot()
    app = make_app(snap, live=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ChangesScreen)
        title = widget_text(screen.query_one("#changes-title", Static))
        assert f"since the snapshot ({snap.hostname} at {snap.collected_at})" in title, title
        assert "first full read" not in title
