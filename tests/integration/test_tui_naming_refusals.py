"""`n` and `N` in the running TUI with the real runner on the real kernel: what the
runner would refuse is said before the confirmation, not after `y` (QA: a name with a
space, and removing the only thing that keeps a namespace alive, both asked first).

Made with the nsxnr- prefix and removed even on failure; nothing is named or unnamed.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "ui"))

from helpers import settle

from nsexplorer.actions.runner import NamespaceRunner
from nsexplorer.collect.source import LiveSource
from nsexplorer.ui.app import NsxApp
from nsexplorer.ui.screens.dialogs import ConfirmScreen

pytestmark = [pytest.mark.integration, pytest.mark.root]


@pytest.fixture
def name() -> Iterator[str]:
    """A netns that only its name keeps alive (`ip netns add`)."""
    n = f"nsxnr-{secrets.token_hex(3)}"
    subprocess.run(["ip", "netns", "add", n], check=True)
    try:
        yield n
    finally:
        subprocess.run(["ip", "netns", "delete", n], check=False, capture_output=True)


def said(app: NsxApp) -> str:
    return " ".join(str(n.message) for n in app._notifications)


@pytest.fixture
def held() -> Iterator[int]:
    """A netns only a process keeps alive (named, it is `ip netns attach NAME PID`):
    its inode."""
    proc = subprocess.Popen(["unshare", "--net", "sleep", "300"])
    try:
        for _ in range(100):
            ino = os.stat(f"/proc/{proc.pid}/ns/net").st_ino
            if ino != os.stat("/proc/self/ns/net").st_ino:
                break
            time.sleep(0.02)
        yield ino
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("key", ["n", "N"])
async def test_a_refusal_comes_before_the_question(
    key: str, name: str, held: int, tmp_path: Path
) -> None:
    runner = NamespaceRunner(audit_log=str(tmp_path / "audit.log"))
    app = NsxApp(LiveSource(engines=[]), runner=runner, debounce=0.2, min_collect_gap=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.goto(held if key == "n" else os.stat(f"/run/netns/{name}").st_ino)
        await settle(pilot)
        if key == "n":
            await pilot.press("n", *f"{name}-x y", "enter")  # a space: refused
        else:
            await pilot.press("N", "enter")  # its only name: removing it destroys it
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen), "asked first"
        why = "space character" if key == "n" else "keeps namespace inode"
        assert why in said(app), said(app)
    assert os.path.exists(f"/run/netns/{name}") and not os.path.exists(f"/run/netns/{name}-x y")
    assert not (tmp_path / "audit.log").exists()
