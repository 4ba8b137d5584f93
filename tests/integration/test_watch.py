"""NetlinkWatcher on the real kernel: host and selected-namespace netlink, mounts, /proc."""

from __future__ import annotations

import os
import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from nsexplorer.collect.watch import NetlinkWatcher, netlink_socket_in, scan_proc_netns
from nsexplorer.model import NamespaceId

pytestmark = [pytest.mark.integration, pytest.mark.root]


class Recorder:
    def __init__(self) -> None:
        self.reasons: queue.Queue[str] = queue.Queue()

    def __call__(self, reason: str) -> None:
        self.reasons.put(reason)

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


@pytest.fixture
def watcher() -> Iterator[tuple[NetlinkWatcher, Recorder]]:
    w = NetlinkWatcher(docker=False, rescan_interval=0.5)
    rec = Recorder()
    w.start(rec)
    time.sleep(0.2)
    try:
        yield w, rec
    finally:
        w.stop()
        assert w._thread is not None and not w._thread.is_alive()


def ns_id(path: str) -> NamespaceId:
    st = os.stat(path)
    return NamespaceId(st.st_dev, st.st_ino)


def test_host_link_change_is_seen(watcher: tuple[NetlinkWatcher, Recorder], nsxt: Any) -> None:
    _, rec = watcher
    rec.drain()
    nsxt.bridge()
    rec.wait_for("host netlink")


def test_selected_namespace_is_watched_too(
    watcher: tuple[NetlinkWatcher, Recorder], nsxt: Any
) -> None:
    w, rec = watcher
    name = nsxt.netns()
    target = ns_id(f"/run/netns/{name}")
    w.watch_namespace(target)
    deadline = time.monotonic() + 5
    while w.watching != target:
        assert time.monotonic() < deadline, f"never watched {name}: {w.errors}"
        time.sleep(0.05)
    rec.drain()
    nsxt.bridge(netns=name)
    rec.wait_for("namespace netlink")
    # the watcher thread went back home: its host socket still sees host changes
    rec.drain()
    nsxt.bridge()
    rec.wait_for("host netlink")
    w.watch_namespace(None)
    deadline = time.monotonic() + 5
    while w.watching is not None:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_a_new_name_is_seen_through_the_mount_table(
    watcher: tuple[NetlinkWatcher, Recorder], nsxt: Any
) -> None:
    _, rec = watcher
    rec.drain()
    nsxt.netns()
    rec.wait_for("mounts")


def test_a_process_only_namespace_is_seen_by_the_rescan(
    watcher: tuple[NetlinkWatcher, Recorder],
) -> None:
    _, rec = watcher
    rec.drain()
    proc = subprocess.Popen(["unshare", "--net", "sleep", "60"])
    try:
        rec.wait_for("processes")
    finally:
        proc.kill()
        proc.wait()
    rec.wait_for("processes")  # and its going away


def test_socket_in_another_namespace_leaves_the_thread_at_home(nsxt: Any) -> None:
    name = nsxt.netns()
    result: dict[str, Any] = {}

    def work() -> None:
        before = os.stat("/proc/thread-self/ns/net").st_ino
        sock = netlink_socket_in(f"/run/netns/{name}")
        result["after"] = os.stat("/proc/thread-self/ns/net").st_ino
        result["before"] = before
        sock.close()

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert result["before"] == result["after"]
    with pytest.raises(FileNotFoundError):
        netlink_socket_in("/run/netns/nsxt-does-not-exist")
    assert not os.path.exists("/run/netns/nsxt-does-not-exist")  # nothing created


def test_proc_scan_finds_this_process() -> None:
    found = scan_proc_netns()
    assert os.stat("/proc/thread-self/ns/net").st_ino in found


# --- namespaces reached through a process, a container, a hidden mount ---------------


def _watch_and_poke(w: NetlinkWatcher, rec: Recorder, target: NamespaceId, enter: str) -> None:
    """Select ``target``, add a bridge inside it (through ``enter``), expect the event."""
    w.watch_namespace(target)
    deadline = time.monotonic() + 5
    while w.watching != target:
        assert time.monotonic() < deadline, f"never watched {target.ino}: {w.errors}"
        time.sleep(0.05)
    rec.drain()
    subprocess.run(
        ["nsenter", f"--net={enter}", "ip", "link", "add", "nsxh6x", "type", "bridge"],
        check=True,
    )
    try:
        rec.wait_for("namespace netlink")
    finally:
        subprocess.run(["nsenter", f"--net={enter}", "ip", "link", "del", "nsxh6x"], check=False)


def test_a_process_only_namespace_is_watched(
    watcher: tuple[NetlinkWatcher, Recorder],
) -> None:
    """It is opened through /proc/PID/ns/net, a magic link (O_NOFOLLOW gave ELOOP)."""
    w, rec = watcher
    proc = subprocess.Popen(["unshare", "--net", "sleep", "60"])
    try:
        path = f"/proc/{proc.pid}/ns/net"
        deadline = time.monotonic() + 5
        while os.readlink(path) == os.readlink("/proc/thread-self/ns/net"):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        _watch_and_poke(w, rec, ns_id(path), path)
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.docker
def test_a_container_namespace_is_watched(watcher: tuple[NetlinkWatcher, Recorder]) -> None:
    import secrets

    w, rec = watcher
    docker = ["/usr/bin/docker", "-H", os.environ["DOCKER_HOST"]]
    name = f"nsxh6-w{secrets.token_hex(3)}"
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
        _watch_and_poke(w, rec, ns_id(path), path)
    finally:
        subprocess.run([*docker, "rm", "-f", name], check=False, capture_output=True)


def test_a_hidden_only_namespace_is_watched_through_the_collectors_paths(
    tmp_path: Any,
) -> None:
    """No process is in it and our mount table lacks it: only the collector knows the
    way in (/proc/<pid>/root<path> of the process whose mount namespace has it)."""
    from nsexplorer.collect.source import LiveSource

    d = tmp_path / "nsxh6-hidden"
    d.mkdir()
    script = (
        'mount -t tmpfs none "$0" && touch "$0/ns" && unshare --net="$0/ns" true '
        "&& echo ready && exec sleep 120"
    )
    holder = subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, str(d)],
        stdout=subprocess.PIPE,
        text=True,
    )
    source = LiveSource(engines=[])
    w = NetlinkWatcher(docker=False, rescan_interval=30, paths=source.paths_of)
    rec = Recorder()
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        reach = f"/proc/{holder.pid}/root{d}/ns"
        source.discover()
        w.start(rec)
        _watch_and_poke(w, rec, ns_id(reach), reach)
    finally:
        w.stop()
        holder.kill()
        holder.wait()


# --- policy rules and nexthop objects (in the snapshot, so their changes count) -------


def _settle(rec: Recorder, quiet: float = 0.8, timeout: float = 15) -> None:
    """Wait until the watched namespace has reported no change for ``quiet`` seconds
    (lo's own IPv6 address and routes arrive a little after the namespace is made).
    Host changes are ignored: on a shared host other sessions make them all the time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rec.drain()
        time.sleep(quiet)
        seen = []
        while not rec.reasons.empty():
            seen.append(rec.reasons.get_nowait())
        if not any("namespace netlink" in reason for reason in seen):
            return
    raise AssertionError("the watched namespace never went quiet")


@pytest.mark.parametrize(
    ("add", "remove"),
    [
        (
            ["rule", "add", "priority", "4242", "from", "10.99.0.0/24", "lookup", "4242"],
            ["rule", "del", "priority", "4242"],
        ),
        (
            ["-6", "rule", "add", "priority", "4243", "from", "fd99::/64", "lookup", "4243"],
            ["-6", "rule", "del", "priority", "4243"],
        ),
        (["nexthop", "add", "id", "4244", "blackhole"], ["nexthop", "del", "id", "4244"]),
    ],
    ids=["ipv4-rule", "ipv6-rule", "nexthop"],
)
def test_rule_and_nexthop_changes_in_a_watched_namespace_are_seen(
    watcher: tuple[NetlinkWatcher, Recorder], nsxt: Any, add: list[str], remove: list[str]
) -> None:
    """A rule or a nexthop object changes nothing else (no link, address or route
    message): only their own groups report it."""
    w, rec = watcher
    name = nsxt.netns()
    target = ns_id(f"/run/netns/{name}")
    w.watch_namespace(target)
    deadline = time.monotonic() + 5
    while w.watching != target:
        assert time.monotonic() < deadline, f"never watched {name}: {w.errors}"
        time.sleep(0.05)
    for change in (add, remove):
        _settle(rec)
        nsxt.ip("-n", name, *change)
        rec.wait_for("namespace netlink", timeout=5)
