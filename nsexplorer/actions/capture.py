"""Packet capture in any namespace with the HOST's tcpdump, the pcap kept.

tcpdump runs through the same verified entry as `exec` (hidden namespaces included),
prints decoded packets (``--print``) while it writes the pcap. The pcap file is created
here, new (never over an existing file: evidence is not overwritten, and a planted
symlink is not followed), and handed to tcpdump as an inherited descriptor
(``-w /proc/self/fd/N``), so what tcpdump writes lands exactly in the file whose path
is shown. ``-Z root`` keeps tcpdump from handing the file to its own user.

Bounds: a packet count (tcpdump's ``-c``), seconds, and a pcap size, the last two
enforced here by SIGINT, which makes tcpdump flush and print its totals.
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from nsexplorer.errors import ActionFailed

GRACE = 2.0  # SIGINT to SIGKILL
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_NO_DEVICE = re.compile(r"(?:No such device|doesn't exist|no suitable device)", re.I)


@dataclass(frozen=True, slots=True)
class CaptureRequest:
    interface: str  # "any" captures on every interface of the namespace
    pcap_path: str
    count: int | None = None
    seconds: float | None = None
    max_bytes: int | None = None
    filter: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CaptureOutcome:
    exit_status: int | None
    stopped: str  # "", "count", "time limit", "size limit", "cancelled"
    pcap_path: str
    pcap_bytes: int
    lines: int
    error: str = ""


def default_pcap_path(label: str, interface: str, directory: str = ".") -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    safe = "-".join(_SAFE.sub("_", part).strip("._")[:40] or "ns" for part in (label, interface))
    return os.path.join(directory, f"nsexplorer-{safe}-{stamp}.pcap")


def tcpdump_argv(req: CaptureRequest, write_to: str) -> list[str]:
    """tcpdump's argv; ``write_to`` is the pcap path (or /proc/self/fd/N when run)."""
    argv = ["tcpdump", "-n", "-l", "-U", "-Z", "root", "-i", req.interface, "-w", write_to]
    argv.append("--print")
    if req.count:
        argv += ["-c", str(req.count)]
    return [*argv, *req.filter]


def create_pcap(path: str) -> int:
    """A new pcap file (0600), refusing anything that exists, symlinks included."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        return os.open(path, flags, 0o600)
    except FileExistsError as err:
        raise ActionFailed(f"{path} exists: a capture never overwrites a file") from err
    except OSError as err:
        raise ActionFailed(f"cannot create {path}: {err.strerror or err}") from err


def check_interface(interface: str, known: Sequence[str] | None, where: str) -> None:
    """ActionFailed when the namespace was read and has no such interface."""
    if interface == "any" or known is None or interface in known:
        return
    have = ", ".join(sorted(known)) or "none"
    raise ActionFailed(f"no interface {interface!r} in {where} (it has: {have})")


def supervise(
    proc: subprocess.Popen[bytes],
    req: CaptureRequest,
    pcap_fd: int,
    *,
    on_line: Callable[[str], None],
    cancel: Callable[[], bool] | None = None,
) -> CaptureOutcome:
    """Stream tcpdump's lines to ``on_line`` until it ends or a bound stops it."""
    if proc.stdout is None:  # pragma: no cover - the caller always pipes stdout
        raise ActionFailed("no pipe to tcpdump")
    started = time.monotonic()
    stopped = ""
    lines = 0
    interrupted_at: float | None = None
    no_device = False
    pending = b""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    try:
        while True:
            for _key, _ in sel.select(0.2):
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    sel.unregister(proc.stdout)
                    break
                pending += chunk
                *complete, pending = pending.split(b"\n")
                for raw in complete:
                    text = raw.decode("utf-8", "surrogateescape")
                    no_device = no_device or bool(_NO_DEVICE.search(text))
                    lines += 1
                    on_line(text)
            if proc.poll() is not None and not sel.get_map():
                break
            if proc.poll() is not None:
                continue  # drain what is left in the pipe
            why = _bound_reached(req, started, pcap_fd, cancel)
            if why and interrupted_at is None:
                stopped = why
                interrupted_at = time.monotonic()
                _signal(proc, signal.SIGINT)
            elif interrupted_at is not None and time.monotonic() - interrupted_at > GRACE:
                _signal(proc, signal.SIGKILL)
    finally:
        sel.close()
    if pending:
        lines += 1
        on_line(pending.decode("utf-8", "surrogateescape"))
    status = proc.wait()
    if req.count and not stopped and status == 0:
        stopped = "count"
    error = ""
    if no_device:
        error = f"interface {req.interface!r} is not in this namespace (gone?)"
    return CaptureOutcome(
        exit_status=128 - status if status < 0 else status,
        stopped=stopped,
        pcap_path=req.pcap_path,
        pcap_bytes=os.fstat(pcap_fd).st_size,
        lines=lines,
        error=error,
    )


def _bound_reached(
    req: CaptureRequest, started: float, pcap_fd: int, cancel: Callable[[], bool] | None
) -> str:
    if cancel is not None and cancel():
        return "cancelled"
    if req.seconds is not None and time.monotonic() - started >= req.seconds:
        return "time limit"
    if req.max_bytes is not None and os.fstat(pcap_fd).st_size >= req.max_bytes:
        return "size limit"
    return ""


def _signal(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)  # its own session: reach whatever it started too
