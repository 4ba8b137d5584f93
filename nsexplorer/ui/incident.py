"""The main screen's incident verbs (issue 12): marks and "run in marked / all shown",
what changed since the baseline, the evidence bundle (packet capture: ui/capturing.py).

None of them imports ``nsexplorer.actions``: the composition root hands the app an
:class:`IncidentTools` holding the callables (the fan-out, the capture, the bundle
writer) and the baseline. Every refusal runs nothing and says why.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from rich.text import Text
from textual import on, work
from textual.message import Message
from textual.widgets import Input, Static

from nsexplorer.errors import NsxError
from nsexplorer.model import NetNamespace, Snapshot, ns_label, same_namespace
from nsexplorer.ports import (
    BundleWriter,
    BundleWritten,
    KeptOutput,
    PacketCapture,
    RunResult,
    SessionEvidence,
    tally_text,
)
from nsexplorer.shellquote import join as join_argv
from nsexplorer.textsafe import counted
from nsexplorer.ui import render
from nsexplorer.ui.acting import READ_ONLY_MESSAGE, REPLAY_MESSAGE, Run
from nsexplorer.ui.capturing import CapturingScreen
from nsexplorer.ui.marks import Marks
from nsexplorer.ui.roles import BAD, GOOD, WARN
from nsexplorer.ui.screens.changes import ChangesScreen, ChangeTracker
from nsexplorer.ui.screens.dialogs import PromptScreen
from nsexplorer.ui.screens.fanout import FanOut, FanOutDone, FanOutScreen, outcome_text
from nsexplorer.ui.screens.problems import Jump
from nsexplorer.ui.screens.prompts import mode_text
from nsexplorer.ui.session import now_iso
from nsexplorer.ui.widgets.sidebar import NamespaceTree

NAMES_SHOWN = 4  # namespaces named in a fan-out prompt before "and N more"
INODES_SHOWN = 8  # of those N more, the inodes listed before "…"


@dataclass(frozen=True, slots=True)
class IncidentTools:
    """What the composition root gives the incident verbs (all optional: a replay
    gets only a baseline)."""

    fanout: FanOut | None = None
    capture: PacketCapture | None = None
    bundle: BundleWriter | None = None
    baseline: Snapshot | None = None  # from --since FILE; else the first full read
    baseline_origin: str = ""  # how the Changes view names that baseline


@dataclass
class BundleDone(Message):
    written: BundleWritten | None
    error: str = ""


def names_text(namespaces: Sequence[NetNamespace]) -> Text:
    """'a (netns 1), b (netns 2) and 5 more (netns 3, 4, …)': each target by label
    (escaped) and inode, as every prompt names its target; past NAMES_SHOWN by inode."""
    shown = [render.target_text(ns) for ns in namespaces[:NAMES_SHOWN]]
    text = render.join(shown, ", ")
    rest = [ns.inode for ns in namespaces[NAMES_SHOWN:]]
    if rest:
        text.append(f" and {len(rest)} more ")
        text.append(render.inodes_text(rest, INODES_SHOWN))
    return text


class FanOutPrompt(PromptScreen):
    """``X``: one command line for several namespaces, named (how many, and which)."""

    def __init__(self, title: Text, *, history: Sequence[str]) -> None:
        super().__init__(
            title,
            history=history,
            placeholder="e.g. ip -br addr   or   !ss -tan | head",
            note=mode_text(""),
        )

    @on(Input.Changed)
    def line_changed(self, event: Input.Changed) -> None:
        self.query_one("#dialog-note", Static).update(mode_text(event.value))


CHANGES_NOTICE_GAP = 30.0  # seconds between two "N new change(s)" notices


class IncidentScreen(CapturingScreen):
    """Base of MainScreen holding the incident keys. Needs from it: the sidebar and
    ``jump``."""

    def __init__(self) -> None:
        super().__init__()
        self.marks = Marks()
        self.changes: ChangeTracker | None = None
        self._untold = 0  # changes seen since the last notice that said so
        self._told_at = -CHANGES_NOTICE_GAP

    # provided by MainScreen
    @property
    def sidebar_tree(self) -> NamespaceTree:
        raise NotImplementedError

    def follow(self, jump: Jump) -> None:
        raise NotImplementedError

    # --- hooks the main screen calls ------------------------------------------------

    def inventory_shown(self) -> None:
        """A snapshot was merged in: forget marks of namespaces no longer listed; after
        a full read, compare it with the baseline (made from the first full read unless
        --since gave one)."""
        inv = self.nsx.inventory
        self.marks.keep_only(inv.by_inode)
        self.marks.forget(inv.replaced_now)  # a new namespace under a marked inode
        snap = inv.snapshot
        if inv.complete and snap is not None:
            fresh, origin = self._track(snap)
            for view in self.app.screen_stack:  # an open Changes view follows the reads
                if isinstance(view, ChangesScreen) and self.changes is not None:
                    view.show(self.changes.entries)
            self._tell_changes(fresh, origin)
        self.decorate_sidebar()

    def _tell_changes(self, fresh: int, origin: str) -> None:
        """Say that changes were seen: on the main screen only (over a view, the notice
        covered its detail), and at most once in CHANGES_NOTICE_GAP seconds with what
        was seen since (on a busy host every read brings some: the notices piled up)."""
        self._untold += fresh
        now = time.monotonic()
        if not self._untold or self.app.screen is not self:
            return
        if now - self._told_at < CHANGES_NOTICE_GAP:
            return
        self.nsx.notify(
            f"{self._untold} new change(s) since the {origin}: d lists them",
            title="changes",
            timeout=6,
        )
        self._untold, self._told_at = 0, now

    def _track(self, snap: Snapshot) -> tuple[int, str]:
        """Compare ``snap`` with the baseline: how many changes are new, and the
        baseline's name."""
        clock = time.strftime("%H:%M:%S")
        tracker = self.changes
        if tracker is None:
            tools = self.nsx.incident
            if tools.baseline is None:
                # a replay reads nothing: its baseline is the snapshot, as collected
                origin = (
                    f"first full read ({clock})"
                    if self.nsx.source.live
                    else f"the snapshot ({snap.hostname} at {snap.collected_at})"
                )
                self.changes = ChangeTracker(snap, origin=origin)
                return 0, self.changes.origin
            origin = tools.baseline_origin or "baseline file"
            tracker = self.changes = ChangeTracker(tools.baseline, origin=origin)
        return len(tracker.update(snap, clock)), tracker.origin

    def decorate_sidebar(self) -> None:
        changed = self.changes.inodes() if self.changes is not None else set()
        self.sidebar_tree.decorate(self.marks.inodes(), changed)

    def selection_seen(self, ns: NetNamespace | None) -> None:
        self.session.saw(ns)

    def run_kept(self, run: Run | None, result: RunResult) -> None:
        if run is None:
            return
        started = time.time() - (time.monotonic() - run.started)
        self.session.keep_output(_kept(_iso(started), run.label, run.command, result))

    # --- marks and fan-out ----------------------------------------------------------

    def shown_namespaces(self) -> list[NetNamespace]:
        """The sidebar's rows, in their order (what the filter shows)."""
        inv = self.nsx.inventory
        return [ns for inode in self.sidebar_tree.inodes() if (ns := inv.get(inode))]

    def action_toggle_mark(self) -> None:
        self.settle_selection()
        ns = self.selected_ns
        if ns is None:
            self.nsx.notify(
                f"nothing is selected ({self.nothing_selected_why()}): nothing to mark",
                markup=False,
            )
            return
        self.marks.toggle(ns.inode)
        self.decorate_sidebar()

    def action_run_in_marked(self) -> None:
        self.settle_selection()
        app = self.nsx
        what = "running a command in several namespaces is"
        if not app.source.live or app.runner is None:
            self._refuse(REPLAY_MESSAGE.format(what=what))
            return
        if app.read_only or app.runner.read_only:
            self._refuse(READ_ONLY_MESSAGE.format(what=what))
            return
        fanout = app.incident.fanout
        if fanout is None:
            self._refuse("running in several namespaces is not available here; nothing ran")
            return
        shown = self.shown_namespaces()
        targets = self.marks.targets(shown)
        left_out = self.marks.left_out(shown)
        if not targets:
            if len(self.marks):
                self._refuse(
                    f"the {len(self.marks)} marked namespace(s) are hidden by the filter or "
                    "gone: nothing ran (clear the filter, or space unmarks)"
                )
            else:
                self._refuse("no namespace is shown: nothing ran")
            return
        kind = "marked" if len(self.marks) else "shown"
        title = render.plain(f"Run in {len(targets)} {kind} namespace(s): ", "bold")
        title.append_text(names_text(targets))
        if left_out:
            title.append(
                f"\n{left_out} marked namespace(s) hidden by the filter or gone: left out",
                style=WARN,
            )

        def chosen(line: str | None) -> None:
            if line and line.strip():
                self._fan_out(fanout, targets, line)

        self.app.push_screen(FanOutPrompt(title, history=self._cmd_history), chosen)

    def _fan_out(self, fanout: FanOut, targets: Sequence[NetNamespace], line: str) -> None:
        argv = self.take_line(line)
        if argv is None:
            return
        inv = self.nsx.inventory
        still = [
            now
            for ns in targets
            if (now := inv.get(ns.inode)) and not now.gone and same_namespace(now, ns)
        ]
        if not still:
            self._refuse("every namespace chosen is gone: nothing ran")
            return
        self._next_run += 1
        label = counted(len(still), "namespace")
        run = Run(self._next_run, label, 0, join_argv(argv), time.monotonic())
        run.inodes = tuple(ns.inode for ns in still)
        screen = FanOutScreen(self._keeping(fanout, run), still, argv)
        # a Run too: the command bar shows it, quitting asks, ctrl+c and SIGTERM stop it
        run.cancel = screen.cancel_event
        self.runs = {k: v for k, v in self.runs.items() if not v.done.is_set()}
        self.runs[run.run_id] = run
        self.app.push_screen(screen, lambda _: self._fanned_out(screen, still, argv))

    def _keeping(self, fanout: FanOut, tracked: Run) -> FanOut:
        """``fanout``, each namespace's outcome also kept for the bundle, ``tracked``
        marked done when it returns."""
        session = self.session

        def run(
            namespaces: Sequence[NetNamespace],
            argv: Sequence[str],
            *,
            cancel: threading.Event | None = None,
            on_done: Callable[[FanOutDone], None] | None = None,
        ) -> Sequence[FanOutDone]:
            started = now_iso()
            command = join_argv(argv)

            def done(d: FanOutDone) -> None:
                result = d.result
                label = ns_label(d.namespace)
                session.keep_output(_kept(started, label, command, result))
                if on_done is not None:
                    on_done(d)

            try:
                return fanout(namespaces, argv, cancel=cancel, on_done=done)
            finally:
                tracked.done.set()

        return run

    def _fanned_out(
        self, screen: FanOutScreen, namespaces: Sequence[NetNamespace], argv: Sequence[str]
    ) -> None:
        """The fan-out screen closed: its results, grouped per namespace, stay in the
        Output pane too."""
        results = screen.results
        out = self.output_pane()
        command = join_argv(argv)
        clock = time.strftime("%H:%M:%S")
        if out.transcript:
            out.add(Text(""))
        head = render.plain("── ", "dim")
        head.append(counted(len(namespaces), "namespace"), style="bold reverse")
        head.append(f" · {clock} ", style="bold")
        head.append("──", style="dim")
        out.add(head)
        out.add(render.command_line_text(command))
        out.add(render.plain(f"{len(results)} finished: {tally_text(results.values())}"))
        for ns in namespaces:
            result = results.get(ns.inode)
            head = render.plain("▸ ", "dim")
            head.append_text(render.label_text(ns, "bold"))
            head.append(f" netns {ns.inode}  ", style="dim")
            if result is None:
                head.append("not run (cancelled)", style=WARN)
                out.add(head)
                continue
            head.append_text(outcome_text(result))
            out.add(head)
            for text in render.output_lines(result.output, limit=200):
                out.add(render.plain("  ") + text)
        self.current_command = command
        self.notify_runner_warnings()
        self.update_cmdbar()

    # --- changes since the baseline -------------------------------------------------

    def action_changes(self) -> None:
        tracker = self.changes
        if tracker is None:
            self.nsx.notify("no baseline yet: it is the first full read, still under way")
            return

        def chosen(jump: Jump | None) -> None:
            if jump is not None:
                self.follow(jump)

        self.nsx.push_screen(ChangesScreen(tracker.entries, origin=tracker.origin), chosen)

    # --- the incident bundle --------------------------------------------------------

    def action_bundle(self) -> None:
        writer = self.nsx.incident.bundle
        if writer is None or not self.nsx.source.live:
            self._refuse("the incident bundle is written from a live session; nothing written")
            return
        snap = self.nsx.snapshot
        if snap is None or not self.nsx.inventory.complete:
            self.nsx.notify(
                "the first full read is still under way: try again in a moment",
                severity="warning",
            )
            return
        baseline = self.changes.baseline if self.changes is not None else None
        evidence = self.session.evidence(snap, baseline)
        default = writer.default_path(snap.hostname)

        def chosen(line: str | None) -> None:
            if line is None:
                self.nsx.notify("no bundle written", title="bundle")
                return
            path = line.strip()
            if not path:
                self.nsx.notify("no path given: no bundle written", severity="warning")
                return
            self.nsx.notify(f"writing the incident bundle to {path}…", title="bundle", markup=False)
            # the default as offered: a new file even if one appeared there meanwhile
            self._bundle_worker(writer, evidence, None if path == default else path)

        title = render.plain("Write the incident bundle (.tar.gz) to:", "bold")
        note = render.plain(
            "enter: write · escape: cancel · an existing file is never replaced", "dim"
        )
        self.app.push_screen(PromptScreen(title, value=default, note=note), chosen)

    @work(thread=True, exit_on_error=False, group="bundle", description="bundle")
    def _bundle_worker(
        self, writer: BundleWriter, evidence: SessionEvidence, path: str | None
    ) -> None:
        try:
            self.post_message(BundleDone(writer(evidence, path)))
        except Exception as err:  # one error path: the message says what went wrong
            error = err.message if isinstance(err, NsxError) else f"{type(err).__name__}: {err}"
            self.post_message(BundleDone(None, error))

    @on(BundleDone)
    def bundle_done(self, message: BundleDone) -> None:
        written = message.written
        out = self.output_pane()
        if written is None:
            out.add(render.safe(f"bundle not written: {message.error}", BAD))
            self.nsx.notify(message.error, title="bundle not written", severity="error")
            return
        said = (
            f"bundle written: {written.path} ({written.size} bytes, "
            f"{written.audit_entries} audit entries)"
        )
        out.add(render.safe(said, GOOD))
        self.nsx.notify(said, title="bundle", timeout=15, markup=False)


def _kept(started: str, label: str, command: str, result: RunResult) -> KeptOutput:
    """What the bundle keeps of a run: its output, and apart from it nsexplorer's note
    and why it ended early (a note is never recorded as if the command printed it)."""
    return KeptOutput(
        started, label, command, result.exit_status, result.output, result.error, result.stopped
    )


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")
