"""CLI handler: `nsexplorer bundle [-o FILE.tar.gz] [--since BASELINE.json]`."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from nsexplorer import snapshot_json
from nsexplorer.actions import audit, bundle
from nsexplorer.cli import output as output_rules
from nsexplorer.errors import NsxError
from nsexplorer.textsafe import visible


def run(args: argparse.Namespace) -> int:
    from nsexplorer.collect.source import LiveSource

    baseline = None
    if args.since:
        try:
            with open(args.since, "rb") as f:
                baseline = snapshot_json.loads(f.read())
        except OSError as err:
            raise NsxError(f"cannot read {args.since}: {err.strerror or err}") from err
        except (ValueError, KeyError, TypeError) as err:
            raise NsxError(f"{args.since} is not an nsexplorer snapshot: {err}") from err
    output = args.output or ""
    if output:
        output_rules.check_output(output)  # before the slow part, not after it
    snap = LiveSource().collect()
    log_path = audit.choose_path()
    entries, why = bundle.read_audit(log_path, bundle.default_since(baseline, args.hours))
    parts = bundle.BundleParts(snapshot=snap, baseline=baseline, audit_entries=entries)
    if why:
        parts.notes.append(why)
    parts.notes.append("command output: not kept by the CLI (the TUI's bundle key keeps it)")
    data = bundle.build(parts)
    output = output or default_name(snap.hostname)
    output_rules.write_file(output, data)
    print(f"bundle written: {visible(output)} ({len(data)} bytes, {len(entries)} audit entries)")
    for w in snap.warnings:
        print(f"nsexplorer: warning: {visible(w)}", file=sys.stderr)
    return 0


def default_name(hostname: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"nsexplorer-{bundle.safe_member(hostname, 'host')}-{stamp}.tar.gz"
