"""The window between reading a namespace and subscribing the watcher's socket there: a
change made inside it is heard by nobody, so the app must re-read that namespace once
the watcher says its socket is subscribed. Real kernel, real watcher, real app.

The change is made by a hook on the watcher's socket opening (after the app's read, just
before the socket in that namespace is bound), not by a sleep that hopes to land there.
Objects made here carry the ``nsxwr-`` prefix and are removed even on failure.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "ui"))

from helpers import settle

from nsexplorer.collect import netns_reader, watch_sockets
from nsexplorer.collect.source import LiveSource, merge
from nsexplorer.collect.watch import NetlinkWatcher
from nsexplorer.model import Snapshot
from nsexplorer.ui.app import NsxApp

pytestmark = [pytest.mark.integration, pytest.mark.root]


def _ip(*args: str) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


@pytest.fixture
def netns() -> Iterator[str]:
    if os.geteuid() != 0:
        pytest.skip("needs root: makes a network namespace")
    name = f"nsxwr-{secrets.token_hex(3)}"
    _ip("netns", "add", name)
    try:
        _ip("-n", name, "link", "set", "lo", "up")
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)


class OnlySource(LiveSource):
    """The live host, narrowed to the host's namespace and one other: this machine is
    shared (others make and remove hundreds of namespaces), and reading them all would
    make every re-read slow. The one namespace is still read from the kernel."""

    def __init__(self, ino: int) -> None:
        super().__init__(engines=[])
        self.ino = ino

    def _narrow(self, snap: Snapshot) -> Snapshot:
        kept = tuple(ns for ns in snap.namespaces if ns.inode == self.ino or ns.is_host)
        return replace(snap, namespaces=kept)

    def discover(self) -> Snapshot:
        return self._narrow(super().discover())

    def collect(self) -> Snapshot:
        found = self._discover(thorough=False)
        snap = self._narrow(found.snapshot)
        targets = [(ns.id, found.paths.get(ns.id, [])) for ns in snap.namespaces]
        result = netns_reader.read_namespaces(targets, host=found.host)
        return replace(
            snap, namespaces=tuple(merge(ns, result.reads.get(ns.id)) for ns in snap.namespaces)
        )


class OwnEventsWatcher(NetlinkWatcher):
    """The real watcher, passing on only what the namespaces' own sockets heard: the
    host's netlink and mount table change all the time here (others' tests), and any
    such re-read would hide the missed change the test is about."""

    def start(self, on_change: Callable[[str], None], *more: Any) -> None:
        def own_only(reason: str) -> None:
            if "namespace netlink" in reason:
                on_change(reason)

        super().start(own_only, *more)


def _kernel_links(name: str) -> set[str]:
    return {link["ifname"] for link in json.loads(_ip("-j", "-n", name, "link"))}


async def test_a_change_between_read_and_subscription_is_shown(
    netns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ino = os.stat(f"/run/netns/{netns}").st_ino
    bridge = f"nsxwr{secrets.token_hex(2)}x"
    made: list[str] = []
    real_socket_on = watch_sockets._socket_on

    def late_socket_on(fd: int) -> socket.socket:
        # The app has read this namespace (watch_all comes after a full read); its
        # socket is not bound yet: change it now, once.
        if os.fstat(fd).st_ino == ino and not made:
            _ip("-n", netns, "link", "add", bridge, "type", "bridge")  # stays down: no
            made.append(bridge)  # later event of its own
        return real_socket_on(fd)

    monkeypatch.setattr(watch_sockets, "_socket_on", late_socket_on)
    source = OnlySource(ino)
    # No /proc rescan in the test's time: nothing but the watcher's notices re-reads.
    watcher = OwnEventsWatcher(docker=False, paths=source.paths_of, rescan_interval=3600)
    app = NsxApp(source, watcher=watcher, read_only=True, debounce=0.05, min_collect_gap=0)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            # Wait until every socket is open and the app was told so (a bound against a
            # hang, not a timing claim), then until any re-read it asked for is done.
            deadline = time.monotonic() + 60
            while not made or app._coverage is None or not app._coverage.complete:
                assert time.monotonic() < deadline, (made, app._coverage, watcher.errors)
                await pilot.pause(0.05)
            await settle(pilot)
            assert made, "the hook never ran: the namespace was not watched"
            shown = app.inventory.get(ino)
            assert shown is not None
            names = {iface.name for iface in shown.interfaces}
            truth = _kernel_links(netns)
            assert bridge in truth
            assert names == truth, f"shown {sorted(names)}, kernel has {sorted(truth)}"
    finally:
        watcher.stop()
