from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from nsexplorer.actions import audit
from nsexplorer.actions.runner import NamespaceRunner
from nsexplorer.errors import ReadOnlyRefused
from nsexplorer.model import NamespaceId, NetNamespace


def test_explicit_and_env_paths(tmp_path: Path) -> None:
    log = str(tmp_path / "a" / "audit.log")
    assert audit.choose_path(log, env={}) == log
    assert audit.choose_path(None, env={"NSX_AUDIT_LOG": log}) == log


def test_unwritable_explicit_path_falls_back(tmp_path: Path) -> None:
    # A regular file where a directory should be: not writable even for root.
    (tmp_path / "file").write_text("")
    env = {"XDG_STATE_HOME": str(tmp_path / "state")}
    got = audit.choose_path(str(tmp_path / "file" / "audit.log"), env=env)
    assert got == str(tmp_path / "state" / "nsexplorer" / "audit.log")


def test_records_are_json_lines_with_hostile_text_escaped(tmp_path: Path) -> None:
    log = audit.AuditLog(str(tmp_path / "d" / "audit.log"))
    log.record("run", netns_inode=7, netns="evil\x1b[2J\n", argv=["echo", "a\nb"], exit_status=3)
    log.record("name", netns_inode=8, netns="x", argv=["n"], exit_status=0, name="n")
    raw = (tmp_path / "d" / "audit.log").read_bytes()
    assert b"\x1b" not in raw
    lines = raw.decode().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["netns"] == "evil\x1b[2J\n"
    assert first["argv"] == ["echo", "a\nb"]
    assert first["exit_status"] == 3
    assert first["who"]["uid"] == os.getuid()
    assert json.loads(lines[1])["name"] == "n"
    assert (tmp_path / "d" / "audit.log").stat().st_mode & 0o777 == 0o600


def test_read_only_refuses_everything_and_logs_nothing(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    runner = NamespaceRunner(read_only=True, audit_log=str(log))
    ns = NetNamespace(id=NamespaceId(1, 2))
    assert runner.read_only
    calls = [
        lambda: runner.run(ns, ["touch", str(tmp_path / "ran")]),
        lambda: runner.prepare_shell(ns),
        lambda: runner.name(ns, "nsxt-ro"),
        lambda: runner.unname("nsxt-ro"),
        lambda: runner.run_attached(ns, ["touch", str(tmp_path / "ran")]),
    ]
    for call in calls:
        with pytest.raises(ReadOnlyRefused, match="read-only"):
            call()
    assert not log.exists()
    assert not (tmp_path / "ran").exists()
    assert ReadOnlyRefused.exit_code == 3
