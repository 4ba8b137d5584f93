"""Processes in one network namespace, fetched on demand (psutil is imported lazily)."""

from __future__ import annotations

import os

from nsexplorer.collect.nsfs import parse_ns_link
from nsexplorer.kernel import procfs
from nsexplorer.model import ProcessInfo

CMDLINE_LIMIT = 4096


def pids_in(netns_inode: int, proc: str = "/proc") -> list[int]:
    out: list[int] = []
    for pid in procfs.all_pids(proc):
        try:
            ino = parse_ns_link(os.readlink(f"{proc}/{pid}/ns/net"), "net")
        except OSError:
            continue
        if ino == netns_inode:
            out.append(pid)
    return out


def processes_in(netns_inode: int, proc: str = "/proc") -> tuple[ProcessInfo, ...]:
    import psutil

    out: list[ProcessInfo] = []
    for pid in pids_in(netns_inode, proc):
        try:
            p = psutil.Process(pid)
            with p.oneshot():
                user = p.username()
                cmd = p.cmdline()
                command = " ".join(cmd) if cmd else f"[{p.name()}]"
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
        except psutil.AccessDenied:
            user, command = "?", "?"
        except (KeyError, OSError):
            user, command = "?", "?"
        if len(command) > CMDLINE_LIMIT:
            command = command[:CMDLINE_LIMIT] + "..."
        out.append(ProcessInfo(pid=pid, user=user, command=command))
    return tuple(out)
