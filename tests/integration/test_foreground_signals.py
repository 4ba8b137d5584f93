"""A command that has the terminal (`s`, `T`, `nsexplorer exec`) when nsexplorer is told
to end (SIGTERM, or SIGHUP when the SSH session drops): the signal goes on to the command
first (an interactive shell, which ignores SIGTERM, is hung up instead), then
nsexplorer's own handler runs; one deaf to it is killed after END_GRACE. A signal
nsexplorer was started ignoring (nohup) stays ignored. Real processes; the script stands
in for the app (its own SIGTERM handler, as Textual's)."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import pytest

SCRIPT = textwrap.dedent(
    """
    import errno, os, signal, sys
    from nsexplorer.actions.runner import call_in_foreground
    command, interactive, pidfd = sys.argv[1], sys.argv[2] == "1", sys.argv[3] == "1"
    if not pidfd:  # no descriptor left: os.pidfd_open fails as with EMFILE
        def no_pidfd(pid, flags=0):
            raise OSError(errno.EMFILE, "Too many open files")
        os.pidfd_open = no_pidfd
    signal.signal(signal.SIGTERM, lambda *_: print("app handler", flush=True))
    status = call_in_foreground(["sh", "-c", command], interactive=interactive)
    print("returned", status, flush=True)
    """
)


def run_and_signal(
    command: str, *, interactive: bool = True, pidfd: bool = True
) -> tuple[str, int]:
    """Start the stand-in, wait for the command's pid, SIGTERM the stand-in."""
    argv = [sys.executable, "-c", SCRIPT, command, str(int(interactive)), str(int(pidfd))]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        pid = int(proc.stdout.readline())
        os.kill(proc.pid, signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)  # the command itself sleeps 60 s
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return out, pid


def gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1].startswith("Z")  # reaped soon after
    except FileNotFoundError:
        return True


@pytest.mark.parametrize("pidfd", [True, False], ids=["pidfd", "no-pidfd"])
def test_sigterm_hangs_a_shell_up_then_runs_the_apps_handler(pidfd: bool) -> None:
    # An interactive shell ignores SIGTERM (exec keeps the ignored disposition).
    out, pid = run_and_signal("trap '' TERM; echo $$; exec sleep 60", pidfd=pidfd)
    assert gone(pid)
    assert out.splitlines() == ["app handler", f"returned {-signal.SIGHUP}"], out


@pytest.mark.parametrize("pidfd", [True, False], ids=["pidfd", "no-pidfd"])
def test_a_command_deaf_to_the_hangup_is_killed_after_the_grace(pidfd: bool) -> None:
    out, pid = run_and_signal("trap '' TERM HUP; echo $$; exec sleep 60", pidfd=pidfd)
    assert gone(pid)
    assert out.splitlines() == ["app handler", f"returned {-signal.SIGKILL}"], out


def test_a_command_gets_the_sigterm_itself() -> None:
    """`nsexplorer exec T -- daemon` stopped by a supervisor: the daemon must see the
    SIGTERM (a SIGHUP would mean "reload" to nginx or dnsmasq)."""
    waits = "trap 'echo got HUP' HUP; trap 'echo got TERM; exit 3' TERM; echo $$"
    out, pid = run_and_signal(f"{waits}; while :; do sleep 0.1; done", interactive=False)
    assert gone(pid)
    assert out.splitlines() == ["got TERM", "app handler", "returned 3"], out


def test_a_hangup_ignored_from_the_start_stays_ignored() -> None:
    """nohup nsexplorer exec ...: the hangup reaches neither nsexplorer nor the command,
    which inherits the ignored SIGHUP."""
    command = "grep SigIgn /proc/$$/status; echo $$; trap 'echo got HUP' HUP; sleep 2; echo alive"
    script = [sys.executable, "-c", SCRIPT, command, "0", "1"]
    proc = subprocess.Popen(
        script,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),  # noqa: PLW1509
    )
    try:
        assert proc.stdout is not None
        ignored = proc.stdout.readline()  # "SigIgn: <mask>" of the command
        assert int(ignored.split()[1], 16) & (1 << (signal.SIGHUP - 1)), ignored
        int(proc.stdout.readline())  # its pid: it runs
        os.kill(proc.pid, signal.SIGHUP)
        out, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert out.splitlines() == ["alive", "returned 0"], out


TAKES_THE_TERMINAL = textwrap.dedent(
    """
    import os, termios
    from nsexplorer.actions.runner import call_in_foreground
    # an interactive shell takes the terminal for its own group, then dies of SIGKILL
    status = call_in_foreground(["bash", "--norc", "--noprofile", "-i", "-c", "kill -9 $$"])
    print("returned", status, "foreground", os.tcgetpgrp(0) == os.getpgrp(), flush=True)
    termios.tcsetattr(0, termios.TCSANOW, termios.tcgetattr(0))  # as Textual resuming
    print("resumed", flush=True)
    """
)


@pytest.mark.skipif(not shutil.which("bash"), reason="bash is not installed")
def test_the_terminal_comes_back_from_a_killed_shell() -> None:
    """QA: the `s` shell SIGKILLed (its container stopped) left nsexplorer stopped by
    SIGTTOU at the outer shell's prompt (`[1]+ Stopped`), `fg` needed."""
    pid, master = pty.fork()
    if pid == 0:  # a session leader on its own terminal, as nsexplorer in a terminal
        os.execv(sys.executable, [sys.executable, "-c", TAKES_THE_TERMINAL])  # noqa: S606
    out = b""
    deadline = time.monotonic() + 20
    try:
        while time.monotonic() < deadline and b"resumed" not in out:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                with contextlib.suppress(OSError):
                    out += os.read(master, 4096)
            ended, status = os.waitpid(pid, os.WNOHANG | os.WUNTRACED)
            if ended and os.WIFSTOPPED(status):
                pytest.fail(f"stopped by signal {os.WSTOPSIG(status)}: {out!r}")
            if ended:  # (an orphaned group gets EIO instead of the stop)
                pid = 0
                break
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(master)
    assert b"returned -9 foreground True" in out and b"resumed" in out, out
