"""The "conntrack" part: how many connections the namespace's conntrack table holds.

Call on a thread that is inside the namespace. Over ctnetlink with pyroute2's Conntrack
(IPCTNL_MSG_CT_GET_STATS, no entries are dumped) when ctnetlink is already in the
kernel; otherwise from /proc/sys/net/netfilter/nf_conntrack_count, which the kernel
answers for the opening thread's namespace: asking ctnetlink when it is a module not
yet loaded would make the kernel load it, a change to the host nsexplorer must not make.
Both give the same number (`conntrack -C`).
"""

from __future__ import annotations

import os

NF_CONNTRACK = "/sys/module/nf_conntrack"
CT_NETLINK_MODULE = "/sys/module/nf_conntrack_netlink"
COUNT_SYSCTL = "/proc/sys/net/netfilter/nf_conntrack_count"


def loaded(sys_module: str = NF_CONNTRACK) -> bool:
    return os.path.isdir(sys_module)


def ctnetlink_present(
    sys_module: str = CT_NETLINK_MODULE, modules_dir: str = "/lib/modules"
) -> bool:
    """Is ctnetlink in the kernel now (a loaded module, or built in)?"""
    if os.path.isdir(sys_module):
        return True
    try:
        with open(f"{modules_dir}/{os.uname().release}/modules.builtin", "rb") as f:
            builtin = f.read(8 << 20)
    except OSError:
        return False
    return b"/nf_conntrack_netlink.ko" in builtin


def count_netlink() -> int | None:
    """CTA_STATS_GLOBAL_ENTRIES for the calling thread's namespace (pyroute2)."""
    from pyroute2 import Conntrack
    from pyroute2.netlink.exceptions import NetlinkError

    ct = Conntrack(ext_ack=True)
    try:
        value = ct.count()
    except NetlinkError as err:
        raise OSError(err.code, str(err)) from err
    finally:
        ct.close()
    return int(value) if isinstance(value, int) else None


def count_sysctl(path: str = COUNT_SYSCTL) -> int | None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        text = os.read(fd, 64).strip()
    finally:
        os.close(fd)
    return int(text) if text.isdigit() else None


def count(*, use_netlink: bool | None = None) -> tuple[int | None, str]:
    """(entries, "") or (None, why not). ``use_netlink`` forces a path (tests)."""
    if not loaded():
        return None, "nf_conntrack is not loaded (no connection tracking on this host)"
    netlink = ctnetlink_present() if use_netlink is None else use_netlink
    try:
        value = count_netlink() if netlink else count_sysctl()
    except OSError as err:
        return None, f"conntrack not read: {err.strerror or err}"
    if value is None:
        return None, "conntrack gave no count"
    return value, ""
