"""`nsexplorer exec TARGET -- sh` in a real terminal (tmux): into the namespace and back."""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest
from test_tui_e2e import new_session, tmux

pytestmark = [pytest.mark.e2e, pytest.mark.root]

TMUX = shutil.which("tmux")


@pytest.fixture
def term() -> Iterator[str]:
    if TMUX is None:
        pytest.skip("tmux is not installed (apt-get install tmux)")
    session = f"nsxt-e2e-{secrets.token_hex(3)}"
    env = f"PS1='$ ' NSX_AUDIT_LOG=/tmp/{session}.audit.log"
    if os.environ.get("DOCKER_HOST"):
        env += f" DOCKER_HOST={shlex.quote(os.environ['DOCKER_HOST'])}"
    shell = (
        f"env -i PATH={shlex.quote(os.environ['PATH'])} HOME=/root TERM=xterm {env} "
        "bash --norc --noprofile"
    )
    new_session(session, 160, 40, shell)  # retries a new-session racing the server's exit
    try:
        yield session
    finally:
        subprocess.run([TMUX, "kill-session", "-t", session], check=False)
        for suffix in (".audit.log",):
            if os.path.exists(f"/tmp/{session}{suffix}"):
                os.unlink(f"/tmp/{session}{suffix}")


def screen(session: str) -> str:
    return tmux("capture-pane", "-p", "-J", "-t", session, "-S", "-200")


def wait_for(session: str, ok: Callable[[str], bool], what: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = screen(session)
        if ok(text):
            return text
        time.sleep(0.1)
    raise AssertionError(f"never saw {what}; screen:\n{text}")


def printed(text: str, word: str) -> bool:
    """``word`` was printed as output (not just echoed as typed input) on the screen.

    Input typed ahead is echoed by the terminal, and a shell prompt may precede output
    on the same line, so look for a line ending in ``word`` that does not hold "echo".
    """
    return any(line.rstrip().endswith(word) and "echo" not in line for line in text.splitlines())


def type_line(session: str, line: str) -> None:
    tmux("send-keys", "-t", session, "-l", line)
    tmux("send-keys", "-t", session, "Enter")


@pytest.fixture
def sleeper() -> Iterator[int]:
    proc = subprocess.Popen(["unshare", "--net", "sleep", "600"])
    try:
        host = os.stat("/proc/thread-self/ns/net").st_ino
        deadline = time.monotonic() + 10
        while os.stat(f"/proc/{proc.pid}/ns/net").st_ino == host:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        subprocess.run(["nsenter", f"--net=/proc/{proc.pid}/ns/net", "ip", "link", "add",
                        "nsxte2e0", "type", "bridge"], check=True)  # fmt: skip
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def test_shell_round_trip(term: str, sleeper: int) -> None:
    nsx = f"{shlex.quote(sys.executable)} -m nsexplorer"
    type_line(term, f"{nsx} exec pid:{sleeper} -- sh")
    wait_for(term, lambda s: "# nsenter --net=" in s, "the equivalent command")
    type_line(term, "echo READY-$((1+1))")
    wait_for(term, lambda s: printed(s, "READY-2"), "the shell inside")
    # ctrl-c at the inner prompt must not kill the shell (nor nsexplorer's wait for it).
    tmux("send-keys", "-t", term, "C-c")
    # Inside: /sys shows the namespace's own interfaces, and arithmetic proves a live shell.
    type_line(term, "ls /sys/class/net; echo MARK-$((6*7)); exit 3")
    text = wait_for(term, lambda s: printed(s, "MARK-42"), "MARK-42 from the shell inside")
    inside = text.split("MARK-$((6*7))")[-1]
    assert "nsxte2e0" in inside
    type_line(term, 'echo "BACK rc=$?"')
    wait_for(term, lambda s: printed(s, "BACK rc=3"), "the outer shell again, exit status passed")


@pytest.mark.docker
def test_shell_into_a_container_with_no_tools_of_its_own(term: str) -> None:
    name = f"nsxt-{secrets.token_hex(2)}-e2e"
    run = ["/usr/bin/docker", "run", "-d", "--name", name, "--network", "none"]
    subprocess.run([*run, "nsx-busybox:test", "sleep", "600"], check=True, capture_output=True)
    try:
        nsx = f"{shlex.quote(sys.executable)} -m nsexplorer"
        type_line(term, f"{nsx} exec {name} -- sh")
        wait_for(term, lambda s: "# nsenter --net=" in s, "the equivalent command")
        # The host's sh and tools: `ip` here is iproute2, not the image's busybox.
        type_line(term, "ip -V; echo MARK-$((6*7)); exit")
        text = wait_for(term, lambda s: printed(s, "MARK-42"), "MARK-42")
        assert "iproute2" in text.split("MARK-$((6*7))")[-1]
        type_line(term, 'echo "BACK rc=$?"')
        wait_for(term, lambda s: printed(s, "BACK rc=0"), "the outer shell again")
    finally:
        subprocess.run(["/usr/bin/docker", "rm", "-f", name], capture_output=True, check=False)


def test_ctrl_c_goes_to_the_command_and_its_status_comes_back(term: str, sleeper: int) -> None:
    nsx = f"{shlex.quote(sys.executable)} -m nsexplorer"
    script = 'trap "echo TRAPPED; exit 5" INT; echo READY; while :; do sleep 0.1; done'
    type_line(term, f"{nsx} exec pid:{sleeper} -- sh -c {shlex.quote(script)}")
    wait_for(term, lambda s: printed(s, "READY"), "the command running")
    tmux("send-keys", "-t", term, "C-c")
    wait_for(term, lambda s: printed(s, "TRAPPED"), "the command's own SIGINT handler")
    type_line(term, 'echo "BACK rc=$?"')
    wait_for(term, lambda s: printed(s, "BACK rc=5"), "the command's exit status, not a kill")
