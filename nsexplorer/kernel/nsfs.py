"""Low-level, careful access to namespace files: identity, safe opening, setns.

The one home of these facts for collectors and actions alike.

Paths handed to these functions may live in a container's file system, so opening never
follows a planted symlink in the last component, never blocks on a FIFO and never opens a
device: a path is first opened with O_PATH (which opens nothing), checked to be an nsfs
inode, and only then re-opened for real through /proc/thread-self/fd.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager

from nsexplorer import TYPE_CHECKING
from nsexplorer.kernel.libc import libc
from nsexplorer.model import NamespaceId

if TYPE_CHECKING:
    pass

CLONE_NEWNET = 0x40000000
OWN_NETNS = "/proc/thread-self/ns/net"
OWN_MNTNS = "/proc/thread-self/ns/mnt"

_NS_LINK = re.compile(r"(\w+):\[(\d+)\]\Z")

_nsfs_dev: int | None = None


def nsfs_dev() -> int:
    """st_dev of the nsfs pseudo file system (every namespace inode lives there)."""
    global _nsfs_dev  # noqa: PLW0603 - a process-wide constant, computed once
    if _nsfs_dev is None:
        _nsfs_dev = os.stat(OWN_NETNS).st_dev
    return _nsfs_dev


def own_netns() -> NamespaceId:
    st = os.stat(OWN_NETNS)
    return NamespaceId(st.st_dev, st.st_ino)


def own_mntns_inode() -> int:
    return os.stat(OWN_MNTNS).st_ino


def parse_ns_link(target: str, kind: str = "net") -> int | None:
    """The inode in a namespace symlink target such as ``net:[4026531840]``."""
    m = _NS_LINK.match(target)
    if m is None or m.group(1) != kind:
        return None
    return int(m.group(2))


# ioctl(2) on an nsfs fd: _IOR(0xb7, 0xd, __u64), the namespace's unique 64-bit id.
NS_GET_ID = 0x8008B70D
# What a kernel without NS_GET_ID answers (or an fd that is no nsfs file).
_NO_ID_ERRNOS = (errno.ENOTTY, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP)


def namespace_cookie(fd: int) -> int | None:
    """The kernel's unique id of the namespace open as ``fd`` (NS_GET_ID), or None
    when this kernel has no such ioctl (before Linux 6.x).

    Inode numbers are reused once a namespace is freed (within a second here); this id
    never is, for as long as the machine runs. For a network namespace it equals
    SO_NETNS_COOKIE of any socket inside it.
    """
    import fcntl
    import struct

    buf = bytearray(8)
    try:
        fcntl.ioctl(fd, NS_GET_ID, buf, True)
    except OSError as err:
        if err.errno in _NO_ID_ERRNOS:
            return None
        raise
    (value,) = struct.unpack("=Q", buf)
    return int(value) or None


def open_verified(
    path: str,
    expect: NamespaceId | None = None,
    *,
    dir_fd: int | None = None,
    cookie: int | None = None,
) -> tuple[int, NamespaceId]:
    """Open ``path`` as a network namespace file, safely; returns (fd, id).

    Raises FileNotFoundError / PermissionError as the OS does, NotANamespace when the
    path is anything but an nsfs inode (a stale 0-byte SandboxKey file, a planted
    symlink, a FIFO), and NamespaceMismatch when it is another namespace than ``expect``.
    ``cookie``: the unique id (:func:`namespace_cookie`) the namespace had when it was
    read; a namespace under the same inode with another id raises NamespaceReplaced
    (a kernel without the id leaves only (dev, ino) to compare).
    The caller closes the fd. ``/proc/PID/fd/N`` naming a socket opens the network
    namespace that socket lives in.
    """
    fd, ident = _open_checked(path, expect, dir_fd)
    if cookie is not None:
        try:
            check_cookie(fd, path, cookie)
        except BaseException:
            os.close(fd)
            raise
    return fd, ident


def check_cookie(fd: int, path: str, cookie: int) -> None:
    """Raise NamespaceReplaced unless the namespace open as ``fd`` has id ``cookie``
    (or this kernel has no ids: then nothing more than (dev, ino) can be told)."""
    now = namespace_cookie(fd)
    if now is not None and now != cookie:
        raise NamespaceReplaced(path, expected=cookie, found=now)


def _open_checked(
    path: str, expect: NamespaceId | None, dir_fd: int | None
) -> tuple[int, NamespaceId]:
    if dir_fd is None and _NS_LINK_PATH.match(path):
        # /proc/<pid>/ns/<type> is a kernel magic link that only ever leads to a
        # namespace: open it directly and check which one.
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
        try:
            ident = _check(fd, path, expect)
        except BaseException:
            os.close(fd)
            raise
        return fd, ident
    # Anything else may lead somewhere a container controls (or, for /proc/<pid>/fd/N,
    # to whatever now has that number): O_PATH opens nothing (no FIFO wait, no device
    # side effect); O_NOFOLLOW refuses a planted symlink as the last component, except
    # for /proc magic links, which must be followed and cannot be planted.
    flags = os.O_PATH | os.O_CLOEXEC
    if not _is_proc_magic(path):
        flags |= os.O_NOFOLLOW
    pfd = os.open(path, flags, dir_fd=dir_fd)
    try:
        if (sock := _SOCKET_FD.match(path)) is not None and dir_fd is None:
            st = os.fstat(pfd)
            if stat.S_ISSOCK(st.st_mode):
                # A socket of another process: the namespace it lives in (SIOCGSKNS).
                from nsexplorer.kernel.pidfd import netns_of_socket

                pid, num = int(sock.group(1)), int(sock.group(2))
                fd = netns_of_socket(pid, num, socket_inode=st.st_ino)
                try:
                    return fd, _check(fd, path, expect)
                except BaseException:
                    os.close(fd)
                    raise
        ident = _check(pfd, path, expect)
        # A verified nsfs inode: re-open the same file for real (setns needs a real fd).
        fd = os.open(f"/proc/self/fd/{pfd}", os.O_RDONLY | os.O_CLOEXEC)
    finally:
        os.close(pfd)
    return fd, ident


def _check(fd: int, path: str, expect: NamespaceId | None) -> NamespaceId:
    st = os.fstat(fd)
    if st.st_dev != nsfs_dev():
        raise NotANamespace(path)
    ident = NamespaceId(st.st_dev, st.st_ino)
    if expect is not None and ident != expect:
        raise NamespaceMismatch(path)
    return ident


def stat_namespace(path: str) -> NamespaceId:
    """The identity of the namespace at ``path`` (same checks as open_verified)."""
    fd, ident = open_verified(path)
    os.close(fd)
    return ident


def cookie_at(path: str, expect: NamespaceId) -> int | None:
    """The unique id of namespace ``expect`` as opened through ``path`` (None when the
    kernel has none); raises as open_verified does when ``path`` opens anything else."""
    fd, _ = open_verified(path, expect=expect)
    try:
        return namespace_cookie(fd)
    finally:
        os.close(fd)


_SOCKET_FD = re.compile(r"/proc/(\d+)/fd/(\d+)\Z")
_MAGIC = re.compile(r"/proc/(\d+|self|thread-self)(/task/\d+)?/(ns/\w+|fd/\d+)\Z")
_NS_LINK_PATH = re.compile(r"/proc/(\d+|self|thread-self)(/task/\d+)?/ns/\w+\Z")


def _is_proc_magic(path: str) -> bool:
    return _MAGIC.match(path) is not None


class NotANamespace(OSError):
    def __init__(self, path: str) -> None:
        super().__init__(errno.EINVAL, "not a network namespace file", path)


class NamespaceMismatch(OSError):
    def __init__(self, path: str) -> None:
        super().__init__(errno.ESTALE, "now a different namespace", path)


class NamespaceReplaced(NamespaceMismatch):
    """Same (dev, ino), another namespace: the kernel reused the inode number."""

    def __init__(self, path: str, *, expected: int = 0, found: int = 0) -> None:
        OSError.__init__(self, errno.ESTALE, "a new namespace that reused the inode number", path)
        self.expected = expected
        self.found = found


def read_bounded(path: str, limit: int) -> tuple[bytes, bool]:
    """Read at most ``limit`` bytes of a (proc) file; returns (data, truncated)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOFOLLOW)
    try:
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        return data[:limit], True
    return data, False


def setns(fd: int, nstype: int = CLONE_NEWNET) -> None:
    """setns(2) for the CALLING THREAD only (Python 3.11 has no os.setns)."""
    if libc().setns(fd, nstype) != 0:
        import ctypes

        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


@contextmanager
def entered(fd: int) -> Iterator[None]:
    """Run the body with the calling thread in the netns ``fd``; always come back.

    Use only on a thread you own. If returning fails the thread is unusable for anything
    else, so the error propagates and the caller must let the thread end.
    """
    home = os.open(OWN_NETNS, os.O_RDONLY | os.O_CLOEXEC)
    try:
        setns(fd)
        try:
            yield
        finally:
            try:
                setns(home)
            except OSError as err:
                raise ThreadStranded(str(err)) from err
    finally:
        os.close(home)


class ThreadStranded(RuntimeError):
    """setns back home failed: this thread must not be used for anything else."""
