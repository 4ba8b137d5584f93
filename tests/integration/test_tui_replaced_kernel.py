"""The running TUI, the live source and the real runner on the real kernel: a named
namespace is deleted and made again while the TUI shows it, until the kernel gives the
new one the old inode (it usually does within a second). Nothing runs in the newcomer.

Made with the nsxid- prefix and removed even on failure; no watcher (the inventory is
stale on purpose: that is the window the runner's own check closes).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "ui"))

from helpers import settle, widget_text
from inode_reuse import made_again_under_the_same_inode

from nsexplorer.actions.runner import NamespaceRunner
from nsexplorer.collect.source import LiveSource
from nsexplorer.ui.app import NsxApp
from nsexplorer.ui.widgets.sidebar import NamespaceTree

pytestmark = [pytest.mark.integration, pytest.mark.root]


@pytest.fixture
def name() -> Iterator[str]:
    n = f"nsxid-t-{secrets.token_hex(3)}"
    subprocess.run(["ip", "netns", "add", n], check=True)
    try:
        yield n
    finally:
        subprocess.run(["ip", "netns", "delete", n], check=False, capture_output=True)


def inode(name: str) -> int:
    return os.stat(f"/run/netns/{name}").st_ino


def transcript(app: NsxApp) -> str:
    return "\n".join(app.main.output_pane().transcript)


def audit(path: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def app_for(tmp_path: Path) -> NsxApp:
    runner = NamespaceRunner(audit_log=str(tmp_path / "audit.log"))
    return NsxApp(LiveSource(engines=[]), runner=runner, debounce=0.2, min_collect_gap=0)


async def test_a_prompt_answered_after_the_namespace_was_replaced_runs_nothing(
    name: str, tmp_path: Path
) -> None:
    app = app_for(tmp_path)
    marker = tmp_path / "ran"
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        ino = inode(name)
        app.goto(ino)
        await settle(pilot)
        shown = app.selected_ns
        assert shown is not None and name in shown.names and shown.cookie is not None
        await pilot.press("x", *f"touch {marker}")
        if why := made_again_under_the_same_inode(name):
            pytest.skip(why)
        await pilot.press("enter")  # the TUI has not re-read: only the runner can tell
        await settle(pilot)
        assert "was replaced since it was read" in transcript(app)
        assert "nothing ran" in transcript(app)
    assert not marker.exists()
    assert audit(tmp_path / "audit.log") == []


async def test_after_a_refresh_the_newcomer_takes_the_selected_row(
    name: str, tmp_path: Path
) -> None:
    """The real kernel reuses the inode: the row shows the new namespace (its own kernel
    id), not the old one gone, and the notice says it is a new one."""
    app = app_for(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        ino = inode(name)
        app.goto(ino)
        await settle(pilot)
        old = app.selected_ns
        assert old is not None and old.cookie is not None
        if why := made_again_under_the_same_inode(name):
            pytest.skip(why)
        await pilot.press("r")
        await settle(pilot)
        now = app.selected_ns
        assert app.selected == ino
        assert now is not None and not now.gone and now.cookie not in (None, old.cookie)
        row = next(
            line for line in widget_text(app.query_one(NamespaceTree)).splitlines() if name in line
        )
        assert "gone" not in row, row
        said = " ".join(str(n.message) for n in app._notifications)
        assert f"netns {ino}: {name} was deleted; its inode now names a new namespace" in said
    assert audit(tmp_path / "audit.log") == []
