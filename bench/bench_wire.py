#!/usr/bin/env python3
"""Terminal-link benchmark (issue 10, Speed): the bytes the TUI writes to a terminal.

Starts the real TUI under a pseudo-terminal this script owns (120x40 by default set with
TIOCSWINSZ, TERM=xterm-256color, no COLORTERM: 256 colours, as over most SSH links), reads
everything it writes to the master on a thread and timestamps every read. Side by side in
the same run, interleaved, several rounds, medians, against the baseline
``bench/wire_tree_app.py`` (a plain Textual Tree with as many rows as nsexplorer's sidebar,
plus a Footer):

1. startup: bytes until the screen is quiet for --quiet s, time to first byte and to quiet;
2. idle: bytes over --idle s with no input after settling (target 0);
3. one Down at rest: each Down waits for quiet; median of --keys Downs per session down
   the whole sidebar (a Down that wrote 0 bytes did not move: left out), then as many Ups
   back to the top, reported too;
4. a burst of 20 Downs written at once (a paste, or keys bunched by a slow link), then
   20 Ups at once, then 20 Downs at 30/s (keyboard auto-repeat): bytes until quiet (and
   in two: the writes that touch only the sidebar, and the rest), and
   the ratio to (3);
5. a pointer sweep: 50 SGR motion reports (``ESC[<35;X;YM``) 10 ms apart over the
   sidebar, sent only while the app has any-motion tracking on (``ESC[?1003h``), as a
   terminal does; in the local environment and SSH-like (SSH_CONNECTION, SSH_TTY set);
6. nsexplorer only: ``/`` (filter focused), the idle cost of the focused filter (cursor
   blink), then one letter.

"lines" counts the cursor-positioning sequences (``ESC[row;colH``): one per run of cells
Textual rewrites. The terminal answers DECRQM queries (``ESC[?2026$p``) with "not
recognised", as xterm does, so Textual does not use synchronised output.

    sudo .venv/bin/python bench/bench_wire.py [--rounds 3] [--live]
        [--checkout - --checkout DIR]   # the installed nsexplorer and another tree's

Prints Markdown tables with the ratios against the issue's targets and exits 0: a
benchmark prints, it never asserts. It creates a temporary directory (the audit log's
place) and, with --live, --live-size namespaces PREFIX-nNNNN (eth0 on bridge PREFIX-br0,
10.234.0.0/16) so that the sidebar has a known floor of rows whatever else the host has;
it removes them, also on failure or Ctrl-C, and ends only the processes it started.
"""

from __future__ import annotations

import argparse
import fcntl
import math
import os
import re
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import common

REPO = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
DOWN, UP, ESC = b"\x1b[B", b"\x1b[A", b"\x1b"
LAB_ROWS = (5, 13)  # lab-snapshot.json's sidebar: 5 group rows, 13 namespace/container rows


# ---------------------------------------------------------------- the terminal

CUP = re.compile(rb"\x1b\[\d+;\d+H")
CUP_AT = re.compile(rb"\x1b\[(\d+);(\d+)H")  # row, column
DECRQM = re.compile(rb"\x1b\[\?(\d+)\$p")
DECSET = re.compile(rb"\x1b\[\?([\d;]+)([hl])")
SHOWN = re.compile(rb"(\d+) namespaces")  # nsexplorer's status line, where it says so
ANY_MOTION = 1003  # the mode under which a terminal reports pointer motion without buttons


@dataclass
class Measure:
    bytes: int
    lines: int = 0  # cursor-positioning sequences: runs of cells rewritten
    secs: float = 0.0  # from the input (or spawn) to the last byte
    first: float = float("nan")  # to the first byte
    settled: bool = True  # False: never quiet before the cap
    sent: int = 0  # pointer reports the terminal sent (only while the app asks for them)

    def minus(self, rate: float) -> Measure:
        """Without a steady background rate (bytes/s) over its duration (cursor blink)."""
        return replace(self, bytes=max(0, round(self.bytes - rate * self.secs)))


@dataclass
class Term:
    """A child on a pty of ours; a thread reads the master and timestamps each read."""

    argv: list[str]
    env: dict[str, str]
    cols: int
    rows: int
    cwd: str
    chunks: list[tuple[float, bytes]] = field(default_factory=list)
    modes: set[int] = field(default_factory=set)  # private modes the app has set (DECSET)
    sent_at: list[float] = field(default_factory=list)  # when paced() sent each key

    def __post_init__(self) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", self.rows, self.cols, 0, 0))
        if "SSH_TTY" in self.env:
            self.env = {**self.env, "SSH_TTY": os.ttyname(slave)}
        self.lock = threading.Lock()
        self.start = time.monotonic()
        self.proc = subprocess.Popen(
            self.argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=self.env,
            cwd=self.cwd,
            start_new_session=True,
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),  # noqa: PLW1509
        )
        os.close(slave)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        tail = b""
        while True:
            try:
                ready, _, _ = select.select([self.master], [], [], 0.5)
                if not ready:
                    if self.proc.poll() is not None:
                        return
                    continue
                data = os.read(self.master, 65536)
            except OSError:  # EIO: the child closed the slave
                return
            if not data:
                return
            now = time.monotonic()
            with self.lock:
                self.chunks.append((now, data))
            seen = tail + data
            for m in DECRQM.finditer(seen):  # answer as xterm: mode not recognised
                if m.end() > len(tail):
                    self.send(b"\x1b[?" + m.group(1) + b";0$y")
            for m in DECSET.finditer(seen):
                if m.end() > len(tail):
                    for mode in m.group(1).split(b";"):
                        op = self.modes.add if m.group(2) == b"h" else self.modes.discard
                        op(int(mode))
            tail = seen[-16:]

    def output(self) -> bytes:
        with self.lock:
            return b"".join(c[1] for c in self.chunks)

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def _since(self, t0: float) -> list[tuple[float, bytes]]:
        with self.lock:
            return [c for c in self.chunks if c[0] >= t0]

    def measure(self, t0: float, quiet: float, cap: float) -> Measure:
        """Everything written from ``t0`` until ``quiet`` s pass with no byte (or ``cap``)."""
        while True:
            time.sleep(0.02)
            now = time.monotonic()
            got = self._since(t0)
            last = got[-1][0] if got else t0
            if now - last >= quiet or now - t0 >= cap or self.proc.poll() is not None:
                settled = now - last >= quiet and self.proc.poll() is None
                return self._summary(t0, got, settled=settled)

    def _summary(self, t0: float, got: list[tuple[float, bytes]], settled: bool) -> Measure:
        data = b"".join(c[1] for c in got)
        return Measure(
            bytes=len(data),
            lines=len(CUP.findall(data)),
            secs=(got[-1][0] - t0) if got else 0.0,
            first=(got[0][0] - t0) if got else float("nan"),
            settled=settled,
        )

    def wait_startup(self, quiet: float, cap: float) -> Measure:
        while not self._since(self.start) and time.monotonic() - self.start < cap:
            time.sleep(0.005)
        return self.measure(self.start, quiet, cap)

    def window(self, secs: float) -> Measure:
        t0 = time.monotonic()
        time.sleep(secs)
        return self._summary(t0, self._since(t0), settled=True)

    def key(self, data: bytes, quiet: float, cap: float) -> Measure:
        t0 = time.monotonic()
        self.send(data)
        return self.measure(t0, quiet, cap)

    def paced(self, reports: list[bytes], gap: float, quiet: float, cap: float) -> Measure:
        t0 = time.monotonic()
        self.sent_at.clear()
        for r in reports:
            self.sent_at.append(time.monotonic())
            self.send(r)
            time.sleep(gap)
        return self.measure(t0, quiet, cap + gap * len(reports))

    def paced_parts(self, sidebar_cols: int) -> tuple[Measure, Measure]:
        """What the last paced() wrote, in two: the writes that touch only the sidebar
        (every cursor move in its first ``sidebar_cols`` columns: the highlight moving)
        and the rest (the main area, title, status)."""
        got = self._since(self.sent_at[0])  # called right after paced(): nothing later
        sidebar: list[tuple[float, bytes]] = []
        rest: list[tuple[float, bytes]] = []
        for chunk in got:
            cols = [int(m.group(2)) for m in CUP_AT.finditer(chunk[1])]
            only_sidebar = bool(cols) and max(cols) <= sidebar_cols
            (sidebar if only_sidebar else rest).append(chunk)
        t0 = self.sent_at[0]
        return self._summary(t0, sidebar, settled=True), self._summary(t0, rest, settled=True)

    def pointer(self, reports: list[bytes], gap: float, quiet: float, cap: float) -> Measure:
        """Motion reports, sent as a terminal would: only while the app enabled them."""
        if ANY_MOTION not in self.modes:
            return replace(self.window(gap * len(reports) + quiet), sent=0)
        return replace(self.paced(reports, gap, quiet, cap), sent=len(reports))

    def dump(self, where: Path, app: App, steps: list[str]) -> None:
        """The raw stream (``cat`` it in a 120x40 terminal to see it) and its timeline."""
        where.mkdir(parents=True, exist_ok=True)
        name = f"{app.name.replace(' ', '')}-{'ssh-' if 'SSH_TTY' in app.env else ''}"
        name += f"{int(self.start * 1000) % 10**8}"
        with self.lock:
            chunks = list(self.chunks)
        (where / f"{name}.raw").write_bytes(b"".join(c[1] for c in chunks))
        offset, lines = 0, [" ".join(self.argv), *steps]
        for t, data in chunks:
            lines.append(f"{t - self.start:.3f} offset {offset} +{len(data)}")
            offset += len(data)
        (where / f"{name}.txt").write_text("\n".join(lines) + "\n")

    def close(self, quit_keys: list[bytes]) -> None:
        """Quit keys, then SIGTERM, then SIGKILL to the process group we created."""
        if self.proc.poll() is not None:  # it died during the measures: they are void
            tail = self.output()[-600:]
            print(
                f"WARNING: {self.argv} exited early ({self.proc.returncode}): {tail!r}",
                file=sys.stderr,
            )
        try:
            for k in quit_keys:  # apart, so that ESC q is not read as alt+q
                self.send(k)
                time.sleep(0.3)
            self.proc.wait(timeout=3)
        except (OSError, subprocess.TimeoutExpired):
            print(f"note: {self.argv[-1]} did not quit on its keys: SIGTERM", file=sys.stderr)
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(self.proc.pid, sig)
                    self.proc.wait(timeout=3)
                    break
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    continue
        self.reader.join(timeout=2)
        os.close(self.master)


# ---------------------------------------------------------------- scenarios


@dataclass
class App:
    name: str  # "nsexplorer" or "Tree app"
    argv: list[str]
    env: dict[str, str]
    is_nsx: bool
    live: bool = False  # count the host's netlink events during the idle window


def base_env(tmp: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "DOCKER_HOST")}
    env.update(TERM="xterm-256color", LANG="C.UTF-8", NSX_AUDIT_LOG=f"{tmp}/audit.log")
    return env


def ssh_env(env: dict[str, str]) -> dict[str, str]:
    return {**env, "SSH_CONNECTION": "192.0.2.10 50022 192.0.2.1 22", "SSH_TTY": "?"}


def sweep() -> list[bytes]:
    """50 motion reports zig-zagging over the sidebar's rows (SGR, 1-based)."""
    out = []
    for i in range(50):
        k = i % 38
        y = 2 + (k if k < 19 else 37 - k)
        out.append(f"\x1b[<35;{6 + i // 3};{y}M".encode())
    return out


def run_app(app: App, args: argparse.Namespace, full: bool) -> dict[str, list[Measure]]:
    """One session of ``app``; ``full`` runs every scenario, else startup and the sweep."""
    res: dict[str, list[Measure]] = {}

    steps: list[str] = []

    def add(key: str, m: Measure) -> None:
        res.setdefault(key, []).append(m)
        steps.append(f"{time.monotonic() - term.start:.3f} {key} ended: {m}")

    # cwd is not the repository: `python -m` puts it first on sys.path, before PYTHONPATH
    term = Term(app.argv, app.env, args.cols, args.rows, cwd=args.workdir)
    try:
        add("startup", term.wait_startup(args.quiet, cap=args.cap_start))
        if full:  # anything later (a slow full read after the first quiet second)
            add("late", term.measure(time.monotonic(), args.settle, args.cap_start))
            shown = SHOWN.findall(term.output())
            if app.is_nsx and shown:
                add("shown", Measure(bytes=int(shown[-1])))
            monitor = host_monitor() if app.live else None
            add("idle", term.window(args.idle))
            if monitor is not None:
                add("host_events", Measure(bytes=host_events(monitor)))
            for _ in range(args.keys):
                add("down", term.key(DOWN, args.quiet, args.cap))
            for _ in range(args.keys):
                add("up", term.key(UP, args.quiet, args.cap))
            add("burst", term.key(DOWN * 20, args.quiet, args.cap))
            add("burst_up", term.key(UP * 20, args.quiet, args.cap))
            repeat = term.paced([DOWN] * 20, 1 / 30, args.quiet, args.cap)
            add("repeat", repeat)
            for key, part in zip(REPEAT_PARTS, term.paced_parts(args.sidebar_cols), strict=True):
                add(key, part)
        add("sweep", term.pointer(sweep(), 0.010, args.quiet, args.cap))
        if full and app.is_nsx:
            slash = term.key(b"/", args.quiet, args.cap)
            focused = term.window(args.blink_window)
            add("focused", focused)
            rate = focused.bytes / args.blink_window
            letter = term.key(b"n", args.quiet, args.cap)
            for key, m in (("slash", slash), ("letter", letter)):
                # never quiet (cursor blink): the blink's steady rate is subtracted
                add(key, m.minus(rate) if not m.settled and rate > 0 else m)
            term.send(ESC)
    finally:
        term.close([ESC, b"q"] if app.is_nsx else [b"\x11"])
        if args.dump:
            term.dump(Path(args.dump), app, steps)
    return res


def host_monitor() -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["ip", "-o", "monitor", "link", "address", "route"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def host_events(monitor: subprocess.Popen[str]) -> int:
    """Lines `ip monitor` printed (the host netns's changes), ending the monitor."""
    monitor.terminate()
    out, _ = monitor.communicate(timeout=5)
    return len(out.splitlines())


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def merge(into: dict[str, list[Measure]], new: dict[str, list[Measure]]) -> None:
    for k, v in new.items():
        into.setdefault(k, []).extend(v)


def live_rows(env: dict[str, str], python: str, cwd: str) -> tuple[int, int]:
    """(groups, namespaces) of the live sidebar, from `nsexplorer list` (container child
    rows are not counted: an approximation, fine once the rows exceed the screen)."""
    out = subprocess.run(
        [python, "-m", "nsexplorer", "list"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    ).stdout.splitlines()[1:]
    groups = {line.split()[1] for line in out if len(line.split()) > 1}
    return len(groups), len(out)


def fmt(x: float, unit: str = "") -> str:
    if math.isnan(x):
        return "-"
    if unit == "s":
        return f"{x:.2f}"
    return f"{x:,.0f}"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else ("-" if a == 0 else "inf")


ROWS = [  # label, measure key, attribute, target
    ("startup bytes", "startup", "bytes", "<= 1.5x Tree app"),
    ("startup: time to first byte s", "startup", "first", ""),
    ("startup: time to quiet s", "startup", "secs", ""),
    ("startup lines", "startup", "lines", ""),
    ("after that, until quiet for --settle s", "late", "bytes", ""),
    ("namespaces its status line reports", "shown", "bytes", ""),
    ("idle bytes over --idle s", "idle", "bytes", "0"),
    ("host netlink events in that window", "host_events", "bytes", ""),
    ("Down at rest bytes", "down", "bytes", "<= 1.5x Tree app"),
    ("Down at rest lines", "down", "lines", ""),
    ("Up at rest bytes", "up", "bytes", ""),
    ("burst of 20 Downs bytes", "burst", "bytes", "<= 2x own Down"),
    ("burst of 20 Downs lines", "burst", "lines", ""),
    ("burst of 20 Ups bytes", "burst_up", "bytes", ""),
    ("auto-repeat: 20 Downs at 30/s bytes", "repeat", "bytes", "<= 2x own Down"),
    ("auto-repeat lines", "repeat", "lines", ""),
    ("  of which: writes to the sidebar alone", "repeat_sidebar", "bytes", ""),
    ("  of which: the rest (main area, status)", "repeat_rest", "bytes", ""),
    ("pointer sweep (50 reports) bytes", "sweep", "bytes", ""),
    ("pointer reports sent (tracking on: 50)", "sweep", "sent", ""),
    ("SSH-like: startup bytes", "ssh_startup", "bytes", ""),
    ("SSH-like: pointer sweep bytes", "ssh_sweep", "bytes", "0 (no capture)"),
    ("SSH-like: pointer reports sent", "ssh_sweep", "sent", "0 (no capture)"),
    ("`/` bytes", "slash", "bytes", ""),
    ("filter focused, idle --blink-window s bytes", "focused", "bytes", "0 (no blink)"),
    ("filter letter `n` bytes", "letter", "bytes", ""),
]
Results = dict[str, list[Measure]]
REPEAT_PARTS = ("repeat_sidebar", "repeat_rest")


def med(d: Results, key: str, attr: str = "bytes") -> float:
    ms = d.get(key, [])
    if key in ("down", "up"):  # 0 bytes: the cursor was at the end and did not move
        ms = [m for m in ms if m.bytes]
    return median([getattr(m, attr) for m in ms])


def report(title: str, got: dict[str, Results]) -> None:
    *names, base = got  # the nsexplorer variants, then the Tree app
    tree = got[base]
    print(f"\n### {title}\n")
    print(
        f"| scenario | {' | '.join(got)} | {' | '.join(f'{n} / {base}' for n in names)} | target |"
    )
    print("|---|" + "---|" * (len(got) + len(names) + 1))
    for label, key, attr, target in ROWS:
        unit = "s" if attr in ("first", "secs") else ""
        b = med(tree, key, attr)
        values = [fmt(med(got[n], key, attr), unit) for n in got]
        ratios = [
            ratio(med(got[n], key, attr), b) if attr == "bytes" and not math.isnan(b) else ""
            for n in names
        ]
        print(f"| {label} | {' | '.join(values)} | {' | '.join(ratios)} | {target} |")
    t_down = med(tree, "down")
    for name in names:
        nsx = got[name]
        n_down = med(nsx, "down")
        print(f"\nAgainst the targets, {name}:\n")
        checks = [
            ("startup <= 1.5x Tree app", med(nsx, "startup") / med(tree, "startup"), 1.5),
            ("Down at rest <= 1.5x Tree app", n_down / t_down if t_down else math.inf, 1.5),
            ("burst of 20 <= 2x one Down", med(nsx, "burst") / n_down if n_down else 0, 2.0),
            ("auto-repeat of 20 <= 2x one Down", med(nsx, "repeat") / n_down if n_down else 0, 2),
        ]
        for label, value, limit in checks:
            print(f"- {label}: **{value:.2f}x** ({'met' if value <= limit else 'NOT met'})")
        if n_down:  # the sidebar following every key, as the issue asks
            alone = med(nsx, "repeat_sidebar") / n_down
            print(f"  (of it, the sidebar's highlight following the keys alone: {alone:.2f}x)")
        for label, key in (("idle", "idle"), ("focused filter idle", "focused")):
            v = med(nsx, key)
            print(f"- {label} 0 bytes: **{v:.0f}** ({'met' if v == 0 else 'NOT met'})")
        sent = med(nsx, "ssh_sweep", "sent")
        print(
            f"- SSH-like: no pointer capture: **{sent:.0f} reports** "
            f"({'met' if sent == 0 else 'NOT met'})"
        )
    print(
        f"\n(The Tree app's own burst / Down: {ratio(med(tree, 'burst'), t_down)}, "
        f"auto-repeat / Down: {ratio(med(tree, 'repeat'), t_down)}.)"
    )
    print("\nPer session (bytes):\n")
    keys = ("startup", "late", "idle", "down", "up", "burst", "burst_up", "repeat", *REPEAT_PARTS)
    keys = (*keys, "sweep")
    for key in (*keys, "ssh_startup", "ssh_sweep", "slash", "focused", "letter"):
        per = [f"{n} {raw(got[n], key)}" for n in got if key in got[n]]
        print(f"- {key}: {'; '.join(per)}")
    print(
        "\n`*` = never quiet within the cap (cursor blink); for `/` and the letter the "
        "blink's rate, measured in the focused window, is subtracted over its duration."
    )


def raw(d: Results, key: str) -> str:
    return ", ".join(f"{m.bytes}{'' if m.settled else '*'}" for m in d.get(key, []))


def bench(
    args: argparse.Namespace,
    title: str,
    variants: list[tuple[str, dict[str, str]]],
    nsx_args: list[str],
    sizes: tuple[int, int],
) -> None:
    """Every nsexplorer variant and the Tree app, interleaved, order rotating per round."""
    tree_argv = [args.python, str(BENCH / "wire_tree_app.py")]
    tree_argv += ["--groups", str(sizes[0]), "--size", str(sizes[1])]
    nsx_argv = [args.python, "-m", "nsexplorer", *nsx_args]
    apps = [App(n, nsx_argv, env, True, live="--from" not in nsx_args) for n, env in variants]
    apps.append(App("Tree app", tree_argv, variants[0][1], False))
    got: dict[str, Results] = {app.name: {} for app in apps}
    for r in range(args.rounds):
        order = apps[r % len(apps) :] + apps[: r % len(apps)]
        for app in order:
            merge(got[app.name], run_app(app, args, full=True))
        for app in order:
            remote = App(app.name, app.argv, ssh_env(app.env), app.is_nsx, app.live)
            res = run_app(remote, args, full=False)
            merge(got[app.name], {f"ssh_{k}": v for k, v in res.items()})
        print(f"  {title}: round {r + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    report(f"{title} (Tree app: {sizes[0]} group rows + {sizes[1]} rows)", got)


def git(root: Path, *argv: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), *argv], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() if done.returncode == 0 else ""


def code_under_test(python: str, env: dict[str, str], cwd: str) -> tuple[str, str]:
    """(a short name, a description) of the nsexplorer that ``env`` imports."""
    code = "import nsexplorer, textual; print(nsexplorer.__file__, textual.__version__)"
    where = subprocess.run(
        [python, "-c", code], env=env, capture_output=True, text=True, check=False, cwd=cwd
    ).stdout.split()
    if len(where) < 2:
        return "?", "nsexplorer not importable"
    root = Path(where[0]).parent.parent
    rev, branch = (
        git(root, "describe", "--always", "--dirty"),
        git(root, "branch", "--show-current"),
    )
    name = f"{branch}@{rev}" if rev else root.name
    return name, f"`{name}`: nsexplorer from {root}, textual {where[1]}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--keys", type=int, default=18, help="single Downs (and Ups) per session")
    p.add_argument("--idle", type=float, default=10.0)
    p.add_argument("--blink-window", type=float, default=5.0)
    p.add_argument("--quiet", type=float, default=1.0, help="silence that ends a measure")
    p.add_argument("--settle", type=float, default=2.0, help="quiet before the idle window")
    p.add_argument("--cap", type=float, default=6.0, help="longest wait for quiet after a key")
    p.add_argument("--cap-start", type=float, default=30.0)
    p.add_argument("--cols", type=int, default=120)
    p.add_argument("--rows", type=int, default=40)
    p.add_argument(
        "--sidebar-cols", type=int, default=40, help="the sidebar's width at --cols (120: 40)"
    )
    p.add_argument("--python", default=sys.executable, help="interpreter for every app")
    p.add_argument(
        "--checkout",
        action="append",
        help="measure the nsexplorer of this source tree (PYTHONPATH); repeat to compare "
        "several in one run; '-' = the installed one (the default)",
    )
    p.add_argument("--snapshot", default=str(REPO / "screenshots/lab-snapshot.json"))
    p.add_argument("--live", action="store_true", help="also the live host (root)")
    p.add_argument("--live-size", type=int, default=40, help="namespaces built for --live")
    p.add_argument("--dump", default="", help="write each session's raw stream here")
    p.add_argument("--prefix", default="nsxwire", help="of the temporary dir and namespaces")
    args = p.parse_args()
    tmp = args.workdir = tempfile.mkdtemp(prefix=f"{args.prefix}-")
    try:
        env = base_env(tmp)
        load = os.getloadavg()
        print("## Terminal link: bytes written to a pty (`bench/bench_wire.py`)\n")
        print(f"- {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {common.machine()}")
        print(f"- load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        variants = []
        for tree in args.checkout or ["-"]:
            venv = env if tree == "-" else {**env, "PYTHONPATH": os.path.abspath(tree)}
            name, where = code_under_test(args.python, venv, tmp)
            variants.append((name, venv))
            print(f"- {where}")
        print(
            f"- pty {args.cols}x{args.rows}, TERM=xterm-256color, {args.rounds} rounds, "
            f"{args.keys} single keys per session, quiet = {args.quiet:.1f} s of silence, "
            f"idle window {args.idle:.0f} s, focused-filter window {args.blink_window:.0f} s"
        )
        replay = "replay `--from screenshots/lab-snapshot.json`"
        bench(args, replay, variants, ["--from", args.snapshot], LAB_ROWS)
        if args.live:
            if os.geteuid() != 0:
                print("\n(--live skipped: needs root)")
            else:
                bridge = f"{args.prefix}-br0"
                try:
                    common.build(args.prefix, bridge, "10.234", args.live_size)
                    sizes = live_rows(env, args.python, tmp)
                    title = f"live host ({args.live_size} of ours, {sizes[1]} namespaces)"
                    bench(args, title, variants, [], sizes)
                finally:
                    common.remove(args.prefix, bridge)
        load = os.getloadavg()
        print(f"\n- load average at end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
