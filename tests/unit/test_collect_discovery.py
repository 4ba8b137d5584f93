"""The cheap pass end to end on a fake /proc tree: dedup by inode, sources, labels,
groups, access paths, and the warnings that say what needs root."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from nsexplorer.collect import discovery, engine
from nsexplorer.model import Group, group_of


def proc_entry(
    proc: Path,
    pid: int,
    net: int,
    mnt: int,
    comm: str,
    *,
    fds: dict[int, str] | None = None,
    mountinfo: bytes | None = None,
) -> None:
    d = proc / str(pid)
    (d / "ns").mkdir(parents=True)
    os.symlink(f"net:[{net}]", d / "ns" / "net")
    os.symlink(f"mnt:[{mnt}]", d / "ns" / "mnt")
    (d / "fd").mkdir()
    for fd, target in (fds or {}).items():
        os.symlink(target, d / "fd" / str(fd))
    (d / "comm").write_text(comm + "\n")
    if mountinfo is not None:
        (d / "mountinfo").write_bytes(mountinfo)


@pytest.fixture
def fake_proc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(engine, "engines", lambda timeout=3.0: [])
    proc = tmp_path / "proc"
    (proc / "thread-self").mkdir(parents=True)
    (proc / "thread-self" / "mountinfo").write_bytes(
        b"600 29 0:4 net:[300] /run/netns/blue rw - nsfs nsfs rw\n"
    )
    proc_entry(proc, 2, 100, 10, "kthreadd")
    proc_entry(proc, 40, 100, 10, "bash", fds={3: "net:[500]", 4: "/dev/null"})
    proc_entry(proc, 900, 200, 10, "nginx\x1b[31m")
    proc_entry(proc, 901, 200, 10, "nginx")
    proc_entry(
        proc,
        50,
        100,
        11,
        "dockerd",
        mountinfo=(
            b"600 29 0:4 net:[300] /run/netns/blue rw - nsfs nsfs rw\n"
            b"700 29 0:4 net:[400] /run/docker/netns/abc rw - nsfs nsfs rw\n"
        ),
    )
    return proc


def test_cheap_pass_on_a_fake_proc(fake_proc: Path) -> None:
    found = discovery.discover(proc=str(fake_proc))
    snap = found.snapshot
    by_ino = {ns.inode: ns for ns in snap.namespaces}
    assert set(by_ino) == {100, 200, 300, 400, 500}
    host = by_ino[100]
    assert host.is_host and host.label == "host" and group_of(host) == Group.HOST
    assert host.pids == (2, 40, 50)
    assert host.access_path == f"{fake_proc}/2/ns/net"
    procs = by_ino[200]
    assert procs.label == "pid 900 (nginx\x1b[31m)"  # escaped only when printed
    assert group_of(procs) == Group.PROCESSES
    named = by_ino[300]
    assert named.names == ("blue",) and named.label == "blue"
    assert named.access_path == "/run/netns/blue"
    assert [m.hidden for m in named.bind_mounts] == [False]  # same mount seen twice: once
    hidden = by_ino[400]
    assert group_of(hidden) == Group.HIDDEN
    assert hidden.bind_mounts[0].via_pid == 50
    assert hidden.access_path == "/proc/50/root/run/docker/netns/abc"
    fd_only = by_ino[500]
    assert group_of(fd_only) == Group.FD_ONLY
    assert fd_only.label == "fd 3 of pid 40 (bash)"
    assert fd_only.access_path == f"{fake_proc}/40/fd/3"
    # Sidebar order: host, named, hidden, then the rest.
    assert snap.namespaces[0].is_host
    assert [str(s) for s in host.sources] == ["host", "process"]
    assert snap.engines == ()
    assert found.paths[fd_only.id] == [f"{fake_proc}/40/fd/3"]


def test_unreadable_processes_are_reported(
    fake_proc: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.readlink

    def readlink(path: str, *a: object, **k: object) -> str:
        if str(path).startswith(f"{fake_proc}/901/"):
            raise PermissionError(13, "denied")
        return real(path)

    monkeypatch.setattr(os, "readlink", readlink)
    snap = discovery.discover(proc=str(fake_proc)).snapshot
    assert any("1 of 5 processes" in w and "needs root" in w for w in snap.warnings)


def test_thread_held_namespace_on_a_fake_proc(fake_proc: Path) -> None:
    for tid, net in ((40, 100), (41, 100), (42, 600)):
        d = fake_proc / "40" / "task" / str(tid) / "ns"
        d.mkdir(parents=True)
        os.symlink(f"net:[{net}]", d / "net")
    snap = discovery.discover(proc=str(fake_proc)).snapshot
    ns = snap.by_inode(600)
    assert ns is not None
    assert [str(s) for s in ns.sources] == ["thread"]
    assert [(h.pid, h.tid) for h in ns.thread_holders] == [(40, 42)]
    assert ns.label == "thread 42 of pid 40 (bash)"
    assert group_of(ns) == Group.PROCESSES
    assert ns.access_path == f"{fake_proc}/40/task/42/ns/net"
    host = snap.by_inode(100)
    assert host is not None and not host.thread_holders  # threads in the process's own


def test_a_container_whose_process_left_its_sandbox_is_mapped_by_the_sandbox() -> None:
    from nsexplorer.collect import container_netns
    from nsexplorer.kernel import procfs
    from nsexplorer.model import BindMount, Container

    c = Container("docker", "c" * 64, "app", "img", "default", 77, sandbox_key="/run/d/netns/1")
    scan = procfs.ProcScan()
    scan.pid_net[77] = 100  # the app setns()'d into the host's namespace
    mounts = {300: [BindMount("/run/d/netns/1", 11, True, via_pid=50)]}
    out, warnings = container_netns.map_containers([c], scan, mounts, None, "/nonexistent")
    assert list(out) == [300]
    (w,) = warnings
    assert "pid 77" in w and "netns 100" in w and "/run/d/netns/1" in w and "netns 300" in w
    # In its sandbox as usual: no warning.
    scan.pid_net[77] = 300
    out, warnings = container_netns.map_containers([c], scan, mounts, None, "/nonexistent")
    assert list(out) == [300] and warnings == []


def test_new_holders_and_engine_facts_round_trip_through_json() -> None:
    from nsexplorer import snapshot_json
    from nsexplorer.model import (
        BindMount,
        Container,
        ContainerNetwork,
        DockerNetwork,
        EngineInfo,
        NamespaceId,
        NetNamespace,
        PublishedPort,
        Snapshot,
        SocketHolder,
        Source,
        ThreadHolder,
    )

    ns = NetNamespace(
        id=NamespaceId(4, 4026532900),
        sources=(Source.THREAD, Source.SOCKET, Source.MOUNT_NS),
        bind_mounts=(
            BindMount("/tmp/x/ns", 4026532800, True, mount_ns_path="/run/keep/mnt"),
            BindMount("/run/c/ns", 4026531841, False, covered=True),
        ),
        thread_holders=(ThreadHolder(10, 12),),
        socket_holders=(SocketHolder(20, 5, 12345),),
        containers=(
            Container(
                "docker",
                "a" * 64,
                "web",
                "img",
                "net6",
                30,
                networks=(
                    ContainerNetwork(
                        "net6", "10.66.0.2", 24, "10.66.0.1", "", "fd00::2", 64, "fd00::1", "n" * 64
                    ),
                ),
                ports=(PublishedPort("80/tcp", "127.0.0.1", "8080"),),
            ),
        ),
    )
    engine_info = EngineInfo(
        reachable=True,
        host="unix:///x.sock",
        networks=(DockerNetwork("n" * 64, "net6", "bridge", "br-nnnnnnnnnnnn"),),
        origin="context prod",
        netns_inode=4026531833,
    )
    snap = Snapshot("h", "2026-12-01T00:00:00Z", namespaces=(ns,), engines=(engine_info,))
    text = snapshot_json.dumps(snap)
    assert snapshot_json.loads(text) == snap
    doc = json.loads(text)
    row = doc["namespaces"][0]
    assert row["sources"] == ["thread", "socket", "mount-ns"]
    assert row["thread_holders"] == [{"pid": 10, "tid": 12}]
    assert row["bind_mounts"][1]["covered"] is True
    assert row["containers"][0]["ports"] == [
        {"container_port": "80/tcp", "host_ip": "127.0.0.1", "host_port": "8080"}
    ]
    assert doc["engines"][0]["origin"] == "context prod"


def test_bridges_are_named_by_the_networks_of_the_engine_in_their_namespace() -> None:
    from nsexplorer.model import (
        DockerNetwork,
        EngineInfo,
        NamespaceId,
        NetNamespace,
        Snapshot,
        bridge_networks,
    )

    host = NetNamespace(NamespaceId(4, 1), is_host=True)
    other = NetNamespace(NamespaceId(4, 2))
    nets = (
        DockerNetwork("a", "bridge", "bridge", "docker0"),
        DockerNetwork("b", "app", "bridge", "br-b"),
        DockerNetwork("c", "host", "host"),
    )
    snap = Snapshot("h", "t", (host, other), engines=(EngineInfo(networks=nets, netns_inode=1),))
    assert bridge_networks(snap, host) == {"docker0": "bridge", "br-b": "app"}
    assert bridge_networks(snap, other) == {}
    unknown = Snapshot("h", "t", (host, other), engines=(EngineInfo(networks=nets),))
    assert bridge_networks(unknown, host) == {"docker0": "bridge", "br-b": "app"}


def test_show_text_names_every_holder_port_and_bridge_network() -> None:
    from nsexplorer.cli.discovery import format_namespace
    from nsexplorer.model import (
        BindMount,
        Container,
        ContainerNetwork,
        DockerNetwork,
        EngineInfo,
        Interface,
        NamespaceId,
        NetNamespace,
        PublishedPort,
        Snapshot,
        SocketHolder,
        ThreadHolder,
    )

    ns = NetNamespace(
        NamespaceId(4, 77),
        is_host=True,
        bind_mounts=(
            BindMount("/tmp/x/ns", 500, True, mount_ns_path="/run/keep/mnt"),
            BindMount("/run/c/ns", 1, False, covered=True),
        ),
        thread_holders=(ThreadHolder(10, 12),),
        socket_holders=(SocketHolder(20, 5, 999),),
        containers=(
            Container(
                "docker",
                "a" * 64,
                "web",
                "img",
                "app",
                30,
                networks=(
                    ContainerNetwork(
                        "app", "10.66.0.2", 24, "10.66.0.1", "m", "fd00::2", 64, "fd00::1"
                    ),
                ),
                ports=(PublishedPort("80/tcp", "127.0.0.1", "8080"),),
            ),
        ),
        detailed=True,
        interfaces=(Interface(5, "br-abc", "bridge", "up", 1500, "02:42:00:00:00:01"),),
    )
    nets = (DockerNetwork("abc", "app", "bridge", "br-abc"),)
    snap = Snapshot("h", "t", (ns,), engines=(EngineInfo(networks=nets, netns_inode=77),))
    text = format_namespace(ns, snap)
    assert "held by: thread 12 of pid 10" in text
    assert "held by: socket fd 5 of pid 20 (socket inode 999)" in text
    assert "/tmp/x/ns  (in mount ns 500, which no process is in; held by /run/keep/mnt)" in text
    assert "/run/c/ns  (COVERED by another mount: the path does not open it)" in text
    assert "10.66.0.2/24 gateway 10.66.0.1 fd00::2/64 gateway fd00::1" in text
    assert "port 80/tcp published on 127.0.0.1:8080" in text
    assert "br-abc  bridge up mtu 1500 02:42:00:00:00:01 docker network app" in text
    assert "bridge br-abc (docker network app) ports:" in text


def test_every_group_has_a_sidebar_title_and_a_place_in_the_listing_order() -> None:
    from nsexplorer.ui.render import GROUP_TITLES, group_text

    assert set(GROUP_TITLES) == set(Group)
    assert group_text(Group.MOUNTED, 2).plain == "Bind-mounted (not ip netns) (2)"
    assert set(discovery._GROUP_ORDER) == set(Group)
