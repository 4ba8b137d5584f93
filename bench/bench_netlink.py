#!/usr/bin/env python3
"""rtnetlink decoder benchmark: per-message decode cost, and before/after end to end.

1. Decode cost (no root): every message of tests/unit/fixtures/netlink_rich.json decoded
   ``--loops`` times; microseconds per link, address, route and rule message (the
   decoder itself: the memo that serves repeated messages in a real dump is bypassed). With
   ``--baseline PY`` (the python of another checkout's venv, e.g. main's), the same is
   measured there too (older checkouts decode links, addresses and routes only).
2. End to end (root, ``--sizes``): N throwaway namespaces (prefix ``nsxbn``, eth0 on
   bridge nsxbn-br0) and, interleaved ``--repeat`` times, ``nsexplorer snapshot`` of this
   checkout, of the baseline (when given), and the expert pipeline of bench_discovery
   (``nsenter ... ip -j -d -batch -`` with link, addr, route show table all); medians
   and ratios. Everything made is removed at the end, also on failure.

Usage:  .venv/bin/python bench/bench_netlink.py [--baseline /path/to/other/.venv/bin/python]
            [--sizes 500] [--repeat 5] [--loops 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import common

PREFIX = "nsxbn"
BRIDGE = "nsxbn-br0"
HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "tests", "unit", "fixtures", "netlink_rich.json")

DECODE_SNIPPET = r"""
import json, sys, time
loops = int(sys.argv[1]); doc = json.load(open(sys.argv[2]))
try:
    from nsexplorer.collect import rtnl_decode as d
    fns = {"links": d.parse_link, "addrs": d.parse_addr, "routes": d.parse_route,
           "rules": d.parse_rule}
except ImportError:  # before the decoders were split out of netlink.py
    from nsexplorer.collect import netlink as d
    fns = {"links": d.parse_link, "addrs": d.parse_addr, "routes": d.parse_route}
out = {}
for kind, fn in fns.items():
    fn = getattr(fn, "__wrapped__", fn)  # the decoder itself, not its memo of repeats
    msgs = [bytes.fromhex(x) for ns in doc.values() for x in ns[kind]]
    t = time.perf_counter()
    for _ in range(loops):
        for m in msgs:
            fn(m)
    out[kind] = (time.perf_counter() - t) / (loops * len(msgs)) * 1e6
print(json.dumps(out))
"""

PIPELINE = r"""
for f in /run/netns/*; do
  printf 'link show\naddr show\nroute show table all\n' | nsenter --net="$f" ip -j -d -batch -
done
"""


def decode_cost(python: str, loops: int) -> dict[str, float]:
    done = subprocess.run(
        [python, "-c", DECODE_SNIPPET, str(loops), FIXTURE],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",  # not this checkout: each python imports its own nsexplorer
    )
    values: dict[str, float] = json.loads(done.stdout)
    return values


def timed(argv: list[str]) -> tuple[float, float]:
    """Wall time, and CPU time (user + system of the process and its children, from
    wait4), which other load on a shared machine disturbs much less."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/")
    _pid, _status, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0  # reaped by wait4
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def end_to_end(n: int, repeat: int, sides: dict[str, str]) -> dict[str, float]:
    print(f"building {n} namespaces ...", file=sys.stderr, flush=True)
    common.build(PREFIX, BRIDGE, "10.229", n)
    try:
        argvs = {k: [py, "-m", "nsexplorer", "snapshot"] for k, py in sides.items()}
        argvs["pipeline"] = ["sh", "-c", PIPELINE]
        for argv in argvs.values():  # warm caches and bytecode
            timed(argv)
        row: dict[str, float] = {"namespaces": len(os.listdir("/run/netns"))}
        runs: dict[str, list[tuple[float, float]]] = {k: [] for k in argvs}
        for _ in range(repeat):  # interleaved, so drift hits every side alike
            for key, argv in argvs.items():
                runs[key].append(timed(argv))
        for key, values in runs.items():
            row[key] = statistics.median(w for w, _ in values)
            row[f"{key}_cpu"] = statistics.median(c for _, c in values)
        return row
    finally:
        common.remove(PREFIX, BRIDGE)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", help="python of another checkout's venv")
    ap.add_argument("--sizes", default="")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--loops", type=int, default=2000)
    args = ap.parse_args()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sides = {"this": sys.executable}
    if args.baseline:
        sides["baseline"] = args.baseline
    print(f"Machine: {common.machine()}\n")
    print("Decode cost, microseconds per message (median of 3 runs):\n")
    print("| checkout | link | address | route | rule |")
    print("|---|---|---|---|---|")
    for name, py in sides.items():
        runs = [decode_cost(py, args.loops) for _ in range(3)]
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        cells = [
            f"{med[k]:.1f}" if k in med else "-" for k in ("links", "addrs", "routes", "rules")
        ]
        print(f"| {name} | {' | '.join(cells)} |")
    if args.sizes:
        if os.geteuid() != 0:
            print("end to end: needs root", file=sys.stderr)
            return 1
        print(
            f"\nEnd to end, median of {args.repeat} interleaved runs: seconds of wall time "
            "(CPU time, user + system, in parentheses):\n"
        )
        cols = [f"snapshot ({k})" for k in sides] + ["pipeline"] + [f"ratio ({k})" for k in sides]
        print("| N | namespaces | " + " | ".join(cols) + " |")
        print("|---" * (2 + len(cols)) + "|")
        for n in (int(x) for x in args.sizes.split(",")):
            row = end_to_end(n, args.repeat, sides)
            cells = [f"{row[k]:.3f} ({row[k + '_cpu']:.3f})" for k in [*sides, "pipeline"]]
            cells += [
                f"{row[k] / row['pipeline']:.2f}x ({row[k + '_cpu'] / row['pipeline_cpu']:.2f}x)"
                for k in sides
            ]
            print(f"| {n} | {row['namespaces']:.0f} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
