"""Run one command in several namespaces (the marked rows, or every row shown): results
grouped per namespace with each exit status, streamed as each one finishes; one key
cancels what still runs.

The UI never imports ``nsexplorer.actions``: the app is given a :data:`FanOut` callable
(the CLI passes ``functools.partial(actions.fanout.run_in_each, runner)``), which runs
each namespace through the CommandRunner port with bounded parallelism and one audit
entry per namespace. Every name and every line of output is escaped by ``ui.render``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import ClassVar, Protocol

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from nsexplorer.model import NetNamespace
from nsexplorer.ports import CANCELLED, RunResult, tally_text
from nsexplorer.shellquote import join as join_argv
from nsexplorer.ui.render import command_line_text, label_text, output_lines, plain, safe
from nsexplorer.ui.roles import ALERT, BAD, GOOD, WARN
from nsexplorer.ui.screens.once import OnceScreen


class FanOutDone(Protocol):
    """One namespace's outcome (actions.fanout.FanoutResult has these)."""

    @property
    def namespace(self) -> NetNamespace: ...
    @property
    def result(self) -> RunResult: ...


class FanOut(Protocol):
    def __call__(
        self,
        namespaces: Sequence[NetNamespace],
        argv: Sequence[str],
        *,
        cancel: threading.Event | None = ...,
        on_done: Callable[[FanOutDone], None] | None = ...,
    ) -> Sequence[FanOutDone]: ...


def outcome_text(result: RunResult) -> Text:
    if result.outcome == CANCELLED:  # the user's doing, not a failure
        return plain(result.error or "cancelled", ALERT)
    if result.error:
        return safe(result.error, BAD)
    if result.exit_status is None:
        return plain("killed or cancelled", ALERT)
    if result.exit_status == 0:
        return plain("exit 0", GOOD)
    return plain(f"exit {result.exit_status}", BAD)


class FanOutScreen(OnceScreen[None]):
    """Starts the fan-out on mount; Escape cancels while running, then closes."""

    CSS_PATH = "../views.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel_or_close", "Cancel / back"),
        # as on the main screen: asks first while the fan-out runs (QA: q did nothing)
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(
        self, fanout: FanOut, namespaces: Sequence[NetNamespace], argv: Sequence[str]
    ) -> None:
        super().__init__()
        self._fanout = fanout
        self._namespaces = list(namespaces)
        self._argv = tuple(argv)
        self._cancel = threading.Event()
        self._done: dict[int, RunResult] = {}
        self.finished = False

    @property
    def cancel_event(self) -> threading.Event:
        """Set to cancel (Escape here, or the app stopping every command)."""
        return self._cancel

    @property
    def results(self) -> dict[int, RunResult]:
        return dict(self._done)

    def compose(self) -> ComposeResult:
        note = f"in {len(self._namespaces)} namespace(s)"
        yield Static(command_line_text(join_argv(self._argv), note), id="fanout-title")
        with VerticalScroll(id="fanout-results"):
            for n, ns in enumerate(self._namespaces):
                yield Static(self._group(ns, None), id=f"fanout-{n}", classes="fanout-group")
        yield Static(plain("running… (Escape cancels)", "dim"), id="fanout-status")

    def on_mount(self) -> None:
        self.query_one("#fanout-results").focus()
        self.run_worker(self._run, thread=True, group="fanout", name="fanout", exit_on_error=False)

    def _group(self, ns: NetNamespace, result: RunResult | None) -> Text:
        text = label_text(ns, "bold")
        text.append(f"  netns {ns.inode}  ", style="dim")
        if result is None:
            text.append("running…", style="dim italic")
            return text
        text.append_text(outcome_text(result))
        for line in output_lines(result.output, limit=200):
            text.append("\n  ")
            text.append_text(line)
        if result.truncated:
            text.append("\n  (output truncated: the tail is kept)", style="dim")
        return text

    def _run(self) -> None:
        def on_done(done: FanOutDone) -> None:
            self.app.call_from_thread(self._one_done, done.namespace, done.result)

        try:
            self._fanout(self._namespaces, self._argv, cancel=self._cancel, on_done=on_done)
        except Exception as err:  # a fault of the run ends this screen's run, not the app
            self._cancel.set()
            self.app.call_from_thread(self._all_done, f"stopped by an error: {err!r}")
            return
        self.app.call_from_thread(self._all_done)

    def _one_done(self, ns: NetNamespace, result: RunResult) -> None:
        self._done[ns.inode] = result
        for n, shown in enumerate(self._namespaces):
            if shown.inode == ns.inode:
                self.query_one(f"#fanout-{n}", Static).update(self._group(ns, result))

    def _all_done(self, error: str = "") -> None:
        self.finished = True
        tally = tally_text(self._done.values())
        status = plain(f"{len(self._done)} namespace(s): {tally}", "bold")
        if error:
            status.append("  ")
            status.append_text(safe(error, BAD))
        elif self._cancel.is_set():
            status.append("  (Escape cancelled the run)", style=WARN)
        status.append("  Escape: back", style="dim")
        self.query_one("#fanout-status", Static).update(status)

    def action_cancel_or_close(self) -> None:
        if self.finished:
            self.dismiss(None)
        elif not self._cancel.is_set():
            self._cancel.set()
            self.query_one("#fanout-status", Static).update(
                plain("cancelling… (Escape again once stopped)", WARN)
            )
