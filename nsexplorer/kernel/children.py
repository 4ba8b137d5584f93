"""Commands that never outlive nsexplorer.

A command nsexplorer runs for a person leads its own session (so stopping it reaches
everything it started), so no terminal hangup reaches it, and nothing of nsexplorer is
left to end it once nsexplorer is SIGKILLed. So every such command gets a parent-death
signal: the kernel sends it SIGKILL when its parent goes, however that happens.

- Set in the child, just before it becomes the command, by an exec wrapper (util-linux's
  ``setpriv --pdeathsig KILL``, the tool that exists for this; a few lines of Python
  through ctypes where setpriv is missing), never by ``preexec_fn``, which can deadlock
  in a threaded process. Then a one-line check that the parent is still nsexplorer: had
  it died between the fork and the prctl, no signal would ever come, and the command
  must not start.
- The kernel sends it when the *thread* that forked the child exits, not the process.
  A command forked by a short-lived worker thread would die as soon as that worker
  returned, so every such fork happens on one long-lived thread (``popen``), or on the
  main thread, which lives as long as the process.
- The signal survives exec of the wrappers (nsenter, unshare, sh, prlimit) and of the
  command itself when nsexplorer runs as root; a fork inside the command does not carry
  it (the kernel clears it in a new child). Where nsexplorer must let nsenter fork
  (entering a pid namespace), the child nsenter makes is guarded again
  (``guard(levels=2)``). What the command forks itself (``sh -c 'ping | cat'``) is
  ended by the session guard (kernel.sessionguard): ``popen`` hands it every command
  started with ``start_new_session=True``, and once nsexplorer is gone it kills
  whatever is left in those sessions, except what left them on purpose (``setsid``).
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

from nsexplorer.kernel import sessionguard

PDEATHSIG = "KILL"
NO_PARENT = 125  # the check failed: nsexplorer is gone, the command never started

# $1 levels up from this process (through /proc/PID/stat, of the procfs mounted here:
# $PPID is 0 for a parent outside our pid namespace) must be nsexplorer ($2); then
# become the command. /proc/PID/stat: "pid (comm) state ppid ...", comm may hold ") ".
_SH_CHECK = (
    'up() { read -r s < "/proc/$1/stat" || return 1; s=${s##*) }; set -- $s; p=$2; }; '
    'p=self; n=$1; while [ "$n" -gt 0 ]; do up "$p" || exit 125; n=$((n - 1)); done; '
    '[ "$p" = "$2" ] || exit 125; shift 2; exec "$@"'
)
# The same, for a host without setpriv: prctl(PR_SET_PDEATHSIG, SIGKILL) itself.
_PY_GUARD = """\
import ctypes, os, sys
if ctypes.CDLL(None, use_errno=True).prctl(1, 9, 0, 0, 0) != 0:
    os._exit(125)
p = "self"
for _ in range(int(sys.argv[1])):
    with open("/proc/%s/stat" % p, "rb") as f:
        p = f.read().rsplit(b")", 1)[1].split()[1].decode()
if p != sys.argv[2]:
    os._exit(125)
try:
    os.execvp(sys.argv[3], sys.argv[3:])
except OSError as err:
    sys.stderr.write("nsexplorer: %s: %s\\n" % (sys.argv[3], err.strerror))
    os._exit(127)
"""


def guard(levels: int = 1) -> list[str]:
    """argv words that run the rest with a parent-death SIGKILL, once the process
    ``levels`` up from it was checked to be this nsexplorer (1: its parent; 2: the
    parent of the nsenter that forked it)."""
    me = str(os.getpid())
    setpriv = _setpriv()
    if setpriv is not None:
        return [setpriv, f"--pdeathsig={PDEATHSIG}", "--", "sh", "-c", _SH_CHECK, "sh",
                str(levels), me]  # fmt: skip
    return [sys.executable, "-I", "-S", "-c", _PY_GUARD, str(levels), me]


_setpriv_path: list[str | None] = []


def _setpriv() -> str | None:
    if not _setpriv_path:
        _setpriv_path.append(shutil.which("setpriv"))
    return _setpriv_path[0]


def popen(argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    """``subprocess.Popen(argv, **kwargs)``, forked by a thread that lives as long as
    the process (see the module's doc). The caller uses the result from any thread.
    With ``start_new_session=True`` the session guard ends everything left in that
    session once nsexplorer is gone (kernel.sessionguard)."""
    if threading.current_thread() is threading.main_thread():
        return _started(argv, kwargs)
    done: Future[subprocess.Popen[bytes]] = Future()
    _spawner().put((lambda: _started(argv, kwargs), done))
    return done.result()


def _started(argv: Sequence[str], kwargs: dict[str, Any]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(list(argv), **kwargs)
    if kwargs.get("start_new_session"):
        sessionguard.watch(proc.pid)
    return proc


_Job = tuple[Callable[[], "subprocess.Popen[bytes]"], "Future[subprocess.Popen[bytes]]"]
_jobs: queue.SimpleQueue[_Job] | None = None
_lock = threading.Lock()


def _spawner() -> queue.SimpleQueue[_Job]:
    global _jobs  # noqa: PLW0603 - one spawner thread per process, started on first use
    with _lock:
        if _jobs is None:
            jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
            threading.Thread(
                target=_spawn_forever, args=(jobs,), name="nsx-spawner", daemon=True
            ).start()
            _jobs = jobs
        return _jobs


def _spawn_forever(jobs: queue.SimpleQueue[_Job]) -> None:
    while True:
        start, done = jobs.get()
        try:
            done.set_result(start())
        except BaseException as err:  # handed to the caller, who raises it
            done.set_exception(err)
