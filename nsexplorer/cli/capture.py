"""CLI handler: `nsexplorer capture TARGET [-i IFACE] [-w FILE] [-c N] [--seconds S]
[--max-bytes N] [FILTER ...]`: the host's tcpdump inside the namespace, pcap kept.

``CaptureTools`` is the same capture for the TUI (ports.PacketCapture), and termshark.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

from nsexplorer.actions import capture
from nsexplorer.actions.runner import NamespaceRunner, missing_program
from nsexplorer.cli.actions import resolve_target
from nsexplorer.errors import ActionFailed, NamespaceGone
from nsexplorer.model import NetNamespace, describe
from nsexplorer.ports import CaptureOrder
from nsexplorer.textsafe import visible

Detail = Callable[[NetNamespace], NetNamespace]
TCPDUMP_MISSING = "tcpdump is not installed on the host (apt-get install tcpdump); nothing was run"


def run(args: argparse.Namespace) -> int:
    runner = NamespaceRunner(read_only=args.read_only)
    runner.refuse_if_read_only("capture packets")
    ns = resolve_target(args.target)
    interface = args.interface or "any"
    check_interface(ns, interface, _live_detail)
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


def _live_detail(ns: NetNamespace) -> NetNamespace:
    from nsexplorer.collect.source import LiveSource

    return LiveSource().detail(ns)


def check_interface(ns: NetNamespace, interface: str, detail: Detail) -> None:
    """ActionFailed unless ``ns``, read again now, has ``interface`` ("any" always)."""
    if interface == "any":
        return
    try:
        detailed = detail(ns)
    except NamespaceGone as err:
        raise ActionFailed(f"{err.message}; nothing was captured") from err
    known = [i.name for i in detailed.interfaces] if detailed.detailed else None
    capture.check_interface(interface, known, describe(ns))


class CaptureTools:
    """ports.PacketCapture for the TUI: the CLI's capture, pcaps written new in
    ``directory`` (named after the namespace, interface and time), and termshark."""

    def __init__(
        self,
        runner: NamespaceRunner,
        detail: Detail,
        *,
        directory: str = ".",
        max_bytes: int | None = 100 * 1024 * 1024,
    ) -> None:
        self._runner = runner
        self._detail = detail
        self._directory = os.path.abspath(directory)
        self._max_bytes = max_bytes

    def missing(self) -> str:
        return TCPDUMP_MISSING if missing_program("tcpdump") else ""

    def capture(
        self,
        ns: NetNamespace,
        order: CaptureOrder,
        *,
        on_line: Callable[[str], None],
        cancel: Callable[[], bool],
        announce: Callable[[str, str], None],
    ) -> capture.CaptureOutcome:
        self._runner.refuse_if_read_only("capture packets")
        if self.missing():
            raise ActionFailed(TCPDUMP_MISSING)
        check_interface(ns, order.interface, self._detail)
        label = ns.label or str(ns.inode)
        path = capture.default_pcap_path(label, order.interface, self._directory)
        req = capture.CaptureRequest(
            interface=order.interface,
            pcap_path=path,
            count=order.count,
            seconds=order.seconds,
            max_bytes=self._max_bytes,
            filter=order.filter,
        )
        return self._runner.capture(
            ns, req, on_line=on_line, cancel=cancel, announce=lambda cmd: announce(cmd, path)
        )

    def termshark_command(self, ns: NetNamespace, interface: str) -> str | None:
        if missing_program("termshark"):
            return None
        return self._runner.equivalent_command(ns, termshark_argv(interface))

    def termshark(self, ns: NetNamespace, interface: str) -> int:
        from nsexplorer.kernel import terminal

        terminal.discard_typeahead()  # keys typed with `T` were not typed for termshark
        print(
            f"\nnsexplorer: termshark in {visible(describe(ns))} on {visible(interface)}; "
            "quit it to return to nsexplorer.\n",
            flush=True,
        )
        return self._runner.run_attached(ns, termshark_argv(interface))


def termshark_argv(interface: str) -> list[str]:
    return ["termshark", "-i", interface]
