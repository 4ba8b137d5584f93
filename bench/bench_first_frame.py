#!/usr/bin/env python3
"""First populated frame (issue 10, Speed): spawn -> nsexplorer's sidebar listing the
namespaces, against spawn -> the first frame of an empty Textual app (App + one Static),
in the same run, in a real terminal (tmux, 80x24), on the live host.

For each N it builds N throwaway namespaces (``--prefix``: netns PREFIX-nNNNN, each with
eth0 on bridge PREFIX-br0 and an address), then launches, round after round, the empty
app and nsexplorer (and each ``--also`` checkout's nsexplorer), the order rotating every
round; it reports medians of wall time and of the process's CPU time (user+system, all
threads) when the frame is seen, the ratios to the empty app, and the load average
before and after. Everything it made is removed at the end, also on failure or Ctrl-C.

Usage (root):  .venv/bin/python bench/bench_first_frame.py [--sizes 200,1000]
                   [--repeat 9] [--also main=/work/main/.venv/bin/python]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import bench_tui
import common


def launch(argv: list[str], ready: str) -> tuple[float, float]:
    session = bench_tui.spawn(argv)
    start = time.perf_counter()
    try:
        bench_tui.wait(session, lambda t: ready in t)
        wall = time.perf_counter() - start
        return wall, bench_tui.cpu_seconds(session)
    finally:
        bench_tui.kill(session)


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200,1000")
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--prefix", default="nsxfb")
    parser.add_argument("--net16", default="10.237", help="first two octets of the /16")
    parser.add_argument(
        "--also",
        action="append",
        default=[],
        metavar="NAME=PYTHON",
        help="another checkout's interpreter (its venv has that checkout installed)",
    )
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench_first_frame.py needs root (it builds namespaces)", file=sys.stderr)
        return 2
    prefix, bridge = args.prefix, f"{args.prefix}-br0"
    sides: dict[str, tuple[list[str], str]] = {
        "empty": ([sys.executable, "-c", bench_tui.EMPTY_APP], "EMPTY-READY"),
        "this": ([sys.executable, "-m", "nsexplorer"], " namespaces · "),
    }
    for spec in args.also:
        name, _, python = spec.partition("=")
        sides[name] = ([python, "-m", "nsexplorer"], " namespaces · ")
    names = list(sides)
    rows: list[str] = []
    try:
        for n in [int(x) for x in args.sizes.split(",")]:
            common.build(prefix, bridge, args.net16, n)
            bench_tui.wait_for_quiet_host(quiet=2.0, limit=30.0)
            load0 = loadavg()
            wall: dict[str, list[float]] = {k: [] for k in names}
            cpu: dict[str, list[float]] = {k: [] for k in names}
            for r in range(args.repeat):
                order = names[r % len(names) :] + names[: r % len(names)]
                for name in order:
                    argv, ready = sides[name]
                    w, c = launch(argv, ready)
                    wall[name].append(w)
                    cpu[name].append(c)
            load1 = loadavg()
            for name in names:
                print(
                    f"# N={n} {name}: wall {[round(x, 3) for x in wall[name]]} "
                    f"cpu {[round(x, 3) for x in cpu[name]]}",
                    file=sys.stderr,
                )
            ew, ec = statistics.median(wall["empty"]), statistics.median(cpu["empty"])
            for name in names[1:]:
                w, c = statistics.median(wall[name]), statistics.median(cpu[name])
                rows.append(
                    f"| {n} | {name} | {ew:.3f} s / {ec:.3f} s | {w:.3f} s / {c:.3f} s | "
                    f"**{w / ew:.2f}x / {c / ec:.2f}x** | {load0} -> {load1} |"
                )
                print(rows[-1], file=sys.stderr)
    finally:
        for s in list(bench_tui.SESSIONS):
            bench_tui.kill(s)
        common.remove(prefix, bridge)
    print(f"Machine: {common.machine()}; {args.repeat} launches of each, interleaved\n")
    print(
        "| N | nsexplorer | empty app wall / CPU | nsexplorer wall / CPU | ratio wall / CPU "
        "| load average before -> after |"
    )
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
