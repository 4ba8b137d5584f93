"""NetlinkWatcher on the real kernel, watching every namespace it is given (watch_all):
a change in one that is neither the host's nor the selected one is seen; a namespace that
went has its socket closed (and is not kept alive by it); a descriptor cap leaves some
unwatched and says how many, also under a real `prlimit --nofile=64:64`.

Namespaces are made with the nsxt fixture (removed even on failure); processes started
here are killed at the end.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from nsexplorer.collect.watch import NetlinkWatcher
from nsexplorer.model import NamespaceId
from nsexplorer.ports import WatchCoverage

pytestmark = [pytest.mark.integration, pytest.mark.root]


class Recorder:
    """Change reasons and coverage reports, as the watcher's threads deliver them."""

    def __init__(self) -> None:
        self.reasons: queue.Queue[str] = queue.Queue()
        self.coverages: queue.Queue[WatchCoverage] = queue.Queue()
        self.last: WatchCoverage | None = None

    def __call__(self, reason: str) -> None:
        self.reasons.put(reason)

    def coverage(self, c: WatchCoverage) -> None:
        self.coverages.put(c)

    def drain(self) -> None:
        while not self.reasons.empty():
            self.reasons.get_nowait()

    def wait_for(self, word: str, timeout: float = 10) -> str:
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            try:
                reason = self.reasons.get(timeout=0.1)
            except queue.Empty:
                continue
            seen.append(reason)
            if word in reason:
                return reason
        raise AssertionError(f"no {word!r} change within {timeout}s; saw {seen}")

    def quiet(self, word: str, seconds: float) -> list[str]:
        """The reasons containing ``word`` reported within ``seconds``."""
        deadline = time.monotonic() + seconds
        seen = []
        while time.monotonic() < deadline:
            try:
                reason = self.reasons.get(timeout=0.1)
            except queue.Empty:
                continue
            if word in reason:
                seen.append(reason)
        return seen

    def settled(self, ok: Callable[[WatchCoverage], bool], timeout: float = 10) -> WatchCoverage:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.last = self.coverages.get(timeout=0.1)
            except queue.Empty:
                continue
            if ok(self.last):
                return self.last
        raise AssertionError(f"coverage never settled as expected; last {self.last}")


def ns_id(path: str) -> NamespaceId:
    st = os.stat(path)
    return NamespaceId(st.st_dev, st.st_ino)


def named(name: str) -> tuple[NamespaceId, tuple[str, ...]]:
    path = f"/run/netns/{name}"
    return ns_id(path), (path,)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def wait_until(ok: Callable[[], bool], what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not ok():
        assert time.monotonic() < deadline, f"not within {timeout}s: {what}"
        time.sleep(0.05)


def link_exists(name: str) -> bool:
    done = subprocess.run(["ip", "link", "show", "dev", name], capture_output=True, check=False)
    return done.returncode == 0


def settle_kernel(rec: Recorder, quiet: float = 0.8, timeout: float = 15) -> None:
    """Wait until no namespace of ours reports a change for ``quiet`` seconds (a new
    namespace's lo and IPv6 addresses keep producing events for a moment). The host's
    changes are not ours to wait for: other sessions share this machine."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not rec.quiet("namespace netlink", quiet):
            return
    raise AssertionError("the namespaces never went quiet")


@pytest.fixture
def watcher() -> Iterator[tuple[NetlinkWatcher, Recorder]]:
    w = NetlinkWatcher(docker=False, rescan_interval=0.5)
    rec = Recorder()
    w.start(rec, rec.coverage)
    try:
        yield w, rec
    finally:
        w.stop()
        assert w._thread is not None and not w._thread.is_alive()


def test_a_change_in_a_namespace_neither_host_nor_selected_is_seen(
    watcher: tuple[NetlinkWatcher, Recorder], nsxt: Any
) -> None:
    w, rec = watcher
    a, b, c = nsxt.netns(), nsxt.netns(), nsxt.netns()
    proc = subprocess.Popen(["unshare", "--net", "sleep", "120"])
    try:
        only = f"/proc/{proc.pid}/ns/net"  # a namespace only a process holds
        wait_until(lambda: os.readlink(only) != os.readlink("/proc/thread-self/ns/net"), "unshared")
        every = dict(named(x) for x in (a, b, c))
        every[ns_id(only)] = (only,)
        w.watch_namespace(every_id := named(c)[0])
        w.watch_all(every)
        got = rec.settled(lambda cov: cov.watched == 4 and cov.complete)
        assert got.unwatched == 0
        assert w.watching == every_id and w.sockets == 4
        settle_kernel(rec)
        nsxt.bridge(netns=b)  # b: neither the host nor the selected one
        rec.wait_for("namespace netlink")
        settle_kernel(rec)
        subprocess.run(
            ["nsenter", f"--net={only}", "ip", "link", "add", "nsxtw-p", "type", "bridge"],
            check=True,
        )
        rec.wait_for("namespace netlink")
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.docker
def test_a_container_namespace_not_selected_is_watched(
    watcher: tuple[NetlinkWatcher, Recorder], nsxt: Any
) -> None:
    import secrets

    w, rec = watcher
    docker = ["/usr/bin/docker", "-H", os.environ["DOCKER_HOST"]]
    name = f"nsxtw-{secrets.token_hex(3)}"
    subprocess.run(
        [*docker, "run", "-d", "--name", name, "nsx-busybox:test", "sleep", "120"],
        check=True,
        capture_output=True,
    )
    try:
        pid = subprocess.run(
            [*docker, "inspect", "-f", "{{.State.Pid}}", name],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        path = f"/proc/{pid}/ns/net"
        other = nsxt.netns()
        w.watch_namespace(named(other)[0])  # another one is selected
        w.watch_all({ns_id(path): (path,), named(other)[0]: named(other)[1]})
        rec.settled(lambda cov: cov.watched == 2 and cov.complete)
        settle_kernel(rec)
        subprocess.run(
            ["nsenter", f"--net={path}", "ip", "link", "add", "nsxtw-c", "type", "bridge"],
            check=True,
        )
        rec.wait_for("namespace netlink")
    finally:
        subprocess.run([*docker, "rm", "-f", name], check=False, capture_output=True)


def test_a_namespace_that_went_has_its_socket_closed_and_is_not_kept_alive(
    nsxt: Any,
) -> None:
    a, b = nsxt.netns(), nsxt.netns()
    _, host_end = nsxt.veth(a)  # end A in a, end B on the host: freed only with a
    before = open_fds()
    w = NetlinkWatcher(docker=False, rescan_interval=0.5)
    rec = Recorder()
    w.start(rec, rec.coverage)
    proc = subprocess.Popen(["unshare", "--net", "sleep", "120"])
    try:
        only = f"/proc/{proc.pid}/ns/net"
        wait_until(lambda: os.readlink(only) != os.readlink("/proc/thread-self/ns/net"), "unshared")
        every = dict(named(x) for x in (a, b))
        every[ns_id(only)] = (only,)
        w.watch_all(every)
        rec.settled(lambda cov: cov.watched == 3 and cov.complete)
        assert w.sockets == 3
        with_three = open_fds()
        # `ip netns del`: the mount goes, and with it our socket at once (no read needed),
        # so the namespace is freed and its veth's host end disappears with it.
        nsxt.ip("netns", "del", a)
        wait_until(lambda: w.sockets == 2, "a's socket closed after `ip netns del`")
        wait_until(lambda: not link_exists(host_end), f"{host_end} freed with its namespace")
        assert open_fds() == with_three - 1
        # a process-only namespace: its process ends, the /proc rescan lets it go
        proc.kill()
        proc.wait()
        wait_until(lambda: w.sockets == 1, "the process-only namespace's socket closed")
        assert open_fds() == with_three - 3  # its socket and the pidfd of its process
        # the next full read no longer lists b: its socket closes too
        w.watch_all({})
        wait_until(lambda: w.sockets == 0, "b's socket closed when no longer asked for")
    finally:
        proc.kill()
        proc.wait()
        w.stop()
    assert open_fds() == before  # nothing left behind


def test_a_process_only_namespace_goes_when_its_last_process_exits_not_at_the_rescan(
    nsxt: Any,
) -> None:
    """The socket holds a pidfd of the process it was opened through: when that process
    exits, the watcher rescans at once. Another process still in the namespace keeps it
    (the pidfd moves to that one); when that one exits too, the socket closes and the
    namespace, and its veth, go within a second, not at the 60 s rescan."""
    first = subprocess.Popen(["unshare", "--net", "sleep", "120"])
    second: subprocess.Popen[bytes] | None = None
    w = NetlinkWatcher(docker=False, rescan_interval=60)
    rec = Recorder()
    w.start(rec, rec.coverage)
    try:
        path = f"/proc/{first.pid}/ns/net"
        wait_until(lambda: os.readlink(path) != os.readlink("/proc/thread-self/ns/net"), "unshared")
        target = ns_id(path)
        inside, host_end = nsxt.veth()
        nsxt.ip("link", "set", inside, "netns", str(first.pid))
        second = subprocess.Popen(["nsenter", f"--net={path}", "sleep", "120"])
        wait_until(lambda: ns_id(f"/proc/{second.pid}/ns/net") == target, "second inside")
        w.watch_all({target: (path,)})
        rec.settled(lambda cov: cov.watched == 1 and cov.complete)
        assert w.sockets == 1
        first.kill()
        first.wait()
        time.sleep(1.0)  # the rescan that exit asked for has run
        assert w.sockets == 1 and link_exists(host_end), "let go while a process is in it"
        second.kill()
        second.wait()
        wait_until(lambda: w.sockets == 0, "the socket closed once the last process exited", 3)
        wait_until(lambda: not link_exists(host_end), f"{host_end} freed with its namespace", 3)
    finally:
        for proc in (first, second):
            if proc is not None:
                proc.kill()
                proc.wait()
        w.stop()


def test_max_sockets_counts_sockets_not_the_pidfds_beside_them(nsxt: Any) -> None:
    """Review: with the pidfds in the same count, max_sockets=2 left the second
    process-only namespace over budget."""
    procs = [subprocess.Popen(["unshare", "--net", "sleep", "120"]) for _ in range(2)]
    w = NetlinkWatcher(docker=False, rescan_interval=60, max_sockets=2)
    rec = Recorder()
    w.start(rec, rec.coverage)
    try:
        paths = [f"/proc/{p.pid}/ns/net" for p in procs]
        for path in paths:
            wait_until(
                lambda p=path: os.readlink(p) != os.readlink("/proc/thread-self/ns/net"), "unshared"
            )
        w.watch_all({ns_id(p): (p,) for p in paths})
        cov = rec.settled(lambda cov: cov.pending == 0 and cov.watched + cov.unwatched >= 2)
        assert (cov.watched, cov.over_budget) == (2, 0), cov
        assert w.sockets == 2
    finally:
        for p in procs:
            p.kill()
            p.wait()
        w.stop()


def test_a_namespace_held_only_by_a_descriptor_is_let_go_with_it(nsxt: Any) -> None:
    """Held by another process's open nsfs descriptor (/proc/PID/fd/N): when that process
    ends, the rescan sees the path lead nowhere and closes the socket."""
    name = nsxt.netns()
    holder = subprocess.Popen(
        ["sh", "-c", 'exec sleep 120 3<"$0"', f"/run/netns/{name}"],
    )
    try:
        path = f"/proc/{holder.pid}/fd/3"
        wait_until(lambda: os.path.exists(path), "the holder's descriptor")
        target = ns_id(path)
        nsxt.ip("netns", "del", name)  # now only the descriptor holds it
        w = NetlinkWatcher(docker=False, rescan_interval=0.3)
        rec = Recorder()
        w.start(rec, rec.coverage)
        try:
            w.watch_all({target: (path,)})
            rec.settled(lambda cov: cov.watched == 1 and cov.complete)
            assert w.sockets == 1
            holder.kill()
            holder.wait()
            wait_until(lambda: w.sockets == 0, "the descriptor-held namespace's socket closed")
        finally:
            w.stop()
    finally:
        holder.kill()
        holder.wait()


def test_a_cap_leaves_some_unwatched_says_how_many_and_keeps_the_selected(
    nsxt: Any,
) -> None:
    names = [nsxt.netns() for _ in range(5)]
    every = dict(named(x) for x in names)
    ids = list(every)
    w = NetlinkWatcher(docker=False, rescan_interval=30, max_sockets=2)
    rec = Recorder()
    w.start(rec, rec.coverage)
    try:
        w.watch_namespace(ids[4])
        w.watch_all(every)
        got = rec.settled(lambda cov: cov.pending == 0 and cov.watched + cov.unwatched == 5)
        assert (got.watched, got.unwatched, got.over_budget) == (2, 3, 3)
        assert w.watching == ids[4]  # the selected one comes first
        settle_kernel(rec)
        nsxt.bridge(netns=names[3])  # not watched: over the cap
        assert rec.quiet("namespace netlink", 1.5) == []
        # selecting it gives it a socket (another one makes room), still 3 unwatched
        w.watch_namespace(ids[3])
        wait_until(lambda: w.watching == ids[3], "the newly selected one watched")
        assert w.sockets == 2
        settle_kernel(rec)
        nsxt.bridge(netns=names[3])
        rec.wait_for("namespace netlink")
    finally:
        w.stop()


CAPPED = r"""
import json, os, sys, time
from nsexplorer.collect.source import LiveSource
from nsexplorer.collect.watch import NetlinkWatcher
from nsexplorer.kernel import fdlimit

paths = sys.argv[1:]
got = []
w = NetlinkWatcher(docker=False, rescan_interval=30)
w.start(lambda reason: None, got.append)
from nsexplorer.model import NamespaceId
every = {}
for p in paths:
    st = os.stat(p)
    every[NamespaceId(st.st_dev, st.st_ino)] = (p,)
w.watch_all(every)
deadline = time.monotonic() + 20
while not (got and got[-1].pending == 0) and time.monotonic() < deadline:
    time.sleep(0.05)
cov = got[-1]
# The reader still works beside the watcher's sockets: every namespace read.
snap = LiveSource(engines=[]).collect()
ours = {os.path.basename(p) for p in paths}  # other sessions make nsxt ones too
mine = [ns for ns in snap.namespaces if ours & set(ns.names)]
unread = [ns.label for ns in mine if not ns.detailed]
print(json.dumps({
    "limit": fdlimit.soft_limit(), "watched": cov.watched, "unwatched": cov.unwatched,
    "over_budget": cov.over_budget, "sockets": w.sockets, "open": fdlimit.open_count(),
    "read": len(mine), "unread": unread, "errors": w.errors[-3:],
}))
w.stop()
"""


def test_under_a_small_open_file_limit_the_watcher_takes_only_its_share(nsxt: Any) -> None:
    names = [nsxt.netns() for _ in range(40)]
    paths = [f"/run/netns/{x}" for x in names]
    done = subprocess.run(
        ["prlimit", "--nofile=64:64", sys.executable, "-c", CAPPED, *paths],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["limit"] == 64
    assert 0 < out["sockets"] < 40, out  # a share, not all 40
    assert out["watched"] == out["sockets"]  # its own namespace is not among these
    assert out["unwatched"] == out["over_budget"] == 40 - out["sockets"], out
    assert out["open"] < 64 - 16, out  # headroom left
    assert out["read"] == 40 and out["unread"] == [], out  # reads did not run out
