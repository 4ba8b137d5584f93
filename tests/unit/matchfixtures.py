"""A small detailed snapshot for the matcher and TARGET tests (no kernel, no root).

host: eth0 10.0.2.15/24, docker0 172.17.0.1/16, veth1234 (peer: web's eth0),
vethab (peer: blue's eth0). web: a container (engine: 172.17.0.2/16, 02:42:ac:11:00:02).
blue and 'web ' (a netns name with a trailing space) both hold 10.0.0.5/24. ns2 and
ns10 for the natural order. A netns named "3000", which is also blue's inode.
"""

from __future__ import annotations

from dataclasses import replace

from nsexplorer.model import (
    Address,
    Container,
    ContainerNetwork,
    EngineInfo,
    Interface,
    NamespaceId,
    NetNamespace,
    Peer,
    Snapshot,
)

HOST, WEB, BLUE, WEB_SPACE = 1000, 2000, 3000, 4000
NS2, NS10, SLEEP, DIGITS = 5000, 6000, 7000, 8000
WEB_ID = "5e0a1b2c3d4e" + "f" * 52
WEB_MAC = "02:42:ac:11:00:02"


def nsid(ino: int) -> NamespaceId:
    return NamespaceId(4, ino)


def lo() -> Interface:
    return Interface(1, "lo", "loopback", "unknown", 65536, "00:00:00:00:00:00",
                     addresses=(Address(4, "127.0.0.1", 8, "host"),))  # fmt: skip


def iface(
    ifindex: int, name: str, mac: str, *addrs: Address, peer: Peer | None = None
) -> Interface:
    return Interface(ifindex, name, "veth" if peer else "device", "up", 1500, mac,
                     addresses=addrs, peer=peer)  # fmt: skip


def a4(addr: str, plen: int) -> Address:
    return Address(4, addr, plen, "global")


def named(ino: int, name: str, *ifaces: Interface) -> NetNamespace:
    return NetNamespace(nsid(ino), label=name, names=(name,), access_path=f"/run/netns/{name}",
                        detailed=True, interfaces=(lo(), *ifaces))  # fmt: skip


def snapshot() -> Snapshot:
    host = NetNamespace(
        nsid(HOST),
        is_host=True,
        label="host",
        pids=(1, 2),
        detailed=True,
        interfaces=(
            lo(),
            iface(2, "eth0", "52:54:00:12:34:56", a4("10.0.2.15", 24)),
            Interface(
                3,
                "docker0",
                "bridge",
                "up",
                1500,
                "02:42:fa:6f:13:18",
                addresses=(a4("172.17.0.1", 16),),
            ),
            iface(7, "veth1234", "f2:4e:50:a5:fb:b8", peer=Peer(WEB, 6, "eth0")),
            iface(8, "vethab", "f2:4e:50:a5:fb:b9", peer=Peer(BLUE, 2, "eth0")),
        ),
    )
    net = ContainerNetwork("bridge", "172.17.0.2", 16, "172.17.0.1", WEB_MAC)
    web = NetNamespace(
        nsid(WEB),
        label="web",
        pids=(500,),
        containers=(Container("docker", WEB_ID, "web", "img", "default", 500, networks=(net,)),),
        access_path="/proc/500/ns/net",
        detailed=True,
        interfaces=(
            lo(),
            iface(6, "eth0", WEB_MAC, a4("172.17.0.2", 16), peer=Peer(HOST, 7, "veth1234")),
        ),
    )
    blue = named(
        BLUE,
        "blue",
        iface(
            2,
            "eth0",
            "ae:00:00:00:0b:02",
            a4("10.0.0.5", 24),
            Address(6, "fe80::1", 64, "link"),
            peer=Peer(HOST, 8, "vethab"),
        ),
    )
    web_space = named(WEB_SPACE, "web ", iface(2, "eth0", "ae:00:00:00:0c:02", a4("10.0.0.5", 24)))
    sleeper = NetNamespace(nsid(SLEEP), label="pid 900 (sleep)", pids=(900,), detailed=True,
                           access_path="/proc/900/ns/net", interfaces=(lo(),))  # fmt: skip
    return Snapshot(
        hostname="h",
        collected_at="t",
        namespaces=(
            host,
            web,
            blue,
            web_space,
            named(NS10, "ns10"),
            named(NS2, "ns2"),
            sleeper,
            named(DIGITS, str(BLUE)),
        ),
        engines=(EngineInfo("docker", reachable=True, host="unix:///x"),),
    )


def cheap(snap: Snapshot) -> Snapshot:
    """The same namespaces as the cheap pass sees them: no interfaces read yet."""
    return replace(
        snap,
        namespaces=tuple(replace(ns, detailed=False, interfaces=()) for ns in snap.namespaces),
    )


def without(snap: Snapshot, *inodes: int) -> Snapshot:
    return replace(snap, namespaces=tuple(n for n in snap.namespaces if n.inode not in inodes))
