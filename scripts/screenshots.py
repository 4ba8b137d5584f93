#!/usr/bin/env python3
"""Regenerate screenshots/*.svg from the lab topology (never hand-made).

    nsexplorer lab up                   # as root, with the Docker testbed running
    python scripts/screenshots.py       # collect live, save the JSON, render the SVGs

or, from a snapshot saved earlier: ``python scripts/screenshots.py --from FILE``.
Each view is the real app, rendered headless at a fixed size with app.save_screenshot().
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from nsexplorer import snapshot_json
from nsexplorer.collect.recorded import SnapshotReplay
from nsexplorer.model import NamespaceId, NetNamespace, Snapshot
from nsexplorer.ports import CommandRunner, WatchCoverage
from nsexplorer.ui.app import NsxApp

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "screenshots"


class QuietHost:
    """The watcher of a live session on a host where nothing changes: it follows every
    namespace it is given and never reports a change (the pictures show the live UI, so
    the status line reads as it does there: "N namespaces · live")."""

    def __init__(self) -> None:
        self._on_coverage: Callable[[WatchCoverage], None] | None = None

    def start(
        self,
        on_change: Callable[[str], None],
        on_coverage: Callable[[WatchCoverage], None] | None = None,
        on_subscribed: Callable[[tuple[NamespaceId, ...]], None] | None = None,
    ) -> None:
        self._on_coverage = on_coverage

    def watch_all(self, namespaces: Mapping[NamespaceId, Sequence[str]]) -> None:
        if self._on_coverage is not None:
            self._on_coverage(WatchCoverage(watched=len(namespaces)))

    def watch_namespace(self, ns: NamespaceId | None) -> None:
        pass

    def watch_host(self, ns: NamespaceId, path: str) -> None:
        pass

    def stop(self) -> None:
        pass


def pick(snapshot: Snapshot, test: Callable[[NetNamespace], bool]) -> int | None:
    for ns in snapshot.namespaces:
        if test(ns):
            return ns.inode
    return None


def has_container(name: str) -> Callable[[NetNamespace], bool]:
    return lambda ns: any(c.name == name for c in ns.containers) and not ns.is_host


def has_name(name: str) -> Callable[[NetNamespace], bool]:
    return lambda ns: name in ns.names


def hidden(ns: NetNamespace) -> bool:
    return not ns.containers and any(m.hidden for m in ns.bind_mounts)


async def shoot(
    snapshot: Snapshot,
    name: str,
    size: tuple[int, int],
    *,
    goto: int | None = None,
    keys: tuple[str, ...] = (),
    runner: CommandRunner | None = None,
) -> Path:
    app = NsxApp(SnapshotReplay(snapshot, live=True), runner=runner, watcher=QuietHost())
    async with app.run_test(size=size) as pilot:
        for _ in range(200):
            await app.workers.wait_for_complete()
            await pilot.pause()
            if app.settled:
                break
        if goto is not None:
            app.goto(goto)
        await pilot.press(*keys)
        for _ in range(200):
            await app.workers.wait_for_complete()
            await pilot.pause(0.05)
            if not getattr(app, "command_running", False):
                break
        await pilot.pause(0.2)
        path = OUT / f"{name}.svg"
        app.save_screenshot(filename=path.name, path=str(OUT))
    return path


def collect_live() -> Snapshot:
    from nsexplorer.collect.source import LiveSource

    return LiveSource(docker_timeout=3.0).collect()


def tidy(snapshot: Snapshot) -> Snapshot:
    """Only the lab (and the host and the testbed's containers): other namespaces on the
    machine that made the screenshots are not part of the picture."""

    def keep(ns: NetNamespace) -> bool:
        if ns.is_host or ns.containers:
            return True
        labels = [ns.label, *ns.names, *(m.path for m in ns.bind_mounts)]
        return any("nsxlab" in s for s in labels) or any(
            i.peer is not None and (i.peer.name or "").startswith("nsxlab") for i in ns.interfaces
        )

    kept = {ns.inode for ns in snapshot.namespaces if keep(ns)}
    spaces = [
        _tidy_host(ns, kept) if ns.is_host else ns for ns in snapshot.namespaces if ns.inode in kept
    ]
    return replace(snapshot, namespaces=tuple(spaces))


def _tidy_host(host: NetNamespace, kept: set[int]) -> NetNamespace:
    """The host without the veths whose other end is in a namespace left out (another
    session's hundreds), the bridges only those were on, and their routes."""
    gone = {
        i.ifindex
        for i in host.interfaces
        if i.kind == "veth" and i.peer is not None and i.peer.netns_inode not in (None, *kept)
    }
    masters = {i.master for i in host.interfaces if i.master and i.ifindex in gone}
    still = {i.master for i in host.interfaces if i.master and i.ifindex not in gone}
    gone |= {i.ifindex for i in host.interfaces if i.kind == "bridge" and i.name in masters - still}
    names = {i.name for i in host.interfaces if i.ifindex in gone}
    return replace(
        host,
        interfaces=tuple(i for i in host.interfaces if i.ifindex not in gone),
        routes=tuple(r for r in host.routes if r.dev not in names),
    )


async def main_async(args: argparse.Namespace) -> list[Path]:
    if args.from_file:
        snapshot = snapshot_json.loads(Path(args.from_file).read_bytes())
    else:
        snapshot = tidy(collect_live())
        OUT.mkdir(exist_ok=True)
        (OUT / "lab-snapshot.json").write_text(snapshot_json.dumps(snapshot, indent=1))
    OUT.mkdir(exist_ok=True)
    runner: CommandRunner | None = None
    if not args.no_run:
        from nsexplorer.actions.runner import NamespaceRunner

        runner = NamespaceRunner(audit_log="/tmp/nsx-screenshots-audit.log")
    web = pick(snapshot, has_container("nsxlab-web"))
    app = pick(snapshot, has_container("nsxlab-app"))
    lab_a = pick(snapshot, has_name("nsxlab-a"))
    secret = pick(snapshot, hidden)
    shots = [
        await shoot(snapshot, "tui-80x24", (80, 24), goto=web),
        await shoot(snapshot, "tui-interfaces", (110, 30), goto=app or web),
        await shoot(snapshot, "tui-wiring", (110, 30), goto=lab_a, keys=("3",)),
        await shoot(snapshot, "tui-details-hidden", (110, 30), goto=secret, keys=("5",)),
        await shoot(snapshot, "tui-filter", (110, 30), keys=("slash", *"10.216")),
        await shoot(snapshot, "tui-help", (110, 34), keys=("question_mark",)),
    ]
    if runner is not None and lab_a is not None:
        shots.append(
            await shoot(
                snapshot,
                "tui-run",
                (110, 30),
                goto=lab_a,
                keys=("x", *"ip -br addr", "enter"),
                runner=runner,
            )
        )
    return shots


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="from_file", help="render this snapshot JSON instead")
    parser.add_argument("--no-run", action="store_true", help="skip the view that runs a command")
    args = parser.parse_args()
    for path in asyncio.run(main_async(args)):
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
