"""The Counters pane: rx/tx bytes, packets, errors and drops per interface, with
per-second rates from successive readings and a sparkline of recent traffic."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from itertools import pairwise

from rich.text import Text
from textual.widgets.data_table import RowDoesNotExist

from nsexplorer.model import Counters, NetNamespace
from nsexplorer.ui import render
from nsexplorer.ui.widgets.panes import SafeTable

SAMPLES = 20  # readings kept per interface (the sparkline's width)


@dataclass(frozen=True, slots=True)
class Reading:
    at: float  # monotonic seconds when the kernel counters were read (not delivered)
    counters: Counters


class CounterHistory:
    """Readings per (namespace inode, ifindex); rates come from the last two, over the
    time between their reads (``Counters.read_at``), so a reading delivered late (a
    busy worker, a slow event loop) or delivered twice changes no rate."""

    def __init__(self) -> None:
        self._readings: dict[tuple[int, int], deque[Reading]] = {}

    def record(self, ns: NetNamespace) -> None:
        for iface in ns.interfaces:
            c = iface.counters
            if c is None or c.read_at is None:  # no read time (recorded): no rate
                continue
            kept = self._readings.setdefault((ns.inode, iface.ifindex), deque(maxlen=SAMPLES + 1))
            if kept and c.read_at <= kept[-1].at:  # the same read again, or an older one
                continue
            kept.append(Reading(c.read_at, c))

    def rates(self, inode: int, ifindex: int) -> tuple[float, float] | None:
        """(rx, tx) bytes per second between the last two readings."""
        kept = self._readings.get((inode, ifindex))
        if not kept or len(kept) < 2:
            return None
        return _rate(kept[-2], kept[-1])

    def trend(self, inode: int, ifindex: int) -> list[float]:
        kept = list(self._readings.get((inode, ifindex), ()))
        out = [sum(_rate(a, b)) for a, b in pairwise(kept)]
        return out[-SAMPLES:]

    def forget(self, inode: int) -> None:
        for key in [k for k in self._readings if k[0] == inode]:
            del self._readings[key]


def _rate(a: Reading, b: Reading) -> tuple[float, float]:
    dt = b.at - a.at
    if dt <= 0:
        return (0.0, 0.0)
    rx = max(0, b.counters.rx_bytes - a.counters.rx_bytes) / dt
    tx = max(0, b.counters.tx_bytes - a.counters.tx_bytes) / dt
    return (rx, tx)


# A rate appears at the second reading ("-" before it): its column starts as wide as most
# rates are ("999.9 KiB/s"), so their arrival moves no column (the drops a jump scrolled
# into view stay there).
_FLOORS = {render.COUNTER_COLUMNS.index(column): 11 for column in ("rx/s", "tx/s")}


class CountersPane(SafeTable):
    def __init__(self) -> None:
        super().__init__(render.COUNTER_COLUMNS, id="counters", fixed_columns=1, floors=_FLOORS)

    def select_ifindex(self, ifindex: int, column: str | None = None) -> bool:
        """Put the cursor on ``ifindex``'s row and ``column`` in view (a counters
        finding's jump: the drops that grew, shown)."""
        try:
            row = self.get_row_index(str(ifindex))
        except RowDoesNotExist:
            return False
        self.move_cursor(row=row, scroll=True)
        if column in render.COUNTER_COLUMNS:
            self.show_column(render.COUNTER_COLUMNS.index(column))
        return True

    def show_namespace(self, ns: NetNamespace, history: CounterHistory, live: bool) -> None:
        if not ns.interfaces:
            self.show_message("reading interfaces…" if ns.detailed is False else "no interfaces")
            return
        rows: list[tuple[str, tuple[Text, ...]]] = []
        for iface in ns.interfaces:
            c = iface.counters
            if c is None:
                cells = (render.safe(iface.name, "bold"), render.plain("not recorded", "dim"))
                rows.append((str(iface.ifindex), cells))
                continue
            rates = history.rates(ns.inode, iface.ifindex)
            rx_rate, tx_rate = rates if rates is not None else (None, None)
            trend = history.trend(ns.inode, iface.ifindex)
            spark = render.plain(render.sparkline(trend), "bold") if trend else None
            if spark is None:  # (not "…", which reads as a cut cell)
                spark = render.plain("after a second reading" if live else "not live", "dim")
            rows.append(
                (
                    str(iface.ifindex),
                    (
                        render.safe(iface.name, "bold"),
                        render.plain(render.human_bytes(c.rx_bytes)),
                        render.rate_text(rx_rate) if live else render.plain("-", "dim"),
                        render.plain(str(c.rx_packets)),
                        render.count_text(c.rx_errors, bad=True),
                        render.count_text(c.rx_dropped, bad=True),
                        render.plain(render.human_bytes(c.tx_bytes)),
                        render.rate_text(tx_rate) if live else render.plain("-", "dim"),
                        render.plain(str(c.tx_packets)),
                        render.count_text(c.tx_errors, bad=True),
                        render.count_text(c.tx_dropped, bad=True),
                        spark,
                    ),
                )
            )
        self.fill(rows, owner=ns.inode)
