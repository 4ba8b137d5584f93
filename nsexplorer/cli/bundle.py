"""CLI handler: `nsexplorer bundle [-o FILE.tar.gz] [--since BASELINE.json]`, and the
TUI's bundle key (``write_session_bundle``): the same archive, with what the session
saw and ran."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime

from nsexplorer import problems, snapshot_json
from nsexplorer.actions import audit, bundle
from nsexplorer.cli import output as output_rules
from nsexplorer.errors import NsxError
from nsexplorer.model import Snapshot
from nsexplorer.ports import BundleWritten, SessionEvidence
from nsexplorer.textsafe import visible


def run(args: argparse.Namespace) -> int:
    from nsexplorer.collect.source import LiveSource

    baseline = load_snapshot(args.since) if args.since else None
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
    runs = len(bundle.one_per_run(entries))
    on_record = f"{runs} run{'' if runs == 1 else 's'} on record"
    print(f"bundle written: {visible(output)} ({len(data)} bytes, {on_record})")
    for w in snap.warnings:
        print(f"nsexplorer: warning: {visible(w)}", file=sys.stderr)
    return 0


def load_snapshot(path: str) -> Snapshot:
    """A snapshot JSON file (`nsexplorer snapshot -o FILE`), or NsxError saying why not."""
    try:
        with open(path, "rb") as f:
            return snapshot_json.loads(f.read())
    except OSError as err:
        raise NsxError(f"cannot read {path}: {err.strerror or err}") from err
    except (ValueError, KeyError, TypeError) as err:
        raise NsxError(f"{path} is not an nsexplorer snapshot: {err}") from err


class SessionBundler:
    """The TUI's BundleWriter: bundles written new in ``directory`` unless the person
    gives another path."""

    def __init__(self, audit_log: str, directory: str = ".") -> None:
        self.audit_log = audit_log
        self.directory = directory

    def default_path(self, hostname: str) -> str:
        return os.path.join(os.path.abspath(self.directory), default_name(hostname))

    def __call__(self, evidence: SessionEvidence, path: str | None = None) -> BundleWritten:
        return write_session_bundle(self.audit_log, evidence, directory=self.directory, path=path)


def write_session_bundle(
    audit_log: str,
    evidence: SessionEvidence,
    *,
    directory: str = ".",
    path: str | None = None,
) -> BundleWritten:
    """The TUI's bundle: the session's snapshots, the diff since its baseline, the
    problems, this process's audit entries since the session started, the output the
    UI kept and the pcaps it took; written new in ``directory``, or at ``path``
    (relative to ``directory``, ``~`` expanded), which must not exist yet."""
    if path is not None:
        path = os.path.join(os.path.abspath(directory), os.path.expanduser(path))
        if os.path.lexists(path):
            raise NsxError(f"{visible(path)} already exists: nothing written (give a new path)")
    entries, why = bundle.read_audit(audit_log, evidence.started)
    mine = [e for e in entries if e.get("pid") == os.getpid()]
    outputs = [
        bundle.RunOutput(o.time, o.label, o.command, o.exit_status, o.text, o.error, o.stopped)
        for o in evidence.outputs
    ]
    parts = bundle.BundleParts(
        snapshot=evidence.snapshot,
        baseline=evidence.baseline,
        problems=[problems.to_dict(p) for p in problems.find_problems(evidence.snapshot)],
        audit_entries=mine,
        outputs=outputs,
        pcaps=evidence.pcaps,
        viewed=evidence.viewed,
    )
    if why:
        parts.notes.append(why)
    data = bundle.build(parts)
    if path is None:
        first = os.path.join(os.path.abspath(directory), default_name(evidence.snapshot.hostname))
        path, n = first, 1
        while os.path.lexists(path):  # a second bundle within the same second: keep both
            n += 1
            path = first.removesuffix(".tar.gz") + f"-{n}.tar.gz"
    output_rules.write_file(path, data)
    return BundleWritten(path, len(data), len(bundle.one_per_run(mine)))


def default_name(hostname: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"nsexplorer-{bundle.safe_member(hostname, 'host')}-{stamp}.tar.gz"
