"""Problems on real kernel objects and the real test Docker daemon: each fault is built
(prefix nsxh8), collected live, and found in the right namespace; the lab without
deliberate faults produces none.

Every object is removed even when a test fails. Findings are filtered to the objects a
test made: other sessions may be building their own faults on this machine meanwhile.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import textwrap
import time
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import pytest

from nsexplorer.collect.source import LiveSource
from nsexplorer.model import Interface, NetNamespace, Snapshot
from nsexplorer.problems import Problem, find_problems

pytestmark = [pytest.mark.integration, pytest.mark.root]

NSX = [sys.executable, "-m", "nsexplorer"]
PREFIX = "nsxh8"


def ip(*args: str) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def inode_of(path: str) -> int:
    return os.stat(path).st_ino


class Maker:
    """Named netns, links and leftover mounts with the nsxh8 prefix; all removed."""

    def __init__(self) -> None:
        self.tag = secrets.token_hex(2)
        self.n = 0
        self.netns: list[str] = []
        self.links: list[str] = []
        self.mounts: list[str] = []
        self.dirs: list[Path] = []
        self.procs: list[subprocess.Popen[str]] = []

    def name(self, kind: str) -> str:
        self.n += 1
        return f"{PREFIX}{self.tag}{kind}{self.n}"  # <= 15 bytes

    def ns(self, name: str | None = None) -> str:
        name = name or self.name("n")
        ip("netns", "add", name)
        self.netns.append(name)
        ip("-n", name, "link", "set", "lo", "up")
        return name

    def link(self, *args: str) -> None:
        """`ip link add NAME ...` in the host namespace, removed afterwards."""
        ip("link", "add", *args)
        self.links.append(args[0])

    def veth_into(self, ns: str, master: str | None = None, address: str | None = None) -> str:
        """eth0 in ``ns`` with its peer (returned) in the host, both up."""
        host = self.name("h")
        self.link(host, "type", "veth", "peer", "name", "eth0", "netns", ns)
        if master:
            ip("link", "set", host, "master", master)
        ip("link", "set", host, "up")
        if address:
            ip("-n", ns, "addr", "add", address, "dev", "eth0")
        ip("-n", ns, "link", "set", "eth0", "up")
        return host

    def bridge(self, up: bool = True) -> str:
        br = self.name("b")
        self.link(br, "type", "bridge")
        if up:
            ip("link", "set", br, "up")
        return br

    def cleanup(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
        for m in reversed(self.mounts):
            subprocess.run(["umount", m], capture_output=True, check=False)
            Path(m).unlink(missing_ok=True)
        for d in reversed(self.dirs):
            if d.exists():
                d.rmdir()
        for name in reversed(self.links):
            subprocess.run(["ip", "link", "del", name], capture_output=True, check=False)
        for name in reversed(self.netns):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)


@pytest.fixture
def mk() -> Iterator[Maker]:
    maker = Maker()
    try:
        yield maker
    finally:
        maker.cleanup()


def collect() -> tuple[Snapshot, tuple[Problem, ...]]:
    snap = LiveSource().collect()
    return snap, find_problems(snap)


def named(snap: Snapshot, name: str) -> NetNamespace:
    for ns in snap.namespaces:
        if name in ns.names:
            return ns
    raise AssertionError(f"netns {name} not in the snapshot")


def host_of(snap: Snapshot) -> NetNamespace:
    assert snap.host is not None
    return snap.host


def iface(ns: NetNamespace, name: str) -> Interface:
    for i in ns.interfaces:
        if i.name == name:
            return i
    raise AssertionError(f"{name} not in {[i.name for i in ns.interfaces]}")


def mine(
    found: tuple[Problem, ...], namespaces: dict[int, str], host_ifaces: Collection[str] = ()
) -> list[tuple[str, str, str | None]]:
    """(kind, who, interface) of the findings about our objects: in our namespaces
    (inode -> a short name for assertions), or on our host interfaces."""
    out = []
    for p in found:
        if p.namespace_inode in namespaces:
            out.append((p.kind, namespaces[p.namespace_inode], p.interface))
        elif p.interface in host_ifaces:
            out.append((p.kind, "host", p.interface))
    return out


def needs_flags(snap: Snapshot) -> None:
    if not any(i.flags for i in host_of(snap).interfaces):
        pytest.skip("this collector does not record interface flags yet (issue: kernel truth)")


# ---------------------------------------------------------------- veth state


def test_a_veth_end_down_is_found_in_both_namespaces(mk: Maker) -> None:
    a, b = mk.ns(), mk.ns()
    ip("-n", a, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", b)
    ip("-n", a, "link", "set", "eth0", "up")
    ip("-n", b, "link", "set", "eth0", "down")
    snap, found = collect()
    needs_flags(snap)
    ours = {named(snap, a).inode: "a", named(snap, b).inode: "b"}
    assert sorted(mine(found, ours)) == [
        ("veth-admin-down", "b", "eth0"),
        ("veth-no-carrier", "a", "eth0"),
    ]
    (carrier,) = [p for p in found if p.namespace_inode == named(snap, a).inode]
    assert carrier.message == f"no carrier: peer eth0 admin down in {b}"
    assert carrier.next == f"ip -n {b} -d link show dev eth0"
    # the fault repaired, nothing is left
    ip("-n", b, "link", "set", "eth0", "up")
    snap, found = collect()
    assert mine(found, {named(snap, a).inode: "a", named(snap, b).inode: "b"}) == []


# ---------------------------------------------------------------- peers and leaks

SOCKET_HOLDER = textwrap.dedent(
    """
    import ctypes, os, socket, subprocess, sys
    CLONE_NEWNET = 0x40000000
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    inside, outside, home_pid = sys.argv[1:4]
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    if libc.unshare(CLONE_NEWNET) != 0:
        sys.exit("unshare failed")
    keep = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # holds the new netns
    subprocess.run(["ip", "link", "add", inside, "type", "veth", "peer", "name", outside,
                    "netns", home_pid], check=True)
    subprocess.run(["ip", "link", "set", inside, "up"], check=True)
    if libc.setns(home, CLONE_NEWNET) != 0:
        sys.exit("setns failed")
    os.close(home)
    print("ready", flush=True)
    sys.stdin.read()
    """
)


def _hold(mk: Maker, argv: list[str]) -> subprocess.Popen[str]:
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    mk.procs.append(proc)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_a_peer_in_a_namespace_only_a_socket_holds_is_found_not_unresolved(mk: Maker) -> None:
    """Discovery finds socket-held namespaces (SIOCGSKNS), so the peer is proved: no
    "peer-unresolved" false alarm; the namespace itself, which nothing but a socket
    holds, is the finding."""
    outside = mk.name("o")
    mk.links.append(outside)
    _hold(mk, [sys.executable, "-c", SOCKET_HOLDER, mk.name("i"), outside, str(os.getpid())])
    ip("link", "set", outside, "up")
    snap, found = collect()
    peer = iface(host_of(snap), outside).peer
    assert peer is not None and peer.resolved and peer.netns_inode is not None
    inner = snap.by_inode(peer.netns_inode)
    assert inner is not None and "socket" in [str(s) for s in inner.sources]
    assert not [p for p in found if p.interface == outside and p.kind == "peer-unresolved"]


HIDDEN_HOLDER = (
    'set -e; d=$1; mount -t tmpfs nsxh8-hidden "$d"; touch "$d/ns"; '
    'unshare --net="$d/ns" true; echo ready; exec sleep 600'
)


def test_leftover_namespaces_are_leaked_and_named_ones_are_not(mk: Maker) -> None:
    top = Path(f"/run/{PREFIX}-{mk.tag}")
    root, hidden_dir = top / "netns", top / "hidden"
    mk.dirs += [top, root, hidden_dir]
    root.mkdir(parents=True)
    hidden_dir.mkdir()
    # Docker's shape (<exec-root>/netns/<12 hex>) in a directory no engine that answered
    # uses: who claims it is unknown, so it is not judged.
    docker_like = str(root / secrets.token_hex(6))
    Path(docker_like).touch()
    mk.mounts.append(docker_like)
    subprocess.run(["unshare", f"--net={docker_like}", "true"], check=True)
    cni = mk.ns(f"cni-{PREFIX}-{mk.tag}")  # CNI's shape: a netns named cni-<id>
    plain = mk.ns()  # an `ip netns add` namespace: how ip netns users work
    # Docker's daemon with private mounts: a bind mount only another mount namespace sees.
    hider = _hold(
        mk,
        ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", HIDDEN_HOLDER,
         "sh", str(hidden_dir)],
    )  # fmt: skip
    hidden_ino = inode_of(f"/proc/{hider.pid}/root{hidden_dir}/ns")
    # Only a descriptor holds this one once its name is gone.
    fd_name = mk.ns()
    script = (
        f"import os, sys; fd = os.open('/run/netns/{fd_name}', os.O_RDONLY); "
        "print('ready', fd, flush=True); sys.stdin.read()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    mk.procs.append(proc)
    assert proc.stdout is not None
    ready, fd = proc.stdout.readline().split()
    assert ready == "ready"
    fd_ino = inode_of(f"/run/netns/{fd_name}")
    ip("netns", "del", fd_name)
    snap, found = collect()
    ours = {
        inode_of(docker_like): "docker-like",
        named(snap, cni).inode: "cni",
        named(snap, plain).inode: "plain",
        hidden_ino: "hidden",
        fd_ino: "fd-only",
    }
    assert sorted(mine(found, ours)) == [
        ("leaked-netns", "cni", None),
        ("leaked-netns", "fd-only", None),
        ("leaked-netns", "hidden", None),
    ]
    (fd_only,) = [p for p in found if p.namespace_inode == fd_ino]
    assert f"held by fd {fd} of pid {proc.pid}" in fd_only.evidence
    assert fd_only.next == f"nsenter --net=/proc/{proc.pid}/fd/{fd} ip -d -br link"
    (hidden,) = [p for p in found if p.namespace_inode == hidden_ino]
    assert hidden.next == f"nsenter --net=/proc/{hider.pid}/root{hidden_dir}/ns ip -d -br link"


# ---------------------------------------------------------------- addresses and bridges


def test_duplicate_ip_and_mac_on_one_bridge(mk: Maker) -> None:
    br = mk.bridge()
    a, b, c = mk.ns(), mk.ns(), mk.ns()
    ha = mk.veth_into(a, br, "10.239.68.5/24")
    hb = mk.veth_into(b, br, "10.239.68.5/24")
    hc = mk.veth_into(c, br, "10.239.68.7/24")
    mac = "02:68:38:00:00:" + secrets.token_hex(1)
    ip("-n", b, "link", "set", "dev", "eth0", "address", mac)
    ip("-n", c, "link", "set", "dev", "eth0", "address", mac)
    snap, found = collect()
    ours = {named(snap, x).inode: x for x in (a, b, c)}
    got = mine(found, ours, {br, ha, hb, hc})
    assert sorted(got) == [
        ("duplicate-ip", a, "eth0"),
        ("duplicate-ip", b, "eth0"),
        ("duplicate-mac", "host", br),
    ]
    dup = [p for p in found if p.kind == "duplicate-ip" and p.namespace_inode in ours]
    assert {p.severity for p in dup} == {"error"}
    assert all(p.message.endswith(f"on the same bridge {br}") for p in dup)
    (m,) = [p for p in found if p.kind == "duplicate-mac" and p.interface == br]
    assert m.evidence == (f"eth0 in {b} (behind port {hb})", f"eth0 in {c} (behind port {hc})")


def test_mtu_mismatch_on_a_veth_and_among_bridge_ports(mk: Maker) -> None:
    a, b = mk.ns(), mk.ns()
    ip("-n", a, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", b)
    ip("-n", a, "link", "set", "eth0", "mtu", "1400")
    for ns in (a, b):
        ip("-n", ns, "link", "set", "eth0", "up")
    br = mk.bridge()
    c, d = mk.ns(), mk.ns()
    hc, hd = mk.veth_into(c, br), mk.veth_into(d, br)
    for end in ((None, hd), (d, "eth0")):
        ip(*(["-n", end[0]] if end[0] else []), "link", "set", "dev", end[1], "mtu", "9000")
    snap, found = collect()
    ours = {named(snap, x).inode: x for x in (a, b, c, d)}
    assert sorted(mine(found, ours, {br, hc, hd})) == sorted(
        [("mtu-mismatch", a, "eth0"), ("mtu-mismatch", b, "eth0"), ("mtu-mismatch", "host", br)]
    )


def test_bridge_port_down_empty_bridge_and_bridge_down(mk: Maker) -> None:
    br = mk.bridge()
    tap = mk.name("t")
    ip("tuntap", "add", "dev", tap, "mode", "tap")  # no process attached: no carrier
    mk.links.append(tap)
    ip("link", "set", tap, "master", br)
    ip("link", "set", tap, "up")
    empty = mk.bridge()
    idle = mk.bridge(up=False)
    off = mk.bridge()
    port_ns = mk.ns()
    port = mk.veth_into(port_ns, off)
    ip("link", "set", off, "down")
    snap, found = collect()
    needs_flags(snap)
    assert sorted(mine(found, {}, {br, tap, empty, idle, off, port})) == [
        ("bridge-down", "host", off),
        ("bridge-no-ports", "host", empty),
        ("bridge-port-down", "host", tap),
    ]


def test_dad_failed(mk: Maker) -> None:
    a, b = mk.ns(), mk.ns()
    ip("-n", a, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", b)
    for ns in (a, b):
        ip("-n", ns, "link", "set", "eth0", "up")
    addr = f"2001:db8:68:{secrets.token_hex(2)}::1/64"
    ip("-n", a, "addr", "add", addr, "dev", "eth0", "nodad")
    ip("-n", b, "addr", "add", addr, "dev", "eth0")
    deadline = time.monotonic() + 20
    while "dadfailed" not in ip("-n", b, "addr", "show", "dev", "eth0"):
        assert time.monotonic() < deadline, "the kernel never marked the address dadfailed"
        time.sleep(0.2)
    snap, found = collect()
    if not any(ad.flags for i in named(snap, b).interfaces for ad in i.addresses):
        pytest.skip("this collector does not record address flags yet (issue: kernel truth)")
    ours = {named(snap, a).inode: "a", named(snap, b).inode: "b"}
    assert sorted(mine(found, ours)) == [
        ("dad-failed", "b", "eth0"),
        ("duplicate-ip", "a", "eth0"),
        ("duplicate-ip", "b", "eth0"),
    ]


# ---------------------------------------------------------------- Docker


@pytest.fixture
def containers() -> Iterator[Any]:
    from nsexplorer.lab import containers as labc
    from nsexplorer.lab.state import IMAGE

    host = os.environ["DOCKER_HOST"]
    client = labc.client(host)
    labc.ensure_image(client, lambda: None)  # the testbed has it; labelled for lab down if not
    made: list[Any] = []

    def run(name: str, cmd: tuple[str, ...] = ("sleep", "600"), **kw: Any) -> tuple[str, int]:
        c = client.containers.run(
            IMAGE, list(cmd), name=name, detach=True, labels={PREFIX: "1"}, **kw
        )
        made.append(c)
        c.reload()
        return c.id, int(c.attrs["State"]["Pid"])

    try:
        yield run
    finally:
        for c in made:
            c.remove(force=True)
        client.close()


def _has_eth0(pid: int) -> bool:
    done = subprocess.run(
        ["nsenter", f"--net=/proc/{pid}/ns/net", "ip", "-o", "link"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return " eth0" in done.stdout or "eth0@" in done.stdout


def in_container(pid: int, *args: str) -> None:
    subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", *args], check=True, capture_output=True)


def by_container(snap: Snapshot, name: str) -> NetNamespace:
    for ns in snap.namespaces:
        if any(c.name == name for c in ns.containers):
            return ns
    raise AssertionError(f"container {name} not in the snapshot")


@pytest.mark.docker
def test_containers_that_differ_from_what_docker_reports(containers: Any) -> None:
    tag = secrets.token_hex(2)
    moved, routeless, fine, leaver = (
        f"{PREFIX}-{tag}-{x}" for x in ("moved", "noroute", "fine", "leaver")
    )
    _, moved_pid = containers(moved)
    _, routeless_pid = containers(routeless)
    containers(fine)
    # Its main process unshares a new netns of its own and leaves the sandbox behind.
    leave = ("/bin/busybox", "unshare", "-n", "sleep", "600")
    _, leaver_pid = containers(leaver, leave, cap_add=["SYS_ADMIN"])
    in_container(moved_pid, "ip", "addr", "flush", "dev", "eth0")
    in_container(moved_pid, "ip", "addr", "add", "10.239.99.5/24", "dev", "eth0")
    in_container(routeless_pid, "ip", "route", "del", "default")
    deadline = time.monotonic() + 20
    while _has_eth0(leaver_pid):
        assert time.monotonic() < deadline, "the leaver never left its sandbox"
        time.sleep(0.1)
    snap, found = collect()
    ours = {by_container(snap, n).inode: n for n in (moved, routeless, fine, leaver)}
    sandbox = next(
        ns
        for ns in snap.namespaces
        for m in ns.bind_mounts
        if m.path == by_container(snap, leaver).containers[0].sandbox_key
    )
    ours[sandbox.inode] = "leaver's sandbox"
    # discovery maps the container by its sandbox; its process is in a namespace of its own
    ours[next(ns for ns in snap.namespaces if leaver_pid in ns.pids).inode] = leaver
    got = mine(found, ours)
    assert sorted(got) == sorted(
        [
            ("container-address-mismatch", moved, "eth0"),
            ("container-no-default-route", moved, None),  # the flush took the route too
            ("container-no-default-route", routeless, None),
            ("container-left-sandbox", leaver, None),  # and its sandbox is not "leaked"
        ]
    )
    (p,) = [
        p
        for p in found
        if p.kind == "container-address-mismatch" and ours.get(p.namespace_inode) == moved
    ]
    assert p.message.startswith(f"container {moved}: docker reports ")
    assert p.message.endswith(
        "but the kernel has no such address in this namespace (eth0 has its mac)"
    )
    assert "kernel: eth0 10.239.99.5/24" in p.evidence
    assert p.next == f"nsenter --net=/proc/{moved_pid}/ns/net ip addr show"


# ---------------------------------------------------------------- no false alarms


def lab_findings(
    lab: Any, snap: Snapshot, found: tuple[Problem, ...]
) -> list[tuple[str, str, str | None]]:
    ours: dict[int, str] = {}
    for ns in snap.namespaces:
        label = None
        if set(ns.names) & set(lab.netns):
            label = ns.names[0]
        elif lab.process_ns_pid in ns.pids:
            label = "process-only"
        elif any(m.path == lab.hidden_ns_path for m in ns.bind_mounts):
            label = "hidden"
        elif any(c.name.startswith("nsxlab") for c in ns.containers) and not ns.is_host:
            label = ns.containers[0].name
        if label:
            ours[ns.inode] = label
    host_ifaces = {link.ifname for link in lab.links if link.netns == "host"}
    for ns in snap.namespaces:
        if ns.inode in ours:
            host_ifaces |= {i.peer.name for i in ns.interfaces if i.peer and i.peer.name}
    if lab.docker_network_bridge:
        host_ifaces.add(lab.docker_network_bridge)
    return mine(found, ours, host_ifaces)


def test_the_lab_has_only_its_deliberate_oddity(lab: Any) -> None:
    snap, found = collect()
    got = lab_findings(lab, snap, found)
    # The lab's hidden namespace is, on purpose, exactly what Docker leaves behind when
    # its daemon runs with private mounts: held only by a bind mount in another mount
    # namespace, with no process inside and no container.
    assert got == [("leaked-netns", "hidden", None)]
    # Not vacuous: the lab was read, with its states.
    lab_named = [named(snap, n) for n in lab.netns]
    assert lab_named and all(ns.detailed for ns in lab_named)
    needs_flags(snap)
    assert iface(host_of(snap), lab.hostile_ifname).admin_up is False  # idle and off


def test_cli_problems_exit_status_and_json(mk: Maker) -> None:
    a, b = mk.ns(), mk.ns()
    ip("-n", a, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", b)
    ip("-n", a, "link", "set", "eth0", "mtu", "1400")
    for ns in (a, b):
        ip("-n", ns, "link", "set", "eth0", "up")
    done = subprocess.run(
        [*NSX, "problems", "--json"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1, done.stderr
    doc = json.loads(done.stdout)
    ino = inode_of(f"/run/netns/{a}")
    ours = [p for p in doc["problems"] if p["namespace_inode"] == ino]
    assert [(p["kind"], p["interface"]) for p in ours] == [("mtu-mismatch", "eth0")]
    assert set(ours[0]) == {
        "kind",
        "severity",
        "namespace_inode",
        "interface",
        "message",
        "evidence",
        "next",
    }
    text = subprocess.run(
        [*NSX, "problems"], capture_output=True, text=True, timeout=60, check=False
    )
    assert text.returncode == 1
    assert f"mtu-mismatch  eth0 in {a} (inode {ino})" in text.stdout
