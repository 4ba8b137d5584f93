"""The `s` shell's prompt (bash, through the rcfile) shows NSX_NETNS_LABEL exactly as
the UI shows the label, and never runs what a hostile label holds: bash expands PS1 once,
and a variable's value is not expanded again."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from nsexplorer.cli.tui import _bash_rcfile


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_a_hostile_label_is_shown_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    label = f"nsxh-$(touch {marker})`touch {marker}`\\u!x\\$"
    rcfile = _bash_rcfile()
    try:
        env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "NSX_NETNS_LABEL": label}
        done = subprocess.run(
            ["bash", "--noediting", "--rcfile", rcfile, "-i"],
            input="exit\n", env=env, capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    finally:
        os.unlink(rcfile)
    assert not marker.exists()
    assert f"[nsx {label}] " in done.stderr, done.stderr  # the prompt, on stderr
