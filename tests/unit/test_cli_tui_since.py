"""`nsexplorer --since FILE`: the TUI's baseline for what changed, read (or refused)
before the screen changes; `bundle --since` keeps its own meaning."""

from __future__ import annotations

from pathlib import Path

import pytest

from nsexplorer import snapshot_json
from nsexplorer.cli import build_parser
from nsexplorer.cli.tui import _baseline
from nsexplorer.errors import NsxError
from nsexplorer.model import Snapshot


def test_since_is_the_tuis_and_bundle_keeps_its_own() -> None:
    parser = build_parser()
    args = parser.parse_args(["--since", "base.json"])
    assert args.since_file == "base.json" and args.command is None
    args = parser.parse_args(["bundle", "--since", "b.json"])
    assert args.since == "b.json" and args.since_file is None


def test_baseline_is_read_and_named_after_its_file(tmp_path: Path) -> None:
    snap = Snapshot(hostname="h1", collected_at="2026-12-01T10:00:00+00:00", namespaces=())
    path = tmp_path / "before.json"
    path.write_text(snapshot_json.dumps(snap))
    args = build_parser().parse_args(["--since", str(path)])
    got, origin = _baseline(args)
    assert got is not None and got.hostname == "h1"
    assert origin == "before.json (2026-12-01T10:00:00+00:00)"
    assert _baseline(build_parser().parse_args([])) == (None, "")


def test_unreadable_baseline_is_refused_with_why(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"not": "a snapshot"}')
    with pytest.raises(NsxError, match="is not an nsexplorer snapshot"):
        _baseline(build_parser().parse_args(["--since", str(bad)]))
    with pytest.raises(NsxError, match="cannot read"):
        _baseline(build_parser().parse_args(["--since", str(tmp_path / "missing.json")]))
