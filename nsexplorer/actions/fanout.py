"""One command in many namespaces at once: bounded parallelism, one result per namespace.

Each run goes through the runner like a single `exec` (its own verified entry, its own
audit entry), so fanning out is never a weaker path than running one by one. The
results come back in the order the namespaces were given, whatever order they finished.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from nsexplorer.errors import NsxError
from nsexplorer.model import NetNamespace
from nsexplorer.ports import CANCELLED, CommandRunner, RunResult, tally_text

DEFAULT_PARALLEL = 8


@dataclass(frozen=True, slots=True)
class FanoutResult:
    namespace: NetNamespace
    result: RunResult

    @property
    def ok(self) -> bool:
        return self.result.outcome == "ok"


def run_in_each(
    runner: CommandRunner,
    namespaces: Sequence[NetNamespace],
    argv: Sequence[str],
    *,
    parallel: int = DEFAULT_PARALLEL,
    timeout: float | None = None,
    cancel: threading.Event | None = None,
    on_done: Callable[[FanoutResult], None] | None = None,
) -> list[FanoutResult]:
    """Run ``argv`` in every namespace, at most ``parallel`` at a time.

    Setting ``cancel`` stops the running commands (their process groups) and skips the
    ones not started yet; those come back with an error saying so. ``on_done`` is
    called from worker threads as each one finishes (for streaming progress).
    """
    runner_cancel = cancel or threading.Event()

    def one(ns: NetNamespace) -> FanoutResult:
        if runner_cancel.is_set():
            skipped = RunResult(
                (), None, "", error="cancelled before it started", stopped=CANCELLED
            )
            done = FanoutResult(ns, skipped)
        else:
            try:
                got = runner.run(ns, argv, timeout=timeout, cancel=runner_cancel.is_set)
            except NsxError as err:  # gone since discovery, not enterable: this one only
                got = RunResult((), None, "", error=err.message)
            done = FanoutResult(ns, got)
        if on_done is not None:
            on_done(done)
        return done

    workers = max(1, min(parallel, len(namespaces)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nsx-fanout") as pool:
        return list(pool.map(one, namespaces))


def summary_line(results: Sequence[FanoutResult]) -> str:
    return f"{len(results)} namespace(s): {tally_text(r.result for r in results)}"
