#!/usr/bin/env python3
"""In-process selection latency: from a `j` key in the sidebar to the main pane showing
the next namespace, measured inside the app (no tmux round trips), on a synthetic
snapshot of N named namespaces, each with an eth0 veth whose peer sits on a host bridge.

    /work/venv/bin/python bench/bench_tui_select.py [--sizes 200,1000] [--moves 40]

Needs neither root nor Docker: the data is built in memory with the real model and the
real NsxApp renders it headless at 80x24 (Textual's Pilot).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from textual.widgets import Tree

from nsexplorer.collect.recorded import SnapshotReplay
from nsexplorer.model import (
    Address,
    Interface,
    NamespaceId,
    NetNamespace,
    Peer,
    Route,
    Snapshot,
    Source,
)
from nsexplorer.ui.app import NsxApp

DEV = 4
HOST_INO = 4026531833


def synthetic(n: int) -> Snapshot:
    host_ifaces = [
        Interface(1, "lo", "loopback", "unknown", 65536, "00:00:00:00:00:00"),
        Interface(
            2,
            "br0",
            "bridge",
            "up",
            1500,
            "02:00:00:00:00:01",
            addresses=(Address(4, "10.0.0.1", 16, "global"),),
        ),
    ]
    spaces = []
    for i in range(n):
        ino = HOST_INO + 1000 + i
        host_if = 100 + i
        host_ifaces.append(
            Interface(
                host_if,
                f"veth{i:05d}",
                "veth",
                "up",
                1500,
                f"02:00:00:01:{i // 256:02x}:{i % 256:02x}",
                master="br0",
                master_ifindex=2,
                peer=Peer(ino, 2, "eth0"),
            )
        )
        spaces.append(
            NetNamespace(
                id=NamespaceId(DEV, ino),
                label=f"nsxb-n{i:05d}",
                sources=(Source.BIND_MOUNT,),
                names=(f"nsxb-n{i:05d}",),
                access_path=f"/run/netns/nsxb-n{i:05d}",
                detailed=True,
                interfaces=(
                    Interface(1, "lo", "loopback", "unknown", 65536, "00:00:00:00:00:00"),
                    Interface(
                        2,
                        "eth0",
                        "veth",
                        "up",
                        1500,
                        f"02:00:00:02:{i // 256:02x}:{i % 256:02x}",
                        addresses=(Address(4, f"10.0.{i // 250}.{i % 250 + 2}", 16, "global"),),
                        peer=Peer(HOST_INO, host_if, f"veth{i:05d}"),
                    ),
                ),
                routes=(Route(4, 254, "10.0.0.0/16", None, "eth0", "link", "kernel"),),
            )
        )
    host = NetNamespace(
        id=NamespaceId(DEV, HOST_INO),
        is_host=True,
        label="host",
        sources=(Source.HOST,),
        pids=(1,),
        access_path="/proc/1/ns/net",
        detailed=True,
        interfaces=tuple(host_ifaces),
    )
    return Snapshot(
        hostname="bench", collected_at="2026-01-01T00:00:00Z", namespaces=(host, *spaces)
    )


async def measure(n: int, moves: int) -> list[float]:
    app = NsxApp(SnapshotReplay(synthetic(n), live=True))
    times: list[float] = []
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(200):  # until the full read is in
            await app.workers.wait_for_complete()
            await pilot.pause(0.02)
            if getattr(app, "settled", True):
                break
        title = app.query_one("#title")
        tree = app.query_one(Tree)
        tree.focus()
        await pilot.press("j", "j")  # off the host row, onto the named namespaces
        await pilot.pause()
        for _ in range(moves):
            before = str(title.render())
            start = time.perf_counter()
            # The key's action, called as the key binding would, without Pilot.press:
            # that one also waits for the scroll animation to finish, which is not what
            # a person waits for.
            tree.action_cursor_down()
            while str(title.render()) == before:
                await asyncio.sleep(0.0005)
            drawn: asyncio.Future[float] = asyncio.get_running_loop().create_future()
            app.call_after_refresh(lambda f=drawn: f.set_result(time.perf_counter()))
            times.append(await drawn - start)  # until the screen refresh that shows it
            await pilot.pause()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="200,1000")
    parser.add_argument("--moves", type=int, default=40)
    args = parser.parse_args()
    print("| N | selection -> details shown, in-process (median / p95 / max) |")
    print("|---|---|")
    for n in (int(x) for x in args.sizes.split(",")):
        t = sorted(asyncio.run(measure(n, args.moves)))
        p95 = t[max(0, int(len(t) * 0.95) - 1)]
        print(
            f"| {n} | {statistics.median(t) * 1000:.1f} ms / {p95 * 1000:.1f} ms / "
            f"{t[-1] * 1000:.1f} ms |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
