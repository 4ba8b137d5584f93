"""The Problems and Changes views as a responder uses them during an incident (QA report
m): they follow the reads while open, keep a change's first-seen time while its words
change, go to the first and last row with Home and End, and word times and states as the
other views do."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterator

import pytest
from helpers import settle, widget_text
from textual.widgets import DataTable, Static
from uifixtures import ORPHAN, PAIR_C, AppFactory, FakeSource, FakeWatcher, lab_snapshot
from viewfixtures import FakeProblem, ScreenHarness, lab_problems

from nsexplorer.model import Snapshot
from nsexplorer.ui.render_views import change_cells, local_times
from nsexplorer.ui.screens.changes import ChangesScreen, ChangeTracker
from nsexplorer.ui.screens.problems import ProblemsScreen

SIZE = (120, 36)


def _with_mtu(snap: Snapshot, label: str, name: str, mtu: int) -> Snapshot:
    ns = next(n for n in snap.namespaces if n.label == label)
    ifaces = tuple(dataclasses.replace(i, mtu=mtu) if i.name == name else i for i in ns.interfaces)
    new = dataclasses.replace(ns, interfaces=ifaces)
    return dataclasses.replace(
        snap, namespaces=tuple(new if n is ns else n for n in snap.namespaces)
    )


def _put_interfaces(snap: Snapshot, inode: int, interfaces: tuple[object, ...]) -> Snapshot:
    spaces = tuple(
        dataclasses.replace(ns, interfaces=interfaces) if ns.inode == inode else ns  # type: ignore[arg-type]
        for ns in snap.namespaces
    )
    return dataclasses.replace(snap, namespaces=spaces)


def _rows(table: DataTable[object]) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(n)] for n in range(table.row_count)]


# ---------------------------------------------------------------- first seen


def test_a_change_keeps_its_first_seen_time_when_its_words_change() -> None:
    """An mtu set to 1400 at 23:01 and to 1300 at 23:02 is one difference from the
    baseline since 23:01 (it was shown as first seen at 23:02); the new words are news."""
    base = lab_snapshot()
    tracker = ChangeTracker(base)
    first = tracker.update(_with_mtu(base, "nsxlab-a", "veth0", 1400), "23:01:00")
    assert any(c.message.endswith("mtu 1500 -> mtu 1400") for c in first)
    again = tracker.update(_with_mtu(base, "nsxlab-a", "veth0", 1300), "23:02:00")
    assert [c.message for c in again if c.kind == "interface-changed"] == [
        "interface changed veth0: mtu 1500 -> mtu 1300"
    ]
    (entry,) = [s for s in tracker.entries if s.change.kind == "interface-changed"]
    assert (entry.when, entry.changed) == ("23:01:00", "23:02:00")
    cells = [c.plain for c in change_cells(entry.when, entry.change, entry.changed)]
    assert cells[0] == "23:01:00"
    assert cells[3] == "interface changed veth0: mtu 1500 -> mtu 1300  (last changed 23:02:00)"
    # the same words again: nothing new, nothing moved
    assert tracker.update(_with_mtu(base, "nsxlab-a", "veth0", 1300), "23:03:00") == ()
    assert [s for s in tracker.entries if s.change.kind == "interface-changed"] == [entry]


def test_a_namespace_under_a_reused_inode_is_first_seen_when_it_came() -> None:
    """A container restarted twice, its new namespaces given the same inode number: the
    namespace that came at 23:02 was listed as first seen at 23:01, the time of the one
    before it (the identity had the inode, not the namespace's kernel id)."""
    full = lab_snapshot()
    lab_a = next(ns for ns in full.namespaces if ns.label == "nsxlab-a")
    base = dataclasses.replace(full, namespaces=tuple(n for n in full.namespaces if n is not lab_a))

    def with_lab_a(cookie: int, mtu: int) -> Snapshot:
        ifaces = tuple(dataclasses.replace(i, mtu=mtu) for i in lab_a.interfaces)
        again = dataclasses.replace(lab_a, cookie=cookie, interfaces=ifaces)
        return dataclasses.replace(base, namespaces=(*base.namespaces, again))

    tracker = ChangeTracker(base)
    assert tracker.update(with_lab_a(7001, 1500), "23:01:00")
    news = tracker.update(with_lab_a(7002, 1500), "23:02:00")
    assert [c.kind for c in news] == ["namespace-appeared"]
    (entry,) = [s for s in tracker.entries if s.change.kind == "namespace-appeared"]
    assert (entry.when, entry.change.namespace_cookie) == ("23:02:00", 7002)
    # the same one read again: nothing is news
    assert tracker.update(with_lab_a(7002, 1500), "23:03:00") == ()


# ---------------------------------------------------------------- home and end


async def test_home_and_end_go_to_the_first_and_last_row() -> None:
    found = (
        *lab_problems(),
        *(FakeProblem("dad-failed", "info", 1, f"e{n}", "x") for n in range(3)),
    )
    app = ScreenHarness()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = ProblemsScreen(found, lab_snapshot())
        app.push_screen(screen)
        await pilot.pause()
        table = screen.query_one("#problems-table", DataTable)
        detail = screen.query_one("#problems-detail", Static)
        await pilot.press("end")
        await pilot.pause()
        assert table.cursor_row == table.row_count - 1 > 0
        assert "on e2" in widget_text(detail)  # the detail follows the row
        await pilot.press("home")
        await pilot.pause()
        assert table.cursor_row == 0
        app.pop_screen()
        base = lab_snapshot()
        tracker = ChangeTracker(base)
        changed = dataclasses.replace(base, namespaces=base.namespaces[:-3])
        tracker.update(changed, "23:01:00")
        changes = ChangesScreen(tracker.entries)
        app.push_screen(changes)
        await pilot.pause()
        table = changes.query_one("#changes-table", DataTable)
        assert table.row_count > 2
        await pilot.press("end")
        await pilot.pause()
        assert table.cursor_row == table.row_count - 1
        await pilot.press("home")
        await pilot.pause()
        assert table.cursor_row == 0


# ---------------------------------------------------------------- live while open


async def _reread(pilot: object, watcher: FakeWatcher) -> None:
    assert watcher.on_change is not None
    watcher.on_change("host netlink")
    await pilot.pause(0.1)  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]


def _heal_pair(snap: Snapshot, names: tuple[str, ...] = ("cd0", "dc0")) -> Snapshot:
    """The lab's cd0/dc0 pair with its down end up again (nsxlab-c, nsxlab-d healthy);
    with lost0, the orphan's link, nothing is wrong any more."""
    out = []
    for ns in snap.namespaces:
        ifaces = tuple(
            dataclasses.replace(i, state="up", flags=("BROADCAST", "MULTICAST", "UP", "LOWER_UP"))
            if i.name in names
            else i
            for i in ns.interfaces
        )
        out.append(dataclasses.replace(ns, interfaces=ifaces))
    return dataclasses.replace(snap, namespaces=tuple(out))


async def test_an_open_problems_view_follows_the_reads(make_app: AppFactory) -> None:
    """QA: a problem fixed while `p` was open stayed listed until the view was opened
    again. The list now follows every full read, the cursor staying on its finding."""
    source = FakeSource(lab_snapshot())
    watcher = FakeWatcher()
    app = make_app(source=source, watcher=watcher, debounce=0.01, min_collect_gap=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProblemsScreen)
        before = len(screen.problems)
        assert any(p.namespace_inode == PAIR_C for p in screen.problems)
        table = screen.query_one("#problems-table", DataTable)
        # stand on a finding that stays (the orphan's, listed after the pair's), then
        # heal the pair
        stay = next(n for n, p in enumerate(screen.problems) if p.namespace_inode == ORPHAN)
        assert stay > 0
        kept = screen.problems[stay]
        table.move_cursor(row=stay)
        await pilot.pause()
        source.snapshot = _heal_pair(source.snapshot)
        await _reread(pilot, watcher)
        assert app.screen is screen
        assert len(screen.problems) < before
        assert not any(p.namespace_inode == PAIR_C for p in screen.problems)
        assert table.row_count == len(screen.rows)
        shown = screen.rows[table.cursor_row]
        assert isinstance(shown, int) and screen.problems[shown].kind == kept.kind
        assert screen.problems[shown].namespace_inode == kept.namespace_inode
        title = widget_text(screen.query_one("#problems-title", Static))
        assert f"{len(screen.problems)} error" in title
        # a read that finds the same: nothing redrawn (the rows are the same objects)
        first_row = table.get_row_at(0)
        await _reread(pilot, watcher)
        assert table.get_row_at(0)[0] is first_row[0]
        # the last one fixed too: an empty list that says so
        source.snapshot = _heal_pair(source.snapshot, ("cd0", "dc0", "lost0"))
        await _reread(pilot, watcher)
        assert screen.problems == [] and table.row_count == 0
        await pilot.pause()
        assert "none found" in widget_text(screen.query_one("#problems-title", Static))
        detail = screen.query_one("#problems-detail", Static)
        assert "Nothing wrong" in str(detail.render())


async def test_an_open_changes_view_follows_the_reads(make_app: AppFactory) -> None:
    source = FakeSource(lab_snapshot())
    watcher = FakeWatcher()
    app = make_app(source=source, watcher=watcher, debounce=0.01, min_collect_gap=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ChangesScreen)
        assert screen.entries == []
        assert screen.query_one("#changes-empty").display
        source.snapshot = _with_mtu(source.snapshot, "nsxlab-a", "veth0", 1400)
        await _reread(pilot, watcher)
        assert app.screen is screen
        table = screen.query_one("#changes-table", DataTable)
        assert any(r[3] == "interface changed veth0: mtu 1500 -> mtu 1400" for r in _rows(table))
        assert not screen.query_one("#changes-empty").display
        assert f"  {len(screen.entries)}" in widget_text(screen.query_one("#changes-title"))
        # Enter jumps with the newest snapshot: veth0 of nsxlab-a
        row = next(n for n, r in enumerate(_rows(table)) if r[2] == "interface-changed")
        table.move_cursor(row=row)
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, ChangesScreen)
        lab_a = next(ns for ns in app.namespaces if ns.label == "nsxlab-a")
        assert app.selected == lab_a.inode


# ---------------------------------------------------------------- words


@pytest.fixture
def utc() -> Iterator[None]:
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        os.environ.pop("TZ")
    else:
        os.environ["TZ"] = old
    time.tzset()


def test_a_finding_s_utc_stamp_is_shown_as_the_local_clock(utc: None) -> None:
    """Problems said `since 2026-12-04T19:52:10Z` where Changes and Output say
    19:52:10; another day keeps its date (a replay)."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    clock = now[11:19]
    assert local_times(f"tx_dropped +5 since {now}") == f"tx_dropped +5 since {clock}"
    assert local_times("+1 since 2020-02-03T04:05:06Z") == "+1 since 2020-02-03 04:05:06"
    assert local_times("not 2020-99-99T99:99:99Z") == "not 2020-99-99T99:99:99Z"
    assert local_times("no stamp here") == "no stamp here"


async def test_a_listed_group_s_detail_says_enter_folds_it() -> None:
    many = [FakeProblem("counters-growing", "info", 1, f"e{n}", "x") for n in range(6)]
    app = ScreenHarness()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = ProblemsScreen(many, lab_snapshot())
        app.push_screen(screen)
        await pilot.pause()
        detail = screen.query_one("#problems-detail", Static)
        assert "enter lists them" in widget_text(detail)
        await pilot.press("enter")
        await pilot.pause()
        assert "enter folds them" in widget_text(detail)


def test_changes_after_midnight_are_listed_first() -> None:
    """Listed newest first by when they were seen, not by the words of the clock."""
    base = lab_snapshot()
    tracker = ChangeTracker(base)
    tracker.update(_with_mtu(base, "nsxlab-a", "veth0", 1400), "23:59:58")
    both = _with_mtu(_with_mtu(base, "nsxlab-a", "veth0", 1400), "nsxlab-b", "veth0", 1300)
    tracker.update(both, "00:00:03")
    changed = [s for s in tracker.entries if s.change.kind == "interface-changed"]
    assert [(s.when, s.change.namespace_label) for s in changed] == [
        ("00:00:03", "nsxlab-b"),
        ("23:59:58", "nsxlab-a"),
    ]


# ---------------------------------------------------------------- where Enter goes


async def _enter_on(pilot: object, app: object, kind: str, subject: str = "") -> None:
    await pilot.press("d")  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, ChangesScreen)
    row = next(
        n
        for n, s in enumerate(screen.entries)
        if s.change.kind == kind and s.change.subject == subject
    )
    screen.query_one("#changes-table", DataTable).move_cursor(row=row)
    await pilot.press("enter")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]


async def test_enter_on_a_gone_namespace_never_lands_on_the_one_that_took_its_inode(
    make_app: AppFactory,
) -> None:
    """QA (high): nsxlab-a deleted, a new namespace under its inode: Enter on "namespace
    gone (nsxlab-a)" selected the newcomer, where `x` would then have run."""
    from test_replaced_inode import after, before

    source, watcher = FakeSource(before()), FakeWatcher()
    app = make_app(source=source, watcher=watcher, debounce=0.01, min_collect_gap=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        start = app.selected
        source.snapshot = after()
        await _reread(pilot, watcher)
        await _enter_on(pilot, app, "namespace-gone")
        assert app.selected == start
        said = " ".join(str(n.message) for n in app._notifications)
        assert "nsxlab-a is gone, and netns" in said and "intruder" in said, said


async def test_enter_on_an_interface_that_went_says_so(make_app: AppFactory) -> None:
    from uifixtures import LAB_A

    source, watcher = FakeSource(lab_snapshot()), FakeWatcher()
    app = make_app(source=source, watcher=watcher, debounce=0.01, min_collect_gap=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lab_a = source.snapshot.by_inode(LAB_A)
        assert lab_a is not None
        kept = tuple(i for i in lab_a.interfaces if i.name != "veth0")
        source.snapshot = _put_interfaces(source.snapshot, LAB_A, kept)
        await _reread(pilot, watcher)
        await _enter_on(pilot, app, "interface-gone", "veth0")
        assert app.selected == LAB_A
        said = " ".join(str(n.message) for n in app._notifications)
        gone = f"veth0 is no longer in nsxlab-a (netns {LAB_A}); showing the namespace"
        assert gone in said, said


async def test_enter_on_an_interface_that_went_never_lands_on_one_that_took_its_name(
    make_app: AppFactory,
) -> None:
    """Review: veth0 deleted and made anew (another ifindex): Enter on "interface gone
    veth0" highlighted the new one, by its name, and said nothing."""
    from uifixtures import LAB_A

    from nsexplorer.ui.widgets.panes import InterfacesPane

    source, watcher = FakeSource(lab_snapshot()), FakeWatcher()
    app = make_app(source=source, watcher=watcher, debounce=0.01, min_collect_gap=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lab_a = source.snapshot.by_inode(LAB_A)
        assert lab_a is not None
        anew = tuple(
            dataclasses.replace(i, ifindex=99) if i.name == "veth0" else i for i in lab_a.interfaces
        )
        source.snapshot = _put_interfaces(source.snapshot, LAB_A, anew)
        await _reread(pilot, watcher)
        await _enter_on(pilot, app, "interface-gone", "veth0")
        assert app.selected == LAB_A
        assert app.main.query_one(InterfacesPane).selected_ifindex != 99
        said = " ".join(str(n.message) for n in app._notifications)
        assert "veth0 is no longer in nsxlab-a" in said, said


def test_a_field_change_jumps_with_its_column_in_view() -> None:
    from nsexplorer.ui.screens.changes import jump_for

    base = lab_snapshot()
    tracker = ChangeTracker(base)
    tracker.update(_with_mtu(base, "nsxlab-a", "veth0", 1400), "23:01:00")
    (entry,) = [s for s in tracker.entries if s.change.kind == "interface-changed"]
    jump = jump_for(entry.change)
    assert (jump.interface, jump.column, jump.gone) == ("veth0", "mtu", False)


def test_a_rename_keeps_the_first_seen_time_of_the_interface_s_changes() -> None:
    """QA: veth0 moved in, then renamed: its own rows were stamped anew at the rename.
    An interface is told by its ifindex, so they keep their time; a problem on it is the
    same problem under its new name, not one cleared and one appeared."""
    base = lab_snapshot()
    lab_a = next(ns for ns in base.namespaces if ns.label == "nsxlab-a")
    veth = next(i for i in lab_a.interfaces if i.name == "veth0")
    down = dataclasses.replace(veth, state="down", flags=("BROADCAST", "MULTICAST"), mtu=1400)

    def with_veth(iface: object) -> Snapshot:
        ifaces = tuple(iface if i is veth else i for i in lab_a.interfaces)
        new = dataclasses.replace(lab_a, interfaces=ifaces)  # type: ignore[arg-type]
        return dataclasses.replace(
            base, namespaces=tuple(new if n is lab_a else n for n in base.namespaces)
        )

    tracker = ChangeTracker(base)
    tracker.update(with_veth(down), "23:01:00")
    first = {s.change.identity: s for s in tracker.entries}
    news = tracker.update(with_veth(dataclasses.replace(down, name="veth0r")), "23:02:00")
    # the rename alone is news, not the interface's changes now under its new name
    assert [c.topic for c in news if c.ifindex == veth.ifindex] == ["name"]
    mine = [s for s in tracker.entries if s.change.ifindex == veth.ifindex]
    renamed = [s for s in mine if s.change.topic == "name"]  # new at the rename, rightly
    assert [s.when for s in renamed] == ["23:02:00"]
    kept = [s for s in mine if s not in renamed]
    assert len(kept) >= 3 and {s.when for s in kept} == {"23:01:00"}, kept
    assert {s.change.identity for s in kept} <= set(first)
    # the rename changed their subject, not what changed: no "last changed" for it
    assert all(s.changed == "" for s in kept if s.change.kind == "interface-changed"), kept
    assert not [s for s in tracker.entries if s.change.kind == "problem-cleared"]


async def test_changes_detail_says_the_selected_change_in_full() -> None:
    base = lab_snapshot()
    tracker = ChangeTracker(base)
    tracker.update(_with_mtu(base, "nsxlab-a", "veth0", 1400), "23:01:00")
    tracker.update(_with_mtu(base, "nsxlab-a", "veth0", 1300), "23:02:00")
    app = ScreenHarness()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = ChangesScreen(tracker.entries)
        app.push_screen(screen)
        await pilot.pause()
        row = next(n for n, s in enumerate(screen.entries) if s.change.kind == "interface-changed")
        screen.query_one("#changes-table", DataTable).move_cursor(row=row)
        await pilot.pause()
        detail = str(screen.query_one("#changes-detail", Static).render())
        assert "interface-changed in nsxlab-a (netns 4026532601) on veth0" in detail
        assert "first seen 23:01:00, last changed 23:02:00" in detail
        assert "before: mtu 1500" in detail and "after: mtu 1300" in detail


def test_a_path_label_is_cut_in_the_middle_in_a_view() -> None:
    from rich.text import Text

    from nsexplorer.ui.widgets.labels import fit_label

    cut = fit_label(Text("/run/nsx-testbed/exec/netns/d90a9ebfdb3e"), 24).plain
    assert cut.endswith("/d90a9ebfdb3e") and "…" in cut and len(cut) <= 24
    assert fit_label(Text("a-very-long-container-name-here"), 10).plain == "a-very-lo…"
    assert fit_label(Text("short"), 10).plain == "short"


async def test_an_open_problems_view_reads_again_on_a_quiet_host(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA: drops sent on a quiet host showed only after an unrelated change caused a
    read (counters are compared between full reads). Opening `p` reads at once, and
    again every REREAD_EVERY seconds while it is open; a replay never reads."""
    from nsexplorer.ui.screens import problems

    monkeypatch.setattr(problems, "REREAD_EVERY", 0.2)
    source = FakeSource(lab_snapshot())
    app = make_app(source=source, watcher=FakeWatcher(), debounce=0.01, min_collect_gap=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = source.collects
        await pilot.press("p")
        await pilot.pause(0.05)
        assert source.collects > before  # at once
        opened = source.collects
        await pilot.pause(0.6)
        assert source.collects >= opened + 2  # and again every REREAD_EVERY
        await pilot.press("escape")
        await settle(pilot)
        closed = source.collects
        await pilot.pause(0.5)
        assert source.collects == closed  # quiet again once it is closed
    quiet = FakeSource(lab_snapshot(), live=False)
    replay = make_app(source=quiet)
    async with replay.run_test(size=SIZE) as pilot:
        await settle(pilot)
        read = quiet.collects
        await pilot.press("p")
        await pilot.pause(0.5)
        assert isinstance(replay.screen, ProblemsScreen)
        assert quiet.collects == read


async def test_change_notices_do_not_pile_up(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA: "N new change(s)" came at every read, over the Problems view too, and stacked
    up on a busy host. At most one in CHANGES_NOTICE_GAP, on the main screen only, with
    the count of what was seen since."""
    from nsexplorer.ui import incident

    source, watcher = FakeSource(lab_snapshot()), FakeWatcher()
    app = make_app(source=source, watcher=watcher, debounce=0.01, min_collect_gap=0)

    def notices() -> list[str]:
        return [str(n.message) for n in app._notifications if "new change(s)" in str(n.message)]

    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for mtu in (1400, 1300, 1200):
            source.snapshot = _with_mtu(lab_snapshot(), "nsxlab-a", "veth0", mtu)
            await _reread(pilot, watcher)
        assert len(notices()) == 1, notices()
        monkeypatch.setattr(incident, "CHANGES_NOTICE_GAP", 0.0)
        await pilot.press("p")
        await pilot.pause()
        source.snapshot = _with_mtu(lab_snapshot(), "nsxlab-b", "veth0", 1300)
        await _reread(pilot, watcher)
        assert len(notices()) == 1  # not over the view
        await pilot.press("escape")
        await settle(pilot)
        source.snapshot = _with_mtu(lab_snapshot(), "nsxlab-b", "veth0", 1200)
        await _reread(pilot, watcher)
        assert len(notices()) == 2, notices()
        # with those seen over the view: two reads' worth (each with its problems)
        assert int(notices()[-1].split()[0]) >= 2


async def test_a_read_that_lands_before_a_view_is_built_is_shown_when_it_is() -> None:
    """Review: a read queued before the view was built reached show() first, and
    query_one raised NoMatches in a handler: the app died."""
    base = lab_snapshot()
    app = ScreenHarness()
    async with app.run_test(size=(100, 30)) as pilot:
        problems = ProblemsScreen((), base)
        app.push_screen(problems)
        problems.show(lab_problems(), base)  # the same turn: not built yet
        await pilot.pause()
        assert len(problems.problems) == len(lab_problems())
        table = problems.query_one("#problems-table", DataTable)
        assert table.row_count == len(problems.rows)
        app.pop_screen()
        tracker = ChangeTracker(base)
        tracker.update(_with_mtu(base, "nsxlab-a", "veth0", 1400), "23:01:00")
        changes = ChangesScreen([])
        app.push_screen(changes)
        changes.show(tracker.entries)
        await pilot.pause()
        assert changes.query_one("#changes-table", DataTable).row_count == len(tracker.entries)


async def test_the_inside_pane_names_who_holds_each_tun_device() -> None:
    """QA: only `show` said who holds a tap; the TUI's Inside pane says it too."""
    from viewfixtures import InsideHarness

    from nsexplorer.model import TunHolder
    from nsexplorer.model_inside import InsideFacts
    from nsexplorer.ui.widgets.inside import InsidePane

    ns = next(n for n in lab_snapshot().namespaces if n.label == "nsxlab-a")
    held = (
        ("tap0", (TunHolder(31, "qemu\x1b[2J", (5,)),)),
        ("tap1", ()),
        ("tun9", (TunHolder(40, "openvpn", (3,), proved=False),)),
    )

    class Holding:
        def inside(self, ns: object, parts: object = None) -> InsideFacts:
            return InsideFacts(ns.inode, tun_holders=held)  # type: ignore[attr-defined]

    app = InsideHarness()
    async with app.run_test(size=(120, 50)) as pilot:
        pane = app.query_one(InsidePane)
        pane.load(Holding(), ns)
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = str(pane.query_one("#inside-body", Static).render())
    assert "tun/tap devices: the processes holding them (their carrier) (3)" in text
    assert "tap0: held by qemu\\x1b[2J (pid 31)" in text and "\x1b" not in text
    assert "tap1: held by no process" in text
    assert "tun9: held by openvpn (pid 40, unproved)" in text
    without = InsideFacts(ns.inode)  # no tun/tap there (or a saved snapshot): no section
    from nsexplorer.ui.render_views import inside_text

    assert "tun/tap" not in inside_text(without, ns).plain


def test_tun_holders_in_show_json_read_back() -> None:
    from nsexplorer import snapshot_json
    from nsexplorer.model import TunHolder
    from nsexplorer.model_inside import InsideFacts

    facts = InsideFacts(7, tun_holders=(("tap0", (TunHolder(31, "qemu", (5, 6)),)),))
    doc = snapshot_json.encode_inside(facts)
    assert doc["tun_holders"] == {
        "tap0": [{"pid": 31, "comm": "qemu", "fds": [5, 6], "proved": True}]
    }
    back = snapshot_json.decode_inside(doc)
    assert back is not None and back.tun_holders == facts.tun_holders
    assert "tun_holders" not in snapshot_json.encode_inside(InsideFacts(7))


async def test_the_same_notice_is_not_stacked(make_app: AppFactory) -> None:
    """QA: Enter four times on a gone row stacked three identical notices."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for _ in range(3):
            app.notify(["nsxlab-x is gone, and netns 1 now names another namespace:", "y"])
        app.notify("another one")
        await pilot.pause()
        messages = [str(n.message) for n in app._notifications]
        assert len(messages) == 2, messages
