#!/usr/bin/env python3
"""Watcher benchmark: one rtnetlink socket in every namespace (issue 9, Deliver 5).

For each N it builds N throwaway namespaces (prefix ``nsxtw``: netns nsxtw-nNNNN, each
with eth0 on bridge nsxtw-br0 and an address), then measures:

- opening: NetlinkWatcher.watch_all of all N (their /run/netns paths) until the watcher
  reports every one watched, in-process, median of --repeat; beside it, in the same run,
  one full read of the host (LiveSource.collect), the work each re-read costs anyway;
  and the longest the watcher's loop was busy between two polls (one batch of opens);
- idle CPU of the TUI (the real `nsexplorer` in an 80x24 tmux session, as bench_tui.py
  measures it) at --idle-size, this checkout against --baseline-ref (default main,
  extracted with `git archive`, run with the same Python), interleaved, --idle-repeat
  windows of --idle seconds each; with the time from spawn to "namespaces · live".

Everything it made is removed at the end, also on failure or Ctrl-C.

Usage (root):  .venv/bin/python bench/bench_watch.py [--sizes 500,1000] [--idle-size 500]
"""

from __future__ import annotations

import argparse
import os
import select
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import bench_tui
import common

PREFIX = "nsxtw"
BRIDGE = f"{PREFIX}-br0"
REPO = Path(__file__).resolve().parents[1]


def build(n: int) -> None:
    common.build(PREFIX, BRIDGE, "10.236", n)


def cleanup() -> None:
    common.remove(PREFIX, BRIDGE)


# ---------------------------------------------------------------- opening, in-process


def open_all(n: int) -> tuple[float, float, int]:
    """(seconds until all N are reported watched, longest loop turn in s, sockets)."""
    from nsexplorer.collect import watch_sockets
    from nsexplorer.collect.watch import NetlinkWatcher
    from nsexplorer.model import NamespaceId
    from nsexplorer.ports import WatchCoverage

    turns: list[float] = []
    step = watch_sockets.NamespaceSockets.step

    def timed(self: watch_sockets.NamespaceSockets, known: dict[int, str]) -> None:
        t0 = time.perf_counter()
        step(self, known)
        turns.append(time.perf_counter() - t0)

    every = {}
    for name in common.names(PREFIX, n):
        path = f"/run/netns/{name}"
        st = os.stat(path)
        every[NamespaceId(st.st_dev, st.st_ino)] = (path,)
    got: list[WatchCoverage] = []
    w = NetlinkWatcher(docker=False, rescan_interval=3600)
    watch_sockets.NamespaceSockets.step = timed  # type: ignore[method-assign]
    try:
        w.start(lambda _reason: None, got.append)
        time.sleep(0.3)  # the loop's own start-up (a /proc scan) is not opening
        t0 = time.perf_counter()
        w.watch_all(every)
        while not (got and got[-1].pending == 0):
            time.sleep(0.0005)
        took = time.perf_counter() - t0
        cov = got[-1]
        if cov.watched != n or cov.unwatched:
            raise RuntimeError(f"not every namespace watched: {cov} {w.errors[-3:]}")
        return took, max(turns), w.sockets
    finally:
        w.stop()
        watch_sockets.NamespaceSockets.step = step  # type: ignore[method-assign]


def full_read() -> float:
    from nsexplorer.collect.source import LiveSource

    source = LiveSource(engines=[])
    t0 = time.perf_counter()
    source.collect()
    return time.perf_counter() - t0


# ---------------------------------------------------------------- idle CPU, in tmux


def baseline_tree(ref: str, into: str) -> str:
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", ref, "nsexplorer"], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", into], input=archive.stdout, check=True)
    return into


class EventCount:
    """Kernel events in the host's netns (`ip -o monitor`) and changes of our mount table
    (POLLPRI on /proc/self/mountinfo) while it runs: each one rightly makes the TUI re-read,
    so an idle window with some is not idle (other sessions share this machine)."""

    def __init__(self) -> None:
        self.mounts = 0
        self._stop = threading.Event()
        self._monitor = subprocess.Popen(
            ["ip", "-o", "monitor", "link", "address", "route"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self._thread = threading.Thread(target=self._mounts, daemon=True)
        self._thread.start()

    def _mounts(self) -> None:
        with open("/proc/self/mountinfo", "rb") as f:
            f.read()
            poller = select.poll()
            poller.register(f.fileno(), select.POLLPRI | select.POLLERR)
            while not self._stop.is_set():
                if poller.poll(100):
                    f.seek(0)
                    f.read()
                    self.mounts += 1

    def stop(self) -> tuple[int, int]:
        """(host netlink events, mount-table changes)."""
        self._stop.set()
        self._thread.join()
        self._monitor.terminate()
        out = self._monitor.communicate(timeout=5)[0]
        return len(out.splitlines()), self.mounts


def idle_once(pythonpath: str | None, idle_seconds: float) -> dict[str, float]:
    """Idle CPU (% of one core) over the window, the events in it, and the seconds from
    spawn to "· live"."""
    argv = [sys.executable, "-m", "nsexplorer"]
    if pythonpath:
        argv = ["env", f"PYTHONPATH={pythonpath}", *argv]
    bench_tui.wait_for_quiet_host()
    start = time.perf_counter()
    s = bench_tui.spawn(argv)
    try:
        bench_tui.wait(s, lambda t: " namespaces · live" in t)
        live = time.perf_counter() - start
        time.sleep(5)  # the first full read and its aftermath settle
        proc = bench_tui.app_process(s)
        events = EventCount()
        cpu0 = proc.cpu_times()
        t0 = time.perf_counter()
        time.sleep(idle_seconds)
        cpu1 = proc.cpu_times()
        wall = time.perf_counter() - t0
        host, mounts = events.stop()
        used = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
        return {"cpu": 100 * used / wall, "live": live, "host": host, "mounts": mounts}
    finally:
        bench_tui.kill(s)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,1000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--idle-size", type=int, default=500)
    parser.add_argument("--idle", type=float, default=30.0, help="idle window in seconds")
    parser.add_argument("--idle-repeat", type=int, default=3)
    parser.add_argument("--baseline-ref", default="main")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench_watch.py needs root (it builds namespaces)", file=sys.stderr)
        return 2
    sizes = sorted({int(x) for x in args.sizes.split(",") if x} | {args.idle_size})
    open_rows: list[str] = []
    idle_rows: list[str] = []
    try:
        for n in sizes:
            build(n)
            print(f"# N={n}: built", file=sys.stderr)
            if str(n) in args.sizes.split(","):
                opens, turns, reads = [], [], []
                for _ in range(args.repeat):
                    took, turn, sockets = open_all(n)
                    opens.append(took)
                    turns.append(turn)
                    reads.append(full_read())
                o, r = statistics.median(opens), statistics.median(reads)
                open_rows.append(
                    f"| {n} | {sockets} | {o * 1000:.0f} ms | {max(turns) * 1000:.1f} ms | "
                    f"{r * 1000:.0f} ms | **{o / r:.2f}x** |"
                )
                print(open_rows[-1], file=sys.stderr)
            if n == args.idle_size and args.idle_repeat > 0:
                with tempfile.TemporaryDirectory(prefix="nsxtw-base-") as tmp:
                    base = baseline_tree(args.baseline_ref, tmp)
                    runs: dict[str, list[dict[str, float]]] = {"base": [], "this": []}
                    for _ in range(args.idle_repeat):  # interleaved
                        runs["base"].append(idle_once(base, args.idle))
                        runs["this"].append(idle_once(None, args.idle))
                        print(f"# idle {runs}", file=sys.stderr)
                for label, key in ((args.baseline_ref, "base"), ("this checkout", "this")):
                    got = runs[key]
                    quiet = [r["cpu"] for r in got if r["host"] == 0 and r["mounts"] == 0]
                    each = ", ".join(
                        f"{r['cpu']:.2f} ({r['host']:.0f}/{r['mounts']:.0f})" for r in got
                    )
                    idle_rows.append(
                        f"| {label} | {n} | {statistics.median(r['cpu'] for r in got):.2f} % | "
                        + (f"{statistics.median(quiet):.2f} % ({len(quiet)})" if quiet else "-")
                        + f" | {each} | {statistics.median(r['live'] for r in got):.2f} s |"
                    )
    finally:
        for s in list(bench_tui.SESSIONS):
            bench_tui.kill(s)
        cleanup()
    print(f"Machine: {common.machine()}\n")
    if open_rows:
        print(
            "| N | sockets | watch_all -> all watched (median) | longest loop turn | "
            "one full read (median) | ratio |\n|---|---|---|---|---|---|"
        )
        print("\n".join(open_rows))
    if idle_rows:
        print(
            f"\nIdle CPU of the TUI (% of one core, {args.idle:.0f} s windows): the median, "
            "the median of the quiet windows (no host netlink event, no mount-table change; "
            "how many), each window (host events/mount changes); spawn -> '· live' "
            "(median):\n\n| code | N | idle CPU | quiet windows | each | live after |\n"
            "|---|---|---|---|---|---|"
        )
        print("\n".join(idle_rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
