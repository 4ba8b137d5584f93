"""Thin wrappers over the commands the lab runs (iproute2, util-linux) and /proc lookups."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

from nsexplorer.errors import ActionFailed
from nsexplorer.kernel.mountinfo import MOUNTINFO_LIMIT, MountEntry, parse_tree
from nsexplorer.kernel.nsfs import read_bounded
from nsexplorer.kernel.procfs import all_pids
from nsexplorer.lab.state import PROCESS_MARK

NETNS_DIR = Path("/run/netns")


def run(argv: list[str], stdin: str | None = None, check: bool = True) -> str:
    done = subprocess.run(
        argv, input=stdin, capture_output=True, text=True, check=False, timeout=300
    )
    if check and done.returncode != 0:
        msg = done.stderr.strip() or done.stdout.strip() or f"exit {done.returncode}"
        raise ActionFailed(f"lab: `{' '.join(argv[:6])}` failed: {msg}")
    return done.stdout


def ip(*args: str) -> str:
    return run(["ip", *args])


def ip_batch(lines: Iterable[str], netns_path: str | None = None) -> None:
    """One `ip -batch -` process for many commands, optionally inside a netns file."""
    text = "".join(f"{line}\n" for line in lines)
    if not text:
        return
    argv = ["ip", "-batch", "-"]
    if netns_path is not None:
        # nsenter --net does not copy the mount table (unlike `ip -n`), so it stays cheap
        # with thousands of named namespaces mounted.
        argv = ["nsenter", f"--net={netns_path}", *argv]
    run(argv, stdin=text)


def host_links() -> list[str]:
    """Names of the interfaces in this process's netns (exact, whatever bytes they hold)."""
    try:
        return os.listdir("/sys/class/net")
    except OSError:
        return []


def named_netns() -> list[str]:
    try:
        return os.listdir(NETNS_DIR)
    except OSError:
        return []


def _own_mounts() -> list[MountEntry] | None:
    try:
        data, _ = read_bounded("/proc/thread-self/mountinfo", MOUNTINFO_LIMIT)
    except OSError:
        return None
    return parse_tree(data)


def mount_id_at(path: str) -> int | None:
    """The id of the top-most mount on ``path`` in this mount namespace, if any."""
    found: int | None = None
    for m in _own_mounts() or ():
        if m.mount_point == path:
            found = m.id  # later lines are mounted over earlier ones
    return found


def has_submounts(mount_id: int) -> bool:
    mounts = _own_mounts()
    return mounts is None or any(m.parent == mount_id for m in mounts)


def lab_env() -> dict[str, str]:
    key, value = PROCESS_MARK.split("=", 1)
    env = dict(os.environ)
    env[key] = value
    return env


def is_lab_process(pid: int) -> bool:
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return PROCESS_MARK.encode() in environ.split(b"\0")


def lab_processes() -> list[int]:
    """Every live process that carries the lab's mark in its environment."""
    found: list[int] = []
    me = os.getpid()
    for pid in all_pids():
        if pid != me and is_lab_process(pid):
            found.append(pid)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def kill_and_wait(pids: Iterable[int], timeout: float = 5.0) -> list[int]:
    """SIGKILL the given lab processes (checked by mark); returns those still alive."""
    targets = [p for p in pids if is_lab_process(p)]
    for pid in targets:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        targets = [p for p in targets if alive(p)]
        if not targets:
            break
        time.sleep(0.02)
    return targets


def netns_inode(path: str) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None
