"""Discovery with the lab and the test Docker daemon (private mount namespace), and with
Docker absent, refusing or hanging."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from nsexplorer.collect.source import LiveSource
from nsexplorer.model import Group, NetNamespace, Snapshot, group_of

NSX = [sys.executable, "-m", "nsexplorer"]


def by_container(snap: Snapshot, name: str) -> NetNamespace:
    for ns in snap.namespaces:
        if any(c.name == name for c in ns.containers):
            return ns
    raise AssertionError(f"container {name} not found")


@pytest.fixture(scope="module")
def lab_snapshot(lab) -> Snapshot:  # type: ignore[no-untyped-def]
    if not lab.containers:
        pytest.skip("the lab has no containers (no Docker engine answered)")
    return LiveSource().collect()


pytestmark = [pytest.mark.integration, pytest.mark.root]


@pytest.mark.docker
def test_containers_in_every_network_mode(lab, lab_snapshot: Snapshot) -> None:  # type: ignore[no-untyped-def]
    snap = lab_snapshot
    web = by_container(snap, "nsxlab-web")
    assert by_container(snap, "nsxlab-side").id == web.id  # container:<web> shares it
    assert [c.name for c in web.containers][:2] == ["nsxlab-web", "nsxlab-side"]
    assert group_of(web) == Group.CONTAINERS
    host = by_container(snap, "nsxlab-hostnet")
    assert host.is_host
    none = by_container(snap, "nsxlab-none")
    assert [i.name for i in none.interfaces] == ["lo"]
    app = by_container(snap, "nsxlab-app")
    assert app.id != web.id
    lab_app = lab.container("nsxlab-app")
    if lab_app.address:
        addrs = {a.address for i in app.interfaces for a in i.addresses}
        assert lab_app.address.split("/")[0] in addrs
    # The daemon runs in a private mount namespace: its netns files are hidden mounts.
    web_c = web.containers[0]
    (mount,) = [m for m in web.bind_mounts if m.path == web_c.sandbox_key]
    assert mount.hidden and mount.via_pid is not None
    assert not os.path.exists(web_c.sandbox_key) or os.path.getsize(web_c.sandbox_key) == 0


@pytest.mark.docker
def test_container_veth_peers_and_engine_networks(lab_snapshot: Snapshot) -> None:
    snap = lab_snapshot
    host = snap.host
    assert host is not None
    (engine,) = snap.engines
    assert engine.reachable and engine.daemon_pid
    bridges = {n.name: n.bridge for n in engine.networks}
    assert bridges["nsxlab-net"] == "nsxlab-dnet"
    for name, network in (("nsxlab-web", "bridge"), ("nsxlab-app", "nsxlab-net")):
        ns = by_container(snap, name)
        eth0 = next(i for i in ns.interfaces if i.name == "eth0")
        assert eth0.peer is not None and eth0.peer.netns_inode == host.inode
        host_end = host.interface(eth0.peer.ifindex or -1)
        assert host_end is not None and host_end.name == eth0.peer.name
        assert host_end.master == bridges[network]
        assert host_end.peer is not None and host_end.peer.netns_inode == ns.inode
        c = ns.containers[0]
        assert c.networks and c.networks[0].gateway


@pytest.mark.docker
def test_lab_kernel_objects(lab, lab_snapshot: Snapshot) -> None:  # type: ignore[no-untyped-def]
    snap = lab_snapshot
    hidden = [
        ns
        for ns in snap.namespaces
        if any(m.path == lab.hidden_ns_path and m.hidden for m in ns.bind_mounts)
    ]
    assert len(hidden) == 1 and hidden[0].detailed
    proc = [ns for ns in snap.namespaces if lab.process_ns_pid in ns.pids]
    assert len(proc) == 1 and group_of(proc[0]) == Group.PROCESSES
    hostile = [ns for ns in snap.namespaces if lab.hostile_netns in ns.names]
    assert len(hostile) == 1
    host = snap.host
    assert host is not None
    bad = next(i for i in host.interfaces if i.name == lab.hostile_ifname)
    assert bad.alias == lab.hostile_alias
    unresolved = [
        (ns.label, i.name)
        for ns in snap.namespaces
        for i in ns.interfaces
        if i.kind == "veth" and (i.peer is None or not i.peer.resolved)
    ]
    assert unresolved == []


@pytest.mark.docker
def test_cli_list_and_show_container(lab) -> None:  # type: ignore[no-untyped-def]
    done = subprocess.run([*NSX, "list", "--json"], capture_output=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    names = {c["name"] for ns in doc["namespaces"] for c in ns["containers"]}
    assert {"nsxlab-web", "nsxlab-side", "nsxlab-none", "nsxlab-app"} <= names, done.stderr
    web = lab.container("nsxlab-web")
    for target in ("nsxlab-web", web.id[:10], "nsxlab-side"):
        shown = subprocess.run([*NSX, "show", target], capture_output=True, check=False, timeout=60)
        assert shown.returncode == 0, shown.stderr
        assert b"nsxlab-web" in shown.stdout and b"peer: " in shown.stdout


# ---------------------------------------------------------------- Docker faults


@pytest.fixture
def refusing_socket(tmp_path: Path) -> Iterator[str]:
    path = tmp_path / "refuse.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.close()
    yield f"unix://{path}"


@pytest.fixture
def hanging_socket(tmp_path: Path) -> Iterator[str]:
    path = tmp_path / "hang.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.listen(8)  # the kernel accepts; nobody ever answers
    try:
        yield f"unix://{path}"
    finally:
        s.close()


@pytest.mark.parametrize("kind", ["down", "refusing", "hanging"])
def test_docker_faults_cost_a_warning_not_the_snapshot(
    kind: str, refusing_socket: str, hanging_socket: str
) -> None:
    host = {
        "down": "unix:///nonexistent/nsxt-docker.sock",
        "refusing": refusing_socket,
        "hanging": hanging_socket,
    }[kind]
    env = {**os.environ, "DOCKER_HOST": host}
    done = subprocess.run([*NSX, "snapshot"], capture_output=True, env=env, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert any(ns["is_host"] and ns["interfaces"] for ns in doc["namespaces"])
    (engine,) = doc["engines"]
    assert engine["reachable"] is False and engine["host"] == host
    expected = "did not answer" if kind == "hanging" else "unavailable"
    assert any(expected in w and host in w for w in doc["warnings"]), doc["warnings"]
    assert b"warning" in done.stderr


@pytest.mark.docker
def test_a_daemon_running_but_not_asked_is_named_with_its_socket() -> None:
    """QA r: asked at a socket where nothing listens, `snapshot` said the engine was
    down, not that a dockerd runs here at another socket: the responder's containers were
    all missing, with nothing to say where they are."""
    testbed = os.environ.get("DOCKER_HOST", "")
    assert testbed.startswith("unix://"), testbed
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/nsxt-docker.sock"}
    done = subprocess.run([*NSX, "snapshot"], capture_output=True, env=env, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    warnings = json.loads(done.stdout)["warnings"]
    said = [w for w in warnings if w.startswith("dockerd runs here")]
    assert len(said) == 1 and f"listening on {testbed}" in said[0], warnings
