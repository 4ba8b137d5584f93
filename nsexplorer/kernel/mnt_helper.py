"""A helper process inside another mount namespace, so that nsexplorer never switches its
own: a fresh single-threaded Python (setns(CLONE_NEWNS) is refused to a threaded
process) that enters it and waits, while ``/proc/<helper>/root`` reaches inside and
``/proc/<helper>/mountinfo`` lists its mounts. Used by discovery (mount namespaces no
process is in, covered mounts) and by the actions (opening a network namespace that is
mounted only in there, to verify and enter it like any other).
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
from contextlib import contextmanager

from nsexplorer import TYPE_CHECKING

if TYPE_CHECKING:
    import subprocess
    from collections.abc import Iterator

HELPER_TIMEOUT = 5.0

# Runs in the helper. argv: the mount namespace to enter ('' to stay in ours), and '1'
# to then move to a private copy of it (where covering mounts may be detached without
# touching anyone else). Says "ok", then detaches the mount points it is sent, one per
# line (hex), answering "ok" or "error N", until EOF.
_HELPER = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
def say(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
def fail():
    say("error %d" % ctypes.get_errno())
    sys.exit(1)
if sys.argv[1]:
    fd = os.open(sys.argv[1], os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    if libc.setns(fd, 0x20000) != 0:
        fail()
    os.close(fd)
if sys.argv[2] == "1":
    if libc.unshare(0x20000) != 0:
        fail()
    if libc.mount(None, b"/", None, 0x4000 | 0x40000, None) != 0:
        fail()
say("ok")
for line in sys.stdin:
    if libc.umount2(bytes.fromhex(line.strip()), 2) != 0:
        say("error %d" % ctypes.get_errno())
    else:
        say("ok")
"""


class Helper:
    """A helper process in a mount namespace (see _HELPER)."""

    def __init__(self, child: subprocess.Popen[bytes]) -> None:
        self.child = child
        self.pid = child.pid

    def answer(self) -> None:
        out = self.child.stdout
        assert out is not None  # noqa: S101 - set by stdout=PIPE
        poller = select.poll()  # not select(): our fds may be numbered past 1024
        poller.register(out.fileno(), select.POLLIN)
        ready = poller.poll(int(HELPER_TIMEOUT * 1000))
        line = out.readline().decode("ascii", "replace").strip() if ready else ""
        if line != "ok":
            err = int(line.split()[1]) if line.startswith("error ") else 0
            raise OSError(err, os.strerror(err) if err else "the helper did not answer")

    def detach(self, mount_point: str) -> None:
        """umount2(MNT_DETACH) in the helper's (private) mount namespace."""
        assert self.child.stdin is not None  # noqa: S101 - set by stdin=PIPE
        self.child.stdin.write(os.fsencode(mount_point).hex().encode() + b"\n")
        self.child.stdin.flush()
        self.answer()


@contextmanager
def helper_in(
    path: str, *, private: bool = False, pass_fds: tuple[int, ...] = ()
) -> Iterator[Helper]:
    """A helper process inside the mount namespace at ``path`` ('' for ours); with
    ``private``, in a private copy of it. ``pass_fds``: descriptors it inherits (a
    verified mount namespace entered as ``/proc/self/fd/N``)."""
    import subprocess  # only the full pass and some actions make helpers (not `list`)

    child = subprocess.Popen(
        [sys.executable, "-I", "-S", "-c", _HELPER, path, "1" if private else ""],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        close_fds=True,
        pass_fds=pass_fds,
    )
    try:
        helper = Helper(child)
        helper.answer()
        yield helper
    finally:
        if child.stdin is not None:
            with contextlib.suppress(OSError):
                child.stdin.close()
        try:
            child.wait(timeout=2)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()
