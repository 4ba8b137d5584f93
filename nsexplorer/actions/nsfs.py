"""Checking that a path really opens a given network namespace."""

from __future__ import annotations

import os

from nsexplorer.model import NamespaceId

OWN_NETNS = "/proc/thread-self/ns/net"


def ns_id_of(path: str) -> NamespaceId | None:
    """(st_dev, st_ino) of ``path`` if it is a live network namespace, else None.

    ``stat`` follows the magic links of /proc and never opens the file, so a FIFO or a
    planted symlink cannot block us; the inode check decides what the path really is.
    """
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    ns = NamespaceId(st.st_dev, st.st_ino)
    own = own_netns()
    if own is not None and ns.dev != own.dev:
        return None  # not nsfs: e.g. a 0-byte file left where a bind mount was
    return ns


def own_netns() -> NamespaceId | None:
    try:
        st = os.stat(OWN_NETNS)
    except OSError:
        return None
    return NamespaceId(st.st_dev, st.st_ino)
