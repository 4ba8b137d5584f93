"""Error and drop counters that grew between two snapshots (the TUI compares refreshes)."""

from __future__ import annotations

from nsexplorer.model import Counters, Interface, Snapshot
from nsexplorer.model_net import COUNTER_NAMES
from nsexplorer.problems.base import COUNTERS_GROWING, Index, Problem, finding, sort_problems

_ERRORS = ("rx_errors", "tx_errors")
_DROPS = ("rx_dropped", "tx_dropped")
_ALL = COUNTER_NAMES


def _deltas(before: Counters, after: Counters) -> list[tuple[str, int, int]] | None:
    """(field, before, after) of each counter that grew; None when any went backwards
    (the interface was re-created or its counters reset: nothing to compare)."""
    grew: list[tuple[str, int, int]] = []
    for name in _ALL:
        old, new = getattr(before, name), getattr(after, name)
        if new < old:
            return None
        if new > old and name in _ERRORS + _DROPS:
            grew.append((name, old, new))
    return grew


def counters_growing(before: Snapshot, after: Snapshot) -> tuple[Problem, ...]:
    """Interfaces (same namespace, ifindex and name in both) whose error or drop
    counters grew from ``before`` to ``after``: a warning for errors, info for drops
    only. Sorted like :func:`nsexplorer.problems.find_problems`."""
    old: dict[tuple[int, int], Interface] = {}
    for ns in before.namespaces:
        if ns.detailed and not ns.gone:
            for i in ns.interfaces:
                old[(ns.inode, i.ifindex)] = i
    idx = Index(after)
    out: list[Problem] = []
    for ns in idx.detailed:
        for iface in ns.interfaces:
            prev = old.get((ns.inode, iface.ifindex))
            if prev is None or prev.name != iface.name:
                continue
            if prev.counters is None or iface.counters is None:
                continue
            grew = _deltas(prev.counters, iface.counters)
            if not grew:
                continue
            errors = any(name in _ERRORS for name, _, _ in grew)
            what = ", ".join(f"{name} +{new - o}" for name, o, new in grew)
            out.append(
                finding(
                    COUNTERS_GROWING,
                    "warning" if errors else "info",
                    ns,
                    iface.name,
                    # both reads' times: a finding the TUI keeps listed a while after
                    # it stopped growing still says when it grew
                    f"{what} between {before.collected_at} and {after.collected_at}",
                    [f"{iface.name}: {name} {o} -> {new}" for name, o, new in grew],
                    ["ip", "-s", "-s", "link", "show", "dev", iface.name],
                )
            )
    return sort_problems(out, idx.order)
