"""Mount namespaces that no process is in, and the network namespaces bind-mounted there.

A mount namespace lives on while something holds it: a process, an nsfs bind mount of it
(``mount --bind /proc/PID/ns/mnt /run/x``) or an open fd. With no process in it there is
no ``/proc/PID/mountinfo`` to read and no ``/proc/PID/root`` to reach through, so a netns
bind-mounted only in there is invisible to ``lsns``, ``ip netns`` and the plain /proc
scan. Like lxkns, each such mount namespace is visited by a short-lived helper process
(kernel.mnt_helper: a fresh single-threaded Python that ``setns(CLONE_NEWNS)``s into
it and waits). While it waits, its mountinfo is read and ``/proc/<helper>/root<path>``
reaches inside; mount namespaces bind-mounted in there are visited the same way (a
backlog). The TUI's own process never switches mount namespace.

The helper then exits, so a way in must outlive it: nsexplorer keeps one fd to each such
network namespace (a *pin*) and reaches it through ``/proc/<own pid>/fd/N``. A pin is
dropped at the next discovery that no longer finds its mount, so nsexplorer never keeps a
namespace alive for long after its owner let it go.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field

from nsexplorer.collect import mounts
from nsexplorer.kernel import mountinfo, nsfs
from nsexplorer.kernel.mnt_helper import helper_in
from nsexplorer.model import BindMount, NamespaceId

MAX_VISITS = 32  # mount namespaces visited per discovery (a backlog could be a cycle)


@dataclass(slots=True)
class Found:
    """What the visits found: bind mounts per netns inode, ways in, and warnings."""

    mounts: dict[int, list[BindMount]] = field(default_factory=dict)
    paths: dict[int, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    visited: int = 0
    kept: list[tuple[int, str]] = field(default_factory=list)  # pins still wanted


class Pins:
    """nsexplorer's own fds to network namespaces reachable only inside a mount
    namespace no process is in, keyed by (mount ns inode, mount point). Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pins: dict[tuple[int, str], tuple[int, NamespaceId]] = {}

    def path(self, key: tuple[int, str], ident: NamespaceId) -> str | None:
        """The pin's path if ``key`` is pinned to ``ident`` already."""
        with self._lock:
            pin = self._pins.get(key)
        if pin is None or pin[1] != ident:
            return None
        return _fd_path(pin[0])

    def add(self, key: tuple[int, str], fd: int, ident: NamespaceId) -> str:
        with self._lock:
            old = self._pins.get(key)
            self._pins[key] = (fd, ident)
        if old is not None:
            os.close(old[0])
        return _fd_path(fd)

    def keep_only(self, keys: Iterable[tuple[int, str]]) -> None:
        wanted = set(keys)
        with self._lock:
            dropped = [k for k in self._pins if k not in wanted]
            fds = [self._pins.pop(k)[0] for k in dropped]
        for fd in fds:
            os.close(fd)

    def __len__(self) -> int:
        with self._lock:
            return len(self._pins)


PINS = Pins()  # the process's pins (one nsexplorer process, one set of pins)


def _fd_path(fd: int) -> str:
    # Not /proc/self: the path is also handed to other threads' and children's opens.
    return f"/proc/{os.getpid()}/fd/{fd}"


def processless(
    mnt_paths: dict[int, list[str]],
    mnt_fds: dict[int, list[tuple[int, int]]],
    known: Iterable[int],
    proc: str = "/proc",
) -> dict[int, list[str]]:
    """mount ns inode -> paths that hold it, for mount namespaces no process is in."""
    skip = set(known)
    out: dict[int, list[str]] = {}
    for ino, paths in mnt_paths.items():
        if ino not in skip:
            out.setdefault(ino, []).extend(paths)
    for ino, holders in mnt_fds.items():
        if ino not in skip:
            out.setdefault(ino, []).extend(f"{proc}/{pid}/fd/{fd}" for pid, fd in holders)
    return {ino: list(dict.fromkeys(paths)) for ino, paths in out.items()}


def visit_all(
    todo: dict[int, list[str]],
    known: Iterable[int],
    pins: Pins = PINS,
    found: Found | None = None,
) -> Found:
    """Visit every mount namespace in ``todo`` (and those found inside) and pin the
    network namespaces bind-mounted there (the caller then drops the pins not kept)."""
    found = Found() if found is None else found
    seen = set(known) | set(todo)
    queue = list(todo.items())
    kept = found.kept
    with ExitStack() as helpers:
        while queue and found.visited < MAX_VISITS:
            mnt_ino, paths = queue.pop(0)
            pid, held_by = _enter_any(helpers, mnt_ino, paths, found.warnings)
            if pid is None:
                continue
            found.visited += 1
            try:
                inside = mounts.read_mountinfo(pid, "/proc", found.warnings)
            except OSError as err:
                found.warnings.append(
                    f"cannot read the mount table of mount namespace {mnt_ino}: {err.strerror}"
                )
                continue
            for m in inside:
                reach = f"/proc/{pid}/root{m.mount_point}"
                if m.kind == "mnt":
                    if m.netns_inode not in seen:
                        seen.add(m.netns_inode)
                        queue.append((m.netns_inode, [reach]))
                    continue
                key = (mnt_ino, m.mount_point)
                bind = BindMount(
                    path=m.mount_point,
                    mount_ns_inode=mnt_ino,
                    hidden=True,
                    mount_ns_path=held_by,
                )
                pinned = _pin(pins, key, reach, m.netns_inode)
                if pinned is None:
                    bind = BindMount(bind.path, mnt_ino, True, None, True, held_by)
                    pinned = uncover(pins, key, f"/proc/{pid}/ns/mnt", m.mount_point, m.netns_inode)
                if pinned is not None:
                    kept.append(key)
                    found.paths.setdefault(m.netns_inode, []).append(pinned)
                found.mounts.setdefault(m.netns_inode, []).append(bind)
    if queue:
        found.warnings.append(
            f"{len(queue)} more mount namespaces without processes were not visited "
            f"(at most {MAX_VISITS} per pass)"
        )
    return found


def uncover_all(
    covered: Iterable[tuple[int, BindMount]],
    own_mnt: int,
    pins: Pins = PINS,
    found: Found | None = None,
) -> Found:
    """Ways into namespaces whose bind mounts are covered by other mounts (see
    :func:`uncover`), for mounts in our mount namespace or one a process is in."""
    found = Found() if found is None else found
    for ino, m in covered:
        if m.mount_ns_path:
            continue  # in a process-less mount namespace: uncovered during its visit
        if m.hidden and m.via_pid is None:
            continue
        mntns = f"/proc/{m.via_pid}/ns/mnt" if m.hidden else ""
        key = (m.mount_ns_inode if m.hidden else own_mnt, m.path)
        pinned = uncover(pins, key, mntns, m.path, ino)
        if pinned is not None:
            found.kept.append(key)
            found.paths.setdefault(ino, []).append(pinned)
    return found


def uncover(
    pins: Pins, key: tuple[int, str], mntns_path: str, mount_point: str, netns_ino: int
) -> str | None:
    """A pin to the netns bind-mounted at ``mount_point`` although another mount covers
    it: a helper moves to a private copy of that mount namespace (``mntns_path``, '' for
    ours), detaches the covering mounts there, and the namespace is opened through
    ``/proc/<helper>/root``. Nobody else's mount table changes. None when it fails."""
    ident = NamespaceId(nsfs.nsfs_dev(), netns_ino)
    existing = pins.path(key, ident)
    if existing is not None:
        return existing
    try:
        with helper_in(mntns_path, private=True) as helper:
            for _ in range(8):
                try:
                    fd, _ = nsfs.open_verified(
                        f"/proc/{helper.pid}/root{mount_point}", expect=ident
                    )
                except OSError:
                    pass
                else:
                    return pins.add(key, fd, ident)
                data, _ = nsfs.read_bounded(
                    f"/proc/{helper.pid}/mountinfo", mountinfo.MOUNTINFO_LIMIT
                )
                plan = mounts.covering_mounts(mountinfo.parse_tree(data), mount_point, netns_ino)
                if not plan:
                    return None
                for point in plan:
                    with contextlib.suppress(OSError):  # re-planned in the next round
                        helper.detach(point)
    except OSError:
        return None
    return None


def _pin(pins: Pins, key: tuple[int, str], reach: str, netns_ino: int) -> str | None:
    """The pin path for the netns at ``reach`` (pinned now if it is not yet), or None
    when the path does not open it (another mount covers it)."""
    ident = NamespaceId(nsfs.nsfs_dev(), netns_ino)
    existing = pins.path(key, ident)
    try:
        fd, _ = nsfs.open_verified(reach, expect=ident)
    except OSError:
        return None
    if existing is not None:
        os.close(fd)  # still there: keep the pin (and its path) a reader may be using
        return existing
    return pins.add(key, fd, ident)


def _enter_any(
    helpers: ExitStack, mnt_ino: int, paths: list[str], warnings: list[str]
) -> tuple[int | None, str]:
    why = ""
    for path in paths:
        try:
            pid = helpers.enter_context(helper_in(path)).pid
        except OSError as err:
            why = err.strerror or str(err)
            continue
        try:
            now = nsfs.parse_ns_link(os.readlink(f"/proc/{pid}/ns/mnt"), "mnt")
        except OSError:
            now = None
        if now == mnt_ino:
            return pid, path
        why = "the path now holds another mount namespace"
    warnings.append(
        f"cannot enter mount namespace {mnt_ino} (held by {', '.join(paths)}): "
        f"{why or 'no path'}; network namespaces mounted only there are missing"
    )
    return None, ""
