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
it outlives nsexplorer). For every command nsexplorer sends it, over a SOCK_SEQPACKET
socket on its stdin, the pid with a pidfd (``pidfd_open`` of a child not yet reaped
names that child: ~0.1 ms, nothing waits for the guard, which starts in parallel).
When nsexplorer's pidfd turns readable (nsexplorer exited, however; EOF on the
socket comes earlier, while it is still exiting), it SIGKILLs every process of every
session it tracks, scanning /proc until none is left, and exits. A normal exit of
nsexplorer ends them just the same.

Never anything nsexplorer did not start: a pid number stays allocated while any
process still uses it as its session (or process group) id, so while a tracked
session has a live member its id cannot name another session. The guard holds a pidfd
on each member it knows (first the leader, from nsexplorer); when the last one exits
it scans /proc for members it did not know (forked since), pins those, or, if none is
left, forgets the session. Every kill goes through a pidfd opened and then checked
(session id, not a zombie), so a pid reused meanwhile is never signalled. What remains
is the short time between a session's last known member exiting and that scan (50 ms
to 1 s: scans are batched, see RESCAN_DELAY), during which the kernel would have to
hand out its whole pid range (/proc/sys/kernel/pid_max) to reuse the number.

Commands run with the terminal (``exec TARGET -- CMD``, the ``s`` shell, termshark)
cannot lead a session: they stay in the terminal's, in nsexplorer's process group (the
foreground job). When a shell made nsexplorer a job (it leads its process group) and
nsexplorer runs as the program (cli.main), the guard also ends what is left of that
group, except what was in it before and does not descend from nsexplorer (the other
commands of a pipeline, ``nsexplorer exec T -- cmd | less``). An interactive shell
(``s``) puts each job a person starts in a group of its own (job control): those are
the person's, as in any shell; the shell itself dies with nsexplorer (its parent-death
signal). Run inside another program (pytest), the group is not nsexplorer's: untouched.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time

# Members that exited close together are re-checked in one /proc scan, at least this
# long after the first: 20 times what the last scan took (so the guard spends at most
# ~5% of a CPU on it while many commands end), within these bounds (seconds).
RESCAN_DELAY = (0.05, 1.0)
KILL_ROUNDS = 50  # scans at death until a tracked session is empty (forks race the kill)

# ---------------------------------------------------------------- nsexplorer's side

_lock = threading.Lock()
_guard: list[tuple[subprocess.Popen[bytes], socket.socket]] = []  # once started
_unsupported: list[bool] = []


def watch(pid: int) -> bool:
    """Have the guard end session ``pid`` (a command that just started, leads its own
    session and is not reaped yet) whenever nsexplorer ends. False when no guard can
    run here."""
    if not hasattr(os, "pidfd_open"):
        return False
    try:
        # Not yet reaped: the pid still names our child (a /proc read here would wait
        # for its exec to finish: ~1 ms; pidfd_open does not).
        pidfd = os.pidfd_open(pid)
    except OSError:
        return False
    try:
        with _lock:
            for _ in range(2):  # a guard that died is replaced once
                got = _running_guard()
                if got is None:
                    return False
                try:
                    socket.send_fds(got[1], [str(pid).encode()], [pidfd])
                    return True
                except OSError:
                    _stop_guard()
    finally:
        os.close(pidfd)
    return False


_group: list[str] = []  # "allowed" once main() allowed it, "sent" once it was sent


def allow_own_group() -> None:
    """nsexplorer runs as the program (not inside another one, as under pytest): its
    own process group, if it leads one, is its to end (see watch_group)."""
    with _lock:
        if not _group:
            _group.append("allowed")


def watch_group() -> bool:
    """Before a command runs with the terminal: have the guard end, once nsexplorer is
    gone, what is left of nsexplorer's own process group. Only when the shell made
    nsexplorer a job (it leads its group) and main() allowed it; what was in the group
    before (``nsexplorer ... | less``: less) is left alone. False when not done."""
    if os.getpgrp() != os.getpid() or not hasattr(os, "pidfd_open"):
        return False
    with _lock:
        if _group != ["allowed"]:
            return _group == ["allowed", "sent"]
        for _ in range(2):
            got = _running_guard()
            if got is None:
                return False
            try:
                got[1].send(f"G {os.getppid()} {os.getsid(0)}".encode())
                _group.append("sent")
                return True
            except OSError:
                _stop_guard()
    return False


def guard_pid() -> int | None:
    """The guard's pid, once one runs (for tests and diagnostics)."""
    with _lock:
        return _guard[0][0].pid if _guard and _guard[0][0].poll() is None else None


def _running_guard() -> tuple[subprocess.Popen[bytes], socket.socket] | None:
    if _guard and _guard[0][0].poll() is None:
        return _guard[0]
    _stop_guard()
    if _unsupported:
        return None
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        guard = subprocess.Popen(
            [sys.executable, "-I", "-S", __file__, str(os.getpid())],
            stdin=theirs.fileno(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
            cwd="/",
        )
    except OSError:
        ours.close()
        _unsupported.append(True)
        return None
    finally:
        theirs.close()
    _guard.append((guard, ours))
    return _guard[0]


def _stop_guard() -> None:
    for _, sock in _guard:
        sock.close()
    _guard.clear()


def _stat(pid: int) -> list[str] | None:
    """/proc/PID/stat after the command name: [state, ppid, pgrp, session, ...]."""
    try:
        fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        data = os.read(fd, 4096)
    except OSError:
        return None
    finally:
        os.close(fd)
    return data[data.rindex(b")") + 2 :].decode("ascii", "replace").split()


# ---------------------------------------------------------------- the guard's side


class _Sessions:
    """The sessions the guard ends, each with pidfds on the members it knows."""

    def __init__(self) -> None:
        self.known: dict[int, dict[int, int]] = {}  # session -> {pidfd: pid}
        self.rescan: dict[int, float] = {}  # session with no known member -> since
        self.delay = RESCAN_DELAY[0]
        self.group: tuple[int, int] | None = None  # nsexplorer's (pgid, session)
        self.outsiders: dict[int, int] = {}  # pid -> pidfd: in the group, not ours
        self.shell = 0  # nsexplorer's parent

    def add_group(self, parent: int, shell: int, sid: int, alive: int | None) -> None:
        """nsexplorer's own process group (``parent`` leads it, in session ``sid``),
        minus what is in it and not nsexplorer's: the other commands of a pipeline and
        what they fork, started by nsexplorer's own parent ``shell``. Seen now, while
        nsexplorer lives (``alive``: its pidfd), by ancestry; at the end by descent
        from ``shell`` (what nsexplorer left behind was re-parented away from it)."""
        if self.group is not None:
            return
        self.group = (parent, sid)
        self.shell = shell
        if alive is None or not _running(alive):
            return
        rows = _scan()
        parents = {pid: ppid for pid, ppid, _, _ in rows}
        for pid, _, pgid, psid in rows:
            if (pgid, psid) == self.group and pid != parent and parent not in _chain(pid, parents):
                fd = _pin(pid, psid, pgid)
                if fd is not None:
                    self.outsiders[pid] = fd
        if not _running(alive):  # died during the scan: what it left looked like outsiders
            for fd in self.outsiders.values():
                os.close(fd)
            self.outsiders.clear()

    def ours_in_group(self, pid: int, parents: dict[int, int]) -> bool:
        if pid in self.outsiders:
            return False
        chain = _chain(pid, parents)
        return self.group is not None and (self.group[0] in chain or self.shell not in chain)

    def add(self, pid: int, fd: int) -> None:
        """A command nsexplorer started, leading session ``pid``, by the pidfd it sent."""
        held = _pidfd_pid(fd)
        if held is None:
            # nsexplorer reaped it before we got here. Its pid stays allocated while
            # its session has a member, so a process now numbered ``pid`` proves the
            # session emptied (and the number went to a newcomer); else what still has
            # session id ``pid`` is this command's.
            os.close(fd)
            if _stat(pid) is None:
                self.known.setdefault(pid, {})
                self.rescan[pid] = 0.0
            return
        fields = _stat(pid)
        if held != pid or fields is None or int(fields[3]) != pid:
            os.close(fd)  # not a session leader: nothing to tell its session by
            return
        self.known.setdefault(pid, {})[fd] = pid  # exited already: the poll says so

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
        return max(0.0, min(self.rescan.values()) + self.delay - time.monotonic())

    def do_rescan(self) -> None:
        sids = set(self.rescan)
        self.rescan.clear()
        t0 = time.monotonic()
        found = _members(sids)
        took = time.monotonic() - t0
        self.delay = min(max(20 * took, RESCAN_DELAY[0]), RESCAN_DELAY[1])
        for pid, sid in found:
            fd = _pin(pid, sid)
            if fd is not None:
                self.known[sid][fd] = pid
        for sid in sids:
            if not self.known[sid]:
                del self.known[sid]  # empty: its id may name someone else's from now on

    def end_all(self) -> None:
        """SIGKILL every member of every tracked session, until none is left."""
        for members in self.known.values():
            for known in members:
                _kill(known)
        sids = set(self.known)
        for n in range(KILL_ROUNDS):
            found = False
            rows = _scan()
            parents = {pid: ppid for pid, ppid, _, _ in rows}
            for pid, _, pgid, sid in rows:
                if sid in sids:
                    fd = _pin(pid, sid)
                elif (pgid, sid) == self.group and self.ours_in_group(pid, parents):
                    fd = _pin(pid, sid, pgid)
                else:
                    continue
                if fd is not None:
                    found = True
                    _kill(fd)
                    os.close(fd)
            if not found:
                return
            time.sleep(0.002 * (n + 1))


def _members(sids: set[int]) -> list[tuple[int, int]]:
    """(pid, session) of every live process (not a zombie) in one of ``sids``."""
    return [(pid, sid) for pid, _, _, sid in _scan() if sid in sids] if sids else []


def _running(pidfd: int) -> bool:
    """The process behind ``pidfd`` has not exited (its pidfd is not readable)."""
    return not select.select([pidfd], [], [], 0)[0]


def _chain(pid: int, parents: dict[int, int]) -> list[int]:
    """The ancestors of ``pid`` (nearest first), as far as ``parents`` knows them."""
    up: list[int] = []
    while pid in parents and len(up) < 256:
        pid = parents[pid]
        up.append(pid)
    return up


def _scan() -> list[tuple[int, int, int, int]]:
    """(pid, ppid, pgid, session) of every live process but this one (not zombies)."""
    me = os.getpid()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        fields = _stat(int(name))
        if fields is not None and fields[0] != "Z":
            found.append((int(name), int(fields[1]), int(fields[2]), int(fields[3])))
    return found


def _pin(pid: int, sid: int, pgid: int | None = None) -> int | None:
    """A pidfd on ``pid`` if it is, as checked after opening it, a live member of
    session ``sid`` (and of process group ``pgid``, when given); else None."""
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return None
    fields = _stat(pid)
    if (
        fields is None
        or fields[0] == "Z"
        or int(fields[3]) != sid
        or (pgid is not None and int(fields[2]) != pgid)
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


def _pidfd_pid(fd: int) -> int | None:
    """The pid the pidfd ``fd`` refers to (None once that process was reaped)."""
    try:
        with open(f"/proc/self/fdinfo/{fd}", "rb") as f:
            for line in f:
                if line.startswith(b"Pid:"):
                    pid = int(line.split()[1])
                    return pid if pid > 0 else None
    except (OSError, ValueError):
        pass
    return None


def _take(sessions: _Sessions, sock: socket.socket, parent: int, alive: int | None = None) -> bool:
    """Take one registration (the pid, with its pidfd; or ``G``: nsexplorer's group)
    from ``sock``; False at EOF: nsexplorer is gone. Raises BlockingIOError when none
    is queued (non-blocking)."""
    try:
        data, fds, _, _ = socket.recv_fds(sock, 32, 1)
    except BlockingIOError:
        raise
    except OSError:
        return False
    if data.isdigit() and len(fds) == 1:
        sessions.add(int(data), fds[0])
    elif data[:2] == b"G " and not fds and data[2:].replace(b" ", b"").isdigit():
        shell, sid = (int(word) for word in data.split()[1:3])
        sessions.add_group(parent, shell, sid, alive)
    else:
        for fd in fds:
            os.close(fd)
    return bool(data or fds)


def main(argv: list[str]) -> int:
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGPIPE, signal.SIGTSTP):
        signal.signal(sig, signal.SIG_IGN)
    sessions = _Sessions()
    nsx = int(argv[0])
    parent = _parent_pidfd(nsx)
    sock = socket.socket(fileno=os.dup(0))
    poll = select.poll()
    polled: set[int] = set()
    alive = parent is not None
    if parent is not None:
        poll.register(parent, select.POLLIN)
    poll.register(sock.fileno(), select.POLLIN)
    while alive:
        for fd in set(sessions.fds()) - polled:
            poll.register(fd, select.POLLIN)
            polled.add(fd)
        wait = sessions.due()
        for fd, _ in poll.poll(None if wait is None else int(wait * 1000) + 1):
            if fd == parent:
                alive = False
            elif fd == sock.fileno() and not _take(sessions, sock, nsx, parent):
                # EOF: nsexplorer is exiting (its files close before it is a zombie
                # and its children are re-parented) or dropped us; either way it is
                # guarded until its pidfd says it is gone.
                poll.unregister(fd)
            elif fd in polled:
                poll.unregister(fd)
                polled.discard(fd)
                sessions.exited(fd)
        wait = sessions.due()
        if alive and wait is not None and wait <= 0:
            sessions.do_rescan()
    # What is still queued was sent before nsexplorer died: honour it too.
    sock.setblocking(False)
    with contextlib.suppress(BlockingIOError):
        while _take(sessions, sock, nsx):
            pass
    sessions.end_all()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
