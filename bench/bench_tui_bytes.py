#!/usr/bin/env python3
"""Bytes on the wire: what nsexplorer writes to its terminal, counted on a pty, side by
side with a plain Textual app that shows the same N namespaces in a Tree.

Over SSH on a slow link every byte costs; this measures, at 80x24, for both apps:

- startup: bytes until the screen has been quiet for --quiet seconds;
- idle: bytes over --idle seconds of nothing (0 is the target);
- one Down at rest (cursor down in the sidebar, from one namespace to the next: a first
  Down leaves the host's row unmeasured), until quiet;
- a burst of 20 Downs written at once (auto-repeat, a paste), until quiet;
- (nsexplorer only) one filter keystroke at rest.

nsexplorer runs on a saved synthetic snapshot (``--from``, the same data as
bench_tui_select.py: N named namespaces, each with an eth0 veth on a host bridge), so
nothing on the machine can make it repaint. Needs neither root nor Docker.

    /work/venv/bin/python bench/bench_tui_bytes.py [--sizes 200,1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import sys
import tempfile
import termios
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_tui_select import synthetic

from nsexplorer import snapshot_json

DOWN = b"\x1b[B"
TREE_APP = """
import sys
from textual.app import App
from textual.widgets import Tree
from nsexplorer import snapshot_json

snap = snapshot_json.loads(open(sys.argv[1], "rb").read())

class TreeApp(App):
    def compose(self):
        tree = Tree("namespaces")
        tree.show_root = False
        group = tree.root.add("Named", expand=True)
        for ns in snap.namespaces:
            group.add_leaf(ns.label or "host")
        yield tree

TreeApp().run()
"""


@dataclass
class Pty:
    """A child on a pty of 80x24 whose every written byte is counted."""

    pid: int
    fd: int
    chunks: list[tuple[float, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    done: bool = False
    sent_at: float = field(default_factory=time.monotonic)

    @classmethod
    def spawn(cls, argv: list[str], env: dict[str, str]) -> Pty:
        pid, fd = pty.fork()
        if pid == 0:  # the child: exec at once
            os.execvpe(argv[0], argv, env)  # noqa: S606 - our own argv, no shell
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        term = cls(pid, fd)
        threading.Thread(target=term._read, daemon=True).start()
        return term

    def _read(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.5)
                if not ready:
                    if self.done:
                        return
                    continue
                data = os.read(self.fd, 65536)
            except OSError:
                return
            if not data:
                return
            with self.lock:
                self.chunks.append((time.monotonic(), len(data)))

    def total(self) -> int:
        with self.lock:
            return sum(n for _, n in self.chunks)

    def last_write(self) -> float:
        with self.lock:
            return self.chunks[-1][0] if self.chunks else 0.0

    def until_quiet(self, quiet: float, timeout: float = 60) -> int:
        """Total bytes once nothing was written for ``quiet`` seconds since the last
        key sent (or the start)."""
        start = time.monotonic()
        while not self.total() and time.monotonic() - start < timeout:
            time.sleep(0.02)  # started: its first frame may take a while
        while time.monotonic() - start < timeout:
            last = max(self.last_write(), self.sent_at)
            if time.monotonic() - last >= quiet:
                break
            time.sleep(0.02)
        return self.total()

    def send(self, data: bytes) -> None:
        self.sent_at = time.monotonic()
        os.write(self.fd, data)

    def stop(self) -> None:
        self.done = True
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                if os.waitpid(self.pid, os.WNOHANG)[0]:
                    os.close(self.fd)
                    return
                time.sleep(0.05)
        os.close(self.fd)


def measure(argv: list[str], quiet: float, idle: float, is_nsx: bool) -> dict[str, int]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "NSX_AUDIT_LOG": os.devnull,
    }
    term = Pty.spawn(argv, env)
    try:
        out: dict[str, int] = {}
        out["startup"] = term.until_quiet(quiet)
        before = term.total()
        time.sleep(idle)
        out["idle"] = term.total() - before
        term.send(DOWN)  # off the first row (the host, in nsexplorer)
        before = term.until_quiet(quiet)
        term.send(DOWN)
        out["down"] = term.until_quiet(quiet) - before
        before = term.total()
        term.send(DOWN * 20)
        out["burst20"] = term.until_quiet(quiet) - before
        if is_nsx:
            term.send(b"/")
            before = term.until_quiet(quiet)
            term.send(b"n")
            out["filter key"] = term.until_quiet(quiet) - before
        return out
    finally:
        term.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="200,1000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quiet", type=float, default=1.0, help="seconds of silence")
    parser.add_argument("--idle", type=float, default=5.0)
    args = parser.parse_args()
    rows = ("startup", "idle", "down", "burst20", "filter key")
    print("| N | what | nsexplorer bytes | Tree app bytes | ratio |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="nsxbytes-") as tmp:
        tree_app = Path(tmp) / "tree_app.py"
        tree_app.write_text(TREE_APP)
        for n in (int(x) for x in args.sizes.split(",")):
            snap = Path(tmp) / f"snap{n}.json"
            snap.write_text(snapshot_json.dumps(synthetic(n)))
            nsx: dict[str, list[int]] = {}
            plain: dict[str, list[int]] = {}
            for _ in range(args.repeat):  # interleaved
                got = measure(
                    [sys.executable, "-m", "nsexplorer", "--from", str(snap)],
                    args.quiet,
                    args.idle,
                    True,
                )
                for k, v in got.items():
                    nsx.setdefault(k, []).append(v)
                got = measure(
                    [sys.executable, str(tree_app), str(snap)], args.quiet, args.idle, False
                )
                for k, v in got.items():
                    plain.setdefault(k, []).append(v)
            for what in rows:
                a = statistics.median(nsx[what]) if what in nsx else None
                b = statistics.median(plain[what]) if what in plain else None
                ratio = f"{a / b:.2f}x" if a is not None and b else "-"
                shown_a = f"{a:.0f}" if a is not None else "-"
                shown_b = f"{b:.0f}" if b is not None else "-"
                print(f"| {n} | {what} | {shown_a} | {shown_b} | {ratio} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
