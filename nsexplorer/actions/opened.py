"""Opening the way into a namespace once, and handing that very descriptor to the command.

``entry.plan`` checks a path to show it. If the command then opened the path again, a
pid recycled or a bind mount swapped in between would run it somewhere other than what
was confirmed and audited. So, for what runs, the namespace files are opened and
verified once (an nsfs inode, the expected identity; with --all-namespaces, every file
from one and the same process), and the command enters through those descriptors:
``nsenter --net=/proc/self/fd/N``, where the child inherits N (``pass_fds``) and
/proc/self is the child itself. What is printed and audited stays the path form a person
would paste (``entry.wrap``); the audit adds what was verified and the argv that ran.

The shell scripts are constants; names and paths only ever travel as argv words.
"""

from __future__ import annotations

import errno
import os
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from nsexplorer.actions import entry
from nsexplorer.actions.entry import Entry, Kind
from nsexplorer.errors import ActionFailed, NeedsRoot
from nsexplorer.kernel import children, fdlimit, mnt_helper, nsfs
from nsexplorer.model import NamespaceId, NetNamespace, describe

# What `ip netns exec NAME` does after setns, in the private mount namespace: a sysfs
# that describes this network namespace, then /etc/netns/NAME/* bound over /etc/*
# (a failed bind is reported and skipped, as iproute2 does). $1 is the name.
NETNS_SCRIPT = (
    "umount -l /sys 2>/dev/null; mount -t sysfs sysfs /sys || exit; "
    'd="/etc/netns/$1"; shift; '
    'for f in "$d"/* "$d"/.[!.]* "$d"/..?*; do '
    'if [ -e "$f" ] || [ -L "$f" ]; then mount --bind "$f" "/etc/${f##*/}"; fi; '
    'done; exec "$@"'
)

# nsenter options whose namespace applies to children only: nsenter forks for them.
FORKING = ("pid", "time")

# /proc/PID/ns/<file> -> nsenter option, in nsenter's own order. `nsenter -t PID -a`
# enters every type this kernel has, the user namespace only if it differs from ours.
ALL_TYPES = (
    ("user", "user"),
    ("cgroup", "cgroup"),
    ("ipc", "ipc"),
    ("uts", "uts"),
    ("net", "net"),
    ("pid", "pid"),
    ("mnt", "mount"),
    ("time", "time"),
)


@dataclass(slots=True)
class Opened:
    """A way into a namespace whose files are open and verified. Close it when done."""

    way: Entry  # the path form: what is shown, pasted and audited
    path: str  # the file that was verified
    fds: dict[str, int] = field(default_factory=dict)  # nsenter option -> descriptor
    inodes: dict[str, int] = field(default_factory=dict)  # nsenter option -> inode
    cookie: int | None = None  # the entered netns's unique kernel id, as verified

    @property
    def pass_fds(self) -> tuple[int, ...]:
        return tuple(self.fds.values())

    def shown(self, cmd: Sequence[str]) -> list[str]:
        """What a person would paste to do the same (through paths, not descriptors)."""
        return entry.wrap(self.way, cmd)

    def argv(self, cmd: Sequence[str]) -> list[str]:
        """What runs: enters through the inherited descriptors (``pass_fds``), killed
        when nsexplorer dies (kernel.children), with the person's own fd limit."""
        return [*children.guard(), *fdlimit.child_prefix(), *self._enter(list(cmd))]

    def _enter(self, cmd: list[str]) -> list[str]:
        kind = self.way.kind
        if kind is Kind.DIRECT:
            return cmd
        if kind is Kind.ALL:
            # Entering a pid (or time) namespace, nsenter forks and the command is its
            # child, which the parent-death signal does not reach: enter those first,
            # guard nsenter's child again, then enter the rest without another fork.
            forking = [f"--{o}={_fd_path(fd)}" for o, fd in self.fds.items() if o in FORKING]
            rest = [f"--{o}={_fd_path(fd)}" for o, fd in self.fds.items() if o not in FORKING]
            if not forking:
                return ["nsenter", *rest, "--", *cmd]
            return ["nsenter", *forking, "--", *children.guard(levels=2),
                    "nsenter", *rest, "--", *cmd]  # fmt: skip
        net = f"--net={_fd_path(self.fds['net'])}"
        private = ["unshare", "--mount", "--propagation", "private", "--"]
        if kind is Kind.NAMED:
            return ["nsenter", net, "--", *private, "sh", "-c", NETNS_SCRIPT, "sh",
                    self.way.ref, *cmd]  # fmt: skip
        return ["nsenter", net, "--", *private, "sh", "-c", entry.SYSFS_SCRIPT, "sh", *cmd]

    def audit_facts(self, cmd: Sequence[str]) -> dict[str, Any]:
        """For the audit record: what was verified, and the argv that really ran."""
        facts: dict[str, Any] = {"verified_path": self.path, "executed": self.argv(cmd)}
        if self.cookie is not None:
            facts["netns_cookie"] = self.cookie
        if self.way.kind in (Kind.ALL, Kind.MOUNT_NS):
            facts["namespace_inodes"] = dict(self.inodes)
        return facts

    def close(self) -> None:
        for fd in self.fds.values():
            os.close(fd)
        self.fds.clear()

    def __enter__(self) -> Opened:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _fd_path(fd: int) -> str:
    return f"/proc/self/fd/{fd}"


def open_way(
    ns: NetNamespace,
    all_namespaces: bool = False,
    *,
    via_pid: int | None = None,
    need_fd: bool = False,
) -> Opened:
    """Open and verify the first way into ``ns`` that still reaches it.

    ``need_fd``: also open our own namespace when that is the way (to bind-mount it).
    Raises NamespaceGone when nothing reaches it any more, NeedsRoot when the kernel
    refused every way, ActionFailed when out of descriptors or (--all-namespaces) no
    process lives there.
    """
    own = _own_netns()
    ways = entry.choices(ns, all_namespaces, own=own, via_pid=via_pid)
    refused: list[str] = []
    replaced: nsfs.NamespaceReplaced | None = None
    tried = 0
    for way in ways:
        tried += 1
        try:
            if way.kind is Kind.DIRECT:
                if not need_fd:
                    _check_own(ns)
                    return Opened(way, nsfs.OWN_NETNS)
                return _open_net(way, nsfs.OWN_NETNS, ns)
            if way.kind is Kind.ALL:
                return _open_process(way, ns)
            if way.kind is Kind.MOUNT_NS:
                return _open_mount_ns(way, ns)
            return _open_net(way, entry.checked_path(way), ns)
        except nsfs.NamespaceReplaced as err:
            replaced = err
        except PermissionError:
            refused.append(entry.checked_path(way))
        except OSError as err:
            if fdlimit.is_out_of_fds(err):
                raise ActionFailed(
                    f"cannot open namespace {describe(ns)}: too many open files "
                    f"(limit {fdlimit.soft_limit()}); nothing was run"
                ) from err
    if replaced is not None:
        raise entry.replaced(ns, replaced.found)
    if refused and len(refused) == tried:
        denied = f"cannot open namespace {describe(ns)}: permission denied ({', '.join(refused)})"
        if os.geteuid() != 0:
            raise NeedsRoot(f"{denied}: this needs root; nothing was run (try again with sudo)")
        raise ActionFailed(
            f"{denied}, even for root (a process that is not dumpable?); nothing was run"
        )
    raise entry.no_way(ns, ways, all_namespaces)


def _check_own(ns: NetNamespace) -> None:
    """Our own namespace is entered by staying in it: still check it is ``ns``."""
    if ns.cookie is None:
        return
    fd = os.open(nsfs.OWN_NETNS, os.O_RDONLY | os.O_CLOEXEC)
    try:
        nsfs.check_cookie(fd, nsfs.OWN_NETNS, ns.cookie)
    finally:
        os.close(fd)


def _own_netns() -> NamespaceId | None:
    try:
        return nsfs.own_netns()
    except OSError:
        return None


def _open_net(way: Entry, path: str, ns: NetNamespace) -> Opened:
    # (dev, ino) and, where the kernel has it, the unique id: an inode reused by a new
    # namespace after the one that was read is refused, not entered.
    fd, ident = nsfs.open_verified(path, expect=ns.id, cookie=ns.cookie)
    try:
        cookie = nsfs.namespace_cookie(fd)
    except BaseException:
        os.close(fd)
        raise
    return Opened(way, path, {"net": fd}, {"net": ident.ino}, cookie)


def _open_mount_ns(way: Entry, ns: NetNamespace) -> Opened:
    """The network namespace mounted at ``way.ref`` inside a mount namespace no process
    is in: a helper enters that mount namespace (its file opened and verified first),
    the netns is opened through the helper's root and verified like any other (inode and
    kernel id), and the command enters it through that descriptor with the host's tools.
    nsexplorer never switches its own mount namespace."""
    if way.mount_ns_inode is None:  # pragma: no cover - entry.choices always sets it
        raise FileNotFoundError(errno.ENOENT, "no mount namespace", way.mount_ns)
    mnt, mnt_id = nsfs.open_verified(way.mount_ns, NamespaceId(ns.id.dev, way.mount_ns_inode))
    try:
        with mnt_helper.helper_in(_fd_path(mnt), pass_fds=(mnt,)) as helper:
            inside = f"/proc/{helper.pid}/root{way.ref}"
            opened = _open_net(way, inside, ns)
    finally:
        os.close(mnt)
    opened.path = way.mount_ns
    opened.inodes["mount"] = mnt_id.ino
    return opened


def _open_process(way: Entry, ns: NetNamespace) -> Opened:
    """Every namespace of process ``way.pid``, all from that one process.

    A pidfd pins the process: if it is still alive after the files were opened, the pid
    named it throughout (a pid is reused only once its process is gone), so no file
    came from a newcomer that recycled the pid. Kernels without pidfd_open (< 5.3)
    compare the process's start time before and after instead.
    """
    pid = way.pid
    if pid is None:  # pragma: no cover - entry.choices always gives Kind.ALL its pid
        raise ProcessLookupError(errno.ESRCH, "no process", "")
    opened = Opened(way, f"/proc/{pid}/ns/net")
    pin = _Pin(pid)
    try:
        for name, opt in ALL_TYPES:
            if not os.path.exists(f"/proc/thread-self/ns/{name}"):
                continue  # this kernel has no such namespace type
            path = f"/proc/{pid}/ns/{name}"
            if name == "net":
                fd, ident = nsfs.open_verified(path, expect=ns.id, cookie=ns.cookie)
                opened.fds[opt] = fd
                opened.cookie = nsfs.namespace_cookie(fd)
            else:
                fd, ident = nsfs.open_verified(path)
            if name == "user" and ident.ino == os.stat("/proc/thread-self/ns/user").st_ino:
                os.close(fd)  # setns into our own user namespace is refused: skip it
                continue
            opened.fds[opt] = fd
            opened.inodes[opt] = ident.ino
        pin.check()
    except BaseException:
        opened.close()
        raise
    finally:
        pin.close()
    return opened


class _Pin:
    """Proof that ``pid`` named one process from now until ``check()``."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.pidfd: int | None = None
        self.start = ""
        try:
            self.pidfd = os.pidfd_open(pid)
        except OSError as err:
            if err.errno != errno.ENOSYS:
                raise
            self.start = start_time(pid)

    def check(self) -> None:
        if self.pidfd is not None:
            signal.pidfd_send_signal(self.pidfd, 0)  # ProcessLookupError once it exited
        elif start_time(self.pid) != self.start:
            raise ProcessLookupError(errno.ESRCH, "the process was replaced", str(self.pid))

    def close(self) -> None:
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None


def start_time(pid: int) -> str:
    """Field 22 of /proc/PID/stat (start time in clock ticks since boot)."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        data = f.read(4096)
    return data[data.rindex(b")") + 2 :].split()[19].decode("ascii")
