"""CLI handler: ``nsexplorer problems [--json]``, a health check of the wiring.

Exit status: 0 when nothing is wrong, 1 when something is (or when collecting failed,
with a message on stderr). ``--json`` writes ``{"problems": [...]}``; the text form is
for eyes and escapes every control character. Warnings go to stderr.
"""

from __future__ import annotations

import argparse
from collections import Counter

from nsexplorer import problems, snapshot_json
from nsexplorer.cli.discovery import _source, _warn
from nsexplorer.cli.output import write_stdout
from nsexplorer.model import Snapshot
from nsexplorer.textsafe import counted, visible


def run(args: argparse.Namespace) -> int:
    snap: Snapshot = _source(args).collect()
    found = problems.find_problems(snap)
    if args.json:
        doc = {"problems": [problems.to_dict(p) for p in found]}
        write_stdout(snapshot_json.dumps_value(doc) + "\n")
    else:
        write_stdout(format_problems(found, snap))
    _warn(snap.warnings)
    return 1 if found else 0


def format_problems(found: tuple[problems.Problem, ...], snap: Snapshot) -> str:
    if not found:
        checked = sum(1 for ns in snap.namespaces if not ns.gone)
        return f"no problems found ({counted(checked, 'namespace')} checked)\n"
    labels = {ns.inode: problems.where(ns) for ns in snap.namespaces}
    lines: list[str] = []
    for p in found:
        ns = labels.get(p.namespace_inode, "?")
        place = f"{p.interface} in {ns}" if p.interface is not None else ns
        lines.append(f"{p.severity:<8}{p.kind}  {visible(place)} (inode {p.namespace_inode})")
        lines.append(f"    {visible(p.message)}")
        lines.extend(f"    - {visible(e)}" for e in p.evidence)
        if p.next:
            lines.append(f"    $ {visible(p.next)}")
    counts = Counter(p.severity for p in found)
    summary = ", ".join(
        f"{counts[s]} {s}{'s' if counts[s] != 1 else ''}" for s in problems.SEVERITIES if counts[s]
    )
    lines.append(f"{len(found)} problem{'s' if len(found) != 1 else ''}: {summary}")
    return "\n".join(lines) + "\n"
