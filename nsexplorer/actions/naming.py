"""Giving a namespace an `ip netns` name, and taking it away again.

``name`` does what `ip netns add` does, for a namespace that already exists: make
/var/run/netns a shared mount point (so the name propagates like iproute2's), create
an empty file there exclusively, and bind-mount the namespace onto it. The namespace
is opened first and checked by inode, and the bind mount is made from that open file
descriptor (actions.opened), so a process exiting and its pid being reused, or a path
swapped, cannot name the wrong one.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
from collections.abc import Callable

from nsexplorer import shellquote as quoting
from nsexplorer.actions.entry import NETNS_RUN_DIR
from nsexplorer.actions.nsfs import ns_id_of, own_netns
from nsexplorer.errors import ActionFailed, NeedsRoot
from nsexplorer.kernel import nsfs
from nsexplorer.kernel.libc import mount, umount_detach
from nsexplorer.model import NamespaceId, NetNamespace

MS_BIND = 4096
MS_REC = 16384
MS_SHARED = 1 << 20
NAME_MAX = 255
_PROC_NS = re.compile(r"/proc/(\d+)/ns/net\Z")


def validate_name(name: str) -> str:
    """``name`` if it is usable as an `ip netns` name, else ActionFailed saying why."""
    if not name:
        reason = "it is empty"
    elif name in (".", ".."):
        reason = f"{name!r} is not a file name"
    elif "/" in name:
        reason = "it contains '/'"
    elif "\0" in name:
        reason = "it contains a NUL byte"
    elif any(ord(c) < 0x20 or ord(c) == 0x7F or c.isspace() for c in name):
        reason = "it contains a control or space character"
    elif name.startswith("-"):
        reason = "it starts with '-' (tools would read it as an option)"
    elif len(os.fsencode(name)) > NAME_MAX:
        reason = f"it is longer than {NAME_MAX} bytes"
    else:
        return name
    raise ActionFailed(f"invalid namespace name {name!r}: {reason}")


def name_path(name: str) -> str:
    return os.path.join(NETNS_RUN_DIR, validate_name(name))


def existing_name_path(name: str) -> str:
    """/var/run/netns/``name`` for a name that may already exist (unname).

    Only path safety applies: a name someone else made with control characters or
    spaces (which ``validate_name`` refuses for new names) must still be removable.
    """
    if not name or name in (".", "..") or "/" in name or "\0" in name:
        validate_name(name)  # raises, saying why
        raise ActionFailed(f"invalid namespace name {name!r}")
    return os.path.join(NETNS_RUN_DIR, name)


def name_command(source: str, name: str) -> str:
    """The paste-able equivalent of ``bind_name(source, ..., name)``."""
    match = _PROC_NS.match(source)
    if match:  # iproute2 does exactly the same steps for a pid
        return quoting.join(["ip", "netns", "attach", name, match.group(1)])
    target = name_path(name)
    mkdir = quoting.join(["mkdir", "-p", NETNS_RUN_DIR])
    touch = quoting.join(["touch", target])
    bind = quoting.join(["mount", "--bind", source, target])
    return f"{mkdir} && {touch} && {bind}"


def ensure_run_dir() -> None:
    """/var/run/netns exists and is a shared mount point, as `ip netns add` leaves it."""
    os.makedirs(NETNS_RUN_DIR, mode=0o755, exist_ok=True)
    try:
        mount("", NETNS_RUN_DIR, MS_SHARED | MS_REC)
    except OSError as err:
        if err.errno != errno.EINVAL:
            raise
        # Not a mount point yet: make it one (bind onto itself), then share it.
        mount(NETNS_RUN_DIR, NETNS_RUN_DIR, MS_BIND | MS_REC)
        mount("", NETNS_RUN_DIR, MS_SHARED | MS_REC)


def require_free(name: str) -> str:
    """/var/run/netns/``name`` if ``name`` is valid and not taken, else ActionFailed."""
    target = name_path(name)
    if os.path.lexists(target):
        raise ActionFailed(
            f"a namespace named {name!r} already exists ({target}); choose another name"
        )
    return target


def bind_fd(fd: int, name: str) -> str:
    """Bind-mount the namespace open at ``fd`` (verified by the caller, e.g. through
    actions.opened) as /var/run/netns/``name``; the path. The mount is made from the
    descriptor, so what is named is what was verified, whatever its path became since."""
    target = require_free(name)
    try:
        ensure_run_dir()
        made = os.open(target, os.O_RDONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0)
    except FileExistsError as err:
        raise ActionFailed(f"a namespace named {name!r} already exists ({target})") from err
    except PermissionError as err:
        raise NeedsRoot(f"naming a namespace needs root: {err.strerror}") from err
    os.close(made)
    try:
        mount(f"/proc/self/fd/{fd}", target, MS_BIND)
    except OSError as err:
        os.unlink(target)
        if err.errno == errno.EPERM:
            raise NeedsRoot(f"naming a namespace needs root: {err.strerror}") from err
        raise ActionFailed(f"bind mount onto {target} failed: {err.strerror}") from err
    return target


def check_unbind(name: str, holders: int | None = None) -> tuple[str, NamespaceId]:
    """Why ``unbind_name(name, holders)`` would refuse, raised (ActionFailed) before
    anything is asked or done; else the name's path and the namespace it leads to."""
    target = existing_name_path(name)
    if not os.path.lexists(target):
        raise ActionFailed(f"no namespace is named {name!r} (nothing at {target})")
    if os.path.islink(target):
        raise ActionFailed(
            f"{target} is a symbolic link, not a name made by a bind mount; "
            "remove it with rm if it is stale"
        )
    ns = ns_id_of(target)
    own = own_netns()
    if ns is None or (own is not None and ns.dev != own.dev):
        raise ActionFailed(
            f"{target} is not a bind mount of a network namespace; refusing to touch it"
        )
    _refuse_the_last_holder(name, ns, holders)
    return target, ns


def _refuse_the_last_holder(name: str, ns: NamespaceId, holders: int | None) -> None:
    if holders == 0:
        raise ActionFailed(
            f"nothing but the name {name!r} keeps namespace inode {ns.ino} alive; "
            "removing it would destroy the namespace. Use `ip netns delete` if that is "
            "what you want"
        )


def unbind_name(
    name: str,
    holders: int | None = None,
    announce: Callable[[], None] | None = None,
    expect: NetNamespace | None = None,
) -> NamespaceId:
    """Remove a name that is a bind mount of a namespace; returns which namespace.

    ``expect``: the namespace the user was shown the name on; the name is removed only
    while it still leads there (same inode and kernel id), never from a namespace that
    took the name since.

    ``holders`` is how many other things (processes, fds, other mounts) keep that
    namespace alive, if the caller counted them: 0 means removing the name would
    destroy the namespace, which unname refuses (that is `ip netns delete`).
    ``announce()`` is called once every check passed, just before the unmount.
    """
    target, ns = check_unbind(name)
    if expect is not None:  # first: the more telling refusal
        _check_still_named(target, name, expect)
    _refuse_the_last_holder(name, ns, holders)
    if announce is not None:
        announce()
    try:
        umount_detach(target)
    except OSError as err:
        if err.errno == errno.EPERM:
            raise NeedsRoot(f"removing a name needs root: {err.strerror}") from err
        raise ActionFailed(f"unmounting {target} failed: {err.strerror}") from err
    with contextlib.suppress(FileNotFoundError):
        os.unlink(target)
    return ns


def _check_still_named(target: str, name: str, expect: NetNamespace) -> None:
    try:
        fd, _ = nsfs.open_verified(target, expect=expect.id, cookie=expect.cookie)
    except nsfs.NamespaceMismatch as err:
        raise ActionFailed(
            f"the name {name!r} now leads to another namespace than netns {expect.inode} "
            "(it was removed and made again since it was read); nothing changed"
        ) from err
    except OSError as err:
        raise ActionFailed(f"{target} cannot be checked: {err.strerror}; nothing changed") from err
    os.close(fd)
