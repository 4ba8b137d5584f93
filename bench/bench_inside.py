#!/usr/bin/env python3
"""Inside-a-namespace benchmark: the sockets of one namespace, nsexplorer against `ss`.

Builds a throwaway netns (nsxh9b-sock, loopback only) holding a Python child with
--sockets sockets: half TCP listeners, half UDP sockets, alternating 127.0.0.1 and ::1.
Then, alternating runs in one session, it times:

- nsexplorer's sockets read (LiveSource.inside(ns, ["sockets"]): own thread, setns,
  sock_diag dumps, the join to processes through /proc/*/fd, model values), and its parts;
- `nsenter --net=... ss -tuanp` (the same facts with processes), the baseline;
- `nsenter --net=... ss -tuan` (no processes), for reference;
- the whole inside read (sockets, neighbours, FDB, NAT, conntrack), and the first one
  of the process (which pays pyroute2's import).

Medians of --repeat runs. The host's own process and descriptor counts are printed:
the join's cost grows with them (the pass over other processes runs only when a socket
has no holder among the namespace's processes). Everything is removed at the end, also
on failure or Ctrl-C.

Usage (root):  .venv/bin/python bench/bench_inside.py [--sockets 1000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

import common

NETNS = "nsxh9b-sock"
CHILD = r"""
import socket, sys, time
n = int(sys.argv[1])
keep = []
for i in range(n):
    v6 = i % 2
    kind = socket.SOCK_STREAM if i < n // 2 else socket.SOCK_DGRAM
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, kind)
    s.bind(("::1" if v6 else "127.0.0.1", 0))
    if kind == socket.SOCK_STREAM:
        s.listen()
    keep.append(s)
print("ready", flush=True)
time.sleep(3600)
"""


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1e3


def host_load() -> tuple[int, int]:
    pids = [p for p in os.listdir("/proc") if p.isdigit()]
    fds = 0
    for p in pids:
        try:
            fds += len(os.listdir(f"/proc/{p}/fd"))
        except OSError:
            continue
    return len(pids), fds


def timed(argv: list[str]) -> tuple[float, float]:
    """(wall, CPU of the child and its children) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("needs root (creates a namespace)", file=sys.stderr)
        return 2

    from nsexplorer.collect.inside import sockets
    from nsexplorer.collect.inside.sockdiag import SockDiag
    from nsexplorer.collect.netns_reader import run_on_own_thread
    from nsexplorer.collect.source import LiveSource
    from nsexplorer.kernel import nsfs

    subprocess.run(["ip", "netns", "del", NETNS], capture_output=True, check=False)
    common.sh(["ip", "netns", "add", NETNS])
    child = None
    try:
        common.sh(["ip", "-n", NETNS, "link", "set", "lo", "up"])
        child = subprocess.Popen(
            ["nsenter", f"--net=/run/netns/{NETNS}", sys.executable, "-c", CHILD,
             str(args.sockets)],
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        source = LiveSource()
        (ns,) = [n for n in source.discover().namespaces if NETNS in n.names]
        ss_p = ["nsenter", f"--net=/run/netns/{NETNS}", "ss", "-tuanp"]
        ss_n = ["nsenter", f"--net=/run/netns/{NETNS}", "ss", "-tuan"]

        t = time.perf_counter()
        first = source.inside(ns)
        first_all = time.perf_counter() - t
        assert len(first.sockets) == args.sockets, (len(first.sockets), first.unavailable)
        assert all(s.pids == (child.pid,) for s in first.sockets)

        fd, _ = nsfs.open_verified(f"/run/netns/{NETNS}")

        def dump() -> sockets.RawSockets:
            with nsfs.entered(fd), SockDiag() as diag:
                return sockets.dump(diag)

        ours: list[float] = []
        ours_cpu: list[float] = []
        ss_with: list[float] = []
        ss_with_cpu: list[float] = []
        ss_without: list[float] = []
        ss_without_cpu: list[float] = []
        whole: list[float] = []
        dumps: list[float] = []
        joins: list[float] = []
        builds: list[float] = []
        full_joins: list[float] = []
        for _ in range(args.repeat):
            t, c = time.perf_counter(), time.process_time()
            facts = source.inside(ns, ["sockets"])
            ours.append(time.perf_counter() - t)
            ours_cpu.append(time.process_time() - c)
            assert len(facts.sockets) == args.sockets
            wall, cpu = timed(ss_p)
            ss_with.append(wall)
            ss_with_cpu.append(cpu)
            wall, cpu = timed(ss_n)
            ss_without.append(wall)
            ss_without_cpu.append(cpu)
            t = time.perf_counter()
            source.inside(ns)
            whole.append(time.perf_counter() - t)
            t = time.perf_counter()
            raw = run_on_own_thread(dump)
            t1 = time.perf_counter()
            inodes = {s.inode for s in (*raw.tcp, *raw.udp)}
            holders, comms = sockets.owners(inodes, list(ns.pids))
            t2 = time.perf_counter()
            sockets.build(raw, holders, comms)
            t3 = time.perf_counter()
            dumps.append(t1 - t)
            joins.append(t2 - t1)
            builds.append(t3 - t2)
            # A socket no process of the namespace holds (inode 1 never exists) sends the
            # join over every other process of the host: its worst case.
            t = time.perf_counter()
            sockets.owners({*inodes, 1}, list(ns.pids))
            full_joins.append(time.perf_counter() - t)
        os.close(fd)
        procs, fds = host_load()
        ratio = statistics.median(ours) / statistics.median(ss_with)
        cpu_ratio = statistics.median(ours_cpu) / statistics.median(ss_with_cpu)
        rows = [
            ("nsexplorer sockets (`inside(ns, ['sockets'])`)", ours, ours_cpu),
            ("- sock_diag dumps (thread, setns, 4+1 dumps)", dumps, None),
            ("- join to processes (/proc/PID/fd)", joins, None),
            ("- model values", builds, None),
            ("- join when a socket has no holder in the namespace (all fds read)",
             full_joins, None),
            ("`ss -tuanp` (baseline)", ss_with, ss_with_cpu),
            ("`ss -tuan` (no processes)", ss_without, ss_without_cpu),
            ("nsexplorer, everything inside (sockets, neighbours, FDB, NAT, conntrack)",
             whole, None),
            ("the process's first inside read (imports pyroute2)", [first_all], None),
        ]  # fmt: skip
        print(f"{common.machine()}\n")
        print(
            f"{args.sockets} sockets in one namespace; host: {procs} processes, {fds} fds; "
            f"load average {os.getloadavg()[0]:.1f}; median of {args.repeat} runs\n"
        )
        print("| what | wall ms | CPU ms |")
        print("|---|---|---|")
        for label, wall, cpu in rows:
            cpu_text = f"{median_ms(cpu):.1f}" if cpu else ""
            print(f"| {label} | {median_ms(wall):.1f} | {cpu_text} |")
        print(f"\nratio nsexplorer sockets / ss -tuanp: {ratio:.2f} wall, {cpu_ratio:.2f} CPU")
    finally:
        if child is not None:
            child.kill()
            child.wait()
        subprocess.run(["ip", "netns", "del", NETNS], capture_output=True, check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
