"""The open-file limit: raised once at start, budgeted while reading, restored for children.

Reading every namespace at once needs two descriptors per namespace (the namespace file
and its netlink socket), so a host with more namespaces than ``ulimit -n`` / 2 would run
out. nsexplorer raises its soft limit to the hard one at start (as systemd does for
itself), reads in batches that fit whatever limit it got, and starts the commands it runs
for a person with the limit that person had (``prlimit``), so a command behaves as the
printed equivalent pasted into their shell would.
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource

# A hard limit may be huge (nr_open is 2^20 by default, and more where raised): a soft
# limit that high only makes programs that close every possible descriptor slow.
CAP = 1 << 20
OUT_OF_FDS = (errno.EMFILE, errno.ENFILE)

_original: tuple[int, int] | None = None  # the limits before raise_soft_limit changed them


def raise_soft_limit(cap: int = CAP) -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE to the hard limit (at most ``cap``); the new limits.

    Idempotent; a refusal (a sandbox forbidding setrlimit) leaves the limits as they were.
    """
    global _original  # noqa: PLW0603 - the process's own limit, set once at start
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = cap if hard == resource.RLIM_INFINITY else min(hard, cap)
    if soft != resource.RLIM_INFINITY and soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        except (ValueError, OSError):
            return soft, hard
        if _original is None:
            _original = (soft, hard)
        return want, hard
    return soft, hard


def soft_limit() -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return CAP if soft == resource.RLIM_INFINITY else soft


def open_count() -> int:
    """How many descriptors this process has open now."""
    with contextlib.suppress(OSError):
        return len(os.listdir("/proc/self/fd")) - 1  # listdir's own descriptor
    return 64  # no /proc/self: a guess on the high side


def budget(reserve: int = 32) -> int:
    """How many more descriptors a reader may hold at once, leaving room for the rest of
    the process (other threads, the Docker connection, the terminal): never below 0."""
    limit = soft_limit()
    return max(limit - open_count() - min(reserve, limit // 4), 0)


def is_out_of_fds(err: OSError) -> bool:
    return err.errno in OUT_OF_FDS


def child_prefix() -> list[str]:
    """argv words that give a child the limits nsexplorer started with ([] when unchanged).

    Python offers no safe way to set a child's rlimit (``preexec_fn`` is unsafe in a
    threaded process), so util-linux's prlimit sets it and then runs the command.
    """
    if _original is None:
        return []
    import shutil

    prlimit = shutil.which("prlimit")
    if prlimit is None:
        return []
    soft, hard = _original
    return [prlimit, f"--nofile={_fmt(soft)}:{_fmt(hard)}", "--"]


def _fmt(value: int) -> str:
    return "unlimited" if value == resource.RLIM_INFINITY else str(value)
