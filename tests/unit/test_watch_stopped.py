"""A watcher whose thread cannot even open its own netlink socket says so (coverage with
``stopped``), so the status line never keeps saying "watch…" or "live"."""

from __future__ import annotations

import queue
import socket

import pytest

from nsexplorer.collect import watch
from nsexplorer.collect.watch import NetlinkWatcher
from nsexplorer.ports import WatchCoverage
from nsexplorer.ui.collecting import live_status


def test_a_watcher_that_cannot_open_netlink_reports_it_stopped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refused() -> socket.socket:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(watch, "netlink_socket", refused)
    told: queue.Queue[WatchCoverage] = queue.Queue()
    w = NetlinkWatcher(docker=False)
    w.start(lambda _reason: None, told.put)
    try:
        coverage = told.get(timeout=30)  # a bound against a hang, not a timing claim
    finally:
        w.stop()
    assert coverage.stopped and "Operation not permitted" in coverage.stopped
    assert not coverage.complete
    assert live_status(5, coverage) == "not live: watch ended"
    assert any("watching stopped" in e for e in w.errors)
