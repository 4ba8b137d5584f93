"""What the session guard adds to starting a command (issue 10, Deliver 7).

    sudo .venv/bin/python bench/bench_guard.py [--runs 200]

Side by side in one run, interleaved, on this machine: a command started the old way
(``subprocess.Popen`` of the guarded argv in a new session, as kernel.children did
before the guard) against ``children.popen`` now (the same, then one ``PID START`` line
written to the guard's pipe). Two timings per start, medians and p95:

- *start*: until Popen returns, what a worker waits before it can read output;
- *run*: start, run ``true`` and reap it: the whole cost of a trivial command;

and ``sessionguard.watch()`` alone (what the hot path adds, without the fork's noise),
and the CPU the guard process spends per command (its utime + stime over the run).

The guard itself starts once per nsexplorer process, on the first command: its start
(fork+exec of ``python -I -S``, in parallel with the command) is timed separately. No
namespace is made; nothing is left behind (every child is reaped, the guard ends with
this process).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import common

from nsexplorer.kernel import children, sessionguard

KW = {
    "stdin": subprocess.DEVNULL,
    "stdout": subprocess.DEVNULL,
    "stderr": subprocess.DEVNULL,
    "start_new_session": True,
    "close_fds": True,
}


def old(argv: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, **KW)  # type: ignore[call-overload, no-any-return]


def new(argv: list[str]) -> subprocess.Popen[bytes]:
    return children.popen(argv, **KW)


def timed(spawn: object, argv: list[str]) -> tuple[float, float]:
    t0 = time.perf_counter()
    proc = spawn(argv)  # type: ignore[operator]
    t1 = time.perf_counter()
    proc.wait()
    return t1 - t0, time.perf_counter() - t0


def guard_cpu(pid: int | None) -> float:
    """Seconds of CPU the guard used so far (utime + stime)."""
    if pid is None:
        return 0.0
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def p95(xs: list[float]) -> float:
    return sorted(xs)[int(len(xs) * 0.95) - 1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=200)
    args = ap.parse_args()
    argv = [*children.guard(), "true"]
    t0 = time.perf_counter()
    first = new(argv)
    first_start = time.perf_counter() - t0
    first.wait()
    guard = sessionguard.guard_pid()
    samples: dict[str, tuple[list[float], list[float]]] = {"old": ([], []), "new": ([], [])}
    for _ in range(10):  # warm both
        timed(old, argv)
        timed(new, argv)
    cpu0 = guard_cpu(guard)
    for i in range(args.runs):
        order = (("old", old), ("new", new)) if i % 2 else (("new", new), ("old", old))
        for key, spawn in order:
            s, r = timed(spawn, argv)
            samples[key][0].append(s)
            samples[key][1].append(r)
    cpu = guard_cpu(guard) - cpu0
    alone = []
    for _ in range(args.runs):  # what the hot path adds, without the noise of the fork
        proc = old(argv)
        t0 = time.perf_counter()
        sessionguard.watch(proc.pid)
        alone.append(time.perf_counter() - t0)
        proc.wait()
    print(common.machine())
    print(f"\n{args.runs} starts each, interleaved; argv: guard + `true`; guard pid {guard}\n")
    print("| way | start median / p95 | run median / p95 |")
    print("|---|---|---|")
    for key in ("old", "new"):
        s, r = samples[key]
        print(
            f"| {key} | {statistics.median(s) * 1e3:.2f} / {p95(s) * 1e3:.2f} ms "
            f"| {statistics.median(r) * 1e3:.2f} / {p95(r) * 1e3:.2f} ms |"
        )
    so, ro = (statistics.median(x) for x in samples["old"])
    sn, rn = (statistics.median(x) for x in samples["new"])
    print(f"\nnew/old: start {sn / so:.2f}x (+{(sn - so) * 1e3:.3f} ms), "
          f"run {rn / ro:.2f}x (+{(rn - ro) * 1e3:.3f} ms)")  # fmt: skip
    print(f"watch() alone (pidfd_open + one sendmsg): {statistics.median(alone) * 1e3:.3f} ms"
          f" median, {p95(alone) * 1e3:.3f} ms p95")  # fmt: skip
    print(f"first command (starts the guard too): {first_start * 1e3:.1f} ms to return")
    print(f"guard CPU (user+system) per command: {cpu / args.runs * 1e3:.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
