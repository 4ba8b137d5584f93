#!/usr/bin/env python3
"""Discovery benchmark: nsexplorer against what an expert would type, side by side.

For each N it builds N throwaway namespaces (prefix ``nsxb``: netns nsxb-nNNNN, each with
eth0 on bridge nsxb-br0 and an address), then times, alternating runs in one session:

- ``nsexplorer snapshot``  vs the shell pipeline: for each nsfs path,
  ``nsenter --net=PATH ip -j -d -batch -`` with link, addr and route (all tables) show;
- ``nsexplorer list --json`` vs ``lsns -t net -J; ip -j netns list;
  docker ps --no-trunc --format '{{json .}}'`` (docker only when DOCKER_HOST answers),
  and counts the namespaces each side finds.

Wall time is the median of --repeat runs; peak RSS is the child's ru_maxrss (wait4).
Everything it made is removed at the end, also on failure or Ctrl-C.

Usage (root):  /work/venv/bin/python bench/bench_discovery.py [--sizes 200,500,1000]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

import common
from common import sh

PREFIX = "nsxb"
BRIDGE = "nsxb-br0"
NSX = shutil.which("nsexplorer") or os.path.join(os.path.dirname(sys.executable), "nsexplorer")

PIPELINE = r"""
for f in /run/netns/*; do
  printf 'link show\naddr show\nroute show table all\n' | nsenter --net="$f" ip -j -d -batch -
done
"""
# The same pipeline, 8 namespaces at a time (what a hurried expert would do next).
PIPELINE_PAR = r"""
ls -d /run/netns/* | xargs -P8 -I{} sh -c \
  'printf "link show\naddr show\nroute show table all\n" | nsenter --net="$1" ip -j -d -batch -' \
  sh {}
"""
LISTING = r"""
lsns -t net -J
ip -j netns list
if [ -n "$DOCKER_HOST" ]; then docker ps --no-trunc --format '{{json .}}'; fi
"""


EXTRA: list[subprocess.Popen[bytes]] = []
HIDDEN_DIR = "/run/nsxb-hidden"


def build_extras() -> None:
    """What a real host has and the listing commands miss: a netns bind-mounted only in
    another process's private mount namespace (Docker's private-mount daemon, the seed's
    step 6) and one pinned only by an open file descriptor."""
    os.makedirs(HIDDEN_DIR, exist_ok=True)
    script = (
        'mount -t tmpfs none "$0" && touch "$0/ns" && unshare --net="$0/ns" true '
        "&& echo ready && exec sleep 100000"
    )
    hidden = subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, HIDDEN_DIR],
        stdout=subprocess.PIPE,
    )
    EXTRA.append(hidden)
    assert hidden.stdout is not None and hidden.stdout.readline().strip() == b"ready"
    sh(["ip", "netns", "add", f"{PREFIX}-fd"])
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os,sys,time; os.open(sys.argv[1], os.O_RDONLY); print(1, flush=True); "
            "time.sleep(100000)",
            f"/run/netns/{PREFIX}-fd",
        ],
        stdout=subprocess.PIPE,
    )
    EXTRA.append(holder)
    assert holder.stdout is not None and holder.stdout.readline().strip() == b"1"
    sh(["ip", "netns", "del", f"{PREFIX}-fd"])  # only the fd pins it now


def build(n: int) -> None:
    cleanup()
    build_extras()
    common.build(PREFIX, BRIDGE, "10.230", n)


def cleanup() -> None:
    for proc in EXTRA:
        proc.kill()
        proc.wait()
    EXTRA.clear()
    subprocess.run(["ip", "netns", "del", f"{PREFIX}-fd"], capture_output=True, check=False)
    with contextlib.suppress(OSError):
        os.rmdir(HIDDEN_DIR)
    common.remove(PREFIX, BRIDGE)


# ---------------------------------------------------------------- measuring


@dataclass
class Run:
    wall: float
    rss_mb: float
    out: bytes
    cpu: float = 0.0  # user + system of the command and every child it waited for


def measure(argv: list[str], check: bool = True) -> Run:
    """Wall time, CPU time and peak RSS of ``argv``.

    RSS comes from /usr/bin/time: a child forked (or vforked) from this big process
    would inherit our own high-water mark in its ru_maxrss across exec. CPU time comes
    from wait4() on that /usr/bin/time (its own share is well under a millisecond):
    on a shared machine other load stretches wall time far more than CPU time.
    """
    with tempfile.NamedTemporaryFile("r", prefix="nsxb-rss-") as rss_file:
        wrapped = ["/usr/bin/time", "-f", "%M", "-o", rss_file.name, *argv]
        start = time.perf_counter()
        proc = subprocess.Popen(wrapped, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert proc.stdout is not None
        out = proc.stdout.read()
        proc.stdout.close()
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        text = rss_file.read().strip().splitlines()
    if check and proc.returncode != 0:
        raise RuntimeError(f"{argv[:3]} exited {proc.returncode}")
    rss_kb = int(text[-1]) if text and text[-1].isdigit() else 0
    return Run(wall, rss_kb / 1024, out, usage.ru_utime + usage.ru_stime)


def median_runs(argv: list[str], repeat: int) -> tuple[float, float, bytes]:
    runs = [measure(argv) for _ in range(repeat)]
    return (
        statistics.median(r.wall for r in runs),
        max(r.rss_mb for r in runs),
        runs[-1].out,
    )


DETAIL_SNIPPET = r"""
import json, statistics, time
from nsexplorer.collect.source import LiveSource
src = LiveSource()
t = time.perf_counter(); snap = src.discover(); discover_s = time.perf_counter() - t
named = [ns for ns in snap.namespaces if ns.names and ns.names[0].startswith("nsxb-n")][:30]
def detail_ms():
    out = []
    for ns in named:
        t = time.perf_counter(); src.detail(ns); out.append(time.perf_counter() - t)
    return statistics.median(out) * 1000
cold = detail_ms()
t = time.perf_counter(); src.collect(); collect_s = time.perf_counter() - t
warm = detail_ms()
t = time.perf_counter(); src.detail(snap.host); host_ms = (time.perf_counter() - t) * 1000
print(json.dumps({"discover_s": discover_s, "collect_s": collect_s, "detail_cold_ms": cold,
                  "detail_warm_ms": warm, "detail_host_ms": host_ms}))
"""


def detail_timings() -> dict[str, float]:
    """In-process LiveSource timings the TUI depends on (selection -> details)."""
    done = subprocess.run(
        [sys.executable, "-c", DETAIL_SNIPPET], capture_output=True, text=True, check=True
    )
    values: dict[str, float] = json.loads(done.stdout)
    return values


def count_listing(out: bytes) -> int:
    """Distinct namespaces the three listing commands reveal together (lsns inodes, plus
    named netns that lsns does not show: those without a process)."""
    text = out.decode("utf-8", "replace")
    dec = json.JSONDecoder()
    idx = 0
    inodes: set[str] = set()
    named = 0
    while idx < len(text):
        while idx < len(text) and text[idx].isspace():
            idx += 1
        if idx >= len(text):
            break
        try:
            value, idx = dec.raw_decode(text, idx)
        except ValueError:
            idx = text.find("\n", idx) + 1 or len(text)
            continue
        if isinstance(value, dict) and "namespaces" in value:
            inodes |= {str(ns["ns"]) for ns in value["namespaces"]}
        elif isinstance(value, list):
            named = len(value)
    # lsns lists namespaces with processes; every named one of ours has none.
    return len(inodes) + named


def bench(n: int, repeat: int) -> dict[str, float]:
    print(f"building {n} namespaces ...", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    build(n)
    print(f"  built in {time.perf_counter() - t0:.1f}s", file=sys.stderr, flush=True)
    try:
        # Warm caches once for everyone.
        measure([NSX, "list", "--json"])
        row: dict[str, float] = {"n": n}
        pairs = [
            ("snap", [NSX, "snapshot"]),
            ("pipe", ["sh", "-c", PIPELINE]),
            ("pipe8", ["sh", "-c", PIPELINE_PAR]),
            ("list", [NSX, "list", "--json"]),
            ("lsns", ["sh", "-c", LISTING]),
        ]
        results: dict[str, list[Run]] = {k: [] for k, _ in pairs}
        for _ in range(repeat):  # interleaved, so drift hits every side alike
            for key, argv in pairs:
                # Shell pipelines: a namespace someone else removes mid-run is not an error.
                results[key].append(measure(argv, check=key in ("snap", "list")))
        for key, runs in results.items():
            row[f"{key}_s"] = statistics.median(r.wall for r in runs)
            row[f"{key}_cpu"] = statistics.median(r.cpu for r in runs)
            row[f"{key}_rss"] = max(r.rss_mb for r in runs)
        snap = json.loads(results["snap"][-1].out)
        row["snap_ns"] = len(snap["namespaces"])
        row["snap_unresolved"] = sum(
            1
            for ns in snap["namespaces"]
            for i in ns["interfaces"]
            if i["kind"] == "veth" and (i["peer"] is None or i["peer"]["netns_inode"] is None)
        )
        row["list_ns"] = len(json.loads(results["list"][-1].out)["namespaces"])
        row["lsns_ns"] = count_listing(results["lsns"][-1].out)
        row.update(detail_timings())
        return row
    finally:
        cleanup()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="200,500,1000")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("bench_discovery: needs root", file=sys.stderr)
        return 1
    # Measure an installed tool as people run it: with its bytecode cached (the warm-up
    # run writes it), not recompiled on every start.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    rows = []
    try:
        for n in (int(x) for x in args.sizes.split(",")):
            rows.append(bench(n, args.repeat))
    except KeyboardInterrupt:
        cleanup()
        return 130
    print(f"Machine: {common.machine()}")
    print(f"Docker for `docker ps`: {os.environ.get('DOCKER_HOST') or 'not set'}")
    print(
        f"Median of {args.repeat} interleaved runs; RSS = peak resident set of the largest "
        "process of the measured command's tree (/usr/bin/time).\n"
    )
    print(
        "| N | snapshot s | pipeline s | ratio | pipeline x8 s | snapshot RSS MB | "
        "namespaces | unresolved peers | list s | listing cmds s | ratio | list RSS MB | "
        "found: list / listing cmds |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['n']:.0f} | {r['snap_s']:.3f} | {r['pipe_s']:.3f} | "
            f"{r['snap_s'] / r['pipe_s']:.2f}x | {r['pipe8_s']:.3f} | {r['snap_rss']:.0f} | "
            f"{r['snap_ns']:.0f} | {r['snap_unresolved']:.0f} | {r['list_s']:.3f} | "
            f"{r['lsns_s']:.3f} | {r['list_s'] / r['lsns_s']:.2f}x | {r['list_rss']:.0f} | "
            f"{r['list_ns']:.0f} / {r['lsns_ns']:.0f} |"
        )
    print(
        "\nCPU time (user + system, the command and the children it waited for; "
        "median of the same runs): steadier than wall time on a shared machine.\n"
    )
    print(
        "| N | snapshot CPU s | pipeline CPU s | ratio | list CPU s | listing cmds CPU s | ratio |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['n']:.0f} | {r['snap_cpu']:.3f} | {r['pipe_cpu']:.3f} | "
            f"{r['snap_cpu'] / r['pipe_cpu']:.2f}x | {r['list_cpu']:.3f} | "
            f"{r['lsns_cpu']:.3f} | {r['list_cpu'] / r['lsns_cpu']:.2f}x |"
        )
    print(
        "\nIn-process LiveSource timings (what the TUI waits for): discover = the cheap "
        "pass; detail = one namespace re-read with exact peers (median of 30 named ones, "
        "before and after a collect() left nsid hints); host = the host's detail.\n"
    )
    print("| N | discover s | collect s | detail ms (cold) | detail ms (warm) | host detail ms |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['n']:.0f} | {r['discover_s']:.3f} | {r['collect_s']:.3f} | "
            f"{r['detail_cold_ms']:.1f} | {r['detail_warm_ms']:.1f} | {r['detail_host_ms']:.0f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
