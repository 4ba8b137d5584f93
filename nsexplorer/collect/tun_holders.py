"""The processes that hold a namespace's tun/tap devices open: what keeps their carrier
on (and, for a device that is not persistent, the device itself).

A walk over every process's fds: costly on a big host, so only on demand (`show`, or a
worker of the UI for one namespace), never in a sweep. Blocks; call from a worker.
"""

from __future__ import annotations

from nsexplorer.kernel.procfs import read_comm
from nsexplorer.kernel.tun_fds import TunFd, tun_fds
from nsexplorer.model import NetNamespace, TunHolder


def tun_holders(ns: NetNamespace, proc: str = "/proc") -> dict[str, tuple[TunHolder, ...]]:
    """Device name -> the processes that have it open (ascending pid; empty: none), for
    each tun/tap device of ``ns`` (a detailed namespace). A holder whose fd could not be
    asked its device's namespace is listed unproved; one proved to hold a device of the
    same name in another namespace is not listed."""
    names = {i.name for i in ns.interfaces if i.tun is not None}
    out: dict[str, dict[int, TunHolder]] = {name: {} for name in names}
    if not names:
        return {}
    for tun in tun_fds(names, proc):
        if tun.name not in out or not _in(tun, ns):
            continue
        by_pid = out[tun.name]
        seen = by_pid.get(tun.pid)
        proved = tun.netns is not None and (seen is None or seen.proved)
        fds = (*seen.fds, tun.fd) if seen is not None else (tun.fd,)
        comm = seen.comm if seen is not None else read_comm(tun.pid, proc)
        by_pid[tun.pid] = TunHolder(tun.pid, comm, fds, proved)
    return {name: tuple(by_pid[pid] for pid in sorted(by_pid)) for name, by_pid in out.items()}


def _in(tun: TunFd, ns: NetNamespace) -> bool:
    """The fd's device is in ``ns``; True too when unproved (its name matched)."""
    if tun.netns is None:
        return True
    dev, ino, cookie = tun.netns
    if (dev, ino) != (ns.id.dev, ns.id.ino):
        return False
    # the same inode with another cookie: a new namespace that reused the number
    return ns.cookie is None or cookie is None or ns.cookie == cookie
