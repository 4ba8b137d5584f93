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
import errno
import fcntl
import os
import signal
import struct
import termios
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
        if _hung_up():
            # The terminal hung up while the command had it (an SSH session dropped
            # during the `s` shell): the kernel sent SIGHUP to the session leader and the
            # command's group, not to us, and a UI left on a dead terminal waits forever.
            signal.raise_signal(signal.SIGHUP)
            return
        if ours and _foreground(fd) != os.getpgrp():
            blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTTOU})
            try:
                with contextlib.suppress(OSError):
                    os.tcsetpgrp(fd, os.getpgrp())
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    finally:
        os.close(fd)


def _hung_up() -> bool:
    """The controlling terminal we had is gone (opening /dev/tty: no such device)."""
    try:
        os.close(os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC))
    except OSError as err:
        return err.errno in (errno.ENXIO, errno.EIO)
    return False


def _foreground(fd: int) -> int | None:
    try:
        return os.tcgetpgrp(fd)
    except OSError:
        return None


def discard_typeahead() -> int:
    """Drop what was typed on the terminal and not read yet; how many bytes that was.

    When the UI hands the terminal to a shell, the keys typed in the same burst as `s`
    (a paste, a laggy link) would be the shell's first line, run as root with an Enter
    among them. The person did not type them for the shell. 0 without a terminal."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:
        return 0
    try:
        pending = struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
        termios.tcflush(fd, termios.TCIFLUSH)
        return int(pending)
    except OSError:
        return 0
    finally:
        os.close(fd)
