"""Inside a namespace, against the real kernel: sockets with their processes (checked
against ss), neighbours after a ping (against ip neigh), the FDB of a bridge (against
bridge fdb), DNAT rules of a throwaway nat table, the conntrack count.

Everything is made here with the prefix nsxh9 and removed even when a test fails. No
rule is ever added to the host's tables: NAT rules go into throwaway namespaces.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nsexplorer.cli.inside import endpoint
from nsexplorer.collect import netns_reader
from nsexplorer.collect.inside import conntrack, reader
from nsexplorer.collect.source import LiveSource
from nsexplorer.errors import NamespaceGone
from nsexplorer.kernel import nsfs
from nsexplorer.model import NetNamespace, Snapshot
from nsexplorer.model_inside import SocketInfo

pytestmark = [pytest.mark.integration, pytest.mark.root]

NSX = [sys.executable, "-m", "nsexplorer"]
HOSTILE_COMM = "nsx\x1b]2;t\x07"  # 9 bytes: fits comm's 15


def run(*argv: str, check: bool = True) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {done.stderr.strip()}")
    return done.stdout


class Made:
    """Named netns (nsxh9 + 4 hex + counter) and processes, removed at the end."""

    def __init__(self) -> None:
        self.tag = secrets.token_hex(2)
        self.n = 0
        self.namespaces: list[str] = []
        self.procs: list[subprocess.Popen[str]] = []

    def name(self, kind: str) -> str:
        self.n += 1
        return f"nsxh9{self.tag}{kind}{self.n}"

    def netns(self) -> str:
        name = self.name("n")
        run("ip", "netns", "add", name)
        self.namespaces.append(name)
        run("ip", "-n", name, "link", "set", "lo", "up")
        return name

    def veth(self, a: str, b: str, addr_a: str, addr_b: str) -> tuple[str, str]:
        """A veth pair between netns a and b, up, with addresses; (name in a, name in b)."""
        end_a, end_b = self.name("a"), self.name("z")
        run("ip", "-n", a, "link", "add", end_a, "type", "veth", "peer", "name", end_b, "netns", b)
        for ns, end, addr in ((a, end_a, addr_a), (b, end_b, addr_b)):
            if addr:
                run("ip", "-n", ns, "addr", "add", addr, "dev", end)
            run("ip", "-n", ns, "link", "set", end, "up")
        return end_a, end_b

    def spawn(self, argv: list[str]) -> subprocess.Popen[str]:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
        self.procs.append(proc)
        return proc

    def cleanup(self) -> None:
        for proc in self.procs:
            proc.kill()
            proc.wait()
        for ns in self.namespaces:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)


@pytest.fixture
def made() -> Iterator[Made]:
    m = Made()
    try:
        yield m
    finally:
        m.cleanup()


def by_name(snap: Snapshot, name: str) -> NetNamespace:
    (ns,) = [n for n in snap.namespaces if name in n.names]
    return ns


def mac_of(netns: str, dev: str) -> str:
    (link,) = json.loads(run("ip", "-n", netns, "-j", "link", "show", "dev", dev))
    return str(link["address"])


SERVER = r"""
import json, os, socket, sys, time
with open("/proc/self/comm", "w") as f:
    f.write(sys.argv[1])
lst = socket.socket(); lst.bind(("127.0.0.1", 0)); lst.listen()
cli = socket.create_connection(lst.getsockname()); srv, _ = lst.accept()
udp = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); udp.bind(("::1", 0))
ux = socket.socket(socket.AF_UNIX); ux.bind("\0" + sys.argv[2]); ux.listen()
ux2 = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); ux2.bind(sys.argv[3]); ux2.listen()
print(json.dumps({"tcp": lst.getsockname()[1], "cli": cli.getsockname()[1],
                  "udp": udp.getsockname()[1]}), flush=True)
time.sleep(300)
"""


def ss_rows(netns: str) -> set[tuple[str, str, str, str]]:
    """(proto, state, local, peer) as `ss -Htuan` prints them, TIME-WAIT left out."""
    out = run("nsenter", f"--net=/run/netns/{netns}", "ss", "-Htuan")
    rows = set()
    for line in out.splitlines():
        proto, state, _rq, _sq, local, peer = line.split()[:6]
        if state != "TIME-WAIT":
            rows.add((proto, state, local, peer))
    return rows


def our_rows(sockets: tuple[SocketInfo, ...]) -> set[tuple[str, str, str, str]]:
    rows = set()
    for s in sockets:
        if s.protocol == "unix":
            continue
        local = endpoint(s.local_address, s.local_port, s.family, s.interface)
        if s.remote_address is None:
            peer = "0.0.0.0:*" if s.family == 4 else "[::]:*"
        else:
            peer = endpoint(s.remote_address, s.remote_port, s.family)
        rows.add((s.protocol, s.state, local, peer))
    return rows


def test_sockets_with_their_processes_match_ss(made: Made, tmp_path: Path) -> None:
    ns_name = made.netns()
    abstract = f"nsxh9-{made.tag}"
    path = str(tmp_path / "seq.sock")
    proc = made.spawn(
        [
            "nsenter",
            f"--net=/run/netns/{ns_name}",
            sys.executable,
            "-c",
            SERVER,
            HOSTILE_COMM,
            abstract,
            path,
        ]
    )
    assert proc.stdout is not None
    ports = json.loads(proc.stdout.readline())
    source = LiveSource()
    ns = by_name(source.discover(), ns_name)
    facts = source.inside(ns, ["sockets"])
    assert facts.has("sockets") and not facts.has("nat")
    mine = [s for s in facts.sockets if s.pids == (proc.pid,)]
    assert all(s.commands == (HOSTILE_COMM,) for s in mine)
    got = {(s.protocol, s.state, s.local_address, s.local_port, s.remote_port) for s in mine}
    assert got >= {
        ("tcp", "LISTEN", "127.0.0.1", ports["tcp"], None),
        ("tcp", "ESTAB", "127.0.0.1", ports["cli"], ports["tcp"]),
        ("tcp", "ESTAB", "127.0.0.1", ports["tcp"], ports["cli"]),
        ("udp", "UNCONN", "::1", ports["udp"], None),
        ("unix", "LISTEN", "@" + abstract, None, None),
        ("unix", "LISTEN", path, None, None),
    }
    (seq,) = [s for s in mine if s.local_address == path]
    assert seq.socket_type == "seqpacket"
    assert our_rows(facts.sockets) == ss_rows(ns_name)

    text = subprocess.run([*NSX, "show", ns_name], capture_output=True, check=False, timeout=60)
    assert text.returncode == 0, text.stderr
    assert b"\x1b" not in text.stdout and b"\x07" not in text.stdout
    assert f"pid {proc.pid} nsx\\x1b]2;t\\x07".encode() in text.stdout
    shown = subprocess.run(
        [*NSX, "show", ns_name, "--json"], capture_output=True, check=False, timeout=60
    )
    doc = json.loads(shown.stdout)
    listener = [
        s for s in doc["sockets"] if s["local_port"] == ports["tcp"] and s["state"] == "LISTEN"
    ]
    assert listener[0]["pids"] == [proc.pid] and listener[0]["commands"] == [HOSTILE_COMM]


HOLDER = r"""
import socket, sys, time
from nsexplorer.kernel import nsfs
fd, _ = nsfs.open_verified(sys.argv[1])
box = []
def make():
    with nsfs.entered(fd):
        s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); box.append(s)
import threading
t = threading.Thread(target=make); t.start(); t.join()
print(box[0].getsockname()[1], flush=True)
time.sleep(300)
"""


def test_a_socket_held_from_outside_the_namespace_names_its_holder(made: Made) -> None:
    """A process in the host namespace made a listener inside the namespace (on a thread
    that setns()'d there and came back): it is found by the pass over all processes."""
    ns_name = made.netns()
    proc = made.spawn([sys.executable, "-c", HOLDER, f"/run/netns/{ns_name}"])
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    source = LiveSource()
    ns = by_name(source.discover(), ns_name)
    assert proc.pid not in ns.pids
    (sock,) = [s for s in source.inside(ns, ["sockets"]).sockets if s.local_port == port]
    assert sock.pids == (proc.pid,) and sock.state == "LISTEN"


def test_neighbours_after_a_ping_match_ip_neigh(made: Made) -> None:
    a, b = made.netns(), made.netns()
    end_a, end_b = made.veth(a, b, "10.249.91.1/24", "10.249.91.2/24")
    run("ip", "netns", "exec", a, "busybox", "ping", "-c", "1", "-W", "2", "10.249.91.2")
    source = LiveSource()
    facts = source.inside(by_name(source.discover(), a), ["neighbours"])
    (entry,) = [n for n in facts.neighbours if n.address == "10.249.91.2"]
    assert (entry.lladdr, entry.dev, entry.family) == (mac_of(b, end_b), end_a, 4)
    assert entry.state in ("REACHABLE", "STALE", "DELAY", "PROBE")
    theirs = {
        (n["dst"], n.get("lladdr"), n["dev"])
        for n in json.loads(run("ip", "-n", a, "-j", "neigh", "show"))
    }
    assert {(n.address, n.lladdr, n.dev) for n in facts.neighbours} == theirs


def test_the_fdb_of_a_bridge_matches_bridge_fdb(made: Made) -> None:
    a, b = made.netns(), made.netns()
    br = made.name("b")
    run("ip", "-n", a, "link", "add", br, "type", "bridge")
    run("ip", "-n", a, "addr", "add", "10.249.92.1/24", "dev", br)
    run("ip", "-n", a, "link", "set", br, "up")
    port, far = made.veth(a, b, "", "10.249.92.2/24")
    run("ip", "-n", a, "link", "set", port, "master", br)
    run("ip", "netns", "exec", b, "busybox", "ping", "-c", "1", "-W", "2", "10.249.92.1")
    source = LiveSource()
    facts = source.inside(by_name(source.discover(), a), ["fdb"])
    learned = [e for e in facts.fdb if e.mac == mac_of(b, far)]
    assert [(e.dev, e.master, e.state) for e in learned] == [(port, br, "")]
    theirs = {
        (e["mac"], e["ifname"], e.get("master"), e.get("state", ""))
        for e in json.loads(run("bridge", "-n", a, "-j", "fdb", "show"))
        if e.get("master")
    }
    ours = {(e.mac, e.dev, e.master, e.state) for e in facts.fdb if e.master}
    assert ours == theirs


def test_a_vxlan_entry_sits_on_its_vxlan_device_with_its_via(made: Made) -> None:
    """QA: an entry with NDA_IFINDEX (a vxlan remote reached through a device: the
    flood entry of every `vxlan dev X group G`) was put on that device, and the via lost."""
    a = made.netns()
    under, other, vx = made.name("u"), made.name("o"), made.name("x")
    run("ip", "-n", a, "link", "add", under, "type", "veth", "peer", "name", other)
    run("ip", "-n", a, "link", "add", vx, "type", "vxlan", "id", "43", "dev", under,
        "group", "239.1.1.1", "dstport", "4789")  # fmt: skip
    run("bridge", "-n", a, "fdb", "add", "00:11:22:33:44:88", "dev", vx, "dst", "10.9.9.8",
        "via", other, "self", "permanent")  # fmt: skip
    source = LiveSource()
    facts = source.inside(by_name(source.discover(), a), ["fdb"])
    theirs = {
        (e["mac"], e["ifname"], e.get("dst"), e.get("viaIf"))
        for e in json.loads(run("bridge", "-n", a, "-j", "fdb", "show"))
        if e.get("dst")
    }
    assert theirs == {
        ("00:00:00:00:00:00", vx, "239.1.1.1", under),
        ("00:11:22:33:44:88", vx, "10.9.9.8", other),
    }
    assert {(e.mac, e.dev, e.dst, e.via) for e in facts.fdb if e.dst} == theirs
    shown = run(*NSX, "show", a)
    assert f"00:00:00:00:00:00 dev {vx} dst 239.1.1.1 via {under} self permanent" in shown


def nat_tables(netns: str) -> tuple[str, str]:
    """(nft's tables, the legacy tables) of a netns: to prove a read created none."""
    nft = run("ip", "netns", "exec", netns, "nft", "list", "tables") if shutil.which("nft") else ""
    legacy = run("ip", "netns", "exec", netns, "cat", "/proc/net/ip_tables_names")
    return nft, legacy


def test_dnat_rules_of_one_namespace_that_lead_to_another(made: Made) -> None:
    x, y = made.netns(), made.netns()
    made.veth(x, y, "10.249.93.1/24", "10.249.93.2/24")
    ipt = ["ip", "netns", "exec", x, "iptables", "-t", "nat"]
    run(*ipt, "-N", "NSXH9")
    run(*ipt, "-A", "PREROUTING", "-j", "NSXH9")
    run(
        *ipt,
        "-A",
        "NSXH9",
        "!",
        "-i",
        "lo",
        "-p",
        "tcp",
        "--dport",
        "8080",
        "-j",
        "DNAT",
        "--to-destination",
        "10.249.93.2:80",
    )
    run(
        *ipt,
        "-A",
        "NSXH9",
        "-p",
        "udp",
        "--dport",
        "53",
        "-j",
        "DNAT",
        "--to-destination",
        "10.249.93.77",
    )
    run(
        "ip",
        "netns",
        "exec",
        x,
        "ip6tables",
        "-t",
        "nat",
        "-A",
        "PREROUTING",
        "-p",
        "tcp",
        "--dport",
        "8443",
        "-j",
        "DNAT",
        "--to-destination",
        "[fd00:249::2]:443",
    )
    run("ip", "-n", y, "addr", "add", "fd00:249::2/64", "dev", "lo")
    has_nft = shutil.which("nft") is not None
    if has_nft:
        run("ip", "netns", "exec", x, "nft", "add", "table", "inet", "nsxh9")
        run(
            "ip",
            "netns",
            "exec",
            x,
            "nft",
            "add chain inet nsxh9 pre { type nat hook prerouting priority -100; }",
        )
        run(
            "ip",
            "netns",
            "exec",
            x,
            "nft",
            "add rule inet nsxh9 pre tcp dport 9090 dnat ip to 10.249.93.2:90",
        )
    before = nat_tables(y)
    source = LiveSource()
    snap = source.discover()
    x_ns, y_ns = by_name(snap, x), by_name(snap, y)
    target = reader.Target(
        id=y_ns.id, paths=[f"/run/netns/{y}"], addresses=["10.249.93.2", "fd00:249::2"]
    )
    pretend_host = reader.Host(id=x_ns.id, paths=[f"/run/netns/{x}"])
    facts = reader.read(target, pretend_host, ["nat"])
    got = {
        (r.netns_inode, r.tool, r.family, r.protocol, r.dport, r.to_address, r.to_port)
        for r in facts.dnat
    }
    want = {
        (x_ns.inode, "iptables", 4, "tcp", "8080", "10.249.93.2", "80"),
        (x_ns.inode, "ip6tables", 6, "tcp", "8443", "fd00:249::2", "443"),
    }
    if has_nft:
        want.add((x_ns.inode, "nft", 4, "tcp", "9090", "10.249.93.2", "90"))
    assert got == want  # the rule to .77 leads elsewhere
    (r8080,) = [r for r in facts.dnat if r.dport == "8080"]
    assert r8080.chain == "NSXH9" and r8080.in_interface == "!lo"
    # Reading y's own (absent) nat table created none there.
    assert nat_tables(y) == before == ("", "")
    # x itself: every DNAT rule of its own table, the one leading elsewhere too.
    own = source.inside(x_ns, ["nat"])
    assert {r.to_address for r in own.dnat} >= {"10.249.93.2", "10.249.93.77", "fd00:249::2"}
    assert all(r.netns_inode == x_ns.inode for r in own.dnat)


@pytest.mark.skipif(not conntrack.loaded(), reason="nf_conntrack is not loaded on this host")
def test_conntrack_count_of_a_namespace(made: Made) -> None:
    a, b = made.netns(), made.netns()
    made.veth(a, b, "10.249.94.1/24", "10.249.94.2/24")
    # A conntrack match makes the kernel track connections in a (and only there).
    run(
        "ip",
        "netns",
        "exec",
        a,
        "iptables",
        "-A",
        "OUTPUT",
        "-m",
        "conntrack",
        "--ctstate",
        "NEW,ESTABLISHED",
        "-j",
        "ACCEPT",
    )
    run("ip", "netns", "exec", a, "busybox", "ping", "-c", "1", "-W", "2", "10.249.94.2")
    source = LiveSource()
    snap = source.discover()
    facts = source.inside(by_name(snap, a), ["conntrack"])
    assert facts.conntrack_count is not None and facts.conntrack_count >= 1
    assert source.inside(by_name(snap, b), ["conntrack"]).conntrack_count == 0
    fd, _ = nsfs.open_verified(f"/run/netns/{a}")

    def both() -> tuple[tuple[int | None, str], tuple[int | None, str]]:
        with nsfs.entered(fd):
            return conntrack.count(use_netlink=True), conntrack.count(use_netlink=False)

    try:
        over_netlink, from_sysctl = netns_reader.run_on_own_thread(both)
    finally:
        os.close(fd)
    assert over_netlink == from_sysctl and over_netlink[0] is not None
    assert over_netlink[0] >= 1


def test_a_vanished_namespace_is_gone_not_empty(made: Made) -> None:
    name = made.netns()
    source = LiveSource()
    ns = by_name(source.discover(), name)
    run("ip", "netns", "del", name)
    with pytest.raises(NamespaceGone):
        source.inside(ns)


def test_repeated_reads_leave_no_descriptor_or_thread_behind(made: Made) -> None:
    name = made.netns()
    source = LiveSource()
    ns = by_name(source.discover(), name)
    source.inside(ns)  # the first read imports pyroute2 and may open what stays open
    fds, threads = len(os.listdir("/proc/self/fd")), threading.active_count()
    for _ in range(15):
        source.inside(ns)
    time.sleep(0.1)
    assert len(os.listdir("/proc/self/fd")) <= fds
    assert threading.active_count() <= threads


LIGHT = """
import sys
from nsexplorer.cli import main
code = main({argv!r})
print("pyroute2 imported:", "pyroute2" in sys.modules, file=sys.stderr)
sys.exit(code)
"""


def test_live_list_never_imports_pyroute2_and_show_does(made: Made) -> None:
    name = made.netns()
    seen = {}
    for argv in (["list"], ["list", "--json"], ["show", name]):
        done = subprocess.run(
            [sys.executable, "-c", LIGHT.format(argv=argv)],
            capture_output=True,  # bytes: other sessions' namespaces may have any name
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        (line,) = [x for x in done.stderr.splitlines() if x.startswith(b"pyroute2 imported:")]
        seen[argv[-1]] = line.split()[-1]
    assert seen == {"list": b"False", "--json": b"False", name: b"True"}
