"""Issue 12's keys in the real `nsexplorer` in a real terminal (tmux, 80x24): marks and
"run in all shown" over namespaces the test makes, one failing; the capture key seeing
a ping between two of them, the pcap read back, then the bundle key; termshark reached
through the app's suspend, inside the namespace.

Each session starts in the test's own directory (pcaps and bundles are written there)
with its own audit log."""

from __future__ import annotations

import json
import os
import secrets
import shlex
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from test_tui_e2e import Term, _processes_in, new_session, pid_gone, tmux

pytestmark = [pytest.mark.e2e, pytest.mark.root]

TMUX = shutil.which("tmux")
NSX = [sys.executable, "-m", "nsexplorer"]
BUSYBOX = shutil.which("busybox") or "/bin/busybox"


@pytest.fixture
def tui(tmp_path: Path) -> Iterator[Callable[..., Term]]:
    """`nsexplorer` in a fresh 80x24 tmux session whose working directory is tmp_path;
    ``path_first`` is put in front of PATH. Killed afterwards, nothing left running."""
    if TMUX is None:
        pytest.skip("tmux is not installed (apt-get install tmux)")
    sessions: list[str] = []

    def start(*args: str, path_first: str = "") -> Term:
        session = f"nsxt-inc-{secrets.token_hex(3)}"
        sessions.append(session)
        audit = str(tmp_path / f"{session}.audit.log")
        path = f"{path_first}:{os.environ['PATH']}" if path_first else os.environ["PATH"]
        env = f"TERM=xterm-256color NSX_AUDIT_LOG={shlex.quote(audit)} HOME=/root"
        if os.environ.get("DOCKER_HOST"):
            env += f" DOCKER_HOST={shlex.quote(os.environ['DOCKER_HOST'])}"
        cmd = shlex.join([*NSX, *args])
        shell = (
            f"cd {shlex.quote(str(tmp_path))} && env -i PATH={shlex.quote(path)} {env} "
            f"sh -c {shlex.quote(cmd + '; echo NSX-EXIT=$?; exec sleep 600')}"
        )
        new_session(session, 80, 24, shell)
        return Term(session, audit)

    try:
        yield start
    finally:
        for session in sessions:
            left = _processes_in(session)
            subprocess.run([TMUX, "kill-session", "-t", session], check=False)
            for pid in left:
                assert pid_gone(pid), f"pid {pid} outlived its terminal (session {session})"


def audit(t: Term) -> list[dict[str, Any]]:
    """Each action's final audit line (a command's "running" line, written as it
    starts, left out)."""
    lines = [json.loads(line) for line in Path(t.audit_log).read_text().splitlines()]
    return [e for e in lines if e.get("state") != "running"]


def inode_of(name: str) -> int:
    return os.stat(f"/run/netns/{name}").st_ino


def show_ours(t: Term, tag: str, count: int) -> None:
    t.wait(lambda s: "namespaces · live" in s, "a populated sidebar")
    t.keys("/")
    t.text(f"nsxt{tag}n")
    t.wait(f"{count}/", f"{count} namespaces shown")
    t.keys("Enter")


def test_marks_in_a_burst_then_run_one_failing_then_all_shown_cancelled(
    nsxt: Any, tui: Callable[..., Term]
) -> None:
    a, b, c = nsxt.netns(), nsxt.netns(), nsxt.netns()
    end_a, _ = nsxt.veth(a, b, address_a="10.233.9.1/24", address_b="10.233.9.2/24")
    t = tui()
    show_ours(t, nsxt.tag, 3)
    t.keys("Space")
    t.wait(lambda s: f"✓ {a}" in s, "the first row marked")
    # one write, as a paste or a laggy link delivers it: the mark lands on the row
    # the cursor reached, never on the one it left
    tmux("send-keys", "-t", t.session, "j", "Space", "X")
    screen = t.wait("Run in 2 marked namespace(s)", "the prompt naming how many")
    # the dialog's text (it names every target, label and inode, over several lines)
    lines = screen.splitlines()
    first = next(i for i, line in enumerate(lines) if "Run in 2 marked" in line)
    prompt = " ".join(line.split("│")[1] for line in lines[first : first + 4] if "│" in line)
    assert a in prompt and b in prompt and c not in prompt
    assert f"(netns {inode_of(a)})" in prompt
    t.text(f"ip link show dev {end_a}")  # end_a is in a only: b fails
    t.keys("Enter")
    screen = t.wait("2 namespace(s): 1 ok, 1 failed", "every namespace's result")
    assert "exit 0" in screen and "exit 1" in screen
    t.keys("Escape")
    t.wait(lambda s: "shown · live" in s, "the main screen back")
    runs = [e for e in audit(t) if e["action"] == "run"]
    assert {e["netns_inode"] for e in runs} == {inode_of(a), inode_of(b)}
    assert sorted(e["exit_status"] for e in runs) == [0, 1]
    tmux("send-keys", "-t", t.session, "Space", "k", "Space")  # unmark b, then a
    t.wait(lambda s: "✓" not in s, "no mark left")
    t.keys("X")
    t.wait("Run in 3 shown namespace(s)", "no mark: every namespace shown")
    t.text("sleep 60")
    t.keys("Enter")
    t.wait("running…", "the commands running")
    t.keys("Escape")  # one key cancels all three
    # cancelled is said apart, never counted as failed
    t.wait("0 ok, 0 failed, 3 cancelled", "the fan-out cancelled", timeout=20)
    assert len([e for e in audit(t) if e["action"] == "run"]) == 5
    t.keys("Escape", "q")
    t.wait("NSX-EXIT=0", "a clean exit")


def test_capture_key_then_bundle(nsxt: Any, tui: Callable[..., Term], tmp_path: Path) -> None:
    a, b = nsxt.netns(), nsxt.netns()
    end_a, _ = nsxt.veth(a, b, address_a="10.233.10.1/24", address_b="10.233.10.2/24")
    t = tui()
    show_ours(t, nsxt.tag, 2)
    t.keys("Enter")  # into the Interfaces pane of the first, a
    t.wait(end_a, "a's veth end listed")
    t.keys("j")  # lo, then the veth end
    t.keys("t")
    t.wait(f"Capture on {end_a}", "the capture prompt naming the interface")
    t.text(" -c 4 icmp")  # a leading space: tmux would take -c for its own option
    t.keys("Enter")
    t.wait("pcap: ", "the capture started, its pcap path shown")
    subprocess.run(
        ["ip", "netns", "exec", b, BUSYBOX, "ping", "-c", "3", "10.233.10.1"],
        capture_output=True,
        check=False,
        timeout=30,
    )
    screen = t.wait("stopped: count", "the capture stopped at its count")
    assert "> 10.233.10.1: ICMP" in screen  # decoded lines (cut at 80 columns, with …)
    (pcap,) = tmp_path.glob("nsexplorer-*.pcap")
    back = subprocess.run(
        ["tcpdump", "-n", "-r", str(pcap)], capture_output=True, text=True, check=True
    )
    assert back.stdout.count("ICMP echo") == 4
    assert f"ip netns exec {a} tcpdump" in t.screen()  # the command bar: c copies it
    t.keys("B")
    t.wait("Write the incident bundle", "the prompt for where to write it")
    t.keys("Enter")  # the default it offers: the current directory (tmp_path)
    t.wait("bundle written", "the bundle notification")
    (archive,) = tmp_path.glob("nsexplorer-*.tar.gz")
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        summary_member = next(n for n in names if n.endswith("/summary.md"))
        f = tar.extractfile(summary_member)
        assert f is not None
        summary = f.read().decode()
    assert f"capture: tcpdump -n -l -U -Z root -i {end_a}" in summary
    assert any("/pcaps/" in n for n in names) and any("/output/" in n for n in names)
    t.keys("q")
    t.wait("NSX-EXIT=0", "a clean exit")


def test_termshark_key_suspends_into_it_inside_the_namespace(
    nsxt: Any, tui: Callable[..., Term], tmp_path: Path
) -> None:
    """termshark is not packaged here: a stand-in on PATH records where it ran and with
    what; the app's side (suspend, the verified entry, the return) is the real one."""
    a = nsxt.netns()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "termshark.txt"
    stand_in = bin_dir / "termshark"
    stand_in.write_text(
        "#!/bin/sh\n"
        f'echo "$@" > {shlex.quote(str(record))}\n'
        f"readlink /proc/self/ns/net >> {shlex.quote(str(record))}\n"
        "echo STAND-IN-TERMSHARK; sleep 1; exit 3\n"
    )
    stand_in.chmod(0o755)
    t = tui(path_first=str(bin_dir))
    show_ours(t, nsxt.tag, 1)
    t.keys("T")
    t.wait("STAND-IN-TERMSHARK", "the terminal handed to termshark")
    t.wait("[termshark exited with status 3]", "the TUI back, saying how it ended")
    args, netns = record.read_text().splitlines()
    assert args == "-i any"
    assert netns == f"net:[{inode_of(a)}]"
    assert [e["action"] for e in audit(t)] == ["exec"]
    t.keys("q")
    t.wait("NSX-EXIT=0", "a clean exit")
