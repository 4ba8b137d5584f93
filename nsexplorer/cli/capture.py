"""CLI handler: `nsexplorer capture TARGET [-i IFACE] [-w FILE] [-c N] [--seconds S]
[--max-bytes N] [FILTER ...]`: the host's tcpdump inside the namespace, pcap kept."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import threading
from types import FrameType

from nsexplorer.actions import audit, capture, entry, quoting
from nsexplorer.actions.runner import NamespaceRunner, privilege_problem
from nsexplorer.cli.actions import resolve_target
from nsexplorer.errors import ActionFailed, NamespaceGone, NeedsRoot
from nsexplorer.textsafe import visible


def run(args: argparse.Namespace) -> int:
    runner = NamespaceRunner(read_only=args.read_only)
    runner.refuse_if_read_only("capture packets")
    if shutil.which("tcpdump") is None:
        raise ActionFailed(
            "tcpdump is not installed on the host (apt-get install tcpdump); nothing was run"
        )
    ns = resolve_target(args.target)
    way = entry.plan(ns)
    denied = privilege_problem(way, ns)
    if denied:
        raise NeedsRoot(denied)
    known = None
    try:
        from nsexplorer.collect.source import LiveSource

        detailed = LiveSource().detail(ns)
        if detailed.detailed:
            known = [i.name for i in detailed.interfaces]
    except NamespaceGone as err:
        raise ActionFailed(f"{err.message}; nothing was captured") from err
    interface = args.interface or "any"
    capture.check_interface(interface, known, entry.describe(ns))
    path = args.write or capture.default_pcap_path(ns.label or str(ns.inode), interface)
    req = capture.CaptureRequest(
        interface=interface,
        pcap_path=os.path.abspath(path),
        count=args.count,
        seconds=args.seconds,
        max_bytes=args.max_bytes,
        filter=tuple(args.filter),
    )
    shown = entry.wrap(way, capture.tcpdump_argv(req, req.pcap_path))
    fd = capture.create_pcap(req.pcap_path)
    try:
        full = entry.wrap(way, capture.tcpdump_argv(req, f"/proc/self/fd/{fd}"))
        print(f"# {quoting.join(shown)}", file=sys.stderr, flush=True)
        outcome = _run(full, req, fd)
    finally:
        os.close(fd)
    log = audit.AuditLog(runner.audit_log_path)
    log.record(
        "capture",
        netns_inode=ns.inode,
        netns=entry.describe(ns),
        argv=capture.tcpdump_argv(req, req.pcap_path),
        command=shown,
        exit_status=outcome.exit_status,
        pcap=req.pcap_path,
        stopped=outcome.stopped or None,
    )
    if log.last_error:
        print(f"nsexplorer: warning: {visible(log.last_error)}", file=sys.stderr)
    stopped = f", stopped by {outcome.stopped}" if outcome.stopped else ""
    print(
        f"# pcap: {visible(req.pcap_path)} ({outcome.pcap_bytes} bytes{stopped})",
        file=sys.stderr,
    )
    if outcome.error:
        raise ActionFailed(outcome.error)
    return outcome.exit_status if outcome.exit_status is not None else 1


def _run(full: list[str], req: capture.CaptureRequest, fd: int) -> capture.CaptureOutcome:
    """tcpdump in its own session; ctrl-c, SIGTERM and a hangup stop it cleanly."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    saved = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        proc = subprocess.Popen(
            full,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(fd,),
            start_new_session=True,
        )
        with proc:
            return capture.supervise(
                proc,
                req,
                fd,
                on_line=lambda line: print(visible(line), flush=True),
                cancel=stop.is_set,
            )
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
