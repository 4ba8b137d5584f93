"""Packet capture from the main screen (issue 12): ``t`` runs the host's tcpdump inside
the selected namespace, on the interface highlighted in the Interfaces pane (or any),
streaming decoded lines into the Output pane while the pcap is written; ``T`` suspends
into termshark there. Both go through the ports.PacketCapture the composition root
gives (never ``nsexplorer.actions``); a capture is a Run, so ctrl+c and quitting stop it.
"""

from __future__ import annotations

import shlex
import time
from collections import deque
from dataclasses import dataclass, field

from rich.text import Text
from textual import on, work
from textual.app import SuspendNotSupported
from textual.message import Message
from textual.timer import Timer

from nsexplorer.errors import NsxError
from nsexplorer.model import NetNamespace, ns_label
from nsexplorer.ports import CaptureOrder, CaptureResult, KeptOutput, PacketCapture
from nsexplorer.shellquote import join as join_argv
from nsexplorer.ui import render
from nsexplorer.ui.acting import ActingScreen, Run
from nsexplorer.ui.roles import BAD, GOOD
from nsexplorer.ui.screens.dialogs import PromptScreen
from nsexplorer.ui.session import Session, now_iso
from nsexplorer.ui.widgets.panes import InterfacesPane

CAPTURE_COUNT = 1000  # packets, unless the prompt says -c N
CAPTURE_SECONDS = 60.0  # unless the prompt says --seconds S
DRAIN_EVERY = 0.1  # seconds between moves of captured lines into the Output pane
DRAIN_MAX = 500  # lines moved per tick at most (a flood must not freeze the UI)
QUEUE_MAX = 20_000  # lines waiting; beyond that they are counted, not kept
KEEP_LINES = 2000  # decoded lines kept for the bundle (the pcap has every packet)


@dataclass
class CaptureStarted(Message):
    run_id: int
    command: str
    pcap_path: str


@dataclass
class CaptureEnded(Message):
    run_id: int
    result: CaptureResult | None
    error: str = ""


@dataclass
class CaptureFeed:
    """Lines a capture worker decoded, waiting for the app thread to show them."""

    run: Run
    started_at: str
    waiting: deque[str] = field(default_factory=deque)
    kept: deque[str] = field(default_factory=lambda: deque(maxlen=KEEP_LINES))
    dropped: int = 0
    headed: bool = False  # the Output entry is open (CaptureStarted arrived)

    def add(self, line: str) -> None:  # from the worker thread
        if len(self.waiting) >= QUEUE_MAX:
            self.dropped += 1
        else:
            self.waiting.append(line)


def parse_capture_line(line: str, interface: str) -> CaptureOrder:
    """The capture prompt: optional leading bounds ``-c N`` and ``--seconds S``, then a
    tcpdump filter expression. Raises ValueError with a message for the person."""
    words = shlex.split(line)
    count: int | None = CAPTURE_COUNT
    seconds: float | None = CAPTURE_SECONDS
    n = 0
    while n < len(words) and words[n] in ("-c", "--seconds"):
        option = words[n]
        if n + 1 >= len(words):
            raise ValueError(f"{option} needs a number")
        value = words[n + 1]
        try:
            number = int(value) if option == "-c" else float(value)
        except ValueError:
            raise ValueError(f"{option} {value!r}: not a number") from None
        if not 0 < number < float("inf"):
            raise ValueError(f"{option} {value}: not above 0")
        if option == "-c":
            count = int(number)
        else:
            seconds = float(number)
        n += 2
    return CaptureOrder(interface, count, seconds, tuple(words[n:]))


def capture_note() -> Text:
    text = render.plain("a tcpdump filter, or nothing for every packet; ", "")
    text.append(f"stops after -c N packets (default {CAPTURE_COUNT}), ", style="")
    text.append(f"--seconds S (default {CAPTURE_SECONDS:g}) or ctrl+c", style="")
    text.append("\nthe pcap is written new in the current directory, its path shown", style="")
    text.append("\nenter: start · escape: cancel", style="dim")
    return text


class CapturingScreen(ActingScreen):
    """Base of IncidentScreen holding the capture keys; owns the session record."""

    def __init__(self) -> None:
        super().__init__()
        self.session = Session()
        self._feeds: dict[int, CaptureFeed] = {}
        self._drain_timer: Timer | None = None
        self._capture_history: list[str] = []

    # --- packet capture -------------------------------------------------------------

    def capture_interface(self, ns: NetNamespace) -> str:
        """The interface highlighted in the Interfaces pane when it has the focus (the
        person moved into it), else "any"."""
        pane = self.query_one(InterfacesPane)
        ifindex = pane.selected_ifindex if pane.has_focus else None
        iface = ns.interface(ifindex) if ifindex is not None else None
        return iface.name if iface is not None else "any"

    def _capture_tool(self, what: str) -> tuple[PacketCapture, NetNamespace] | None:
        target = self._acting_target(what)
        if target is None:
            return None
        tool = self.nsx.incident.capture
        if tool is None:
            self._refuse("packet capture is not available here; nothing ran")
            return None
        return tool, target[1]

    def action_capture(self) -> None:
        got = self._capture_tool("capturing packets is")
        if got is None:
            return
        tool, ns = got
        missing = tool.missing()
        if missing:
            self._refuse(missing)
            return
        if self.refused_while_running():
            return
        interface = self.capture_interface(ns)
        title = render.plain("Capture on ", "bold")
        title.append_text(render.safe(interface, "bold underline"))
        title.append(" in ", style="bold")
        title.append_text(render.target_text(ns))

        def chosen(line: str | None) -> None:
            if line is None:
                return
            try:
                order = parse_capture_line(line, interface)
            except ValueError as err:
                self.nsx.notify(f"capture not started: {err}", severity="error", markup=False)
                return
            if line.strip():
                if line in self._capture_history:
                    self._capture_history.remove(line)
                self._capture_history.append(line)
            now = self._still_there(ns)
            if now is not None:
                self._start_capture(tool, now, order)

        prompt = PromptScreen(
            title,
            history=self._capture_history,
            placeholder="e.g. icmp   or   -c 20 port 53",
            note=capture_note(),
        )
        self.app.push_screen(prompt, chosen)

    def _start_capture(self, tool: PacketCapture, ns: NetNamespace, order: CaptureOrder) -> None:
        self._next_run += 1
        command = join_argv(["tcpdump", "-i", order.interface, *order.filter])
        run = Run(self._next_run, ns_label(ns), ns.inode, command, time.monotonic())
        self.runs = {k: v for k, v in self.runs.items() if not v.done.is_set()}
        self.runs[run.run_id] = run
        feed = CaptureFeed(run, now_iso())
        self._feeds[run.run_id] = feed
        self.action_show_pane("output")
        self.update_cmdbar()
        if self._drain_timer is None:
            self._drain_timer = self.set_interval(DRAIN_EVERY, self._drain)
        self._capture_worker(tool, ns, order, feed)

    @work(thread=True, exit_on_error=False, group="capture", description="capture")
    def _capture_worker(
        self, tool: PacketCapture, ns: NetNamespace, order: CaptureOrder, feed: CaptureFeed
    ) -> None:
        run = feed.run

        def announce(command: str, pcap_path: str) -> None:
            self.post_message(CaptureStarted(run.run_id, command, pcap_path))

        result: CaptureResult | None = None
        error = ""
        try:
            result = tool.capture(
                ns, order, on_line=feed.add, cancel=run.cancel.is_set, announce=announce
            )
        except Exception as err:  # one error path: the entry says what went wrong
            error = err.message if isinstance(err, NsxError) else f"{type(err).__name__}: {err}"
        finally:
            run.done.set()
        self.post_message(CaptureEnded(run.run_id, result, error))

    @on(CaptureStarted)
    def capture_started(self, message: CaptureStarted) -> None:
        feed = self._feeds.get(message.run_id)
        if feed is None:
            return
        run = feed.run
        typed, run.command = run.command, message.command  # "tcpdump -i eth0 icmp"
        feed.headed = True
        out = self.output_pane()
        out.begin(run.label, run.inode, time.strftime("%H:%M:%S"), message.command, typed)
        note = render.safe(f"pcap: {message.pcap_path}", "bold")
        note.append("  (ctrl+c stops; c copies the command)", style="dim")
        out.add(note)
        self.current_command = message.command
        self.update_cmdbar()

    def _drain(self) -> None:
        out = self.output_pane()
        for feed in self._feeds.values():
            if not feed.headed:
                continue
            for _ in range(min(DRAIN_MAX, len(feed.waiting))):
                line = feed.waiting.popleft()
                feed.kept.append(line)
                out.add(render.safe(line.rstrip("\r").expandtabs()))

    @on(CaptureEnded)
    def capture_ended(self, message: CaptureEnded) -> None:
        feed = self._feeds.get(message.run_id)
        if feed is None:
            return
        run = feed.run
        out = self.output_pane()
        if feed.headed:
            while feed.waiting:
                self._drain()
        del self._feeds[message.run_id]
        if not self._feeds and self._drain_timer is not None:
            self._drain_timer.stop()
            self._drain_timer = None
        result = message.result
        if result is None:
            if not feed.headed:
                out.begin(run.label, run.inode, time.strftime("%H:%M:%S"), run.command)
            self._refuse(message.error or "the capture did not start")
            self.notify_runner_warnings()
            self.update_cmdbar()
            return
        if feed.dropped:
            out.add(render.plain(f"… {feed.dropped} lines not shown (the pcap has them)", "dim"))
        took = time.monotonic() - run.started
        status = render.plain("[capture ", "bold")
        status.append(f"stopped: {result.stopped}" if result.stopped else "ended")
        status.append(f", exit {result.exit_status}]", style="bold")
        status.append(f" after {took:.1f} s", style="dim")
        out.add(status)
        if result.pcap_bytes > 0:
            self.session.keep_pcap(result.pcap_path)
            saved = f"pcap written: {result.pcap_path} ({result.pcap_bytes} bytes)"
            out.add(render.safe(saved, GOOD))
            self.nsx.notify(saved, title="capture")
        if result.error:
            out.add(render.safe(result.error, BAD))
            self.nsx.notify(result.error, title="capture", severity="error")
        self.session.keep_output(
            KeptOutput(
                feed.started_at,
                run.label,
                run.command,
                result.exit_status,
                "\n".join(feed.kept),
                result.error,
                result.stopped,
            )
        )
        self.notify_runner_warnings()
        self.update_cmdbar()

    def action_termshark(self) -> None:
        got = self._capture_tool("termshark is")
        if got is None or self.refused_while_running():
            return
        tool, ns = got
        interface = self.capture_interface(ns)
        try:
            command = tool.termshark_command(ns, interface)
        except NsxError as err:  # e.g. gone since the sidebar last showed it
            self._refuse(err.message)
            return
        if command is None:
            self._refuse(
                "termshark is not on the host's PATH (apt-get install termshark); "
                "t captures with tcpdump"
            )
            return
        self.current_command = command
        out = self.output_pane()
        label = ns_label(ns)
        started = now_iso()
        out.begin(label, ns.inode, time.strftime("%H:%M:%S"), command)
        try:
            with self.app.suspend():
                status = tool.termshark(ns, interface)
        except SuspendNotSupported:
            self._refuse("this terminal cannot be handed over to termshark")
            return
        except NsxError as err:
            self._refuse(err.message)
            return
        finally:
            self.notify_runner_warnings()
        out.add(render.plain(f"[termshark exited with status {status}]", "dim"))
        self.action_show_pane("output")
        self.session.keep_output(KeptOutput(started, label, command, status, "(interactive)"))
        self.update_cmdbar()
        self.app.refresh(layout=True)
