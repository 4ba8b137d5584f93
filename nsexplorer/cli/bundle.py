"""CLI handler: `nsexplorer bundle [-o FILE.tar.gz] [--since BASELINE.json]`."""

from __future__ import annotations

import argparse
import os
import stat
import sys
import tempfile
from datetime import UTC, datetime

from nsexplorer import snapshot_json
from nsexplorer.actions import audit, bundle
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
        refuse_non_regular(output)  # before the slow part, not after it
    snap = LiveSource().collect()
    log_path = audit.choose_path()
    entries, why = bundle.read_audit(log_path, bundle.default_since(baseline, args.hours))
    parts = bundle.BundleParts(snapshot=snap, baseline=baseline, audit_entries=entries)
    if why:
        parts.notes.append(why)
    parts.notes.append("command output: not kept by the CLI (the TUI's bundle key keeps it)")
    data = bundle.build(parts)
    output = output or default_name(snap.hostname)
    write_file(output, data)
    print(f"bundle written: {visible(output)} ({len(data)} bytes, {len(entries)} audit entries)")
    for w in snap.warnings:
        print(f"nsexplorer: warning: {visible(w)}", file=sys.stderr)
    return 0


def default_name(hostname: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"nsexplorer-{bundle.safe_member(hostname, 'host')}-{stamp}.tar.gz"


def refuse_non_regular(path: str) -> None:
    """A bundle is a new regular file: never written over a symlink, device or FIFO."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as err:
        raise NsxError(f"cannot write {path}: {err.strerror or err}") from err
    if not stat.S_ISREG(st.st_mode):
        raise NsxError(f"refusing to replace {path}: not a regular file")


def write_file(path: str, data: bytes) -> None:
    """Atomically: a temporary file in the same directory, renamed over ``path``."""
    refuse_non_regular(path)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".nsexplorer-", suffix=".tar.gz", dir=directory)
    except OSError as err:
        raise NsxError(f"cannot write {path}: {err.strerror or err}") from err
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
