"""CLI handler: `nsexplorer exec --all|--match TEXT [--parallel N] -- CMD ...`.

Results are printed grouped per namespace, in sidebar order, each headed by the
namespace and its exit status; the exit status is 0 when every run succeeded, else 1.
ctrl-c cancels: running commands are stopped, the rest are not started.
"""

from __future__ import annotations

import argparse
import sys
import threading

from nsexplorer.actions import fanout
from nsexplorer.actions.runner import CAP_SYS_ADMIN, NamespaceRunner, has_capability
from nsexplorer.errors import ActionFailed, NeedsRoot, TargetNotFound
from nsexplorer.model import NetNamespace, Snapshot, describe
from nsexplorer.textsafe import visible


def run(args: argparse.Namespace, runner: NamespaceRunner, argv: list[str]) -> int:
    if not argv:
        raise ActionFailed(
            "exec --all/--match needs a command (an interactive shell cannot fan out)"
        )
    runner.refuse_if_read_only("run a command")
    if not has_capability(CAP_SYS_ADMIN):  # refuse once, not once per namespace
        raise NeedsRoot("entering other namespaces needs root (CAP_SYS_ADMIN); nothing was run")
    from nsexplorer.collect.source import LiveSource
    from nsexplorer.matching import may_match_interfaces

    source = LiveSource()
    # An address, MAC or interface name can only match once interfaces were read.
    snap = (
        source.collect() if args.match and may_match_interfaces(args.match) else source.discover()
    )
    chosen = select(snap, args.match)
    if not chosen:
        raise TargetNotFound(
            f"no namespace matches {args.match!r}" if args.match else "no namespace found"
        )
    print(f"# running in {len(chosen)} namespace(s), {args.parallel} at a time", file=sys.stderr)
    cancel = threading.Event()
    result: list[fanout.FanoutResult] = []
    worker = threading.Thread(
        target=lambda: result.extend(
            fanout.run_in_each(runner, chosen, argv, parallel=args.parallel, cancel=cancel)
        ),
        name="nsx-fanout-main",
    )
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.2)
    except KeyboardInterrupt:
        cancel.set()
        print("# cancelling: stopping running commands, skipping the rest", file=sys.stderr)
        worker.join()
    for r in result:
        print(format_result(r), end="")
    print(f"# {fanout.summary_line(result)}", file=sys.stderr)
    return 0 if result and all(r.ok for r in result) else 1


def select(snap: Snapshot, match: str | None) -> list[NetNamespace]:
    """Every live namespace, or those the sidebar filter would show for ``match``
    (each announced with why it matched, before anything runs)."""
    live = [ns for ns in snap.namespaces if not ns.gone]
    if not match:
        return live
    from nsexplorer.matching import match as find

    found = find(live, match)
    by_id = {ns.id: ns for ns in live}
    for m in found:
        print(f"# {visible(describe(by_id[m.id]))}: {m.reason}", file=sys.stderr)
    return [by_id[m.id] for m in found]


def format_result(r: fanout.FanoutResult) -> str:
    res = r.result
    status = f"exit {res.exit_status}" if res.exit_status is not None else "no exit status"
    head = f"==> {visible(describe(r.namespace))}: {status}"
    if res.error:
        head += f" ({visible(res.error)})"
    lines = res.output.splitlines()
    body = "".join(f"{visible(line)}\n" for line in lines)
    return f"{head}\n{body}"
