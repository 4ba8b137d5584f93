"""The collectors' name for nsexplorer.kernel.nsfs (namespace files: identity, safe
opening, setns), which now lives one floor down so that actions share it."""

from nsexplorer.kernel.nsfs import (
    CLONE_NEWNET,
    OWN_MNTNS,
    OWN_NETNS,
    NamespaceMismatch,
    NotANamespace,
    ThreadStranded,
    entered,
    nsfs_dev,
    open_verified,
    own_mntns_inode,
    own_netns,
    parse_ns_link,
    read_bounded,
    setns,
    stat_namespace,
)

__all__ = [
    "CLONE_NEWNET",
    "OWN_MNTNS",
    "OWN_NETNS",
    "NamespaceMismatch",
    "NotANamespace",
    "ThreadStranded",
    "entered",
    "nsfs_dev",
    "open_verified",
    "own_mntns_inode",
    "own_netns",
    "parse_ns_link",
    "read_bounded",
    "setns",
    "stat_namespace",
]
