"""The TUI's bundle writer (cli.bundle.write_session_bundle): what the session kept goes
in, only this process's audit entries since the session started, and a second bundle in
the same second never replaces the first."""

from __future__ import annotations

import json
import os
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nsexplorer.cli.bundle import SessionBundler, write_session_bundle
from nsexplorer.errors import NsxError
from nsexplorer.model import Snapshot
from nsexplorer.ports import KeptOutput, SessionEvidence


def _members(path: str) -> dict[str, str]:
    with tarfile.open(path) as tar:
        out = {}
        for m in tar.getmembers():
            f = tar.extractfile(m)
            assert f is not None
            out[m.name.split("/", 1)[1]] = f.read().decode()
    return out


def test_session_bundle_keeps_this_sessions_runs_only_and_never_overwrites(
    tmp_path: Path,
) -> None:
    started = datetime.now(UTC)
    log = tmp_path / "audit.log"
    entries = [
        {
            "time": (started - timedelta(hours=1)).isoformat(),
            "action": "run",
            "pid": os.getpid(),
            "argv": ["before", "session"],
            "exit_status": 0,
        },
        {
            "time": (started + timedelta(seconds=1)).isoformat(),
            "action": "run",
            "pid": 1,
            "argv": ["another", "process"],
            "exit_status": 0,
        },
        {
            "time": (started + timedelta(seconds=2)).isoformat(),
            "action": "run",
            "pid": os.getpid(),
            "netns": "nsxt-a",
            "argv": ["ip", "-br", "link"],
            "exit_status": 3,
        },
    ]
    log.write_text("".join(json.dumps(e) + "\n" for e in entries))
    snap = Snapshot(hostname="h1", collected_at=started.isoformat(), namespaces=())
    kept = KeptOutput(started.isoformat(), "nsxt-a", "ip -br link", 3, "lo UNKNOWN\n")
    evidence = SessionEvidence(snap, snap, started, outputs=(kept,), viewed=("nsxt-a (netns 7)",))
    first = write_session_bundle(str(log), evidence, directory=str(tmp_path))
    second = write_session_bundle(str(log), evidence, directory=str(tmp_path))
    assert first.path != second.path and os.path.exists(first.path)
    assert first.audit_entries == 1
    files = _members(first.path)
    summary = files["summary.md"]
    assert "`run: ip -br link`" in summary and "| `exit 3` |" in summary
    assert "before session" not in summary and "another process" not in summary
    assert "`nsxt-a (netns 7)`" in summary
    (output,) = [v for k, v in files.items() if k.startswith("output/")]
    assert "$ ip -br link" in output and "lo UNKNOWN" in output
    assert "problems.json" in files and "diff.json" in files


def test_a_path_the_person_gave_is_used_and_never_replaces_a_file(tmp_path: Path) -> None:
    started = datetime.now(UTC)
    snap = Snapshot(hostname="h1", collected_at=started.isoformat(), namespaces=())
    evidence = SessionEvidence(snap, snap, started)
    bundler = SessionBundler(str(tmp_path / "no-audit.log"), directory=str(tmp_path))
    default = bundler.default_path("h1")
    assert os.path.dirname(default) == str(tmp_path) and default.endswith(".tar.gz")
    written = bundler(evidence, "sub-nsxqf.tar.gz")  # relative to the directory
    assert written.path == str(tmp_path / "sub-nsxqf.tar.gz") and os.path.exists(written.path)
    before = (tmp_path / "sub-nsxqf.tar.gz").read_bytes()
    with pytest.raises(NsxError, match="already exists: nothing written"):
        bundler(evidence, str(tmp_path / "sub-nsxqf.tar.gz"))
    assert (tmp_path / "sub-nsxqf.tar.gz").read_bytes() == before
    assert os.path.dirname(bundler(evidence).path) == str(tmp_path)  # None: the default
