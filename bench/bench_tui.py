#!/usr/bin/env python3
"""TUI benchmark: the real `nsexplorer` in a real terminal (tmux), side by side with an
empty Textual app launched the same way in the same run.

For each N it builds N throwaway namespaces (prefix ``nsxtu``: netns nsxtu-nNNNN, each
with eth0 on bridge nsxtu-br0 and an address), then measures:

- launch: spawn -> first frame of an empty Textual app, vs spawn -> nsexplorer's sidebar
  populated (status line "N namespaces · ...") and -> fully read ("· live"); interleaved,
  median of --repeat runs, each in a fresh 80x24 tmux session polled every 5 ms;
- selection: `j` in the sidebar -> the main pane's title shows the next namespace, in the
  terminal (median and p95 over 40 moves, tmux polling included);
- idle CPU: nsexplorer's process (threads and children) over --idle seconds with nothing
  changing, as % of one core (psutil cpu_times);
- memory: RSS and peak RSS (VmHWM) once everything is read.

Everything it made is removed at the end, also on failure or Ctrl-C.

Usage (root):  /work/venv/bin/python bench/bench_tui.py [--sizes 200,1000] [--idle-size 500]
"""

from __future__ import annotations

import argparse
import os
import secrets
import select
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import common
import psutil

PREFIX = "nsxtu"
BRIDGE = f"{PREFIX}-br0"
NSX = [sys.executable, "-m", "nsexplorer"]
EMPTY_APP = (
    "from textual.app import App\n"
    "from textual.widgets import Static\n"
    "class E(App):\n"
    "    def compose(self):\n"
    "        yield Static('EMPTY-READY')\n"
    "E().run()\n"
)
SESSIONS: list[str] = []


def build(n: int) -> None:
    common.build(PREFIX, BRIDGE, "10.231", n)


def cleanup() -> None:
    common.remove(PREFIX, BRIDGE)


# ---------------------------------------------------------------- terminal


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True).stdout


def spawn(argv: list[str], width: int = 80, height: int = 24) -> str:
    session = f"nsxt-bench-{secrets.token_hex(3)}"
    SESSIONS.append(session)
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "DOCKER_HOST")}
    env_words = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    # From /: `python -m` puts the working directory first on sys.path, so launched from
    # a checkout every interpreter (--also's other checkouts too) would import that one.
    cmd = f"cd / && env -i {env_words} TERM=xterm-256color NSX_AUDIT_LOG=/tmp/{session}.log "
    cmd += shlex.join(argv) + "; exec sleep 600"
    new_session(session, width, height, cmd)
    return session


def new_session(session: str, width: int, height: int, cmd: str) -> None:
    # The tmux server exits with its last session; a new-session racing that exit fails.
    for attempt in range(20):
        done = subprocess.run(
            ["tmux", "new-session", "-d", "-s", session, "-x", str(width), "-y", str(height), cmd],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode == 0:
            return
        time.sleep(0.05 * (attempt + 1))
    raise RuntimeError(f"tmux new-session failed: {done.stderr.strip()}")


def kill(session: str) -> None:
    subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, check=False)
    if session in SESSIONS:
        SESSIONS.remove(session)
    if os.path.exists(f"/tmp/{session}.log"):
        os.unlink(f"/tmp/{session}.log")


def screen(session: str) -> str:
    return tmux("capture-pane", "-p", "-t", session)


def wait(session: str, ok: Callable[[str], bool], timeout: float = 120) -> float:
    """Seconds until ``ok(screen)``, polling every 5 ms."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if ok(screen(session)):
            return time.perf_counter() - start
        time.sleep(0.005)
    raise TimeoutError(f"{session}: condition not met in {timeout}s:\n{screen(session)}")


def app_process(session: str) -> psutil.Process:
    """The nsexplorer (python) process under the tmux pane's shell."""
    pane = psutil.Process(int(tmux("display-message", "-p", "-t", session, "#{pane_pid}")))
    for proc in [pane, *pane.children(recursive=True)]:
        try:
            argv = proc.cmdline()
            if argv and "python" in os.path.basename(argv[0]) and "nsexplorer" in argv:
                return proc
        except psutil.Error:
            continue
    raise RuntimeError("nsexplorer process not found")


# ---------------------------------------------------------------- measurements


def cpu_seconds(session: str) -> float:
    """User+system CPU time so far of the python process in the pane (all its threads).
    Read right after a screen condition is seen: less sensitive than wall time to other
    load on a shared machine (it still includes up to one 5 ms poll of extra work)."""
    pane = psutil.Process(int(tmux("display-message", "-p", "-t", session, "#{pane_pid}")))
    for proc in [pane, *pane.children(recursive=True)]:
        try:
            argv = proc.cmdline()
            if argv and "python" in os.path.basename(argv[0]):
                times = proc.cpu_times()
                return times.user + times.system
        except psutil.Error:
            continue
    return float("nan")


def launch_times(repeat: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {
        "empty": [],
        "sidebar": [],
        "live": [],
        "empty_cpu": [],
        "sidebar_cpu": [],
    }
    for _ in range(repeat):
        s = spawn([sys.executable, "-c", EMPTY_APP])
        try:
            out["empty"].append(wait(s, lambda t: "EMPTY-READY" in t))
            out["empty_cpu"].append(cpu_seconds(s))
        finally:
            kill(s)
        s = spawn(NSX)
        start = time.perf_counter()
        try:
            wait(s, lambda t: " namespaces · " in t)
            out["sidebar"].append(time.perf_counter() - start)
            out["sidebar_cpu"].append(cpu_seconds(s))
            wait(s, lambda t: " namespaces · live" in t)
            out["live"].append(time.perf_counter() - start)
        finally:
            kill(s)
    return out


def title(text: str) -> str:
    first = text.splitlines()[0] if text else ""
    return first.split("▕", 1)[1].strip() if "▕" in first else first


def selection_latency(moves: int = 40) -> list[float]:
    s = spawn(NSX, width=120, height=40)
    try:
        wait(s, lambda t: " namespaces · live" in t)
        tmux("send-keys", "-t", s, "/")
        tmux("send-keys", "-t", s, "-l", f"{PREFIX}-n0")
        wait(s, lambda t: title(t).startswith(f"{PREFIX}-n0"))
        tmux("send-keys", "-t", s, "Enter")
        time.sleep(0.5)
        times = []
        for _ in range(moves):
            before = title(screen(s))
            start = time.perf_counter()
            tmux("send-keys", "-t", s, "j")
            wait(s, lambda t, b=before: title(t) != b and "reading" not in title(t), 10)
            times.append(time.perf_counter() - start)
            time.sleep(0.05)
        return times
    finally:
        kill(s)


def wait_for_quiet_host(quiet: float = 3.0, limit: float = 90.0) -> None:
    """Wait until the kernel has sent no link/address/route event for ``quiet`` seconds.

    Freshly built veths keep producing events for a while (IPv6 link-local addresses
    leave DAD, routes follow); an idle window that starts too early measures nsexplorer
    correctly re-reading after them, not nsexplorer idle.
    """
    monitor = subprocess.Popen(
        ["ip", "-o", "monitor", "link", "address", "route"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert monitor.stdout is not None
    fd = monitor.stdout.fileno()
    deadline = time.monotonic() + limit
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], quiet)
            if not ready:
                return
            os.read(fd, 65536)
    finally:
        monitor.kill()
        monitor.wait()


def idle_and_memory(idle_seconds: float) -> dict[str, float]:
    wait_for_quiet_host()
    s = spawn(NSX)
    try:
        wait(s, lambda t: " namespaces · live" in t)
        time.sleep(5)  # let the first full read and its aftermath settle
        proc = app_process(s)
        # How idle was the host? Count kernel link/address/route events in the window
        # (other work on a shared machine makes nsexplorer re-read, as it should).
        monitor = subprocess.Popen(
            ["ip", "-o", "monitor", "link", "address", "route"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        cpu0 = proc.cpu_times()
        t0 = time.perf_counter()
        time.sleep(idle_seconds)
        cpu1 = proc.cpu_times()
        wall = time.perf_counter() - t0
        monitor.terminate()
        host_events = len(monitor.communicate(timeout=5)[0].splitlines())
        used = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
        used += (cpu1.children_user - cpu0.children_user) + (
            cpu1.children_system - cpu0.children_system
        )
        rss = proc.memory_info().rss / 2**20
        hwm = 0.0
        with open(f"/proc/{proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    hwm = int(line.split()[1]) / 1024
        return {
            "cpu_pct": 100 * used / wall,
            "rss_mb": rss,
            "hwm_mb": hwm,
            "idle_s": wall,
            "events": host_events,
        }
    finally:
        kill(s)


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def p95(xs: list[float]) -> float:
    return sorted(xs)[max(0, int(len(xs) * 0.95) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200,1000")
    parser.add_argument("--idle-size", type=int, default=500)
    parser.add_argument("--idle", type=float, default=60.0, help="idle window in seconds")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench_tui.py needs root (it builds namespaces)", file=sys.stderr)
        return 2
    sizes = sorted({int(x) for x in args.sizes.split(",")} | {args.idle_size})
    rows: list[str] = []
    cpu_rows: list[str] = []
    try:
        for n in sizes:
            build(n)
            print(f"# N={n}: built", file=sys.stderr)
            if n in {int(x) for x in args.sizes.split(",")}:
                lt = launch_times(args.repeat)
                sel = selection_latency()
                mem = idle_and_memory(args.idle) if n == args.idle_size else None
                if mem is None and n == max(sizes):
                    mem = idle_and_memory(5)
                e, sb, lv = med(lt["empty"]), med(lt["sidebar"]), med(lt["live"])
                ec, sc = med(lt["empty_cpu"]), med(lt["sidebar_cpu"])
                print(
                    f"# N={n}: launch wall empty {lt['empty']} sidebar {lt['sidebar']}; "
                    f"CPU to that frame: empty {ec:.3f} s, nsexplorer {sc:.3f} s "
                    f"({sc / ec:.2f}x)",
                    file=sys.stderr,
                )
                cpu_rows.append(f"| {n} | {ec:.3f} s | {sc:.3f} s | **{sc / ec:.2f}x** |")
                rows.append(
                    f"| {n} | {e:.2f} s | {sb:.2f} s | **{sb / e:.2f}x** | {lv:.2f} s | "
                    f"{med(sel) * 1000:.0f} ms / {p95(sel) * 1000:.0f} ms | "
                    + (
                        f"{mem['cpu_pct']:.2f} % ({mem['idle_s']:.0f} s, "
                        f"{mem['events']} host events) | "
                        f"{mem['rss_mb']:.0f} MB / {mem['hwm_mb']:.0f} MB |"
                        if mem
                        else "- | - |"
                    )
                )
            else:
                mem = idle_and_memory(args.idle)
                rows.append(
                    f"| {n} | - | - | - | - | - | {mem['cpu_pct']:.2f} % ({mem['idle_s']:.0f} s, "
                    f"{mem['events']} host events)"
                    f" | {mem['rss_mb']:.0f} MB / {mem['hwm_mb']:.0f} MB |"
                )
            print(rows[-1], file=sys.stderr)
    finally:
        for s in list(SESSIONS):
            kill(s)
        cleanup()
    print(f"Machine: {common.machine()}\n")
    print(
        "| N | empty Textual app: first frame | nsexplorer: sidebar populated | ratio | "
        "fully read (live) | selection -> pane updated (median / p95) | idle CPU | "
        "RSS / peak RSS |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(
        "\nCPU time (user+system, all threads) of the process when that frame is seen:\n\n"
        "| N | empty Textual app | nsexplorer (sidebar populated) | ratio |\n|---|---|---|---|"
    )
    print("\n".join(cpu_rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
