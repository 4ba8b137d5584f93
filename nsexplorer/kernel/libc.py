"""The C library, loaded once on first use (importing ctypes costs start-up time).

Python 3.11 has no os.setns/os.unshare, and no wrappers for mount(2), umount2(2) or
pidfd_getfd(2): those go through this one handle, with errno kept for OSError.
"""

from __future__ import annotations

import threading
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
