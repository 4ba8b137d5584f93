"""Namespace handles for the netlink readers, within the open-file limit.

A handle is a verified descriptor of one namespace and, once needed, an rtnetlink socket
created inside it: two descriptors. Holding every namespace at once would need two per
namespace, more than ``ulimit -n`` allows on a host with many. The pool holds what the
limit leaves room for and closes the least recently used handle to make room; a closed
handle is reopened through the path that first opened it, verified again by inode. So
reading in batches never changes which namespace is read or asked about: peers stay exact.

A namespace that cannot be opened because descriptors ran out raises OSError(EMFILE):
it is not gone, and readers must say so (kernel.fdlimit.is_out_of_fds).
"""

from __future__ import annotations

import errno
import os
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TypeVar

from nsexplorer.kernel import fdlimit, nsfs
from nsexplorer.kernel.netlink import RtSocket
from nsexplorer.model import NamespaceId

T = TypeVar("T")

# The least a reader works with: a socket and its namespace (2), the namespace asked
# about (1), and what opening one more costs for a moment (2: O_PATH, then the real one).
MIN_CAPACITY = 6
TRANSIENT = 2
# What opening a namespace that no longer exists fails with (ESTALE: its path leads to
# another namespace now; EINVAL: to something that is no namespace). Anything else
# (EMFILE above all) says nothing about the namespace.
GONE_ERRNOS = (errno.ENOENT, errno.ENOTDIR, errno.ESRCH, errno.ESTALE, errno.EINVAL)


def open_namespace(ns_id: NamespaceId, paths: Sequence[str]) -> tuple[int, str]:
    """The first path that opens *this* namespace; raises the most telling error.

    Running out of descriptors is raised at once: other paths would fail alike, and
    the namespace must not be taken for gone.
    """
    last: OSError = FileNotFoundError(errno.ENOENT, "no path reaches it")
    for path in paths:
        try:
            fd, _ = nsfs.open_verified(path, expect=ns_id)
        except nsfs.NamespaceMismatch as err:
            last = err
            continue
        except PermissionError as err:
            last = err
            continue
        except OSError as err:
            if fdlimit.is_out_of_fds(err):
                raise
            if not isinstance(last, PermissionError):
                last = err
            continue
        return fd, path
    raise last


@dataclass(slots=True)
class Handle:
    id: NamespaceId
    path: str
    fd: int
    sock: RtSocket | None = None

    @property
    def cost(self) -> int:
        return 1 if self.sock is None else 2

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        os.close(self.fd)


class HandlePool:
    """Open namespace handles, at most ``capacity`` descriptors at once (LRU)."""

    def __init__(self, capacity: int | None = None, *, own: NamespaceId | None = None) -> None:
        budget = fdlimit.budget() if capacity is None else capacity
        self.capacity = max(budget, MIN_CAPACITY)
        self.own = nsfs.own_netns() if own is None else own
        self._open: OrderedDict[NamespaceId, Handle] = OrderedDict()
        self._paths: dict[NamespaceId, str] = {}  # the path that opened each, once
        # The kernel id each had when first opened: a reopen must find the same one (the
        # kernel reuses the inode of a freed namespace), or the namespace is gone.
        self._cookies: dict[NamespaceId, int | None] = {}
        self._pinned: set[NamespaceId] = set()
        self._used = 0
        self.reopened = 0  # handles opened again after being closed to make room

    def path_of(self, ns_id: NamespaceId) -> str:
        return self._paths.get(ns_id, "")

    def cookie_of(self, ns_id: NamespaceId) -> int | None:
        """The kernel id of the namespace read as ``ns_id`` (None: not known)."""
        return self._cookies.get(ns_id)

    def pin(self, ns_id: NamespaceId) -> None:
        """Never close this one to make room (a reader still uses its socket)."""
        self._pinned.add(ns_id)

    def fd(
        self, ns_id: NamespaceId, paths: Sequence[str], keep: Collection[NamespaceId] = ()
    ) -> int:
        """A verified descriptor of ``ns_id`` (opened through ``paths`` the first time)."""
        return self._handle(ns_id, paths, keep).fd

    def sock(
        self, ns_id: NamespaceId, paths: Sequence[str], keep: Collection[NamespaceId] = ()
    ) -> RtSocket:
        """An rtnetlink socket bound to ``ns_id`` (created inside it on first need)."""
        h = self._handle(ns_id, paths, keep)
        if h.sock is None:
            spare = {*keep, ns_id}
            self._make_room(1 + TRANSIENT, spare)  # the socket, and our way home
            if self.own is not None and ns_id == self.own:
                h.sock = self._retry(RtSocket, spare)
            else:
                h.sock = self._retry(lambda: _socket_in(h.fd), spare)
            self._used += 1
        return h.sock

    def close_all(self) -> None:
        for h in self._open.values():
            h.close()
        self._open.clear()
        self._used = 0

    # -- inside ---------------------------------------------------------------------

    def _handle(
        self, ns_id: NamespaceId, paths: Sequence[str], keep: Collection[NamespaceId]
    ) -> Handle:
        h = self._open.get(ns_id)
        if h is not None:
            self._open.move_to_end(ns_id)
            return h
        known = self._paths.get(ns_id)
        spare = {*keep, ns_id}
        self._make_room(1 + TRANSIENT, spare)
        fd, path = self._retry(lambda: open_namespace(ns_id, [known] if known else paths), spare)
        try:
            cookie = _cookie(fd)
            if known and self._cookies.get(ns_id) not in (None, cookie):
                raise nsfs.NamespaceReplaced(
                    path, expected=self._cookies[ns_id] or 0, found=cookie or 0
                )
        except BaseException:
            os.close(fd)
            raise
        if known:
            self.reopened += 1
        else:
            self._paths[ns_id] = path
            self._cookies[ns_id] = cookie
        h = self._open[ns_id] = Handle(ns_id, path, fd)
        self._used += 1
        return h

    def _make_room(self, need: int, spare: Collection[NamespaceId]) -> None:
        while self._used + need > self.capacity and self._evict(spare):
            pass

    def _evict(self, spare: Collection[NamespaceId]) -> bool:
        for ns_id, h in self._open.items():  # oldest first
            if ns_id in spare or ns_id in self._pinned:
                continue
            del self._open[ns_id]
            self._used -= h.cost
            h.close()
            return True
        return False

    def _retry(self, make: Callable[[], T], spare: Collection[NamespaceId]) -> T:
        """``make()``; when descriptors run out (other threads use some too), close a
        handle and try again while there is one to close."""
        while True:
            try:
                return make()
            except OSError as err:
                if not fdlimit.is_out_of_fds(err) or not self._evict(spare):
                    raise


def _cookie(fd: int) -> int | None:
    try:
        return nsfs.namespace_cookie(fd)
    except OSError:
        return None  # not known: (dev, ino) was checked, as before ids existed


def _socket_in(fd: int) -> RtSocket:
    with nsfs.entered(fd):
        return RtSocket()
