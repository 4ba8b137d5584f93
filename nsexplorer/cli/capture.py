"""CLI handler: `nsexplorer capture TARGET [-i IFACE] [-w FILE] [-c N] [--seconds S]
[--max-bytes N] [FILTER ...]`: the host's tcpdump inside the namespace, pcap kept."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from types import FrameType

from nsexplorer.actions import capture
from nsexplorer.actions.runner import NamespaceRunner
from nsexplorer.cli.actions import resolve_target
from nsexplorer.errors import ActionFailed, NamespaceGone
from nsexplorer.model import describe
from nsexplorer.textsafe import visible


def run(args: argparse.Namespace) -> int:
    runner = NamespaceRunner(read_only=args.read_only)
    runner.refuse_if_read_only("capture packets")
    ns = resolve_target(args.target)
    interface = args.interface or "any"
    if interface != "any":
        from nsexplorer.collect.source import LiveSource

        try:
            detailed = LiveSource().detail(ns)
        except NamespaceGone as err:
            raise ActionFailed(f"{err.message}; nothing was captured") from err
        known = [i.name for i in detailed.interfaces] if detailed.detailed else None
        capture.check_interface(interface, known, describe(ns))
    path = args.write or capture.default_pcap_path(ns.label or str(ns.inode), interface)
    req = capture.CaptureRequest(
        interface=interface,
        pcap_path=os.path.abspath(path),
        count=args.count,
        seconds=args.seconds,
        max_bytes=args.max_bytes,
        filter=tuple(args.filter),
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()  # ctrl-c, SIGTERM, a hangup: tcpdump is stopped, the pcap kept

    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    saved = {s: signal.signal(s, on_signal) for s in signals}
    try:
        outcome = runner.capture(
            ns,
            req,
            on_line=lambda line: print(visible(line), flush=True),
            cancel=stop.is_set,
            announce=lambda cmd: print(f"# {cmd}", file=sys.stderr, flush=True),
        )
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    for warning in runner.take_warnings():
        print(f"nsexplorer: warning: {visible(warning)}", file=sys.stderr)
    stopped = f", stopped: {outcome.stopped}" if outcome.stopped else ""
    if os.path.exists(req.pcap_path):
        print(
            f"# pcap: {visible(req.pcap_path)} ({outcome.pcap_bytes} bytes{stopped})",
            file=sys.stderr,
        )
    if outcome.error:
        raise ActionFailed(outcome.error)
    return outcome.exit_status if outcome.exit_status is not None else 1
