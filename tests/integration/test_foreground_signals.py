"""A command that has the terminal (`s`, `T`, `nsexplorer exec`) when nsexplorer is told
to end (SIGTERM, or SIGHUP when the SSH session drops): the signal goes on to the command
first (an interactive shell, which ignores SIGTERM, is hung up instead), then
nsexplorer's own handler runs; one deaf to it is killed after END_GRACE. A signal
nsexplorer was started ignoring (nohup) stays ignored. Real processes; the script stands
in for the app (its own SIGTERM handler, as Textual's)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

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
