"""`nsexplorer bundle` after a real action: the summary names what was run and its status."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.root]

NSX = [sys.executable, "-m", "nsexplorer"]


def test_bundle_after_exec_names_the_run_and_the_change(nsxt: Any, tmp_path: Path) -> None:
    env = {**os.environ, "NSX_AUDIT_LOG": str(tmp_path / "audit.log")}
    name = nsxt.netns()
    base = tmp_path / "base.json"
    subprocess.run([*NSX, "snapshot", "-o", str(base)], check=True, env=env)
    ran = subprocess.run(
        [*NSX, "exec", name, "--", "sh", "-c", "exit 4"], env=env, capture_output=True, check=False
    )
    assert ran.returncode == 4
    nsxt.bridge(name)
    out = tmp_path / "incident.tar.gz"
    done = subprocess.run(
        [*NSX, "bundle", "-o", str(out), "--since", str(base)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "1 run on record" in done.stdout
    with tarfile.open(out) as tar:
        summary_member = next(m for m in tar.getmembers() if m.name.endswith("/summary.md"))
        f = tar.extractfile(summary_member)
        assert f is not None
        summary = f.read().decode()
    assert f"`{name}" in summary
    assert "`exec: sh -c exit 4`" in summary and "| `exit 4` |" in summary
    assert "interface appeared" in summary  # the bridge made after the baseline


def test_bundle_refuses_to_replace_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "precious"
    target.write_text("keep")
    link = tmp_path / "link.tar.gz"
    link.symlink_to(target)
    done = subprocess.run(
        [*NSX, "bundle", "-o", str(link)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert "is a symbolic link" in done.stderr and "nothing written" in done.stderr
    assert link.is_symlink() and target.read_text() == "keep"
