"""The C library, loaded once on first use (importing ctypes costs start-up time).

Python 3.11 has no os.setns/os.unshare, and no wrappers for mount(2), umount2(2) or
pidfd_getfd(2): those go through this one handle, with errno kept for OSError.
"""

from __future__ import annotations

import threading

from nsexplorer import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

_lock = threading.Lock()
_libc: Any = None


def libc() -> Any:
    global _libc  # noqa: PLW0603 - loaded once, shared
    with _lock:
        if _libc is None:
            import ctypes

            lib = ctypes.CDLL(None, use_errno=True)
            lib.syscall.restype = ctypes.c_long
            _libc = lib
    return _libc


def _raise(target: str) -> None:
    import ctypes
    import os

    err = ctypes.get_errno()
    raise OSError(err, os.strerror(err), target)


def mount(source: str, target: str, flags: int) -> None:
    """mount(2) with no filesystem type (binds, propagation changes)."""
    import os

    if libc().mount(os.fsencode(source), os.fsencode(target), b"none", flags, None) != 0:
        _raise(target)


MNT_DETACH = 2


def umount_detach(target: str) -> None:
    """umount2(target, MNT_DETACH): a lazy unmount, as `ip netns delete` does."""
    import os

    if libc().umount2(os.fsencode(target), MNT_DETACH) != 0:
        _raise(target)
