"""Fan-out: one failing or vanished namespace is that namespace's result, never the end."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from nsexplorer.actions import fanout
from nsexplorer.errors import NamespaceGone
from nsexplorer.model import NamespaceId, NetNamespace
from nsexplorer.ports import RunResult


class FakeRunner:
    """Stands in for the runner to test the fan-out's own logic (order, errors, cancel)."""

    def __init__(self, gone: int) -> None:
        self.gone = gone
        self.calls: list[int] = []
        self.lock = threading.Lock()

    def run(
        self,
        ns: NetNamespace,
        argv: Sequence[str],
        *,
        all_namespaces: bool = False,
        timeout: float | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> RunResult:
        with self.lock:
            self.calls.append(ns.inode)
        if ns.inode == self.gone:
            raise NamespaceGone(f"namespace {ns.inode} is gone")
        return RunResult(tuple(argv), ns.inode % 2, f"out {ns.inode}")


def nss(n: int) -> list[NetNamespace]:
    return [NetNamespace(id=NamespaceId(1, i), label=f"n{i}") for i in range(n)]


def test_results_in_given_order_with_a_vanished_namespace() -> None:
    runner = FakeRunner(gone=3)
    results = fanout.run_in_each(runner, nss(7), ["x"], parallel=3)  # type: ignore[arg-type]
    assert [r.namespace.inode for r in results] == list(range(7))
    assert results[3].result.error == "namespace 3 is gone" and not results[3].ok
    assert [r.ok for r in results] == [True, False, True, False, True, False, True]
    assert sorted(runner.calls) == list(range(7))
    assert fanout.summary_line(results) == "7 namespace(s): 4 ok, 3 failed"


def test_cancelled_before_start_runs_nothing() -> None:
    runner = FakeRunner(gone=-1)
    cancel = threading.Event()
    cancel.set()
    results = fanout.run_in_each(runner, nss(4), ["x"], cancel=cancel)  # type: ignore[arg-type]
    assert runner.calls == []
    assert all(r.result.error == "cancelled before it started" for r in results)


def test_cancelled_is_counted_apart_from_failed() -> None:
    """QA: a cancelled fan-out said "0 ok, 3 failed (cancelled)"."""
    runner = FakeRunner(gone=-1)
    cancel = threading.Event()
    cancel.set()
    results = fanout.run_in_each(runner, nss(3), ["x"], cancel=cancel)  # type: ignore[arg-type]
    assert all(r.result.stopped == "cancelled" and not r.ok for r in results)
    assert fanout.summary_line(results) == "3 namespace(s): 0 ok, 0 failed, 3 cancelled"
    mixed = [*fanout.run_in_each(runner, nss(2), ["x"]), *results]  # type: ignore[arg-type]
    assert fanout.summary_line(mixed) == "5 namespace(s): 1 ok, 1 failed, 3 cancelled"
