"""ProblemBoard: findings per namespace for badges and Details, counters growing only
between two reads, and which findings appeared or cleared."""

from __future__ import annotations

import dataclasses

from uifixtures import lab_snapshot
from viewfixtures import FakeProblem, ScreenHarness, lab_problems

from nsexplorer.model import Snapshot
from nsexplorer.ui.problemboard import ProblemBoard, live_board
from nsexplorer.ui.screens.problems import Jump, ProblemsScreen

GROWING = FakeProblem("counters-growing", "warning", 4026532501, "eth0", "rx_dropped +12")


def test_badges_and_details_only_where_the_finding_belongs() -> None:
    board = ProblemBoard(lambda s: lab_problems())
    board.update(lab_snapshot())
    assert board.worst(4026532601) == "error"
    assert board.worst(4026532602) == "warning"
    assert board.worst(4026532501) is None  # healthy: no badge
    assert board.for_namespace(4026532501) == ()
    assert [p.kind for p in board.for_namespace(4026532901)] == ["leaked-netns"]
    assert [p.kind for p in board.for_interface(4026532602, "veth0")] == ["veth-no-carrier"]
    assert board.for_interface(4026532602, "lo") == ()


def test_counters_growing_needs_two_reads_and_clears_when_they_stop() -> None:
    calls: list[tuple[Snapshot, Snapshot]] = []
    grow = [GROWING]

    def growing(a: Snapshot, b: Snapshot) -> list[FakeProblem]:
        calls.append((a, b))
        return list(grow)

    board = ProblemBoard(lambda s: (), growing)
    first, second = lab_snapshot(), lab_snapshot()
    assert board.update(first) == ((), ())
    assert calls == []
    appeared, cleared = board.update(second)
    assert calls == [(first, second)]
    assert appeared == (GROWING,) and cleared == ()
    assert board.worst(4026532501) == "warning"
    grow.clear()
    appeared, cleared = board.update(lab_snapshot())
    assert appeared == () and cleared == (GROWING,)
    assert board.worst(4026532501) is None


def _faulty() -> tuple[Snapshot, int]:
    snap = lab_snapshot()
    a = next(ns for ns in snap.namespaces if ns.label == "nsxlab-a")
    veth = next(i for i in a.interfaces if i.name == "veth0")
    down = dataclasses.replace(veth, state="down", flags=("BROADCAST", "MULTICAST"))
    a2 = dataclasses.replace(a, interfaces=tuple(down if i is veth else i for i in a.interfaces))
    return dataclasses.replace(
        snap, namespaces=tuple(a2 if ns is a else ns for ns in snap.namespaces)
    ), a.inode


async def test_problems_view_over_real_findings_jumps_to_the_down_veth() -> None:
    faulty, inode = _faulty()
    board = live_board()
    board.update(faulty)
    app = ScreenHarness()
    async with app.run_test(size=(140, 30)) as pilot:
        screen = ProblemsScreen(board.problems, faulty)
        app.push_screen(screen, app.record)
        await pilot.pause()
        row = next(n for n, p in enumerate(screen.problems) if p.kind == "veth-admin-down")
        for _ in range(row):
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause()
    assert app.results == [Jump(inode, "veth0", "state")]  # its state column in view


def test_real_findings_reach_the_board_and_the_problems_view_jumps() -> None:
    """nsexplorer.problems' own findings on a snapshot with a veth end admin down: the
    board badges both ends' namespaces, a healthy one has none."""
    snap = lab_snapshot()
    a = next(ns for ns in snap.namespaces if ns.label == "nsxlab-a")
    veth = next(i for i in a.interfaces if i.name == "veth0")
    down = dataclasses.replace(veth, state="down", flags=("BROADCAST", "MULTICAST"))
    a2 = dataclasses.replace(a, interfaces=tuple(down if i is veth else i for i in a.interfaces))
    faulty = dataclasses.replace(
        snap, namespaces=tuple(a2 if ns is a else ns for ns in snap.namespaces)
    )
    board = live_board()
    board.update(faulty)
    kinds = {(p.kind, p.namespace_inode) for p in board.problems}
    assert ("veth-admin-down", a.inode) in kinds
    assert board.worst(a.inode) is not None
    assert board.worst(4026532503) is None  # nsxlab-none: nothing wrong there
    assert all(p.namespace_inode == a.inode for p in board.for_namespace(a.inode))


def test_the_live_board_knows_the_kind_counters_growing_findings_carry() -> None:
    from nsexplorer.problems.base import COUNTERS_GROWING

    assert live_board()._growing_kind == COUNTERS_GROWING


def test_a_counter_that_grew_stays_listed_for_a_while() -> None:
    """QA: drops that grew were gone at the next read, seconds later and caused by
    something else, before the responder saw them. They stay HOLD seconds after they
    last grew (their words say when), and go with their namespace."""
    from nsexplorer.ui.problemboard import HOLD

    now = [1000.0]
    grow = [GROWING]
    board = ProblemBoard(
        lambda s: (), lambda a, b: list(grow), growing_kind=GROWING.kind, clock=lambda: now[0]
    )
    board.update(lab_snapshot())
    assert board.update(lab_snapshot()) == ((GROWING,), ())
    grow.clear()
    now[0] += HOLD / 2
    assert board.update(lab_snapshot()) == ((), ())  # stopped growing: still listed
    assert board.problems == (GROWING,)
    now[0] += HOLD / 2 + 1
    assert board.update(lab_snapshot()) == ((), (GROWING,))  # a minute on: cleared
    grow.append(GROWING)
    board.update(lab_snapshot())
    grow.clear()
    snap = lab_snapshot()
    without = dataclasses.replace(
        snap, namespaces=tuple(ns for ns in snap.namespaces if ns.inode != GROWING.namespace_inode)
    )
    assert board.update(without) == ((), (GROWING,))  # its namespace went


def test_a_held_counters_finding_never_passes_to_what_took_its_place() -> None:
    """Review: the hold was keyed by inode and name: a namespace that took the inode, or
    an eth0 made anew, inherited the old one's drops (badge, row, jump)."""
    now = [1000.0]
    grow = [GROWING]
    board = ProblemBoard(
        lambda s: (), lambda a, b: list(grow), growing_kind=GROWING.kind, clock=lambda: now[0]
    )

    def changed(**kw: object) -> Snapshot:
        snap = lab_snapshot()
        spaces = tuple(
            dataclasses.replace(ns, **kw) if ns.inode == GROWING.namespace_inode else ns  # type: ignore[arg-type]
            for ns in snap.namespaces
        )
        return dataclasses.replace(snap, namespaces=spaces)

    for replaced in (
        changed(cookie=777),  # another namespace under the inode
        changed(interfaces=()),  # its eth0 deleted
    ):
        grow[:] = [GROWING]
        board.update(lab_snapshot())
        board.update(lab_snapshot())
        assert board.problems == (GROWING,)
        grow.clear()
        assert board.update(lab_snapshot()) == ((), ())  # held
        assert board.update(replaced) == ((), (GROWING,)), replaced
        board.update(lab_snapshot())
    eth0 = next(
        i for i in lab_snapshot().by_inode(GROWING.namespace_inode).interfaces if i.name == "eth0"
    )  # type: ignore[union-attr]
    grow[:] = [GROWING]
    board.update(lab_snapshot())
    board.update(lab_snapshot())
    grow.clear()
    snap = lab_snapshot()
    anew = changed(
        interfaces=tuple(
            dataclasses.replace(i, ifindex=99) if i.name == "eth0" else i
            for i in snap.by_inode(GROWING.namespace_inode).interfaces  # type: ignore[union-attr]
        )
    )
    assert eth0.ifindex != 99
    assert board.update(anew) == ((), (GROWING,))  # an eth0 made anew
