"""`nsexplorer` with no command opens the TUI only on a terminal: piped, it must say so
and exit instead of writing escape sequences into the pipe and waiting for keys."""

from __future__ import annotations

import subprocess
import sys


def test_tui_refuses_without_a_terminal() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "nsexplorer", "--read-only"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 1
    assert "needs a terminal" in done.stderr
    assert "\x1b" not in done.stdout + done.stderr
