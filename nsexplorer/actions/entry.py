"""How to enter a namespace: which way in, and the command a person would paste for it.

A command runs with the HOST's tools inside the target network namespace, so a
container without a shell or tools is no obstacle. Inside, /sys must describe the
namespace's own interfaces, as `ip netns exec` arranges (plain `nsenter --net` keeps
the host's /sys):

- a name in /var/run/netns: ``ip netns exec NAME CMD`` (it also binds /etc/netns/NAME/*);
- any other path (``/proc/PID/ns/net``, a bind mount, a hidden bind mount reached as
  ``/proc/<pid>/root<path>``): ``nsenter --net=P`` then a private mount namespace in
  which a fresh sysfs is mounted on /sys. The shell script is a constant; names and
  paths only ever travel as separate argv words;
- bind-mounted only inside a mount namespace no process is in (held by an nsfs bind
  mount of that mount namespace, or a descriptor): ``nsenter --mount=MNTNS nsenter
  --net=PATH`` (the second nsenter opens PATH inside that mount namespace; one nsenter
  with both opens it before switching), then the fresh sysfs as above. What runs enters
  through the verified mount namespace descriptor and checks, inside, before the
  command, that it landed in the expected network namespace;
- ``--all-namespaces``: ``nsenter -t PID -a`` (the container's own view and tools);
- held only by a socket of another process: no tool opens that by path (``nsenter
  --net=/proc/PID/fd/N`` fails with ENXIO on a socket), nsexplorer enters it through the
  socket (SIOCGSKNS), so the form to paste is nsexplorer's own: ``nsexplorer exec INODE
  -- CMD``.

These are the forms that are shown and audited. What runs goes through the same way,
but enters through the descriptor that was opened and verified (actions.opened), so a
path swapped after the check cannot redirect it. Nothing here builds a shell string from
a name.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from nsexplorer.actions.nsfs import OWN_NETNS, cookie_of, ns_id_of
from nsexplorer.errors import ActionFailed, NamespaceGone, NsxError
from nsexplorer.model import (
    NamespaceId,
    NetNamespace,
    candidate_paths,
    describe,
    primary_container,
)

NETNS_RUN_DIR = "/var/run/netns"

# Runs inside the new private mount namespace: swap the host's /sys for one that
# describes the current network namespace, then become the command ("$@").
SYSFS_SCRIPT = 'umount -l /sys 2>/dev/null; mount -t sysfs sysfs /sys && exec "$@"'

Probe = Callable[[str], NamespaceId | None]

# After entering the network namespace: a private mount namespace with a fresh sysfs.
PRIVATE = ("unshare", "--mount", "--propagation", "private", "--")
PRIVATE_SYSFS = (*PRIVATE, "sh", "-c", SYSFS_SCRIPT, "sh")


class Kind(StrEnum):
    DIRECT = "direct"  # the namespace we are already in (the host's)
    NAMED = "named"  # ip netns exec NAME
    PATH = "path"  # nsenter --net=PATH + fresh sysfs
    ALL = "all"  # nsenter -t PID -a
    SOCKET = "socket"  # a socket's namespace (SIOCGSKNS): nsexplorer exec INODE
    MOUNT_NS = "mountns"  # nsenter --mount=MNTNS nsenter --net=PATH + fresh sysfs


@dataclass(frozen=True, slots=True)
class Entry:
    """A verified way into one namespace."""

    kind: Kind
    ref: str = ""  # the name (NAMED) or the path (PATH; SOCKET: /proc/PID/fd/N)
    pid: int | None = None  # ALL: the process whose namespaces are entered
    # A bind mount hidden in another mount namespace: (pid inside it, path there),
    # for the seed article's form `nsenter -t PID -m nsenter --net=PATH`.
    seed: tuple[int, str] | None = None
    inode: int | None = None  # SOCKET: the namespace, as `nsexplorer exec` takes it
    # MOUNT_NS: the file that holds the mount namespace ``ref`` is mounted in, and that
    # mount namespace's inode (``ref`` is the path inside it)
    mount_ns: str = ""
    mount_ns_inode: int | None = None


def wrap(entry: Entry, argv: Sequence[str]) -> list[str]:
    """The argv that runs ``argv`` through ``entry``."""
    cmd = list(argv)
    if entry.kind is Kind.DIRECT:
        return cmd
    if entry.kind is Kind.NAMED:
        return ["ip", "netns", "exec", entry.ref, *cmd]
    if entry.kind is Kind.PATH:
        return [
            "nsenter",
            f"--net={entry.ref}",
            "--",
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
            SYSFS_SCRIPT,
            "sh",
            *cmd,
        ]
    if entry.kind is Kind.SOCKET:
        return [*self_command(), "exec", str(entry.inode), "--", *cmd]
    if entry.kind is Kind.MOUNT_NS:
        return [
            "nsenter",
            f"--mount={entry.mount_ns}",
            "--",
            "nsenter",
            f"--net={entry.ref}",
            "--",
            *PRIVATE_SYSFS,
            *cmd,
        ]
    return ["nsenter", "-t", str(entry.pid), "-a", "--", *cmd]


def self_command() -> list[str]:
    """How a person starts this very nsexplorer from a shell: ``nsexplorer`` when that is
    what their PATH finds, else this interpreter with ``-m nsexplorer``."""
    import shutil
    import sys

    found = shutil.which("nsexplorer")
    if found and sys.argv and os.path.realpath(found) == os.path.realpath(sys.argv[0]):
        return ["nsexplorer"]
    return [sys.executable, "-m", "nsexplorer"]


def seed_form(entry: Entry, argv: Sequence[str]) -> list[str] | None:
    """The seed article's two-step nsenter, when the namespace hides in a mount ns.

    It runs in the other mount namespace and keeps the host's /sys: shown as an
    alternative a person may know, not what nsexplorer runs.
    """
    if entry.seed is None or entry.kind is not Kind.PATH:
        return None
    pid, path = entry.seed
    return ["nsenter", "-t", str(pid), "-m", "nsenter", f"--net={path}", "--", *argv]


def host_shell(environ: dict[str, str] | os._Environ[str] | None = None) -> str:
    """The invoking user's login shell on the HOST, or /bin/sh."""
    env = os.environ if environ is None else environ
    shell = env.get("SHELL", "")
    if shell.startswith("/") and os.access(shell, os.X_OK):
        return shell
    return "/bin/sh"


def _seed_of(ns: NetNamespace) -> tuple[int, str] | None:
    for m in ns.bind_mounts:
        if m.hidden and m.via_pid is not None:
            return (m.via_pid, m.path)
    return None


def _container_pids(ns: NetNamespace) -> list[int]:
    # The container that owns the namespace first (the one its row is labelled with:
    # primary_container, one home for which that is), then those sharing it; plain
    # processes only when no container lives there (they may be anything, e.g. a
    # helper that setns'd in, with another mount namespace).
    first = primary_container(ns)
    ordered = [first] if first is not None else []
    ordered += [c for c in ns.containers if c is not first]
    pids = [c.pid for c in ordered if c.pid]
    return list(dict.fromkeys(pids)) if pids else list(ns.pids)


def choices(
    ns: NetNamespace,
    all_namespaces: bool = False,
    *,
    own: NamespaceId | None = None,
    via_pid: int | None = None,
) -> list[Entry]:
    """Every way into ``ns``, best first, not yet checked against the kernel.

    ``own`` is the namespace nsexplorer runs in: the host's own needs no entering.
    ``via_pid``: with --all-namespaces, the process whose namespaces to enter (the
    container the person named); by default the container that owns ``ns``. For the
    host's own namespace, with no ``via_pid``, "all namespaces" are simply ours.
    """
    if own == ns.id and (not all_namespaces or via_pid is None):
        return [Entry(Kind.DIRECT)]
    if all_namespaces:
        # The container the person named, and only it: falling back to another one
        # sharing the network namespace would enter its files and processes instead.
        pids = [via_pid] if via_pid is not None else _container_pids(ns)
        return [Entry(Kind.ALL, pid=pid) for pid in dict.fromkeys(pids)]
    seed = _seed_of(ns)
    named = [Entry(Kind.NAMED, ref=name, seed=seed) for name in ns.names if _valid_netns_name(name)]
    sockets = {f"/proc/{h.pid}/fd/{h.fd}" for h in ns.socket_holders}
    return (
        named
        + [
            Entry(Kind.SOCKET, ref=path, inode=ns.inode)
            if path in sockets
            else Entry(Kind.PATH, ref=path, seed=seed)
            for path in candidate_paths(ns)
        ]
        + _through_mount_ns(ns)
    )


def _through_mount_ns(ns: NetNamespace) -> list[Entry]:
    """Bind mounts inside a mount namespace no process is in: entered through the file
    that holds that mount namespace (no /proc/PID/root leads there)."""
    return [
        Entry(
            Kind.MOUNT_NS,
            ref=m.path,
            inode=ns.inode,
            mount_ns=m.mount_ns_path,
            mount_ns_inode=m.mount_ns_inode,
        )
        for m in ns.bind_mounts
        if m.hidden and m.via_pid is None and m.mount_ns_path and not m.covered
    ]


def checked_path(way: Entry) -> str:
    """The file that must open the namespace for ``way`` to be right."""
    if way.kind is Kind.NAMED:
        return f"{NETNS_RUN_DIR}/{way.ref}"
    if way.kind is Kind.ALL:
        return f"/proc/{way.pid}/ns/net"
    if way.kind is Kind.MOUNT_NS:
        return way.mount_ns  # a mount namespace: the netns inside is checked on entry
    return way.ref


def no_way(ns: NetNamespace, ways: Sequence[Entry], all_namespaces: bool) -> NsxError:
    """The error when none of ``ways`` (from ``choices``) reaches ``ns`` any more."""
    if all_namespaces:
        pids = [str(w.pid) for w in ways]
        if pids:
            return NamespaceGone(
                f"namespace {describe(ns)} is gone: its processes "
                f"({', '.join(pids)}) have exited or moved"
            )
        return ActionFailed(
            f"--all-namespaces needs a process inside namespace {describe(ns)} to take "
            "the mount, uts, ipc and pid namespaces from, and it has none (it is held "
            "only by a bind mount or a file descriptor); enter its network namespace "
            "alone to use the host's tools there (without -a/--all-namespaces; in the "
            "UI, `a` turns all namespaces off)"
        )
    tried = [
        w.ref if w.kind is not Kind.MOUNT_NS else f"{w.ref} in mount ns {w.mount_ns}"
        for w in ways
        if w.kind in (Kind.PATH, Kind.SOCKET, Kind.MOUNT_NS)
    ]
    how = f" (tried {', '.join(tried)})" if tried else ""
    return NamespaceGone(
        f"namespace {describe(ns)} is gone: nothing that reached it opens it any more{how}"
    )


def plan(
    ns: NetNamespace,
    all_namespaces: bool = False,
    probe: Probe = ns_id_of,
    *,
    via_pid: int | None = None,
) -> Entry:
    """Choose, and check against the kernel, the way into ``ns`` (to show it).

    What runs does not rely on this check: actions.opened opens the namespace once,
    verifies it, and hands that descriptor to the command.

    Raises NamespaceGone when nothing that used to reach it opens it any more, and
    ActionFailed when --all-namespaces has no process to take namespaces from.
    """
    ways = choices(ns, all_namespaces, own=probe(OWN_NETNS), via_pid=via_pid)
    for way in ways:
        if way.kind is Kind.DIRECT:
            _refuse_if_replaced(ns, OWN_NETNS)
            return way
        if probe(checked_path(way)) == _expected(ns, way):
            if way.kind is not Kind.MOUNT_NS:  # that one's netns is checked on entry
                _refuse_if_replaced(ns, checked_path(way))
            return way
    raise no_way(ns, ways, all_namespaces)


def _expected(ns: NetNamespace, way: Entry) -> NamespaceId | None:
    """What ``checked_path(way)`` must be: ``ns``, or for MOUNT_NS the mount namespace
    that holds it (nsfs: the same st_dev)."""
    if way.kind is Kind.MOUNT_NS:
        return None if way.mount_ns_inode is None else NamespaceId(ns.id.dev, way.mount_ns_inode)
    return ns.id


def _refuse_if_replaced(ns: NetNamespace, path: str) -> None:
    """The inode is there, but is it still the namespace that was read? (Its kernel id
    says; without one, (dev, ino) is all there is.) Refused before anything is shown."""
    if ns.cookie is None:
        return
    now = cookie_of(path, ns.id)
    if now is not None and now != ns.cookie:
        raise replaced(ns, now)


def replaced(ns: NetNamespace, found: int) -> NamespaceGone:
    """The error when ``ns``'s inode now names a namespace with kernel id ``found``."""
    return NamespaceGone(
        f"namespace {describe(ns)} was replaced since it was read: its inode now belongs "
        f"to another namespace (kernel id {found}, not {ns.cookie}); nothing ran"
    )


def _valid_netns_name(name: str) -> bool:
    return bool(name) and "/" not in name and "\0" not in name and name not in (".", "..")
