"""Checking that a path really opens a given network namespace (for display and probes;
what runs goes through the descriptors of actions.opened)."""

from __future__ import annotations

import os

from nsexplorer.kernel import nsfs
from nsexplorer.model import NamespaceId

OWN_NETNS = nsfs.OWN_NETNS


def ns_id_of(path: str) -> NamespaceId | None:
    """(st_dev, st_ino) of ``path`` if it is a live namespace, else None.

    The same checks as opening it for real (kernel.nsfs.open_verified): no planted
    symlink followed, no FIFO waited on, nothing but an nsfs inode accepted (e.g. not
    the 0-byte file left where a bind mount was).
    """
    try:
        return nsfs.stat_namespace(path)
    except (OSError, ValueError):
        return None


def cookie_of(path: str, expect: NamespaceId) -> int | None:
    """The kernel id of namespace ``expect`` at ``path``; None when the kernel has no
    ids or ``path`` no longer opens ``expect`` (the opening checks say why, later)."""
    try:
        return nsfs.cookie_at(path, expect)
    except (OSError, ValueError):
        return None


def own_netns() -> NamespaceId | None:
    try:
        st = os.stat(OWN_NETNS)
    except OSError:
        return None
    return NamespaceId(st.st_dev, st.st_ino)
