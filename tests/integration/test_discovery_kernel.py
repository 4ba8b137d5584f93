"""Discovery against the real kernel, on throwaway objects this module makes (prefix nsxt).

Every object is removed even when a test fails (the ``nsxt`` fixture, try/finally for
processes and mounts).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from nsexplorer.collect import netns_reader
from nsexplorer.collect.source import LiveSource
from nsexplorer.errors import NamespaceGone
from nsexplorer.kernel import nsfs
from nsexplorer.model import Group, NetNamespace, Snapshot, group_of

if TYPE_CHECKING:
    from conftest import ReadableNsexplorer  # the fixture's type only

pytestmark = [pytest.mark.integration, pytest.mark.root]

NSX = [sys.executable, "-m", "nsexplorer"]
HOSTILE_ALIAS = "\x1b]2;pwned\x07[@click=app.quit]x[/] [bold]b"


def ip(*args: str) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ip {args}: {done.stderr.decode(errors='replace')}")
    return done.stdout.decode(errors="replace")


def ns_by_name(snap: Snapshot, name: str) -> NetNamespace:
    for ns in snap.namespaces:
        if name in ns.names:
            return ns
    raise AssertionError(f"{name} not found in {[n.label for n in snap.namespaces]}")


def iface(ns: NetNamespace, name: str):  # type: ignore[no-untyped-def]
    for i in ns.interfaces:
        if i.name == name:
            return i
    raise AssertionError(f"{name} not in {[i.name for i in ns.interfaces]}")


def nsx(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*NSX, *args], capture_output=True, check=False, env=env, timeout=60)


@pytest.fixture
def wired(nsxt) -> Iterator[dict[str, str]]:  # type: ignore[no-untyped-def]
    """Two named netns joined by a veth whose ends have EQUAL ifindexes (both 2), a host
    bridge with a port whose peer is in A, and hostile names in B."""
    a, b = nsxt.netns(), nsxt.netns()
    ip("-n", a, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", b)
    ip("-n", a, "addr", "add", "10.231.0.1/30", "dev", "eth0")
    ip("-n", b, "addr", "add", "10.231.0.2/30", "dev", "eth0")
    ip("-n", a, "link", "set", "eth0", "up")
    ip("-n", b, "link", "set", "eth0", "up")
    ip("-n", b, "route", "add", "10.77.0.0/16", "via", "10.231.0.1", "table", "77")
    br = nsxt.bridge(address="10.232.0.1/24")
    host_end, a_end = nsxt.veth(netns_a=None, netns_b=a, master_a=br, address_b="10.232.0.2/24")
    hostile = "nsxt[@x=1]"
    ip("-n", b, "link", "add", hostile, "type", "bridge")
    ip("-n", b, "link", "set", "dev", hostile, "alias", HOSTILE_ALIAS)
    ip("-n", b, "link", "add", os.fsdecode(b"nsxt\xff\x1b"), "type", "bridge")
    yield {"a": a, "b": b, "br": br, "host_end": host_end, "a_end": a_end, "hostile": hostile}


def test_equal_ifindex_peers_bridge_ports_and_routes(wired: dict[str, str]) -> None:
    snap = LiveSource().collect()
    a, b = ns_by_name(snap, wired["a"]), ns_by_name(snap, wired["b"])
    host = snap.host
    assert host is not None
    assert group_of(a) == Group.NAMED and a.detailed and b.detailed
    a_eth0, b_eth0 = iface(a, "eth0"), iface(b, "eth0")
    assert a_eth0.ifindex == b_eth0.ifindex == 2
    assert a_eth0.peer is not None and b_eth0.peer is not None
    assert (a_eth0.peer.netns_inode, a_eth0.peer.ifindex, a_eth0.peer.name) == (b.inode, 2, "eth0")
    assert (b_eth0.peer.netns_inode, b_eth0.peer.ifindex, b_eth0.peer.name) == (a.inode, 2, "eth0")
    port = iface(host, wired["host_end"])
    assert port.master == wired["br"]
    assert port.peer is not None and port.peer.netns_inode == a.inode
    assert port.peer.name == wired["a_end"]
    back = iface(a, wired["a_end"])
    assert back.peer is not None and back.peer.netns_inode == host.inode
    assert back.peer.ifindex == port.ifindex
    assert ("10.232.0.2", 24) in {(x.address, x.prefixlen) for x in back.addresses}
    routes = {(r.table, r.dst, r.gateway, r.dev) for r in b.routes}
    assert (77, "10.77.0.0/16", "10.231.0.1", "eth0") in routes
    assert (255, "10.231.0.2/32", None, "eth0") in routes
    assert not [w for w in snap.warnings if wired["a"] in w or "eth0" in w]


def test_matches_iproute2(wired: dict[str, str]) -> None:
    """Interfaces, addresses and IPv4 routes of a namespace equal what `ip -j` reports."""
    a = ns_by_name(LiveSource().collect(), wired["a"])
    links = json.loads(ip("-n", wired["a"], "-j", "-d", "link", "show"))
    ours = {(i.ifindex, i.name, i.mtu, i.mac, i.master, i.state) for i in a.interfaces}
    theirs = {
        (
            x["ifindex"],
            x["ifname"],
            x["mtu"],
            x.get("address", ""),
            x.get("master"),
            x["operstate"].lower(),
        )
        for x in links
    }
    assert ours == theirs
    addrs = json.loads(ip("-n", wired["a"], "-j", "addr", "show"))
    theirs_addrs = {
        (x["ifindex"], y["local"], y["prefixlen"]) for x in addrs for y in x["addr_info"]
    }
    ours_addrs = {(i.ifindex, x.address, x.prefixlen) for i in a.interfaces for x in i.addresses}
    assert ours_addrs == theirs_addrs
    routes = json.loads(ip("-n", wired["a"], "-j", "route", "show", "table", "all"))
    theirs_routes = sorted((r["dst"], r.get("table", "main")) for r in routes)
    table_names = {254: "main", 255: "local"}
    ours_routes = sorted(
        (
            r.dst.removesuffix("/32" if r.family == 4 else "/128"),
            table_names.get(r.table, str(r.table)),
        )
        for r in a.routes
    )
    assert ours_routes == theirs_routes


def test_hostile_names_byte_exact_in_snapshot_json(wired: dict[str, str]) -> None:
    done = nsx("snapshot")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout.decode("utf-8"))  # valid UTF-8 JSON despite \xff and ESC
    assert b"\x1b" not in done.stdout and b"\x07" not in done.stdout
    (b,) = [n for n in doc["namespaces"] if wired["b"] in n["names"]]
    names = {os.fsencode(i["name"]): i for i in b["interfaces"]}
    assert names[b"nsxt[@x=1]"]["alias"] == HOSTILE_ALIAS
    assert b"nsxt\xff\x1b" in names
    # The text outputs never write a raw control character.
    for args in (["list", "--wide"], ["show", wired["b"]]):
        out = nsx(*args)
        assert out.returncode == 0, out.stderr
        assert b"\x1b" not in out.stdout + out.stderr and b"\x07" not in out.stdout


def test_show_by_every_kind_of_target(wired: dict[str, str]) -> None:
    a = ns_by_name(LiveSource().discover(), wired["a"])
    for target in (
        wired["a"],
        f"/run/netns/{wired['a']}",
        f"/var/run/netns/{wired['a']}",
        str(a.inode),
    ):
        done = nsx("show", target, "--json")
        assert done.returncode == 0, (target, done.stderr)
        shown = json.loads(done.stdout)
        assert shown["inode"] == a.inode and shown["detailed"] is True
        assert {i["name"] for i in shown["interfaces"]} >= {"lo", "eth0", wired["a_end"]}


def test_missing_target_creates_nothing(tmp_path: Path) -> None:
    before = sorted(os.listdir("/run/netns")) if os.path.isdir("/run/netns") else []
    missing = f"nsxt{secrets.token_hex(3)}"
    for target in (
        missing,
        f"/run/netns/{missing}",
        f"/var/run/netns/{missing}",
        str(tmp_path / "nope"),
        f"pid:{2**22 + 7}",
    ):
        done = nsx("show", target)
        assert done.returncode == 2, (target, done.stderr)
        assert b"no namespace matches" in done.stderr
    after = sorted(os.listdir("/run/netns")) if os.path.isdir("/run/netns") else []
    # Other sessions may add their own netns meanwhile: only ours must not appear.
    assert not [n for n in set(after) - set(before) if missing in n]
    assert not os.path.exists(f"/run/netns/{missing}")
    with open("/proc/self/mountinfo", "rb") as f:
        assert missing.encode() not in f.read()
    assert list(tmp_path.iterdir()) == []


def test_stale_regular_file_is_not_a_namespace(tmp_path: Path) -> None:
    stale = tmp_path / "4b1d2c3e4f5a"
    stale.write_bytes(b"")
    done = nsx("show", str(stale))
    assert done.returncode == 2


@pytest.fixture
def process_netns() -> Iterator[int]:
    proc = subprocess.Popen(["unshare", "--net", "sleep", "300"])
    try:
        deadline = time.monotonic() + 10
        own = os.readlink("/proc/thread-self/ns/net")
        while os.readlink(f"/proc/{proc.pid}/ns/net") == own:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        # unshare execs sleep in the same pid
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def test_process_only_namespace(process_netns: int) -> None:
    snap = LiveSource().collect()
    (ns,) = [n for n in snap.namespaces if process_netns in n.pids]
    assert group_of(ns) == Group.PROCESSES
    assert ns.label == f"pid {process_netns} (sleep)"
    assert ns.detailed and [i.name for i in ns.interfaces] == ["lo"]
    done = nsx("show", f"pid:{process_netns}", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["inode"] == ns.inode
    procs = LiveSource().processes(ns)
    assert [(p.pid, p.user, p.command) for p in procs] == [(process_netns, "root", "sleep 300")]


def test_fd_only_namespace(nsxt) -> None:  # type: ignore[no-untyped-def]
    name = nsxt.netns()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os,sys,time; fd=os.open(sys.argv[1], os.O_RDONLY); print(fd, flush=True); "
            "time.sleep(300)",
            f"/run/netns/{name}",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        fd = int(holder.stdout.readline())
        ip("netns", "del", name)  # now only the fd pins it
        snap = LiveSource().collect()
        (ns,) = [
            n
            for n in snap.namespaces
            if any(h.pid == holder.pid for h in n.fd_holders) and not n.is_host
        ]
        assert group_of(ns) == Group.FD_ONLY
        assert (holder.pid, fd) in {(h.pid, h.fd) for h in ns.fd_holders}
        assert ns.label.startswith(f"fd {fd} of pid {holder.pid}")
        assert ns.detailed and [i.name for i in ns.interfaces] == ["lo"]
    finally:
        holder.kill()
        holder.wait()


@pytest.fixture
def hidden_netns(tmp_path: Path) -> Iterator[tuple[int, str]]:
    """A netns bind-mounted only inside a private mount namespace (seed's step 6)."""
    d = tmp_path / "nsxt-hidden"
    d.mkdir()
    script = (
        'mount -t tmpfs none "$0" && touch "$0/ns" && unshare --net="$0/ns" true '
        "&& echo ready && exec sleep 300"
    )
    proc = subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, str(d)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield proc.pid, f"{d}/ns"
    finally:
        proc.kill()
        proc.wait()


def test_hidden_bind_mount(hidden_netns: tuple[int, str]) -> None:
    pid, path = hidden_netns
    assert not os.path.exists(path)  # invisible from our mount namespace
    snap = LiveSource().collect()
    (ns,) = [n for n in snap.namespaces if any(m.path == path for m in n.bind_mounts)]
    (mount,) = [m for m in ns.bind_mounts if m.path == path]
    assert mount.hidden and mount.via_pid == pid
    assert mount.mount_ns_inode == nsfs.parse_ns_link(os.readlink(f"/proc/{pid}/ns/mnt"), "mnt")
    assert group_of(ns) == Group.HIDDEN
    assert ns.detailed and [i.name for i in ns.interfaces] == ["lo"]
    assert not ns.pids
    done = nsx("show", f"/proc/{pid}/root{path}", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["inode"] == ns.inode


def test_namespace_vanishing_mid_scan(nsxt, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    keep, doomed = nsxt.netns(), nsxt.netns()
    from nsexplorer.collect import discovery, source

    real = discovery.discover

    def discover_then_delete(*args, **kwargs):  # type: ignore[no-untyped-def]
        found = real(*args, **kwargs)
        ip("netns", "del", doomed)  # gone between the cheap pass and netlink
        return found

    monkeypatch.setattr(source.discovery, "discover", discover_then_delete)
    snap = LiveSource().collect()
    assert ns_by_name(snap, keep).detailed
    gone = ns_by_name(snap, doomed)
    assert gone.gone and not gone.detailed and gone.warnings


def test_detail_of_a_vanished_namespace_raises(nsxt) -> None:  # type: ignore[no-untyped-def]
    name = nsxt.netns()
    src = LiveSource()
    ns = ns_by_name(src.discover(), name)
    assert src.detail(ns).detailed
    ip("netns", "del", name)
    with pytest.raises(NamespaceGone):
        src.detail(ns)


def test_reader_reports_gone_paths() -> None:
    from nsexplorer.model import NamespaceId

    ghost = NamespaceId(nsfs.nsfs_dev(), 1)
    result = netns_reader.read_namespaces([(ghost, ["/run/netns/nsxt-never-existed"])])
    assert result.reads[ghost].gone


def test_non_root_lists_what_it_can_and_says_what_needs_root(
    readable_nsexplorer: ReadableNsexplorer,
) -> None:
    env = readable_nsexplorer.env({**os.environ, "DOCKER_HOST": "unix:///nonexistent/nsxt.sock"})
    nsx = readable_nsexplorer.argv
    base = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
    ]
    listing = subprocess.run(
        [*base, *nsx, "list", "--json"], capture_output=True, env=env, check=False, timeout=60
    )
    assert listing.returncode == 0, listing.stderr
    doc = json.loads(listing.stdout)
    assert any(ns["is_host"] for ns in doc["namespaces"])
    assert any("needs root" in w for w in doc["warnings"])
    snap = subprocess.run(
        [*base, *nsx, "snapshot"], capture_output=True, env=env, check=False, timeout=60
    )
    assert snap.returncode == 0, snap.stderr
    doc = json.loads(snap.stdout)
    assert any("needs root" in w for w in doc["warnings"])
    # Its own netns (the host's here) is readable without privileges.
    host = next(ns for ns in doc["namespaces"] if ns["is_host"])
    assert host["interfaces"], host


def test_a_namespace_bind_mounted_outside_run_netns_is_not_listed_as_ip_netns_named(
    tmp_path: Path,
) -> None:
    """QA: a namespace pinned at /tmp/x (`unshare --net=/tmp/x`) sat under "Named (ip
    netns)", where `ip netns exec` would not find it. It has a group of its own."""
    pin = tmp_path / "nsxt-pin"
    pin.touch()
    subprocess.run(["unshare", f"--net={pin}", "true"], check=True)
    try:
        ino = os.stat(pin).st_ino
        assert (
            pin.name
            not in subprocess.run(
                ["ip", "netns", "list"], capture_output=True, text=True, check=True
            ).stdout
        )  # ip netns indeed cannot see it
        ns = LiveSource().collect().by_inode(ino)
        assert ns is not None and not ns.names
        assert group_of(ns) == Group.MOUNTED
        listed = nsx("list", "--json")
        rows = [r for r in json.loads(listed.stdout)["namespaces"] if r["inode"] == ino]
        assert [r["group"] for r in rows] == ["mounted"], rows
    finally:
        subprocess.run(["umount", str(pin)], check=False)
