"""Counter rates divide by the time between two kernel reads (``Counters.read_at``,
stamped by the collect layer), never by the time between two deliveries to the UI."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from helpers import settle, widget_text
from uifixtures import LAB_A, AppFactory, FakeSource, lab_snapshot

from nsexplorer.model import Counters, NetNamespace
from nsexplorer.ui import main_screen, render
from nsexplorer.ui.widgets.counters import CounterHistory, CountersPane

SIZE = (160, 36)
READ_EVERY = 2.0  # seconds between the (pretended) kernel reads


def sample(ns: NetNamespace, n: int) -> NetNamespace:
    """Reading ``n``: +4000 rx / +1000 tx bytes since reading n-1, read 2 s later."""
    ifaces = tuple(
        replace(
            i,
            counters=Counters(rx_bytes=4000 * n, tx_bytes=1000 * n, read_at=100.0 + READ_EVERY * n),
        )
        for i in ns.interfaces
    )
    return replace(ns, interfaces=ifaces)


def test_rate_is_the_counter_delta_over_the_read_gap() -> None:
    ns = next(n for n in lab_snapshot().namespaces if n.inode == LAB_A)
    ifindex = ns.interfaces[-1].ifindex
    history = CounterHistory()
    history.record(sample(ns, 1))
    assert history.rates(LAB_A, ifindex) is None  # one reading: no rate yet
    history.record(sample(ns, 2))
    assert history.rates(LAB_A, ifindex) == (2000.0, 500.0)
    history.record(sample(ns, 2))  # the same read delivered again
    history.record(sample(ns, 1))  # an older read delivered late
    assert history.rates(LAB_A, ifindex) == (2000.0, 500.0)
    assert history.trend(LAB_A, ifindex) == [2500.0]


def test_counters_without_a_read_time_give_no_rate() -> None:
    ns = next(n for n in lab_snapshot().namespaces if n.inode == LAB_A)
    history = CounterHistory()
    history.record(ns)  # recorded fixture: no read_at
    history.record(ns)
    assert all(history.rates(LAB_A, i.ifindex) is None for i in ns.interfaces)


class SlowSource(FakeSource):
    """detail() returns reading n; every other reading is delivered late (the worker
    blocks), so deliveries are unevenly spaced while reads are 2 s apart."""

    def __init__(self) -> None:
        super().__init__(lab_snapshot())
        self.readings = 0
        self._lock = threading.Lock()

    def detail(self, ns: NetNamespace) -> NetNamespace:
        with self._lock:
            self.readings += 1
            n = self.readings
        if n % 2 == 0:
            threading.Event().wait(0.15)  # a delayed delivery
        return sample(ns, n)


async def test_a_delayed_delivery_does_not_change_the_rate(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(main_screen, "COUNTERS_EVERY", 0.05)
    source = SlowSource()
    app = make_app(source=source)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await pilot.press("7")
        ns = app.main.selected_ns
        assert ns is not None
        ifindexes = [i.ifindex for i in ns.interfaces]

        def rated() -> bool:  # every interface has two readings (when they land is the load's)
            return all(app.main.counters.rates(LAB_A, i) is not None for i in ifindexes)

        for _ in range(200):
            await pilot.pause(0.05)
            if source.readings >= 5 and rated():
                break
        await pilot.press("1")  # stop the readings
        await pilot.pause(0.4)  # not settle(): a late reading's worker was superseded
        ns = app.main.selected_ns
        assert ns is not None
        for iface in ns.interfaces:
            assert app.main.counters.rates(LAB_A, iface.ifindex) == (2000.0, 500.0)
            assert set(app.main.counters.trend(LAB_A, iface.ifindex)) == {2500.0}
        await pilot.press("7")
        await pilot.pause(0.4)
        veth0 = next(
            line
            for line in widget_text(app.query_one(CountersPane)).splitlines()
            if line.strip().startswith("veth0")
        )
        assert render.rate_text(2000.0).plain in veth0, veth0  # "2.0 KiB/s"


async def test_no_column_moves_when_the_rates_arrive(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rate appears at the second reading ("-" before it): its column has the width of
    the widest rate from the start, so the columns right of it (the drops a jump
    scrolled into view) stay where they are."""
    monkeypatch.setattr(main_screen, "COUNTERS_EVERY", 0.6)  # a look before the second
    source = SlowSource()
    app = make_app(source=source)
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await pilot.press("7")
        await pilot.pause(0.2)
        pane = app.query_one(CountersPane)
        ns = app.main.selected_ns
        assert ns is not None
        veth0 = next(i for i in ns.interfaces if i.name == "veth0")
        assert app.main.counters.rates(LAB_A, veth0.ifindex) is None
        before = widget_text(pane).splitlines()[0]
        for _ in range(100):
            await pilot.pause(0.05)
            if app.main.counters.rates(LAB_A, veth0.ifindex) is not None:
                break
        await pilot.pause(0.2)
        assert app.main.counters.rates(LAB_A, veth0.ifindex) is not None
        assert widget_text(pane).splitlines()[0] == before
