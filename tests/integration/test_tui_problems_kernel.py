"""The running TUI on the real kernel: a veth pair between two throwaway namespaces with
one end admin down badges both namespaces and the title; the Problems view jumps to the
down end; the Inside pane lists a real listening socket with its (hostile) process name,
read only once the pane shows.

Made with the nsxt fixture (removed even on failure); the server process is killed at
the end. Nothing else on the host is touched: the app is built without a runner.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "ui"))

from helpers import settle, widget_text

from nsexplorer.collect.source import LiveSource
from nsexplorer.ui.app import NsxApp
from nsexplorer.ui.screens.problems import ProblemsScreen
from nsexplorer.ui.widgets.panes import InterfacesPane
from nsexplorer.ui.widgets.sidebar import NamespaceTree

pytestmark = [pytest.mark.integration, pytest.mark.root]

COMM = "nsxt\x1b]2;t\x07"  # a process name with an escape sequence (fits comm's 15)
LISTEN = r"""
import socket, sys, time
with open("/proc/self/comm", "w") as f:
    f.write(sys.argv[1])
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True)
time.sleep(300)
"""


class CountingSource(LiveSource):
    """The live host, counting inside reads (what "on demand only" is checked by)."""

    def __init__(self) -> None:
        super().__init__()
        self.inside_reads: list[int] = []

    def inside(self, ns, parts=None):  # type: ignore[no-untyped-def]
        self.inside_reads.append(ns.inode)
        return super().inside(ns, parts)


@pytest.fixture
def server(nsxt) -> Iterator[tuple[str, str, int, subprocess.Popen[str]]]:  # type: ignore[no-untyped-def]
    """(netns a, netns b, port, process): a listener in a; a veth a<->b."""
    a, b = nsxt.netns(), nsxt.netns()
    proc = subprocess.Popen(
        ["nsenter", f"--net=/run/netns/{a}", sys.executable, "-c", LISTEN, COMM],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield a, b, port, proc
    finally:
        proc.kill()
        proc.wait()


def _inode(name: str) -> int:
    return os.stat(f"/run/netns/{name}").st_ino


async def test_badges_problems_jump_and_inside_on_real_namespaces(nsxt, server) -> None:  # type: ignore[no-untyped-def]
    a, b, port, proc = server
    _, end_b = nsxt.veth(a, b, address_a="10.231.7.1/30", address_b="10.231.7.2/30")
    nsxt.ip("-n", b, "link", "set", end_b, "down")
    ino_a, ino_b = _inode(a), _inode(b)
    source = CountingSource()
    app = NsxApp(source, read_only=True)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        tree = app.main.query_one(NamespaceTree)
        assert tree.badge_of(ino_b) == "error"  # admin down
        assert tree.badge_of(ino_a) == "error"  # no carrier: its peer is down
        row_b = next(line for line in widget_text(tree).splitlines() if f" {b}" in line)
        assert row_b.rstrip().endswith(" E")
        assert "p: " in widget_text(app.main.query_one("#title"))
        assert source.inside_reads == []

        await pilot.press("p")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProblemsScreen)
        row = next(
            n
            for n, p in enumerate(screen.problems)
            if p.kind == "veth-admin-down" and p.namespace_inode == ino_b
        )
        for _ in range(row):
            await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        assert app.selected == ino_b
        ns_b = app.inventory.get(ino_b)
        assert ns_b is not None
        down = next(i for i in ns_b.interfaces if i.name == end_b)
        assert app.main.query_one(InterfacesPane).selected_ifindex == down.ifindex
        assert source.inside_reads == []

        app.goto(ino_a)
        await settle(pilot)
        await pilot.press("8")
        await settle(pilot)
        assert source.inside_reads == [ino_a]
        text = widget_text(app.main.query_one("#inside-body"))
        line = next(x for x in text.splitlines() if f"127.0.0.1:{port}" in x)
        assert "LISTEN" in line
        assert f"nsxt\\x1b]2;t\\x07({proc.pid})" in line
        assert "\x1b" not in text
