"""One guard per nsexplorer process ends what its commands forked once nsexplorer is gone.

A command nsexplorer starts for a person leads its own session and carries a
parent-death signal (kernel.children), but a process it forks does not carry that
signal: ``sh -c 'ping ... | cat'`` loses sh with nsexplorer while ping and cat run on.
What they keep is the session id (field 6 of /proc/PID/stat), which survives
re-parenting and which no process can join from outside; only ``setsid`` leaves it,
and that is how a process is detached on purpose (daemons, ``setsid CMD``).

So the first such command starts a guard: this file, run by the same interpreter as
``python -I -S FILE NSX_PID`` (stdlib only, nothing of nsexplorer imported; its own
session, so no ctrl-c or hangup of the terminal reaches it; no parent-death signal, so
it outlives nsexplorer). nsexplorer writes ``PID START`` to its stdin for every command
(a write to a pipe: microseconds; the guard starts in parallel). When that pipe hits
EOF or nsexplorer's pidfd turns readable (nsexplorer exited, however), it SIGKILLs every
process of every session it tracks, scanning /proc until none is left, and exits.

Never anything nsexplorer did not start: a pid number stays allocated while any
process still uses it as its session id, so while a tracked session has a live member
its id cannot name another session. The guard holds a pidfd on each member it knows
(first the leader, checked against the start time nsexplorer sent); when the last one
exits it scans /proc once for members it did not know (forked since), pins those, or,
if none is left, forgets the session. Every kill goes through a pidfd opened and then
checked (session id, not a zombie), so a pid reused meanwhile is never signalled.
What remains is the few milliseconds between a session's last known member exiting
and that scan, during which the kernel would have to wrap around its whole pid range.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import threading
import time

RESCAN_DELAY = 0.05  # s: members that exited together are re-checked in one /proc scan
KILL_ROUNDS = 50  # scans at death until a tracked session is empty (forks race the kill)

# ---------------------------------------------------------------- nsexplorer's side

_lock = threading.Lock()
_guard: list[subprocess.Popen[bytes]] = []  # the running guard, once started
_unsupported: list[bool] = []


def watch(pid: int) -> bool:
    """Have the guard end session ``pid`` (a command that just started and leads its
    own session) whenever nsexplorer ends. False when no guard can run here."""
    start = _start_time(pid)
    if start is None:
        # Already reaped: nothing is left to pin (a member of its session would keep
        # the leader's pid allocated, and it was not).
        return True
    line = f"{pid} {start}\n".encode()
    with _lock:
        for _ in range(2):  # a guard that died is replaced once
            guard = _running_guard()
            if guard is None or guard.stdin is None:
                return False
            try:
                os.write(guard.stdin.fileno(), line)
                return True
            except OSError:
                _guard.clear()
    return False


def guard_pid() -> int | None:
    """The guard's pid, once one runs (for tests and diagnostics)."""
    with _lock:
        return _guard[0].pid if _guard and _guard[0].poll() is None else None


def _running_guard() -> subprocess.Popen[bytes] | None:
    if _guard and _guard[0].poll() is None:
        return _guard[0]
    _guard.clear()
    if _unsupported or not hasattr(os, "pidfd_open"):
        return None
    try:
        guard = subprocess.Popen(
            [sys.executable, "-I", "-S", __file__, str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
            cwd="/",
        )
    except OSError:
        _unsupported.append(True)
        return None
    _guard.append(guard)
    return guard


def _start_time(pid: int) -> str | None:
    fields = _stat(pid)
    return None if fields is None else fields[19]


def _stat(pid: int) -> list[str] | None:
    """/proc/PID/stat after the command name: [state, ppid, pgrp, session, ...]."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read(4096)
    except OSError:
        return None
    return data[data.rindex(b")") + 2 :].decode("ascii", "replace").split()


# ---------------------------------------------------------------- the guard's side


class _Sessions:
    """The sessions the guard ends, each with pidfds on the members it knows."""

    def __init__(self) -> None:
        self.known: dict[int, dict[int, int]] = {}  # session -> {pidfd: pid}
        self.rescan: dict[int, float] = {}  # session with no known member -> since

    def add(self, pid: int, start: str) -> None:
        fd = _pin(pid, pid, start)
        if fd is not None:
            self.known.setdefault(pid, {})[fd] = pid
            return
        now = _stat(pid)
        if now is not None and now[19] != start:
            return  # the leader is gone and its pid names a newcomer: its session emptied
        # The leader exited: a pid is not reused while its
        # session has a member, so whatever still has session id ``pid`` is its.
        self.known.setdefault(pid, {})
        self.rescan[pid] = 0.0

    def fds(self) -> list[int]:
        return [fd for members in self.known.values() for fd in members]

    def exited(self, fd: int) -> None:
        for sid, members in self.known.items():
            if fd in members:
                del members[fd]
                os.close(fd)
                if not members:
                    self.rescan.setdefault(sid, time.monotonic())
                return

    def due(self) -> float | None:
        """Seconds until the next rescan (None: none pending)."""
        if not self.rescan:
            return None
        return max(0.0, min(self.rescan.values()) + RESCAN_DELAY - time.monotonic())

    def do_rescan(self) -> None:
        sids = set(self.rescan)
        self.rescan.clear()
        for pid, sid in _members(sids):
            fd = _pin(pid, sid)
            if fd is not None:
                self.known[sid][fd] = pid
        for sid in sids:
            if not self.known[sid]:
                del self.known[sid]  # empty: its id may name someone else's from now on

    def end_all(self) -> None:
        """SIGKILL every member of every tracked session, until none is left."""
        for members in self.known.values():
            for fd in members:
                _kill(fd)
        sids = set(self.known)
        for n in range(KILL_ROUNDS):
            found = False
            for pid, sid in _members(sids):
                fd = _pin(pid, sid)
                if fd is not None:
                    found = True
                    _kill(fd)
                    os.close(fd)
            if not found:
                return
            time.sleep(0.002 * (n + 1))


def _members(sids: set[int]) -> list[tuple[int, int]]:
    """(pid, session) of every live process (not a zombie) in one of ``sids``."""
    if not sids:
        return []
    me = os.getpid()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        fields = _stat(int(name))
        if fields is not None and fields[0] != "Z" and int(fields[3]) in sids:
            found.append((int(name), int(fields[3])))
    return found


def _pin(pid: int, sid: int, start: str | None = None) -> int | None:
    """A pidfd on ``pid`` if it is, as checked after opening it, a live member of
    session ``sid`` (started at ``start``, when given); else None."""
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return None
    fields = _stat(pid)
    if (
        fields is None
        or fields[0] == "Z"
        or int(fields[3]) != sid
        or (start is not None and fields[19] != start)
    ):
        os.close(fd)
        return None
    try:
        signal.pidfd_send_signal(fd, 0)  # still the process /proc described
    except OSError:
        os.close(fd)
        return None
    return fd


def _kill(fd: int) -> None:
    with contextlib.suppress(OSError):
        signal.pidfd_send_signal(fd, signal.SIGKILL)


def _parent_pidfd(parent: int) -> int | None:
    try:
        fd = os.pidfd_open(parent)
    except OSError:
        return None
    if os.getppid() != parent:  # it died before we could pin it
        os.close(fd)
        return None
    return fd


def _take(sessions: _Sessions, data: bytes) -> bytes:
    """Registrations (``PID START`` lines) from ``data``; the unfinished rest."""
    *lines, rest = data.split(b"\n")
    for line in lines:
        words = line.split()
        if len(words) == 2 and words[0].isdigit():
            sessions.add(int(words[0]), words[1].decode("ascii", "replace"))
    return rest


def main(argv: list[str]) -> int:
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGPIPE, signal.SIGTSTP):
        signal.signal(sig, signal.SIG_IGN)
    sessions = _Sessions()
    parent = _parent_pidfd(int(argv[0]))
    stdin = sys.stdin.fileno()
    pending = b""
    poll = select.poll()
    polled: set[int] = set()
    alive = parent is not None
    if parent is not None:
        poll.register(parent, select.POLLIN)
    poll.register(stdin, select.POLLIN)
    while alive:
        for fd in set(sessions.fds()) - polled:
            poll.register(fd, select.POLLIN)
            polled.add(fd)
        wait = sessions.due()
        for fd, _ in poll.poll(None if wait is None else int(wait * 1000) + 1):
            if fd == parent:
                alive = False
            elif fd == stdin:
                chunk = os.read(stdin, 65536)
                alive = alive and bool(chunk)
                pending = _take(sessions, pending + chunk)
            else:
                poll.unregister(fd)
                polled.discard(fd)
                sessions.exited(fd)
        wait = sessions.due()
        if alive and wait is not None and wait <= 0:
            sessions.do_rescan()
    # What is still in the pipe was written before nsexplorer died: honour it too.
    os.set_blocking(stdin, False)
    with contextlib.suppress(OSError):
        pending += os.read(stdin, 1 << 20)
    _take(sessions, pending + b"\n")
    sessions.end_all()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
