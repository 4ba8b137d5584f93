"""An audit log that cannot be written: the action still runs (an incident is no time to
refuse), and the person is told which log and why, on stderr."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nsexplorer.actions.runner import NamespaceRunner
from nsexplorer.model import NamespaceId, NetNamespace

pytestmark = [pytest.mark.integration, pytest.mark.root]

NSX = [sys.executable, "-m", "nsexplorer"]


def nsx(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*NSX, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def named() -> Iterator[str]:
    name = f"nsxh4-au-{secrets.token_hex(3)}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False)


@pytest.fixture
def no_fallback(tmp_path: Path) -> dict[str, str]:
    """An XDG_STATE_HOME that cannot be written either (under a regular file), so the
    unwritable log is not silently replaced by the per-user fallback."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    return {"XDG_STATE_HOME": str(blocker / "state")}


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A log file on a tiny tmpfs that is full: the write fails with ENOSPC."""
    where = tmp_path / "full"
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "nsxh4-full", str(where)],
                   check=True)  # fmt: skip
    try:
        log = where / "audit.log"
        log.write_text("")
        fd = os.open(where / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            with pytest.raises(OSError, match="No space left"):
                while True:
                    os.write(fd, b"x" * 4096)
        finally:
            os.close(fd)
        yield log
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_runner_runs_and_returns_the_warning(
    named: str, tmp_path: Path, no_fallback: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", no_fallback["XDG_STATE_HOME"])
    log_dir = tmp_path / "audit.log"
    log_dir.mkdir()  # a directory where the file should be
    runner = NamespaceRunner(audit_log=str(log_dir))
    assert runner.audit_log_path == str(log_dir)
    st = os.stat(f"/var/run/netns/{named}")
    ns = NetNamespace(id=NamespaceId(st.st_dev, st.st_ino), names=(named,))
    marker = tmp_path / "ran"
    got = runner.run(ns, ["touch", str(marker)])
    assert got.exit_status == 0, got
    assert marker.exists()  # it ran
    assert runner.take_warnings() == (f"audit log {log_dir} not written: Is a directory",)
    assert runner.take_warnings() == ()  # handed out once


def test_exec_with_a_directory_in_place_of_the_log(
    named: str, tmp_path: Path, no_fallback: dict[str, str]
) -> None:
    log_dir = tmp_path / "audit.log"
    log_dir.mkdir()
    env = {**no_fallback, "NSX_AUDIT_LOG": str(log_dir)}
    done = nsx("exec", named, "--", "sh", "-c", "echo ran; exit 5", env=env)
    assert done.returncode == 5, done.stderr  # the command ran, its status passed through
    assert done.stdout == "ran\n"
    lines = done.stderr.splitlines()
    assert lines[0] == f"# ip netns exec {named} sh -c 'echo ran; exit 5'"
    assert lines[-1] == f"nsexplorer: warning: audit log {log_dir} not written: Is a directory"
    assert list(log_dir.iterdir()) == []


def test_name_and_unname_on_a_full_disk(
    named: str, full_disk: Path, no_fallback: dict[str, str]
) -> None:
    env = {**no_fallback, "NSX_AUDIT_LOG": str(full_disk)}
    new = f"nsxh4-fd-{secrets.token_hex(3)}"
    warning = f"nsexplorer: warning: audit log {full_disk} not written: No space left on device"
    try:
        done = nsx("name", named, new, env=env)
        assert done.returncode == 0, done.stderr
        assert os.path.exists(f"/var/run/netns/{new}")
        assert done.stderr.splitlines()[-1] == warning
        done = nsx("unname", new, env=env)
        assert done.returncode == 0, done.stderr
        assert not os.path.lexists(f"/var/run/netns/{new}")
        assert done.stderr.splitlines()[-1] == warning
    finally:
        if os.path.lexists(f"/var/run/netns/{new}"):
            subprocess.run(["ip", "netns", "delete", new], check=False)
    assert full_disk.read_text() == ""


def test_a_written_log_gives_no_warning(named: str, tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    done = nsx("exec", named, "--", "true", env={"NSX_AUDIT_LOG": str(log)})
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr
    started, record = [json.loads(x) for x in log.read_text().splitlines()]
    assert started["state"] == "running" and started["exit_status"] is None
    assert record["exit_status"] == 0 and "state" not in record
    assert started["run"] == record["run"]


def audit_lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def exec_until_on_record(named: str, log: Path) -> subprocess.Popen[bytes]:
    """`nsexplorer exec NAMED -- sleep 41`, returned once its "running" line is in ``log``."""
    proc = subprocess.Popen(
        [*NSX, "exec", named, "--", "sleep", "41"],
        env={**os.environ, "NSX_AUDIT_LOG": str(log)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):  # up to 10 s
        if audit_lines(log):
            break
        time.sleep(0.1)
    return proc


def test_a_command_killed_with_nsexplorer_is_on_record(named: str, tmp_path: Path) -> None:
    """QA: the line was written only when the command ended, so a command nsexplorer
    was SIGKILLed under (or the host went down) left none. Its "running" line is
    written before it starts; nsexplorer is killed as soon as that line is there, and
    the session guard ends the command."""
    log = tmp_path / "audit.log"
    proc = exec_until_on_record(named, log)
    proc.kill()
    proc.wait()
    lines = audit_lines(log)
    assert len(lines) == 1, lines
    assert lines[0]["state"] == "running" and lines[0]["argv"] == ["sleep", "41"], lines
    assert lines[0]["exit_status"] is None and lines[0]["run"], lines


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_command_nsexplorer_ended_on_sigterm_or_sighup_has_its_final_line(
    named: str, tmp_path: Path, sig: signal.Signals
) -> None:
    """Review: nsexplorer passed the signal on, reaped the command, then died of the
    signal before writing the final line, so the bundle said "running, no end
    recorded" for a command it had ended itself."""
    log = tmp_path / "audit.log"
    proc = exec_until_on_record(named, log)
    try:
        time.sleep(0.2)  # the command has started
        proc.send_signal(sig)
        assert proc.wait(timeout=15) == -sig  # it still ends as that signal says
    finally:
        proc.kill()
        proc.wait()
    lines = audit_lines(log)
    assert [(x.get("state"), x["exit_status"]) for x in lines] == [
        ("running", None),
        (None, 128 + sig),  # the sleep was ended by the same signal
    ], lines
    assert lines[0]["run"] == lines[1]["run"]


def test_every_command_is_on_record_before_it_starts(named: str, tmp_path: Path) -> None:
    runner = NamespaceRunner(audit_log=str(tmp_path / "audit.log"))
    ino = os.stat(f"/run/netns/{named}").st_ino
    ns = NetNamespace(
        id=NamespaceId(os.stat(f"/run/netns/{named}").st_dev, ino),
        names=(named,),
        label=named,
        access_path=f"/run/netns/{named}",
    )
    assert runner.run(ns, ["true"]).exit_status == 0
    assert runner.run(ns, ["sh", "-c", "exit 5"]).exit_status == 5
    lines = audit_lines(tmp_path / "audit.log")
    assert [(x["argv"], x.get("state"), x["exit_status"]) for x in lines] == [
        (["true"], "running", None),
        (["true"], None, 0),
        (["sh", "-c", "exit 5"], "running", None),
        (["sh", "-c", "exit 5"], None, 5),
    ], lines
    assert lines[0]["run"] == lines[1]["run"] != lines[2]["run"] == lines[3]["run"]
    # another runner under the same pid (a later nsexplorer that got it): its own ids
    # (review: both first runs were "<pid>.1", so a bundle hid a killed run)
    NamespaceRunner(audit_log=str(tmp_path / "audit.log")).run(ns, ["true"])
    runs = [x["run"] for x in audit_lines(tmp_path / "audit.log")]
    assert len(set(runs)) == 3 and runs[4] == runs[5] not in runs[:4], runs
