"""A command that has the terminal (`s`, `T`) when nsexplorer is told to end (SIGTERM,
or SIGHUP when the SSH session drops): the command is hung up first, then nsexplorer's
own handler runs; one that ignores the hangup too is killed after END_GRACE. Real
processes; the script stands in for the app (its own SIGTERM handler, as Textual's)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import signal, sys
    from nsexplorer.actions.runner import call_in_foreground
    signal.signal(signal.SIGTERM, lambda *_: print("app handler", flush=True))
    status = call_in_foreground(["sh", "-c", sys.argv[1]])
    print("returned", status, flush=True)
    """
)


def run_and_term(command: str) -> tuple[str, int]:
    """Start the stand-in, wait for the command's pid, SIGTERM the stand-in."""
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, command], stdout=subprocess.PIPE, text=True
    )
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


def test_sigterm_hangs_the_command_up_then_runs_the_apps_handler() -> None:
    # An interactive shell ignores SIGTERM (exec keeps the ignored disposition).
    out, pid = run_and_term("trap '' TERM; echo $$; exec sleep 60")
    assert gone(pid)
    assert out.splitlines() == ["app handler", f"returned {-signal.SIGHUP}"], out


@pytest.mark.parametrize("ignored", ["TERM HUP"])
def test_a_command_deaf_to_the_hangup_is_killed_after_the_grace(ignored: str) -> None:
    out, pid = run_and_term(f"trap '' {ignored}; echo $$; exec sleep 60")
    assert gone(pid)
    assert out.splitlines() == ["app handler", f"returned {-signal.SIGKILL}"], out
