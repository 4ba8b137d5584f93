"""Recorded-style snapshots and fakes for the UI tests (no root, no kernel).

The topology mirrors the lab and the Docker testbed: a host with docker0 and the lab
bridge, containers in bridge / container: / host / none modes and on a user network,
named namespaces on the lab bridge, a veth pair between two named namespaces, a
namespace hidden in another mount namespace, one held by a process, one by an fd only,
and a veth whose peer could not be resolved.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from typing import Any

from nsexplorer.errors import ActionFailed, ReadOnlyRefused
from nsexplorer.model import (
    Address,
    BindMount,
    Container,
    ContainerNetwork,
    Counters,
    DockerNetwork,
    EngineInfo,
    FdHolder,
    Interface,
    NamespaceId,
    NetNamespace,
    Peer,
    ProcessInfo,
    Route,
    Snapshot,
    Source,
)
from nsexplorer.model_inside import INSIDE_PARTS, InsideFacts
from nsexplorer.ports import PreparedShell, RunResult, WatchCoverage

DEV = 4
HOST = 4026531840
WEB = 4026532501
DB = 4026532502
NONE = 4026532503
LAB_A = 4026532601
LAB_B = 4026532602
PAIR_C = 4026532603
PAIR_D = 4026532604
HIDDEN = 4026532701
PROC = 4026532801
FDONLY = 4026532901
ORPHAN = 4026532902

WEB_ID = "5e0a1b2c3d4e" + "f" * 52
SIDECAR_ID = "7a7b7c7d7e7f" + "0" * 52
DB_ID = "d6d6d6d6d6d6" + "1" * 52
NONE_ID = "0a0a0a0a0a0a" + "2" * 52
HOSTNET_ID = "4b4b4b4b4b4b" + "3" * 52


def nsid(ino: int) -> NamespaceId:
    return NamespaceId(DEV, ino)


def a4(addr: str, plen: int, scope: str = "global") -> Address:
    return Address(4, addr, plen, scope)


UP_FLAGS = ("BROADCAST", "MULTICAST", "UP", "LOWER_UP")
NO_CARRIER_FLAGS = ("NO-CARRIER", "BROADCAST", "MULTICAST", "UP")
ADMIN_DOWN_FLAGS = ("BROADCAST", "MULTICAST")


def flags_for(state: str) -> tuple[str, ...]:
    """The `ip -j link` flags a link in operstate ``state`` shows."""
    if state == "up":
        return UP_FLAGS
    if state == "lowerlayerdown":
        return NO_CARRIER_FLAGS
    return ADMIN_DOWN_FLAGS


def lo() -> Interface:
    return Interface(
        1,
        "lo",
        "loopback",
        "unknown",
        65536,
        "00:00:00:00:00:00",
        addresses=(a4("127.0.0.1", 8, "host"),),
        flags=("LOOPBACK", "UP", "LOWER_UP"),
    )


def veth(
    ifindex: int,
    name: str,
    mac: str,
    peer: Peer | None,
    *,
    master: str | None = None,
    addrs: tuple[Address, ...] = (),
    state: str = "up",
) -> Interface:
    return Interface(
        ifindex,
        name,
        "veth",
        state,
        1500,
        mac,
        master=master,
        addresses=addrs,
        peer=peer,
        counters=Counters(rx_bytes=1000, tx_bytes=2000, rx_packets=10, tx_packets=20),
        flags=flags_for(state),
    )


def bridge(ifindex: int, name: str, mac: str, addr: Address) -> Interface:
    return Interface(ifindex, name, "bridge", "up", 1500, mac, addresses=(addr,), flags=UP_FLAGS)


def routes_for(dev: str, net: str, plen: int, src: str, gw: str | None) -> tuple[Route, ...]:
    out = [Route(4, 254, f"{net}/{plen}", None, dev, "link", "kernel", prefsrc=src)]
    if gw:
        out.insert(0, Route(4, 254, "default", gw, dev, "global", "boot"))
    out.append(Route(4, 255, src, None, dev, "host", "kernel", type="local", prefsrc=src))
    return tuple(out)


def lab_snapshot() -> Snapshot:
    host_ifaces = (
        lo(),
        Interface(
            2,
            "eth0",
            "device",
            "up",
            1500,
            "52:54:00:15:c2:12",
            addresses=(a4("10.0.2.15", 24),),
            flags=UP_FLAGS,
        ),
        bridge(3, "docker0", "02:42:fa:6f:13:18", a4("172.17.0.1", 16)),
        bridge(4, "nsxlab-br0", "36:1c:aa:00:00:01", a4("10.213.0.1", 24)),
        bridge(5, "br-1a2b3c4d5e6f", "02:42:aa:bb:cc:01", a4("172.30.0.1", 24)),
        veth(7, "veth46024eb", "f2:4e:50:a5:fb:b8", Peer(WEB, 6, "eth0"), master="docker0"),
        veth(9, "veth9c1d2e3", "7a:96:bc:c7:03:d8", Peer(DB, 8, "eth0"), master="br-1a2b3c4d5e6f"),
        veth(11, "nsxlab-a-h", "ae:00:00:00:0a:01", Peer(LAB_A, 2, "veth0"), master="nsxlab-br0"),
        veth(12, "nsxlab-b-h", "ae:00:00:00:0b:01", Peer(LAB_B, 2, "veth0"), master="nsxlab-br0"),
        veth(13, "nsxlab-h-h", "ae:00:00:00:0d:01", Peer(HIDDEN, 2, "veth0"), master="nsxlab-br0"),
        veth(14, "nsxlab-p-h", "ae:00:00:00:0e:01", Peer(PROC, 2, "veth0"), master="nsxlab-br0"),
    )
    host = NetNamespace(
        nsid(HOST),
        is_host=True,
        label="host",
        sources=(Source.HOST, Source.PROCESS),
        pids=(1, 2, 3),
        containers=(
            Container(
                "docker", HOSTNET_ID, "nsxlab-hostnet", "nsx-busybox:test", "host", 3001, "running"
            ),
        ),
        access_path="/proc/thread-self/ns/net",
        detailed=True,
        interfaces=host_ifaces,
        routes=(
            Route(4, 254, "default", "10.0.2.2", "eth0", "global", "dhcp", metric=100),
            *routes_for("eth0", "10.0.2.0", 24, "10.0.2.15", None),
            *routes_for("docker0", "172.17.0.0", 16, "172.17.0.1", None),
            *routes_for("nsxlab-br0", "10.213.0.0", 24, "10.213.0.1", None),
        ),
    )
    web = NetNamespace(
        nsid(WEB),
        label="nsxlab-web",
        sources=(Source.CONTAINER, Source.PROCESS, Source.BIND_MOUNT),
        pids=(3101, 3150),
        bind_mounts=(
            BindMount("/run/nsx-testbed/exec/netns/5e0a1b2c3d4e", 4026532300, True, 2900),
        ),
        containers=(
            Container(
                "docker",
                WEB_ID,
                "nsxlab-web",
                "nsx-busybox:test",
                "default",
                3101,
                "running",
                sandbox_key="/run/nsx-testbed/exec/netns/5e0a1b2c3d4e",
                compose_project="nsxlab",
                networks=(
                    ContainerNetwork("bridge", "172.17.0.2", 16, "172.17.0.1", "02:42:ac:11:00:02"),
                ),
            ),
            Container(
                "docker",
                SIDECAR_ID,
                "nsxlab-sidecar",
                "nsx-busybox:test",
                f"container:{WEB_ID}",
                3150,
                "running",
                shares_with="nsxlab-web",
            ),
        ),
        access_path="/proc/3101/ns/net",
        detailed=True,
        interfaces=(
            lo(),
            veth(
                6,
                "eth0",
                "02:42:ac:11:00:02",
                Peer(HOST, 7, "veth46024eb"),
                addrs=(a4("172.17.0.2", 16),),
            ),
        ),
        routes=routes_for("eth0", "172.17.0.0", 16, "172.17.0.2", "172.17.0.1"),
    )
    db = NetNamespace(
        nsid(DB),
        label="nsxlab-db",
        sources=(Source.CONTAINER, Source.PROCESS),
        pids=(3201,),
        containers=(
            Container(
                "docker",
                DB_ID,
                "nsxlab-db",
                "nsx-busybox:test",
                "nsxlab-net",
                3201,
                "running",
                networks=(
                    ContainerNetwork(
                        "nsxlab-net", "172.30.0.2", 24, "172.30.0.1", "02:42:ac:1e:00:02"
                    ),
                ),
            ),
        ),
        access_path="/proc/3201/ns/net",
        detailed=True,
        interfaces=(
            lo(),
            veth(
                8,
                "eth0",
                "02:42:ac:1e:00:02",
                Peer(HOST, 9, "veth9c1d2e3"),
                addrs=(a4("172.30.0.2", 24),),
            ),
        ),
        routes=routes_for("eth0", "172.30.0.0", 24, "172.30.0.2", "172.30.0.1"),
    )
    none = NetNamespace(
        nsid(NONE),
        label="nsxlab-none",
        sources=(Source.CONTAINER, Source.PROCESS),
        pids=(3301,),
        containers=(
            Container(
                "docker", NONE_ID, "nsxlab-none", "nsx-busybox:test", "none", 3301, "running"
            ),
        ),
        access_path="/proc/3301/ns/net",
        detailed=True,
        interfaces=(lo(),),
    )

    def named(
        ino: int, name: str, n: int, peer_ifindex: int, extra: tuple[Interface, ...] = ()
    ) -> NetNamespace:
        addr = f"10.213.0.{n}"
        return NetNamespace(
            nsid(ino),
            label=name,
            sources=(Source.BIND_MOUNT,),
            names=(name,),
            bind_mounts=(BindMount(f"/run/netns/{name}", 4026531841, False),),
            access_path=f"/run/netns/{name}",
            detailed=True,
            interfaces=(
                lo(),
                veth(
                    2,
                    "veth0",
                    f"ae:00:00:00:{n:02x}:02",
                    Peer(HOST, peer_ifindex, f"nsxlab-{name[-1]}-h"),
                    addrs=(a4(addr, 24),),
                ),
                *extra,
            ),
            routes=routes_for("veth0", "10.213.0.0", 24, addr, "10.213.0.1"),
        )

    lab_a = named(LAB_A, "nsxlab-a", 2, 11)
    lab_b = named(LAB_B, "nsxlab-b", 3, 12)
    pair_c = replace(
        named(PAIR_C, "nsxlab-c", 4, 0),
        interfaces=(
            lo(),
            veth(
                3,
                "cd0",
                "ae:00:00:00:0c:03",
                Peer(PAIR_D, 3, "dc0"),
                addrs=(a4("10.214.0.1", 30),),
                state="lowerlayerdown",
            ),
        ),
        routes=routes_for("cd0", "10.214.0.0", 30, "10.214.0.1", None),
    )
    pair_d = replace(
        named(PAIR_D, "nsxlab-d", 5, 0),
        interfaces=(
            lo(),
            veth(
                3,
                "dc0",
                "ae:00:00:00:0d:03",
                Peer(PAIR_C, 3, "cd0"),
                addrs=(a4("10.214.0.2", 30),),
                state="down",
            ),
        ),
        routes=routes_for("dc0", "10.214.0.0", 30, "10.214.0.2", None),
    )
    hidden = NetNamespace(
        nsid(HIDDEN),
        label="/tmp/nsxlab-hidden/ns",
        sources=(Source.BIND_MOUNT,),
        bind_mounts=(BindMount("/tmp/nsxlab-hidden/ns", 4026532990, True, 5151),),
        access_path="/proc/5151/root/tmp/nsxlab-hidden/ns",
        detailed=True,
        interfaces=(
            lo(),
            veth(
                2,
                "veth0",
                "ae:00:00:00:0d:02",
                Peer(HOST, 13, "nsxlab-h-h"),
                addrs=(a4("10.213.0.6", 24),),
            ),
        ),
        routes=routes_for("veth0", "10.213.0.0", 24, "10.213.0.6", None),
    )
    proc = NetNamespace(
        nsid(PROC),
        label="pid 6161 (sleep)",
        sources=(Source.PROCESS,),
        pids=(6161,),
        access_path="/proc/6161/ns/net",
        detailed=True,
        interfaces=(
            lo(),
            veth(
                2,
                "veth0",
                "ae:00:00:00:0e:02",
                Peer(HOST, 14, "nsxlab-p-h"),
                addrs=(a4("10.213.0.7", 24),),
            ),
        ),
        routes=routes_for("veth0", "10.213.0.0", 24, "10.213.0.7", None),
    )
    fdonly = NetNamespace(
        nsid(FDONLY),
        label="fd 5 of pid 7171 (python3)",
        sources=(Source.FD,),
        fd_holders=(FdHolder(7171, 5),),
        access_path="/proc/7171/fd/5",
        detailed=True,
        interfaces=(lo(),),
    )
    orphan = NetNamespace(
        nsid(ORPHAN),
        label="pid 8181 (orphan)",
        sources=(Source.PROCESS,),
        pids=(8181,),
        access_path="/proc/8181/ns/net",
        detailed=True,
        interfaces=(
            lo(),
            veth(2, "lost0", "ae:00:00:00:0f:02", Peer(None, 77, None), state="lowerlayerdown"),
        ),
        warnings=("veth lost0: peer ifindex 77 is in a namespace nsexplorer cannot open",),
    )
    return Snapshot(
        hostname="nsxt-host",
        collected_at="2026-01-01T00:00:00+00:00",
        namespaces=(
            host,
            web,
            db,
            none,
            lab_a,
            lab_b,
            pair_c,
            pair_d,
            hidden,
            proc,
            fdonly,
            orphan,
        ),
        warnings=(),
        engines=(
            EngineInfo(
                reachable=True,
                host="unix:///run/nsx-testbed/docker.sock",
                daemon_pid=2900,
                version="20.10.24",
                networks=(
                    DockerNetwork(
                        "n1", "bridge", "bridge", "docker0", (("172.17.0.0/16", "172.17.0.1"),)
                    ),
                    DockerNetwork(
                        "1a2b3c4d5e6f" + "9" * 52,
                        "nsxlab-net",
                        "bridge",
                        "br-1a2b3c4d5e6f",
                        (("172.30.0.0/24", "172.30.0.1"),),
                    ),
                ),
            ),
        ),
    )


HOSTILE = {
    "iface_close": "eth0[/]",
    "iface_click": "[@click=app.quit]x",
    "iface_reverse": "x[reverse]",
    "iface_esc": "\x1b]2;pwned\x07",
    "alias": "\x1b[2J\x1b[31mred[bold]x[/",
    "netns": "[bold]x[/",
    "container": "[link=http://x]evil[/link]",
    "image": "img[/]:\x1b[5m",
    "process": "sleep\x1b]52;c;ZXZpbA==\x07",
}


def hostile_snapshot() -> Snapshot:
    """Names an attacker would choose; they must show literally and do nothing."""
    h = HOSTILE
    base = lab_snapshot()
    out = []
    for orig in base.namespaces:
        ns = orig
        if ns.inode == LAB_A:
            ns = replace(
                ns,
                names=(h["netns"],),
                label=h["netns"],
                interfaces=(
                    lo(),
                    replace(ns.interfaces[1], name=h["iface_close"], alias=h["alias"]),
                    veth(
                        3, h["iface_click"], "ae:00:00:00:aa:01", Peer(LAB_B, 3, h["iface_reverse"])
                    ),
                    bridge(4, h["iface_esc"], "ae:00:00:00:aa:02", a4("10.99.0.1", 24)),
                ),
                routes=(Route(4, 254, "10.99.0.0/24", None, h["iface_esc"], "link", "kernel"),),
            )
        elif ns.inode == LAB_B:
            ns = replace(
                ns,
                interfaces=(
                    *ns.interfaces,
                    veth(
                        3, h["iface_reverse"], "ae:00:00:00:bb:01", Peer(LAB_A, 3, h["iface_click"])
                    ),
                ),
            )
        elif ns.inode == WEB:
            c0 = replace(ns.containers[0], name=h["container"], image=h["image"])
            ns = replace(ns, containers=(c0, ns.containers[1]))
        elif ns.inode == PROC:
            ns = replace(ns, label=f"pid 6161 ({h['process']})")
        out.append(ns)
    return replace(base, namespaces=tuple(out), warnings=(f"odd name seen: {h['iface_esc']}",))


def discovered(snapshot: Snapshot) -> Snapshot:
    """What discover() would give: labels and sources, no netlink facts."""
    return replace(
        snapshot,
        namespaces=tuple(
            replace(ns, detailed=False, interfaces=(), routes=()) for ns in snapshot.namespaces
        ),
    )


class FakeSource:
    """A SnapshotSource over a fixed snapshot; ``live`` decides if actions are allowed."""

    def __init__(
        self,
        snapshot: Snapshot,
        *,
        live: bool = True,
        processes: Sequence[ProcessInfo] = (),
        collect_gate: threading.Event | None = None,
    ) -> None:
        self.snapshot = snapshot
        self._live = live
        self._processes = tuple(processes) or (
            ProcessInfo(3101, "root", "sleep 3600"),
            ProcessInfo(3150, "nobody", "sh -c while true; do sleep 1; done"),
        )
        self.collect_gate = collect_gate
        self.collects = 0
        self.detail_calls: list[int] = []
        self.inside_calls: list[int] = []
        self.inside_facts: dict[int, InsideFacts] = {}

    @property
    def live(self) -> bool:
        return self._live

    def discover(self) -> Snapshot:
        return discovered(self.snapshot)

    def collect(self) -> Snapshot:
        if self.collect_gate is not None:
            self.collect_gate.wait(30)
        self.collects += 1
        return self.snapshot

    def detail(self, ns: NetNamespace) -> NetNamespace:
        self.detail_calls.append(ns.inode)
        full = self.snapshot.by_inode(ns.inode)
        return full if full is not None else ns

    def processes(self, ns: NetNamespace) -> tuple[ProcessInfo, ...]:
        return self._processes

    def inside(self, ns: NetNamespace, parts: Collection[str] | None = None) -> InsideFacts:
        """``inside_facts`` for the namespace, else every part "not in this test's data"."""
        self.inside_calls.append(ns.inode)
        facts = self.inside_facts.get(ns.inode)
        if facts is not None:
            return facts
        why = "not in this test's data"
        return InsideFacts(ns.inode, unavailable=tuple((p, why) for p in INSIDE_PARTS))


class FakeRunner:
    """A CommandRunner that records what it was asked and runs nothing."""

    def __init__(
        self,
        *,
        read_only: bool = False,
        output: str = "1: lo: <LOOPBACK,UP>\n2: eth0@if7: <UP>",
        block: bool = False,
    ) -> None:
        self._read_only = read_only
        self.output = output
        self.block = block
        self.runs: list[tuple[int, tuple[str, ...], bool]] = []
        self.via_pids: list[int | None] = []  # of each run, then of each shell prepared
        self.named: list[tuple[int, str]] = []
        self.unnamed: list[str] = []
        self.unnamed_from: list[int] = []  # the inode each name was removed from
        self.warnings: list[str] = []  # handed out (then cleared) by take_warnings
        self.prepared = 0
        self.released = 0

    @property
    def read_only(self) -> bool:
        return self._read_only

    @property
    def audit_log_path(self) -> str:
        return "/var/log/nsexplorer/audit.log"

    def equivalent_command(
        self,
        ns: NetNamespace,
        argv: Sequence[str],
        all_namespaces: bool = False,
        *,
        via_pid: int | None = None,
    ) -> str:
        if all_namespaces:
            pid = via_pid or (ns.pids[0] if ns.pids else "?")
            return f"nsenter -t {pid} -a " + " ".join(argv)
        return f"nsenter --net={ns.access_path} " + " ".join(argv)

    def run(
        self,
        ns: NetNamespace,
        argv: Sequence[str],
        *,
        all_namespaces: bool = False,
        timeout: float | None = None,
        cancel: Callable[[], bool] | None = None,
        on_output: Callable[[str], None] | None = None,
        via_pid: int | None = None,
    ) -> RunResult:
        if self._read_only:
            raise ReadOnlyRefused("read-only")
        self.runs.append((ns.inode, tuple(argv), all_namespaces))
        self.via_pids.append(via_pid)
        if self.block:
            if on_output is not None:
                on_output("partial output\n")
            while cancel is None or not cancel():
                threading.Event().wait(0.01)
            # what actions.runner returns for a run the user stopped
            note = "cancelled; output so far is shown"
            return RunResult(tuple(argv), None, "partial output\n", error=note, stopped="cancelled")
        return RunResult(tuple(argv), 0, self.output)

    def prepare_shell(
        self, ns: NetNamespace, all_namespaces: bool = False, *, via_pid: int | None = None
    ) -> PreparedShell:
        argv = ("nsenter", f"--net={ns.access_path}", "sh")
        self.prepared += 1
        self.via_pids.append(via_pid)
        return PreparedShell(argv, " ".join(argv), (), self._released)

    def _released(self) -> None:
        self.released += 1

    def take_warnings(self) -> tuple[str, ...]:
        taken, self.warnings = tuple(self.warnings), []
        return taken

    def name(self, ns: NetNamespace, name: str) -> str:
        if self._read_only:
            raise ReadOnlyRefused("read-only")
        self.named.append((ns.inode, name))
        return f"/var/run/netns/{name}"

    def unname(self, name: str, ns: NetNamespace) -> None:
        if self._read_only:
            raise ReadOnlyRefused("read-only")
        self.unnamed.append(name)
        self.unnamed_from.append(ns.inode)

    def name_command(self, ns: NetNamespace, name: str) -> str:
        if not name or "/" in name or any(not ch.isprintable() for ch in name):
            raise ActionFailed(f"invalid namespace name {name!r}")
        return f"ip netns attach {name} {ns.pids[0] if ns.pids else '?'}"

    def unname_command(self, name: str) -> str:
        return f"ip netns delete {name}"


class FakeWatcher:
    """A ChangeWatcher the test drives by hand. ``watch_all`` reports every namespace
    watched unless ``coverage`` says otherwise (then that is reported)."""

    def __init__(self, coverage: WatchCoverage | None = None) -> None:
        self.on_change: Callable[[str], None] | None = None
        self.on_coverage: Callable[[WatchCoverage], None] | None = None
        self.on_subscribed: Callable[[tuple[NamespaceId, ...]], None] | None = None
        self.watched: list[NamespaceId | None] = []
        self.every: list[dict[NamespaceId, tuple[str, ...]]] = []
        self.coverage = coverage
        self.host: tuple[NamespaceId, str] | None = None
        self.stopped = False

    def start(
        self,
        on_change: Callable[[str], None],
        on_coverage: Callable[[WatchCoverage], None] | None = None,
        on_subscribed: Callable[[tuple[NamespaceId, ...]], None] | None = None,
    ) -> None:
        self.on_change = on_change
        self.on_coverage = on_coverage
        self.on_subscribed = on_subscribed

    def watch_all(self, namespaces: Mapping[NamespaceId, Sequence[str]]) -> None:
        self.every.append({ns: tuple(p) for ns, p in namespaces.items()})
        self.report(self.coverage or WatchCoverage(watched=len(namespaces)))

    def report(self, coverage: WatchCoverage) -> None:
        if self.on_coverage is not None:
            self.on_coverage(coverage)

    def watch_namespace(self, ns: NamespaceId | None) -> None:
        self.watched.append(ns)

    def watch_host(self, ns: NamespaceId, path: str) -> None:
        self.host = (ns, path)

    def stop(self) -> None:
        self.stopped = True


# make_app(...) in conftest.py returns an NsxApp built on these fakes.
AppFactory = Callable[..., Any]
