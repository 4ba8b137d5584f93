"""CLI output contracts: a closed stdout is quiet; `show` repeats snapshot-wide warnings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nsexplorer import snapshot_json
from nsexplorer.model import NamespaceId, NetNamespace, Snapshot


def _snapshot_file(tmp_path: Path) -> Path:
    namespaces = tuple(
        NetNamespace(NamespaceId(4, 1000 + i), is_host=i == 0, label=f"nsxt-{i}", pids=(i + 2,))
        for i in range(50)
    )
    path = tmp_path / "snap.json"
    path.write_text(snapshot_json.dumps(Snapshot("h", "t", namespaces=namespaces)))
    return path


@pytest.mark.parametrize(
    "command",
    [["list"], ["list", "--json"], ["show", "nsxt-1"], ["show", "nsxt-1", "--json"], ["snapshot"]],
)
def test_closed_stdout_is_no_traceback(tmp_path: Path, command: list[str]) -> None:
    path = _snapshot_file(tmp_path)
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before nsexplorer writes a byte
    code = (
        "import sys; from nsexplorer.cli import main; "
        f"sys.exit(main(['--from', {str(path)!r}, *{command!r}]))"
    )
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert "Traceback" not in proc.stderr
    assert "Exception ignored" not in proc.stderr
    assert "cannot write" not in proc.stderr
    assert proc.returncode != 0  # like any tool killed by SIGPIPE, but quietly


def test_show_repeats_the_snapshot_wide_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With Docker hanging, `show host` silently lacked the host-mode containers: `list`
    warned, `show` did not."""
    from nsexplorer.cli import main

    ns = (NetNamespace(NamespaceId(4, 1000), is_host=True, label="host", pids=(2,)),)
    warning = "Docker engine at unix:///x did not answer within 3 s; containers are not labelled"
    path = tmp_path / "snap.json"
    path.write_text(snapshot_json.dumps(Snapshot("h", "t", namespaces=ns, warnings=(warning,))))
    assert main(["--from", str(path), "show", "host"]) == 0
    assert f"nsexplorer: warning: {warning}" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["list"], ["show", "nsxt-1"], ["list", "--json"]])
def test_a_full_disk_on_stdout_is_a_message_not_a_traceback(
    tmp_path: Path, command: list[str]
) -> None:
    path = _snapshot_file(tmp_path)
    code = (
        "import sys; from nsexplorer.cli import main; "
        f"sys.exit(main(['--from', {str(path)!r}, *{command!r}]))"
    )
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-c", code],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    assert "Traceback" not in proc.stderr
    assert "cannot write standard output" in proc.stderr
    assert proc.returncode == 1
