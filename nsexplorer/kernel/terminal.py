"""The controlling terminal's foreground process group, taken back after a command.

An interactive shell (the `s` shell, ``nsexplorer exec T`` without a command) makes its
own process group the terminal's foreground group, and gives the terminal back when it
exits. One that is killed (SIGKILL, the OOM killer, its container stopped under
``--all-namespaces``) cannot: nsexplorer's next change to the terminal's modes then
stops it with SIGTTOU, and the person is left at their outer shell's prompt with
nsexplorer stopped (``[1]+ Stopped``).
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator


@contextlib.contextmanager
def kept_in_foreground() -> Iterator[None]:
    """Around a command that may take the terminal: if our process group had it before,
    it has it again after (taken back with SIGTTOU blocked, as a shell does). Nothing
    when there is no controlling terminal or we were in the background (``cmd &``)."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:
        yield  # no controlling terminal
        return
    try:
        ours = _foreground(fd) == os.getpgrp()
        yield
        if ours and _foreground(fd) != os.getpgrp():
            blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTTOU})
            try:
                with contextlib.suppress(OSError):
                    os.tcsetpgrp(fd, os.getpgrp())
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    finally:
        os.close(fd)


def _foreground(fd: int) -> int | None:
    try:
        return os.tcgetpgrp(fd)
    except OSError:
        return None
