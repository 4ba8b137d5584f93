"""SVG snapshot tests at fixed sizes (update with `pytest --snapshot-update`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from helpers import settle
from textual.pilot import Pilot
from uifixtures import HIDDEN, LAB_A, WEB, AppFactory, hostile_snapshot

Snap = Callable[..., bool]


def steps(*keys: str, goto: int | None = None) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        if goto is not None:
            pilot.app.goto(goto)  # type: ignore[attr-defined]
        await pilot.press(*keys)
        await settle(pilot)

    return run_before


def test_lab_at_80x24(snap_compare: Snap, make_app: AppFactory) -> None:
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=steps())


def test_container_interfaces(snap_compare: Snap, make_app: AppFactory) -> None:
    assert snap_compare(make_app(), terminal_size=(120, 30), run_before=steps(goto=WEB))


def test_wiring_of_a_lab_namespace(snap_compare: Snap, make_app: AppFactory) -> None:
    assert snap_compare(make_app(), terminal_size=(120, 30), run_before=steps("3", goto=LAB_A))


def test_details_of_a_hidden_namespace(snap_compare: Snap, make_app: AppFactory) -> None:
    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=steps("5", goto=HIDDEN))


def test_filter_by_ip(snap_compare: Snap, make_app: AppFactory) -> None:
    assert snap_compare(make_app(), terminal_size=(100, 24), run_before=steps("slash", *"10.213.0"))


def test_help(snap_compare: Snap, make_app: AppFactory) -> None:
    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=steps("question_mark"))


def test_hostile_names(snap_compare: Snap, make_app: AppFactory) -> None:
    assert snap_compare(
        make_app(hostile_snapshot()), terminal_size=(120, 30), run_before=steps(goto=LAB_A)
    )


def test_read_only_replay(snap_compare: Snap, make_app: AppFactory) -> None:
    assert snap_compare(make_app(live=False), terminal_size=(80, 24), run_before=steps("x"))


def test_inside_pane(snap_compare: Snap, make_app: AppFactory) -> None:
    from uifixtures import FakeSource, lab_snapshot
    from viewfixtures import inside_facts

    snap = lab_snapshot()
    source = FakeSource(snap)
    web = snap.by_inode(WEB)
    assert web is not None
    source.inside_facts[WEB] = inside_facts(web)
    app = make_app(source=source)
    assert snap_compare(app, terminal_size=(120, 30), run_before=steps("8", goto=WEB))
