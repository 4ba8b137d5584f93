"""Problems: each kind found on built snapshots, in the right namespace, and no alarm
where a fact is missing or the wiring is healthy."""

from __future__ import annotations

import json
import shlex
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from nsexplorer import problems as pr
from nsexplorer import snapshot_json
from nsexplorer.cli import main
from nsexplorer.cli.problems import format_problems
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
    Nexthop,
    Peer,
    Route,
    Snapshot,
)

UP = ("BROADCAST", "MULTICAST", "UP", "LOWER_UP")
DOWN = ("BROADCAST", "MULTICAST")
NO_CARRIER = ("NO-CARRIER", "BROADCAST", "MULTICAST", "UP")
HOST, A, B, WEB = 1, 10, 11, 20
ROOT = (("euid", "0"),)
WEB_KEY = "/run/docker/netns/cccccccccccc"


def v4(address: str, prefixlen: int = 24, flags: tuple[str, ...] = ()) -> Address:
    return Address(4, address, prefixlen, "global", flags)


def lo() -> Interface:
    addrs = (Address(4, "127.0.0.1", 8, "host"), Address(6, "::1", 128, "host"))
    return Interface(
        1,
        "lo",
        "loopback",
        "unknown",
        65536,
        "00:00:00:00:00:00",
        addresses=addrs,
        flags=("LOOPBACK", "UP", "LOWER_UP"),
    )


def veth(  # noqa: PLR0917
    ifindex: int,
    name: str,
    peer: Peer | None,
    mac: str,
    master: tuple[str, int] | None = None,
    addresses: tuple[Address, ...] = (),
    flags: tuple[str, ...] = UP,
    mtu: int = 1500,
) -> Interface:
    return Interface(
        ifindex,
        name,
        "veth",
        "up" if "LOWER_UP" in flags else "down",
        mtu,
        mac,
        master=master[0] if master else None,
        master_ifindex=master[1] if master else None,
        addresses=addresses,
        peer=peer,
        flags=flags,
    )


def bridge(
    ifindex: int,
    name: str,
    mac: str,
    addresses: tuple[Address, ...] = (),
    flags: tuple[str, ...] = UP,
) -> Interface:
    return Interface(ifindex, name, "bridge", "up", 1500, mac, addresses=addresses, flags=flags)


def web_container(**changes: object) -> Container:
    net = ContainerNetwork("bridge", "10.0.0.30", 24, "10.0.0.1", "02:42:0a:00:00:1e")
    c = Container(
        "docker", "c" * 64, "web", "img", "default", 500, sandbox_key=WEB_KEY, networks=(net,)
    )
    return replace(c, **changes)  # type: ignore[arg-type]


def healthy() -> Snapshot:
    """host br0 (10.0.0.1) with ports vh1 -> eth0 in netns a, vh2 -> eth0 in netns b,
    vh3 -> eth0 in container web; a and b also share a direct veth ab/ba."""
    br = ("br0", 2)
    host = NetNamespace(
        NamespaceId(4, HOST),
        is_host=True,
        label="host",
        pids=(100,),
        detailed=True,
        interfaces=(
            lo(),
            bridge(2, "br0", "aa:00:00:00:00:01", (v4("10.0.0.1"),)),
            veth(3, "vh1", Peer(A, 2, "eth0"), "aa:00:00:00:00:01", br),
            veth(4, "vh2", Peer(B, 2, "eth0"), "aa:00:00:00:00:02", br),
            veth(5, "vh3", Peer(WEB, 2, "eth0"), "aa:00:00:00:00:03", br),
        ),
        routes=(Route(4, 254, "10.0.0.0/24", None, "br0", "link", "kernel"),),
    )

    def named(  # noqa: PLR0917
        ino: int,
        name: str,
        host_if: tuple[int, str],
        addr: str,
        mac: str,
        other: tuple[int, str, str],
    ) -> NetNamespace:
        return NetNamespace(
            NamespaceId(4, ino),
            label=name,
            names=(name,),
            bind_mounts=(BindMount(f"/run/netns/{name}", 7, False),),
            detailed=True,
            interfaces=(
                lo(),
                veth(2, "eth0", Peer(HOST, *host_if), mac, addresses=(v4(addr),)),
                veth(3, other[1], Peer(other[0], 3, other[2]), mac.replace("02:", "06:", 1)),
            ),
        )

    a = named(A, "a", (3, "vh1"), "10.0.0.11", "02:00:00:00:00:0a", (B, "ab", "ba"))
    b = named(B, "b", (4, "vh2"), "10.0.0.12", "02:00:00:00:00:0b", (A, "ba", "ab"))
    web = NetNamespace(
        NamespaceId(4, WEB),
        label="web",
        pids=(500,),
        containers=(web_container(),),
        bind_mounts=(BindMount(WEB_KEY, 9, True, via_pid=77),),
        detailed=True,
        interfaces=(
            lo(),
            veth(
                2, "eth0", Peer(HOST, 5, "vh3"), "02:42:0a:00:00:1e", addresses=(v4("10.0.0.30"),)
            ),
        ),
        routes=(Route(4, 254, "default", "10.0.0.1", "eth0", "global", "boot"),),
    )
    engine = EngineInfo(
        reachable=True, networks=(DockerNetwork("n1", "bridge", "bridge", "docker0"),)
    )
    return Snapshot("h", "2026-12-01T00:00:00Z", (host, a, b, web), engines=(engine,), meta=ROOT)


def ns_of(snap: Snapshot, ino: int) -> NetNamespace:
    ns = snap.by_inode(ino)
    assert ns is not None
    return ns


def put_ns(snap: Snapshot, ns: NetNamespace) -> Snapshot:
    """``snap`` with ``ns`` replacing the namespace of the same inode, or appended."""
    others = [n for n in snap.namespaces if n.inode != ns.inode]
    if len(others) == len(snap.namespaces):
        return replace(snap, namespaces=(*snap.namespaces, ns))
    return replace(
        snap, namespaces=tuple(ns if n.inode == ns.inode else n for n in snap.namespaces)
    )


def put_iface(snap: Snapshot, ino: int, ifname: str, /, **changes: object) -> Snapshot:
    ns = ns_of(snap, ino)
    ifaces = tuple(replace(i, **changes) if i.name == ifname else i for i in ns.interfaces)  # type: ignore[arg-type]
    assert ifaces != ns.interfaces, f"no change for {ifname} in {ino}"
    return put_ns(snap, replace(ns, interfaces=ifaces))


def add_iface(snap: Snapshot, ino: int, iface: Interface) -> Snapshot:
    ns = ns_of(snap, ino)
    return put_ns(snap, replace(ns, interfaces=(*ns.interfaces, iface)))


def kinds(found: tuple[pr.Problem, ...]) -> list[tuple[str, int, str | None]]:
    return [(p.kind, p.namespace_inode, p.interface) for p in found]


# ---------------------------------------------------------------- no false alarms


def test_a_healthy_world_has_no_problem() -> None:
    assert pr.find_problems(healthy()) == ()


def test_unrecorded_flags_raise_no_state_alarm() -> None:
    snap = healthy()
    for ino in (HOST, A, B, WEB):
        ns = ns_of(snap, ino)
        snap = put_ns(
            snap,
            replace(
                ns, interfaces=tuple(replace(i, flags=(), state="down") for i in ns.interfaces)
            ),
        )
    assert pr.find_problems(snap) == ()


def test_a_namespace_not_read_raises_nothing_about_its_interfaces() -> None:
    snap = put_iface(healthy(), A, "eth0", addresses=(v4("10.0.0.12"),), flags=DOWN, mtu=9000)
    assert pr.find_problems(snap)  # the faults are seen while A is read ...
    snap = put_ns(snap, replace(ns_of(snap, A), detailed=False))
    assert pr.find_problems(snap) == ()  # ... and none is invented when it is not


def test_gone_namespaces_are_not_judged() -> None:
    snap = put_iface(healthy(), A, "eth0", flags=DOWN)
    snap = put_ns(snap, replace(ns_of(snap, A), gone=True))
    found = pr.find_problems(snap)
    assert all(p.namespace_inode != A for p in found)


# ---------------------------------------------------------------- veth state


def test_a_veth_end_admin_down_is_reported_in_both_namespaces() -> None:
    snap = put_iface(healthy(), HOST, "vh1", flags=DOWN)
    snap = put_iface(snap, A, "eth0", flags=NO_CARRIER)
    found = pr.find_problems(snap)
    assert kinds(found) == [("veth-admin-down", HOST, "vh1"), ("veth-no-carrier", A, "eth0")]
    down, other = found
    assert down.severity == other.severity == "error"
    assert down.message == "admin down (port of bridge br0); its peer eth0 in a has no carrier"
    assert other.message == "no carrier: peer vh1 admin down in host"
    assert other.next == "ip -d link show dev vh1"  # look at the end that is down
    assert down.next == "ip -d link show dev vh1"


def test_a_bridge_port_without_carrier_says_so_before_its_peer() -> None:
    """QA: "no carrier: peer eth0 admin down in a (port of bridge br0)" read as if the
    peer were the bridge's port; the note belongs to this end, before the peer's words."""
    snap = put_iface(healthy(), A, "eth0", flags=DOWN)
    snap = put_iface(snap, HOST, "vh1", flags=NO_CARRIER)
    (port,) = [p for p in pr.find_problems(snap) if p.interface == "vh1"]
    assert port.message == "no carrier (port of bridge br0): peer eth0 admin down in a"


def test_both_ends_down_are_two_admin_downs() -> None:
    snap = put_iface(healthy(), A, "ab", flags=DOWN)
    snap = put_iface(snap, B, "ba", flags=DOWN)
    assert kinds(pr.find_problems(snap)) == [
        ("veth-admin-down", A, "ab"),
        ("veth-admin-down", B, "ba"),
    ]
    assert pr.find_problems(snap)[0].message == "admin down; its peer ba in b is admin down too"


def test_no_carrier_with_the_peer_unread_says_so() -> None:
    snap = put_iface(healthy(), A, "eth0", flags=NO_CARRIER)
    snap = put_ns(snap, replace(ns_of(snap, HOST), detailed=False))
    (p,) = pr.find_problems(snap)
    assert (p.kind, p.namespace_inode, p.message) == (
        "veth-no-carrier",
        A,
        "no carrier: peer's state unknown",
    )
    assert p.next == "ip -n a -d link show dev eth0"


# ---------------------------------------------------------------- peers


def test_an_unresolved_peer_is_a_warning_as_root_only() -> None:
    snap = add_iface(healthy(), HOST, veth(9, "vx", Peer(None, 7, None), "aa:00:00:00:00:09"))
    (p,) = pr.find_problems(snap)
    assert (p.kind, p.severity, p.namespace_inode, p.interface) == (
        "peer-unresolved",
        "warning",
        HOST,
        "vx",
    )
    assert "ifindex 7" in p.message
    for meta in ((("euid", "1000"),), ()):
        assert pr.find_problems(replace(snap, meta=meta)) == ()


def test_a_peer_into_a_namespace_nothing_holds_is_unreachable() -> None:
    snap = add_iface(healthy(), HOST, veth(9, "vx", Peer(999, 2, "eth0"), "aa:00:00:00:00:09"))
    (p,) = pr.find_problems(snap)
    assert (p.kind, p.namespace_inode, p.interface) == ("peer-unreachable", HOST, "vx")
    assert "inode 999" in p.message


def test_a_peer_in_a_known_but_unread_namespace_is_no_problem() -> None:
    snap = put_ns(healthy(), replace(ns_of(healthy(), A), detailed=False, interfaces=()))
    snap = put_iface(snap, HOST, "vh1", peer=Peer(A, 2, None))
    assert pr.find_problems(snap) == ()


# ---------------------------------------------------------------- leaked namespaces


def orphan(ino: int, **fields: object) -> NetNamespace:
    return replace(NetNamespace(NamespaceId(4, ino), label=f"orphan{ino}"), **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "holder",
    [
        {"bind_mounts": (BindMount("/run/docker/netns/0123456789ab", 5, False),)},
        {
            "bind_mounts": (BindMount("/run/netns/cni-1f2e3d4c-aaaa", 5, False),),
            "names": ("cni-1f2e3d4c-aaaa",),
        },
        {"bind_mounts": (BindMount("/run/x/ns", 9, True, via_pid=321),)},
        {"fd_holders": (FdHolder(321, 5),)},
    ],
)
def test_a_leftover_namespace_is_leaked(holder: dict[str, object]) -> None:
    snap = put_ns(healthy(), orphan(50, **holder))
    (p,) = pr.find_problems(snap)
    assert (p.kind, p.severity, p.namespace_inode, p.interface) == (
        "leaked-netns",
        "warning",
        50,
        None,
    )
    assert p.next.startswith("nsenter --net=/") or p.next.startswith("ip -n cni-")


@pytest.mark.parametrize(
    "fields",
    [
        {"bind_mounts": (BindMount("/run/netns/mine", 5, False),), "names": ("mine",)},
        {"bind_mounts": (BindMount("/srv/pinned/ns", 5, False),)},
        {
            "bind_mounts": (
                BindMount("/run/docker/netns/0123456789ab", 5, False),
                BindMount("/run/netns/named-by-hand", 5, False),
            ),
            "names": ("named-by-hand",),
        },
        {"bind_mounts": (BindMount("/run/docker/netns/0123456789ab", 5, False),), "pids": (7,)},
        {
            "fd_holders": (FdHolder(321, 5),),
            # (a pid no other namespace has: else the container "left its sandbox")
            "containers": (replace(web_container(name="x", sandbox_key=""), pid=9999),),
        },
        {},
    ],
)
def test_namespaces_someone_keeps_are_not_leaked(fields: dict[str, object]) -> None:
    assert pr.find_problems(put_ns(healthy(), orphan(50, **fields))) == ()


def test_a_container_whose_process_left_its_sandbox() -> None:
    """Its sandbox (where the engine's networking is) is then held only by Docker's
    mount, yet the container claims it: not leaked. The container is listed where its
    main process went; the engine's addresses are compared with the sandbox."""
    sandbox = replace(ns_of(healthy(), WEB), label=WEB_KEY, pids=(), containers=())
    went = NetNamespace(
        NamespaceId(4, 51),
        label="web",
        pids=(500,),
        containers=(web_container(),),
        detailed=True,
        interfaces=(lo(),),
    )
    snap = put_ns(put_ns(healthy(), sandbox), went)
    (p,) = pr.find_problems(snap)
    assert (p.kind, p.severity, p.namespace_inode, p.interface) == (
        "container-left-sandbox",
        "error",
        51,
        None,
    )
    assert p.message == (
        "container web: its main process (pid 500) left its sandbox: it is in this "
        f"namespace, while docker's networking is in {WEB_KEY} (inode {WEB})"
    )
    flushed = put_iface(snap, WEB, "eth0", addresses=())
    flushed = put_ns(flushed, replace(ns_of(flushed, WEB), routes=()))
    assert sorted(kinds(pr.find_problems(flushed))) == [
        ("container-address-mismatch", WEB, "eth0"),
        ("container-left-sandbox", 51, None),
        ("container-no-default-route", WEB, None),
    ]


def test_docker_paths_are_judged_only_in_a_reachable_engine_s_directory() -> None:
    leftover = orphan(50, bind_mounts=(BindMount("/run/tb/exec/netns/fedcba987654", 5, True),))
    snap = put_ns(healthy(), leftover)
    assert pr.find_problems(snap) == ()  # another daemon's directory: not ours to judge
    web = ns_of(snap, WEB)
    c = web_container(sandbox_key="/run/tb/exec/netns/cccccccccccc")
    snap = put_ns(snap, replace(web, containers=(c,)))
    assert kinds(pr.find_problems(snap)) == [("leaked-netns", 50, None)]  # the engine's own
    down = replace(snap.engines[0], reachable=False)
    assert pr.find_problems(replace(snap, engines=(down,))) == ()  # who claims it is unknown
    # The default socket's engine keeps them in /var/run/docker/netns, with or without
    # a running container.
    alone = put_ns(
        healthy(),
        orphan(51, bind_mounts=(BindMount("/var/run/docker/netns/0123456789ab", 5, False),)),
    )
    alone = put_ns(alone, replace(ns_of(alone, WEB), containers=(web_container(sandbox_key=""),)))
    assert pr.find_problems(alone) == ()
    default = replace(alone.engines[0], host="unix:///var/run/docker.sock")
    assert kinds(pr.find_problems(replace(alone, engines=(default,)))) == [
        ("leaked-netns", 51, None)
    ]


def test_leaks_are_not_judged_without_root() -> None:
    snap = put_ns(healthy(), orphan(50, fd_holders=(FdHolder(321, 5),)))
    assert pr.find_problems(replace(snap, meta=(("euid", "1000"),))) == ()


# ---------------------------------------------------------------- duplicates


def test_the_same_ip_on_one_bridge_is_an_error_in_both_namespaces() -> None:
    snap = put_iface(healthy(), B, "eth0", addresses=(v4("10.0.0.11"),))
    found = pr.find_problems(snap)
    assert kinds(found) == [("duplicate-ip", A, "eth0"), ("duplicate-ip", B, "eth0")]
    assert {p.severity for p in found} == {"error"}
    assert found[0].message == "10.0.0.11 is also on eth0 in b, on the same bridge br0"


def test_the_same_ip_in_isolated_namespaces_is_a_warning() -> None:
    snap = healthy()
    for ino in (60, 61):
        ns = orphan(
            ino,
            pids=(ino,),
            detailed=True,
            interfaces=(lo(), bridge(2, "br", "aa:bb:00:00:00:01", (v4("192.168.9.1"),))),
        )
        snap = put_ns(snap, ns)
    found = pr.find_problems(snap)
    assert kinds(found) == [("duplicate-ip", 60, "br"), ("duplicate-ip", 61, "br")]
    assert {p.severity for p in found} == {"warning"}


def test_global_ipv6_counts_and_loopback_link_local_do_not() -> None:
    ll = Address(6, "fe80::1", 64, "link")
    g6 = Address(6, "2001:db8::5", 64, "global")
    snap = put_iface(healthy(), A, "ab", addresses=(ll, g6, Address(4, "169.254.1.1", 16, "link")))
    assert pr.find_problems(snap) == ()
    snap = put_iface(snap, B, "ba", addresses=(ll, Address(6, "2001:DB8::5", 64, "global")))
    assert kinds(pr.find_problems(snap)) == [("duplicate-ip", A, "ab"), ("duplicate-ip", B, "ba")]
    (p, _) = pr.find_problems(snap)
    assert p.message == "2001:db8::5 is also on ba in b, on the same veth pair ab - ba"
    assert p.severity == "error"


def test_the_same_ip_twice_in_one_namespace_is_not_this_finding() -> None:
    snap = put_iface(healthy(), A, "ab", addresses=(v4("10.0.0.11"),))
    assert pr.find_problems(snap) == ()


def test_two_stations_with_one_mac_on_a_bridge() -> None:
    snap = put_iface(healthy(), B, "eth0", mac="02:00:00:00:00:0a")
    (p,) = pr.find_problems(snap)
    assert (p.kind, p.severity, p.namespace_inode, p.interface) == (
        "duplicate-mac",
        "error",
        HOST,
        "br0",
    )
    assert p.evidence == ("eth0 in a (behind port vh1)", "eth0 in b (behind port vh2)")
    assert p.next == "bridge fdb show br br0"


def test_a_station_with_a_port_mac_is_a_duplicate_and_the_bridge_taking_one_is_not() -> None:
    assert ns_of(healthy(), HOST).interfaces[1].mac == ns_of(healthy(), HOST).interfaces[2].mac
    snap = put_iface(healthy(), B, "eth0", mac="aa:00:00:00:00:03")  # vh3's own
    (p,) = pr.find_problems(snap)
    assert p.kind == "duplicate-mac" and "vh3 (this bridge's own)" in p.evidence


# ---------------------------------------------------------------- mtu, bridges


def test_mtu_mismatch_across_a_veth_pair_is_seen_from_both_ends() -> None:
    snap = put_iface(healthy(), A, "ab", mtu=1400)
    found = pr.find_problems(snap)
    assert kinds(found) == [("mtu-mismatch", A, "ab"), ("mtu-mismatch", B, "ba")]
    assert "peer ba in b has mtu 1500" in found[0].message


def test_mtu_mismatch_among_bridge_ports() -> None:
    snap = put_iface(healthy(), HOST, "vh2", mtu=9000)
    snap = put_iface(snap, B, "eth0", mtu=9000)
    (p,) = pr.find_problems(snap)
    assert (p.kind, p.namespace_inode, p.interface) == ("mtu-mismatch", HOST, "br0")
    assert "vh2: mtu 9000" in p.evidence
    # a fact of its own: found with the bridge's state unrecorded too
    (p,) = pr.find_problems(put_iface(snap, HOST, "br0", flags=()))
    assert (p.kind, p.interface) == ("mtu-mismatch", "br0")


def tap(name: str, flags: tuple[str, ...]) -> Interface:
    return Interface(
        9,
        name,
        "tap",
        "down",
        1500,
        "aa:00:00:00:00:99",
        master="br0",
        master_ifindex=2,
        flags=flags,
    )


@pytest.mark.parametrize(("flags", "why"), [(DOWN, "admin down"), (NO_CARRIER, "no carrier")])
def test_a_bridge_port_down(flags: tuple[str, ...], why: str) -> None:
    (p,) = pr.find_problems(add_iface(healthy(), HOST, tap("tap0", flags)))
    assert (p.kind, p.namespace_inode, p.interface) == ("bridge-port-down", HOST, "tap0")
    assert why in p.message


def test_a_veth_port_down_is_said_once() -> None:
    snap = put_iface(healthy(), HOST, "vh2", flags=DOWN)
    found = pr.find_problems(put_iface(snap, B, "eth0", flags=NO_CARRIER))
    # no bridge-port-down besides: the cause is said once, on each end
    assert kinds(found) == [("veth-admin-down", HOST, "vh2"), ("veth-no-carrier", B, "eth0")]


def test_a_bridge_down_with_ports() -> None:
    (p,) = pr.find_problems(put_iface(healthy(), HOST, "br0", flags=DOWN))
    assert (p.kind, p.severity, p.interface) == ("bridge-down", "error", "br0")


@pytest.mark.parametrize(
    ("iface", "found"),
    [
        (bridge(8, "brx", "aa:00:00:00:00:88"), True),
        (bridge(8, "brx", "aa:00:00:00:00:88", flags=DOWN), False),  # off: inert
        (bridge(8, "brx", "aa:00:00:00:00:88", (v4("10.9.0.1"),)), False),  # a gateway waiting
        (bridge(8, "docker0", "aa:00:00:00:00:88"), False),  # the engine's own
        (bridge(8, "brx", "aa:00:00:00:00:88", flags=()), False),  # state not recorded
    ],
)
def test_a_bridge_with_no_ports(iface: Interface, found: bool) -> None:
    got = pr.find_problems(add_iface(healthy(), HOST, iface))
    assert kinds(got) == ([("bridge-no-ports", HOST, iface.name)] if found else [])
    if found:
        assert got[0].severity == "info"


def test_dad_failed() -> None:
    addr = Address(6, "2001:db8::7", 64, "global", ("tentative", "dadfailed"))
    (p,) = pr.find_problems(put_iface(healthy(), A, "ab", addresses=(addr,)))
    assert (p.kind, p.severity, p.namespace_inode, p.interface) == ("dad-failed", "error", A, "ab")
    assert "2001:db8::7/64" in p.message
    assert p.next == "ip -n a addr show dev ab"


# ---------------------------------------------------------------- containers


@pytest.mark.parametrize(
    ("eth0", "why"),
    [
        (
            {"addresses": (v4("10.0.0.99"),)},
            "the kernel has no such address in this namespace (eth0 has its mac)",
        ),
        ({"addresses": (v4("10.0.0.30", 16),)}, "the kernel has it as 10.0.0.30/16 on eth0"),
        ({"mac": "02:42:0a:00:00:ff"}, "eth0 holds it with mac 02:42:0a:00:00:ff"),
    ],
)
def test_container_addresses_that_differ_from_the_engine(eth0: dict[str, object], why: str) -> None:
    snap = put_iface(healthy(), WEB, "eth0", **eth0)
    found = [p for p in pr.find_problems(snap) if p.kind == "container-address-mismatch"]
    (p,) = found
    assert (p.namespace_inode, p.interface) == (WEB, "eth0")
    assert p.message == f"container web: docker reports 10.0.0.30/24 on network bridge, but {why}"
    assert p.next == "nsenter --net=/proc/500/ns/net ip addr show"


def test_host_and_shared_mode_containers_are_not_compared() -> None:
    snap = healthy()
    web = ns_of(snap, WEB)
    sharer = web_container(name="side", network_mode="container:" + "c" * 64, shares_with="c" * 64)
    snap = put_ns(snap, replace(web, containers=(*web.containers, sharer)))
    assert pr.find_problems(snap) == ()
    host = ns_of(snap, HOST)
    hosted = web_container(name="h", network_mode="host", networks=(ContainerNetwork("host"),))
    assert pr.find_problems(put_ns(snap, replace(host, containers=(hosted,)))) == ()


@pytest.mark.parametrize(
    ("routes", "found"),
    [
        ((), True),
        ((Route(4, 254, "default", None, None, "global", "boot", type="blackhole"),), True),
        ((Route(6, 254, "default", "fe80::1", "eth0", "global", "ra"),), True),
        (
            (
                Route(
                    4,
                    254,
                    "default",
                    None,
                    None,
                    "global",
                    "static",
                    nexthops=(Nexthop("10.0.0.1", "eth0"),),
                ),
            ),
            False,
        ),
        ((Route(4, 100, "default", "10.0.0.1", "eth0", "global", "static"),), False),
    ],
)
def test_container_without_a_default_route(routes: tuple[Route, ...], found: bool) -> None:
    snap = put_ns(healthy(), replace(ns_of(healthy(), WEB), routes=routes))
    got = pr.find_problems(snap)
    assert kinds(got) == ([("container-no-default-route", WEB, None)] if found else [])
    if found:
        assert "gateway (10.0.0.1)" in got[0].message


def test_no_gateway_no_default_route_expected() -> None:
    web = ns_of(healthy(), WEB)
    c = web_container(
        networks=(ContainerNetwork("internal", "10.0.0.30", 24, "", "02:42:0a:00:00:1e"),)
    )
    assert pr.find_problems(put_ns(healthy(), replace(web, routes=(), containers=(c,)))) == ()


# ---------------------------------------------------------------- counters (TUI)


def with_counters(snap: Snapshot, **counts: int) -> Snapshot:
    return put_iface(
        snap, A, "eth0", counters=Counters(rx_packets=counts.pop("rx_packets", 10), **counts)
    )


def test_counters_growing() -> None:
    before = with_counters(healthy(), rx_dropped=3)
    assert pr.counters_growing(before, before) == ()
    assert pr.counters_growing(before, with_counters(healthy(), rx_dropped=3, rx_packets=99)) == ()
    (p,) = pr.counters_growing(before, with_counters(healthy(), rx_dropped=5))
    assert (p.kind, p.severity, p.namespace_inode, p.interface) == (
        "counters-growing",
        "info",
        A,
        "eth0",
    )
    assert p.message == "rx_dropped +2 between 2026-12-01T00:00:00Z and 2026-12-01T00:00:00Z"
    assert p.evidence == ("eth0: rx_dropped 3 -> 5",)
    (p,) = pr.counters_growing(before, with_counters(healthy(), rx_dropped=3, tx_errors=1))
    assert p.severity == "warning"


def test_counters_reset_or_reused_ifindex_are_not_growth() -> None:
    before = with_counters(healthy(), rx_dropped=3, rx_packets=50)
    after = with_counters(healthy(), rx_dropped=4, rx_packets=1)  # counters restarted
    assert pr.counters_growing(before, after) == ()
    renamed = put_iface(with_counters(healthy(), rx_dropped=9), A, "eth0", name="eth1")
    assert pr.counters_growing(before, renamed) == ()


# ---------------------------------------------------------------- shape, order, commands


def test_sorted_by_severity_then_namespace_order() -> None:
    snap = add_iface(healthy(), HOST, bridge(8, "brx", "aa:00:00:00:00:88"))  # info, host
    snap = put_iface(snap, A, "ab", mtu=1400)  # warnings in a and b
    snap = put_iface(snap, B, "eth0", flags=DOWN)  # error in b, and no carrier in host
    snap = put_iface(snap, HOST, "vh2", flags=NO_CARRIER)
    got = [(p.severity, p.namespace_inode, p.kind) for p in pr.find_problems(snap)]
    assert got == [
        ("error", HOST, "veth-no-carrier"),
        ("error", B, "veth-admin-down"),
        ("warning", A, "mtu-mismatch"),
        ("warning", B, "mtu-mismatch"),
        ("info", HOST, "bridge-no-ports"),
    ]
    assert pr.worst(pr.find_problems(snap)) == "error"
    assert pr.worst(()) is None
    assert list(pr.by_namespace(pr.find_problems(snap))) == [HOST, B, A]


def test_json_shape_is_exactly_the_contract() -> None:
    snap = put_iface(healthy(), HOST, "vh1", flags=DOWN)
    (p, _) = pr.find_problems(put_iface(snap, A, "eth0", flags=NO_CARRIER))
    d = pr.to_dict(p)
    assert list(d) == [
        "kind",
        "severity",
        "namespace_inode",
        "interface",
        "message",
        "evidence",
        "next",
    ]
    assert json.loads(json.dumps(d))["evidence"] == list(p.evidence)


def test_next_commands_quote_hostile_names_and_reach_every_namespace() -> None:
    hostile = "x[@a=1];$(reboot)"
    ns = NetNamespace(
        NamespaceId(4, 70), names=("n s",), bind_mounts=(BindMount("/run/netns/n s", 1, False),)
    )
    cmd = pr.command_in(ns, ["ip", "link", "show", "dev", hostile])
    assert shlex.split(cmd) == ["ip", "-n", "n s", "link", "show", "dev", hostile]
    assert shlex.split(pr.command_in(ns, ["bridge", "fdb"])) == [
        "ip",
        "netns",
        "exec",
        "n s",
        "bridge",
        "fdb",
    ]
    hidden = NetNamespace(
        NamespaceId(4, 71), bind_mounts=(BindMount("/run/d/netns/abc", 1, True, via_pid=77),)
    )
    assert (
        pr.command_in(hidden, ["ip", "link"])
        == "nsenter --net=/proc/77/root/run/d/netns/abc ip link"
    )
    fd_only = NetNamespace(NamespaceId(4, 72), fd_holders=(FdHolder(5, 9),))
    assert pr.command_in(fd_only, ["ip", "link"]) == "nsenter --net=/proc/5/fd/9 ip link"
    assert pr.command_in(NetNamespace(NamespaceId(4, 73)), ["ip", "link"]) == ""


def test_a_hostile_interface_name_stays_exact_in_the_finding() -> None:
    name = "nsx[@x=1]\x1b]2;t\x07"
    snap = add_iface(healthy(), HOST, bridge(8, name, "aa:00:00:00:00:88"))
    (p,) = pr.find_problems(snap)
    assert p.interface == name
    # exact when pasted into bash ($'...' for the control characters)
    words = subprocess.run(
        ["bash", "-c", "printf '%s\\0' " + p.next], capture_output=True, check=True
    ).stdout.split(b"\0")[:-1]
    assert [w.decode() for w in words] == ["ip", "link", "show", "master", name]
    assert "\x1b" not in p.next  # and safe to print
    text = format_problems((p,), snap)
    assert "\x1b" not in text and "\x07" not in text and "\\x1b]2;t\\x07" in text


# ---------------------------------------------------------------- the CLI


def test_cli_exit_status_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean = tmp_path / "clean.json"
    clean.write_text(snapshot_json.dumps(healthy()))
    assert main(["--from", str(clean), "problems"]) == 0
    assert capsys.readouterr().out == "no problems found (4 namespaces checked)\n"
    alone = replace(healthy(), namespaces=healthy().namespaces[:1])
    assert format_problems((), alone) == "no problems found (1 namespace checked)\n"
    assert main(["--from", str(clean), "problems", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"problems": []}

    dup = tmp_path / "dup.json"
    dup.write_text(
        snapshot_json.dumps(put_iface(healthy(), B, "eth0", addresses=(v4("10.0.0.11"),)))
    )
    assert main(["--from", str(dup), "problems", "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert [(p["kind"], p["namespace_inode"], p["interface"]) for p in doc["problems"]] == [
        ("duplicate-ip", A, "eth0"),
        ("duplicate-ip", B, "eth0"),
    ]
    assert main(["--from", str(dup), "problems"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("error   duplicate-ip  eth0 in a (inode 10)\n")
    assert out.endswith("2 problems: 2 errors\n")


def test_a_container_mapped_by_its_sandbox_whose_process_is_elsewhere_left_it() -> None:
    """Discovery maps a container whose main process left by its SandboxKey; the process
    then shows in another namespace's pids: that is where the finding belongs."""
    snap = healthy()
    web = ns_of(snap, WEB)
    moved_to = NetNamespace(NamespaceId(4, 77), label="pid 500 (sleep)", pids=(500,))
    snap = put_ns(replace(snap, namespaces=tuple(
        replace(ns, pids=tuple(p for p in ns.pids if p != 500)) for ns in snap.namespaces
    )), moved_to)  # fmt: skip
    found = [p for p in pr.find_problems(snap) if p.kind == "container-left-sandbox"]
    assert [(p.namespace_inode, p.interface) for p in found] == [(77, None)]
    assert f"inode {web.inode}" in found[0].message


@pytest.mark.parametrize(("state", "severity"), [("disabled", "warning"), ("learning", "info")])
def test_a_bridge_port_up_that_does_not_forward(state: str, severity: str) -> None:
    """QA: a port up with carrier but disabled (or learning, under STP) drops every
    frame while every other fact about it says "up"."""
    (p,) = pr.find_problems(put_iface(healthy(), HOST, "vh2", port_state=state))
    assert (p.kind, p.severity, p.namespace_inode, p.interface) == (
        "bridge-port-not-forwarding", severity, HOST, "vh2",
    )  # fmt: skip
    assert f"up with carrier but {state}" in p.message and "bridge link show dev vh2" in p.next
    assert pr.find_problems(put_iface(healthy(), HOST, "vh2", port_state="forwarding")) == ()


def test_a_tap_set_up_that_no_process_holds_is_a_warning() -> None:
    """QA: a dead VM or VPN leaves its tap up without carrier, and nothing said so."""
    from nsexplorer.model_net import Tun

    lone = dict(kind="tap", peer=None, master=None, flags=NO_CARRIER, tun=Tun("tap", persist=True))
    snap = put_iface(healthy(), A, "ab", **lone)
    (found,) = [p for p in pr.find_problems(snap) if p.kind == pr.TUN_NOT_HELD]
    assert (found.severity, found.namespace_inode, found.interface) == ("warning", A, "ab")
    assert found.message.startswith("tap is up but no process has it open")
    assert found.next == "ip -n a -d link show dev ab"  # in its namespace
    held = put_iface(healthy(), A, "ab", **{**lone, "flags": UP})
    assert not [p for p in pr.find_problems(held) if p.kind == pr.TUN_NOT_HELD]
    down = put_iface(healthy(), A, "ab", **{**lone, "flags": DOWN})
    assert not [p for p in pr.find_problems(down) if p.kind == pr.TUN_NOT_HELD]
    switched = {**lone, "tun": Tun("tap", multi_queue=True, queues=1)}  # held, carrier off
    assert not [
        p
        for p in pr.find_problems(put_iface(healthy(), A, "ab", **switched))
        if p.kind == pr.TUN_NOT_HELD
    ]
