"""CLI handler: `nsexplorer diff A.json B.json [--json]`: what changed between snapshots.

Exit status as diff(1): 0 no change, 1 changes found, 2 a snapshot could not be read.
"""

from __future__ import annotations

import argparse
import sys

from nsexplorer import snapshot_json
from nsexplorer.changes import changes_between
from nsexplorer.diffing import Change, change_json
from nsexplorer.errors import NsxError
from nsexplorer.model import Snapshot
from nsexplorer.textsafe import visible


def run(args: argparse.Namespace) -> int:
    from nsexplorer.cli.bundle import load_snapshot  # the one snapshot-file reader

    try:
        before = load_snapshot(args.before)
        after = load_snapshot(args.after)
    except NsxError as err:
        print(f"nsexplorer: {visible(str(err))}", file=sys.stderr)
        return 2
    changes = changes_between(before, after)
    if args.json:
        doc = {
            "before": {"hostname": before.hostname, "collected_at": before.collected_at},
            "after": {"hostname": after.hostname, "collected_at": after.collected_at},
            "changes": [change_json(c) for c in changes],
        }
        sys.stdout.write(snapshot_json.dumps_value(doc, indent=2) + "\n")
    else:
        sys.stdout.write(format_changes(before, after, changes))
    return 1 if changes else 0


def format_changes(before: Snapshot, after: Snapshot, changes: tuple[Change, ...]) -> str:
    lines = [
        f"from {visible(before.hostname)} {before.collected_at}"
        f" to {visible(after.hostname)} {after.collected_at}: {len(changes)} change(s)"
    ]
    for c in changes:
        where = visible(c.namespace_label or "?")
        lines.append(f"  {where} (inode {c.namespace_inode}): {visible(c.message)}")
    return "\n".join(lines) + "\n"
