"""The running TUI with the real watcher on the real kernel: a veth end set down inside a
namespace that is neither the host's nor the selected one badges it, without pressing r.

Made with the nsxt fixture (removed even on failure). Nothing else on the host is
touched: the app is read-only and built without a runner.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "ui"))

from helpers import settle, widget_text

from nsexplorer.collect.source import LiveSource
from nsexplorer.collect.watch import NetlinkWatcher
from nsexplorer.ui.app import NsxApp
from nsexplorer.ui.widgets.sidebar import NamespaceTree

pytestmark = [pytest.mark.integration, pytest.mark.root]


class RecordingWatcher(NetlinkWatcher):
    """The real watcher, keeping the reasons it gave (this machine is shared: other
    sessions' host changes make the app re-read too, so the badge alone proves little)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.reasons: list[str] = []

    def start(self, on_change: Any, on_coverage: Any = None, on_subscribed: Any = None) -> None:
        def record(reason: str) -> None:
            self.reasons.append(reason)
            on_change(reason)

        super().start(record, on_coverage, on_subscribed)


def _inode(name: str) -> int:
    return os.stat(f"/run/netns/{name}").st_ino


async def test_a_link_set_down_in_a_namespace_not_selected_updates_its_badge(
    nsxt: Any,
) -> None:
    a, b, c = nsxt.netns(), nsxt.netns(), nsxt.netns()
    _, end_b = nsxt.veth(a, b, address_a="10.231.9.1/30", address_b="10.231.9.2/30")
    ino_b, ino_c = _inode(b), _inode(c)
    source = LiveSource(engines=[])
    # No /proc rescan in the test's time: only netlink and mounts can trigger a re-read.
    watcher = RecordingWatcher(docker=False, paths=source.paths_of, rescan_interval=3600)
    app = NsxApp(source, watcher=watcher, read_only=True, debounce=0.2, min_collect_gap=0.5)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.goto(ino_c)  # neither b nor the host: c is selected
        await settle(pilot)
        assert app.selected == ino_c
        tree = app.main.query_one(NamespaceTree)
        assert tree.badge_of(ino_b) != "error"
        deadline = time.monotonic() + 20
        while "namespaces · live" not in widget_text(app.main.query_one("#status")):
            assert time.monotonic() < deadline, widget_text(app.main.query_one("#status"))
            await pilot.pause(0.05)
        assert watcher.coverage() is not None and watcher.coverage().complete  # type: ignore[union-attr]
        # b's own late events (IPv6 on the new veth) and their re-reads are over
        quiet_since, seen = time.monotonic(), len(watcher.reasons)
        deadline = quiet_since + 60  # others' changes on this shared machine count too
        while time.monotonic() - quiet_since < 1.0 or not app.settled:
            assert time.monotonic() < deadline, f"never quiet: {watcher.reasons}"
            if len(watcher.reasons) != seen:
                quiet_since, seen = time.monotonic(), len(watcher.reasons)
            await pilot.pause(0.05)
        nsxt.ip("-n", b, "link", "set", end_b, "down")  # no key pressed after this
        deadline = time.monotonic() + 20

        def told() -> bool:
            # b's own socket (or a's, whose end lost its carrier) said so: neither is
            # the host's nor the selected one's
            return any("namespace netlink" in r for r in watcher.reasons[seen:])

        while tree.badge_of(ino_b) != "error" or not told():
            assert time.monotonic() < deadline, (tree.badge_of(ino_b), watcher.reasons[seen:])
            await pilot.pause(0.1)
        assert app.selected == ino_c
        assert "p: " in widget_text(app.main.query_one("#title"))
