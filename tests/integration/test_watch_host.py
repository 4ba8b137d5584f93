"""The host's changes are watched wherever the watcher runs: started inside another
namespace (sshd in a management netns), it opens a second socket in the host's."""

from __future__ import annotations

import ctypes
import os
import threading
import time
from typing import Any

import pytest

from nsexplorer.collect.watch import NetlinkWatcher
from nsexplorer.model import NamespaceId


class Recorder:
    """The reasons the watcher gave, in order."""

    def __init__(self) -> None:
        self.reasons: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, reason: str) -> None:
        with self.lock:
            self.reasons.append(reason)

    def take(self) -> list[str]:
        with self.lock:
            out, self.reasons = self.reasons, []
        return out

    def wait_for(self, word: str, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        seen: list[str] = []
        while time.monotonic() < deadline:
            seen += self.take()
            if any(word in r for r in seen):
                return
            time.sleep(0.05)
        raise AssertionError(f"no {word!r} change within {timeout}s; saw {seen}")


pytestmark = [pytest.mark.integration, pytest.mark.root]

CLONE_NEWNET = 0x40000000


def start_inside(watcher: NetlinkWatcher, rec: Recorder, netns_path: str) -> None:
    """Start ``watcher`` from a thread that is in ``netns_path``: its loop thread is
    created there, as if nsexplorer itself had been started in that namespace."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    failed: list[int] = []

    def run() -> None:
        fd = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                failed.append(ctypes.get_errno())
                return
            watcher.start(rec)  # the loop thread inherits this thread's netns
        finally:
            os.close(fd)
        # this short-lived thread ends here, still in that netns: nothing to restore

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert not failed, f"setns failed: {os.strerror(failed[0])}"


def test_host_changes_are_seen_from_inside_another_namespace(nsxt: Any) -> None:
    name = nsxt.netns()
    host_path = f"/proc/{os.getpid()}/task/{threading.get_native_id()}/ns/net"
    st = os.stat(host_path)
    host = NamespaceId(st.st_dev, st.st_ino)
    watcher = NetlinkWatcher(docker=False, rescan_interval=60)
    rec = Recorder()
    start_inside(watcher, rec, f"/run/netns/{name}")
    try:
        time.sleep(0.3)
        assert watcher.watching_host is None
        rec.take()
        nsxt.bridge()  # a host change the watcher cannot see yet
        time.sleep(1.0)
        unseen = rec.take()
        assert not any("host netlink" in r for r in unseen), unseen
        watcher.watch_host(host, host_path)
        deadline = time.monotonic() + 10
        while watcher.watching_host is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert watcher.watching_host == host, watcher.errors
        rec.take()
        nsxt.bridge()
        rec.wait_for("host netlink")
    finally:
        watcher.stop()
