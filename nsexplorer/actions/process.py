"""Running one argv with its output captured, bounded, and stoppable.

The child leads its own session (``start_new_session``: done in C by subprocess, no
``preexec_fn``, safe in a threaded process), so stopping it reaches everything it
started: the whole process group gets SIGINT when the user cancels it (as ctrl+c would),
SIGTERM (at once on a timeout), then SIGKILL after grace periods. It is
forked by kernel.children's long-lived thread, so the parent-death signal its argv sets
up (Opened.argv) fires when nsexplorer dies, not when the calling worker returns; and
what it forks is ended then by kernel.sessionguard (it leads its own session).
"""

from __future__ import annotations

import codecs
import contextlib
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from nsexplorer.actions.output import DEFAULT_LIMIT, TailBuffer
from nsexplorer.kernel import children

POLL = 0.1  # seconds between checks of cancel() and the deadline
DRAIN = 0.5  # after the command exits, how long a background child may hold the pipe
GRACE = 2.0  # SIGTERM to SIGKILL
INTERRUPT_GRACE = 1.0  # a cancelled command's SIGINT to SIGTERM


@dataclass(frozen=True, slots=True)
class Captured:
    exit_status: int | None  # None: stopped by us
    output: str
    truncated: bool
    total_bytes: int
    stopped: str = ""  # "", "timeout" or "cancelled"


def exit_status_of(returncode: int) -> int:
    """The shell's convention: 128+N for a command killed by signal N."""
    return 128 - returncode if returncode < 0 else returncode


def run_captured(
    argv: Sequence[str],
    *,
    timeout: float | None = None,
    cancel: Callable[[], bool] | None = None,
    limit: int = DEFAULT_LIMIT,
    pass_fds: Sequence[int] = (),
    on_output: Callable[[str], None] | None = None,
) -> Captured:
    """Run ``argv`` (stdin closed), stdout and stderr merged into a tail buffer.

    ``pass_fds``: descriptors the child inherits (every other one is closed there).
    ``on_output`` receives the output as it arrives, decoded (UTF-8, invalid bytes
    replaced), on this thread.

    Raises OSError when the program cannot be started at all.
    """
    proc = children.popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        close_fds=True,
        pass_fds=tuple(pass_fds),
    )
    if proc.stdout is None:  # pragma: no cover - stdout=PIPE always gives one
        raise OSError("no pipe to the command")
    buf = TailBuffer(limit)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    deadline = None if timeout is None else time.monotonic() + timeout
    stopped = ""
    exited_at: float | None = None
    sel = selectors.DefaultSelector()
    pipe_open = True
    sel.register(proc.stdout, selectors.EVENT_READ)
    interrupted_at: float | None = None
    try:
        while True:
            if interrupted_at is None and cancel is not None and cancel():
                # as ctrl+c at a terminal would: its last words (ping's statistics) are
                # still read; SIGTERM, then SIGKILL, if it is not done in INTERRUPT_GRACE
                stopped = "cancelled"
                interrupted_at = time.monotonic()
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGINT)
            if interrupted_at is not None and time.monotonic() - interrupted_at > INTERRUPT_GRACE:
                break
            if deadline is not None and time.monotonic() >= deadline:
                stopped = "timeout"
                break
            if pipe_open:
                if sel.select(POLL):
                    chunk = os.read(proc.stdout.fileno(), 65536)
                    if chunk:
                        buf.write(chunk)
                        if on_output is not None:
                            on_output(decoder.decode(chunk))
                        continue
                    sel.unregister(proc.stdout)
                    pipe_open = False
            else:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=POLL)  # returns as soon as it exits
            if proc.poll() is not None:
                if not pipe_open:
                    break
                exited_at = time.monotonic() if exited_at is None else exited_at
                if time.monotonic() - exited_at > DRAIN:
                    break
    finally:
        sel.close()
        proc.stdout.close()
        if stopped or proc.poll() is None:
            _stop_group(proc)
    status = None if stopped else exit_status_of(proc.returncode)
    return Captured(status, buf.text(), buf.truncated, buf.total, stopped)


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, GRACE), (signal.SIGKILL, None)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue
