#!/usr/bin/env python3
"""Problems over a snapshot of N namespaces (target: N=1000 within 50 ms), and the TUI's
counters comparison of two such snapshots.

    .venv/bin/python bench/bench_problems.py [--sizes 200,1000,3000] [--repeat 21] [--live]

The snapshot is synthetic but shaped like a busy Docker host: N namespaces, half of them
containers (engine address, MAC, gateway, default route), half named; each has lo and an
eth0 veth whose peer is a port of one of two host bridges; every interface has flags,
IPv4 and IPv6 link-local addresses and counters. A few faults are planted so the finding
paths run too. ``--live`` also times the snapshot this machine gives (needs root to
read every namespace). Needs neither root nor Docker otherwise.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import replace

from common import machine

from nsexplorer.model import (
    Address,
    BindMount,
    Container,
    ContainerNetwork,
    Counters,
    DockerNetwork,
    EngineInfo,
    Interface,
    NamespaceId,
    NetNamespace,
    Peer,
    Route,
    Snapshot,
)
from nsexplorer.problems import counters_growing, find_problems

DEV = 4
HOST = 4026531833
UP = ("BROADCAST", "MULTICAST", "UP", "LOWER_UP")
LO_FLAGS = ("LOOPBACK", "UP", "LOWER_UP")


def _mac(prefix: int, i: int) -> str:
    return f"{prefix:02x}:42:0a:{(i >> 16) & 255:02x}:{(i >> 8) & 255:02x}:{i & 255:02x}"


def _lo() -> Interface:
    addrs = (Address(4, "127.0.0.1", 8, "host"), Address(6, "::1", 128, "host"))
    return Interface(
        1, "lo", "loopback", "unknown", 65536, "00:00:00:00:00:00", addresses=addrs, flags=LO_FLAGS
    )


def synthetic(n: int, drops: int = 0) -> Snapshot:
    bridges = [
        Interface(
            2,
            "docker0",
            "bridge",
            "up",
            1500,
            _mac(0xAA, 0),
            addresses=(Address(4, "10.0.0.1", 16, "global"),),
            flags=UP,
        ),
        Interface(
            3,
            "br-lab",
            "bridge",
            "up",
            1500,
            _mac(0xAA, 1),
            addresses=(Address(4, "10.1.0.1", 16, "global"),),
            flags=UP,
        ),
    ]
    host_ifaces = [_lo(), *bridges]
    namespaces: list[NetNamespace] = []
    for i in range(n):
        ino = HOST + 1000 + i
        host_idx = 100 + i
        br = bridges[i % 2]
        ip = f"10.{i % 2}.{(i + 2) // 256}.{(i + 2) % 256}"
        mac = _mac(0x02, i + 2)
        counters = Counters(rx_packets=1000 + i, rx_dropped=drops if i % 50 == 0 else 0)
        host_ifaces.append(
            Interface(
                host_idx,
                f"veth{i:07x}",
                "veth",
                "up",
                1500,
                _mac(0xEE, i),
                master=br.name,
                master_ifindex=br.ifindex,
                peer=Peer(ino, 2, "eth0"),
                flags=UP,
                counters=Counters(),
            )
        )
        addrs = (Address(4, ip, 16, "global"), Address(6, f"fe80::{i + 2:x}", 64, "link"))
        eth0 = Interface(
            2,
            "eth0",
            "veth",
            "up",
            1500,
            mac,
            addresses=addrs,
            peer=Peer(HOST, host_idx, f"veth{i:07x}"),
            flags=UP,
            counters=counters,
        )
        base = NetNamespace(NamespaceId(DEV, ino), detailed=True, interfaces=(_lo(), eth0))
        if i % 2 == 0:
            net = ContainerNetwork("bridge", ip, 16, "10.0.0.1", mac)
            key = f"/run/docker/netns/{i:012x}"
            c = Container(
                "docker",
                f"{i:064x}",
                f"c{i}",
                "img",
                "default",
                10000 + i,
                sandbox_key=key,
                networks=(net,),
            )
            ns = replace(
                base,
                label=c.name,
                pids=(10000 + i,),
                containers=(c,),
                bind_mounts=(BindMount(key, 99, True, via_pid=77),),
                routes=(Route(4, 254, "default", "10.0.0.1", "eth0", "global", "boot"),),
            )
        else:
            name = f"lab-{i:04d}"
            ns = replace(
                base,
                label=name,
                names=(name,),
                bind_mounts=(BindMount(f"/run/netns/{name}", 1, False),),
            )
        namespaces.append(ns)
    # Planted faults: a duplicate address, an MTU mismatch, a leftover netns.
    namespaces[1] = replace(
        namespaces[1],
        interfaces=(
            _lo(),
            replace(
                namespaces[1].interfaces[1],
                addresses=namespaces[3].interfaces[1].addresses,
                mtu=1400,
            ),
        ),
    )
    namespaces.append(
        NetNamespace(
            NamespaceId(DEV, HOST + 999),
            label="leftover",
            bind_mounts=(BindMount("/run/docker/netns/0000deadbeef", 99, True, via_pid=77),),
        )
    )
    host = NetNamespace(
        NamespaceId(DEV, HOST),
        is_host=True,
        label="host",
        pids=(1,),
        detailed=True,
        interfaces=tuple(host_ifaces),
    )
    engine = EngineInfo(
        reachable=True, networks=(DockerNetwork("x", "bridge", "bridge", "docker0"),)
    )
    return Snapshot("bench", "t0", (host, *namespaces), engines=(engine,), meta=(("euid", "0"),))


def _median_ms(fn: Callable[[], object], repeat: int) -> tuple[float, float, float]:
    """Median wall ms, max wall ms, median CPU ms (CPU time: steadier on a busy host)."""
    wall, cpu = [], []
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(wall), max(wall), statistics.median(cpu)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="200,1000,3000")
    ap.add_argument("--repeat", type=int, default=21)
    ap.add_argument("--live", action="store_true", help="also time this machine's snapshot")
    args = ap.parse_args()
    print(machine())
    print()
    print(
        "| N namespaces | interfaces | findings | find_problems median (max), CPU "
        "| counters_growing median (max), CPU |"
    )
    print("|---|---|---|---|---|")
    for n in (int(x) for x in args.sizes.split(",")):
        before, after = synthetic(n), synthetic(n, drops=5)
        ifaces = sum(len(ns.interfaces) for ns in after.namespaces)
        found = find_problems(after)
        fp = _median_ms(lambda s=after: find_problems(s), args.repeat)
        cg = _median_ms(lambda b=before, a=after: counters_growing(b, a), args.repeat)
        grew = len(counters_growing(before, after))
        print(
            f"| {n} | {ifaces} | {len(found)} (+{grew} counters) "
            f"| {fp[0]:.1f} ms ({fp[1]:.1f}), {fp[2]:.1f} ms "
            f"| {cg[0]:.1f} ms ({cg[1]:.1f}), {cg[2]:.1f} ms |"
        )
    if args.live:
        from nsexplorer.collect.source import LiveSource

        snap = LiveSource(docker_timeout=3.0).collect()
        ifaces = sum(len(ns.interfaces) for ns in snap.namespaces)
        fp = _median_ms(lambda: find_problems(snap), args.repeat)
        print(
            f"| live: {len(snap.namespaces)} | {ifaces} | {len(find_problems(snap))} "
            f"| {fp[0]:.1f} ms ({fp[1]:.1f}), {fp[2]:.1f} ms | - |"
        )


if __name__ == "__main__":
    main()
