"""CLI handler: `nsexplorer lab up|down|status [--no-docker] [--size N]`.

`--read-only` (before or after `lab`) refuses `up` and `down` before anything is looked
at or changed; `status` only reads and stays allowed.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING

from nsexplorer.errors import ReadOnlyRefused
from nsexplorer.textsafe import visible

if TYPE_CHECKING:
    from nsexplorer.lab import LabState


def run(args: argparse.Namespace) -> int:
    from nsexplorer import lab

    action: str = args.action
    if action in ("up", "down") and getattr(args, "read_only", False):
        what = "build" if action == "up" else "remove"
        raise ReadOnlyRefused(
            f"read-only mode: refusing to {what} the lab (`lab {action}`); nothing was "
            "run or changed (start without --read-only to act)"
        )
    if action == "up":
        if args.size < 0:
            print("nsexplorer: lab: --size must be 0 or more", file=sys.stderr)
            return 2
        started = time.monotonic()
        built = lab.up(docker=not args.no_docker, size=args.size)
        _print_state(built)
        skipped = lab.docker_skipped_reason(not args.no_docker)
        if skipped:
            print(f"docker part: skipped ({skipped})")
        print(f"lab up in {time.monotonic() - started:.1f}s; remove with `nsexplorer lab down`")
        return 0
    if action == "down":
        report = lab.down()
        print(f"lab down: removed {len(report.removed)} object(s)")
        for problem in report.problems:
            print(f"  problem: {visible(problem)}", file=sys.stderr)
        return 1 if report.problems else 0
    state = lab.status()
    if state is None:
        print("lab: not up")
        return 3
    _print_state(state)
    return 0 if state.complete else 1


def _print_state(state: LabState) -> None:
    from nsexplorer.lab import firewall
    from nsexplorer.lab.system import alive

    print(f"lab {'up' if state.complete else 'INCOMPLETE'} (prefix {state.prefix})")
    print(f"  bridge      {state.bridge} {state.bridge_address}")
    print(f"  named netns {', '.join(visible(n) for n in state.netns)}")
    for link in state.links:
        where = f"{link.netns}:{visible(link.ifname)}"
        peer = f" <-> {link.peer_netns}:{link.peer_ifname}" if link.peer_ifname else ""
        extra = f" master {link.master}" if link.master else ""
        addr = f" {link.address}" if link.address else ""
        print(f"    {link.kind:6} {where}{addr}{peer}{extra}")
    if state.process_ns_pid is not None:
        up = "alive" if alive(state.process_ns_pid) else "GONE"
        print(f"  process-only netns  {state.process_ns_path} ({up})")
    if state.hidden_holder_pid is not None:
        up = "alive" if alive(state.hidden_holder_pid) else "GONE"
        print(f"  hidden netns        {state.hidden_proc_path} ({up})")
    print(f"  hostile names       {visible(state.hostile_ifname)}")
    print(f"                      alias {visible(state.hostile_alias)}")
    print(f"                      netns {visible(state.hostile_netns)}")
    if state.firewall:
        rule = " ".join(firewall.RULE)
        print(f"  firewall    FORWARD {rule} ({', '.join(state.firewall)})")
    if state.containers:
        print(f"  docker ({state.docker_host}), network {state.docker_network}:")
        for c in state.containers:
            addr = f" {c.address}" if c.address else ""
            print(f"    {c.name:15} {c.network_mode:22} pid {c.pid}{addr}")
    if state.imported_image:
        print(f"  image       {state.imported_image} (imported by the lab; down removes it)")
    if state.bench_netns:
        print(f"  bench       {len(state.bench_netns)} netns on {state.bench_bridge}")
