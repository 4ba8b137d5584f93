"""The main screen's verbs: run a command, shell in, name/unname, copy the equivalent.

Everything goes through ``ports.CommandRunner``; the interactive shell through the
``ShellSpawner`` the composition root injects, so the UI never imports ``subprocess``.
Every verb acts on the namespace it named in its prompt or confirmation (label and
inode), read from the one selection when the key was pressed; none acts when nothing is
selected. Runs are tracked so that quitting, a hangup or SIGTERM can end them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import on, work
from textual.app import SuspendNotSupported
from textual.screen import Screen

from nsexplorer.errors import NsxError
from nsexplorer.model import Container, NetNamespace, ns_label, same_namespace
from nsexplorer.ports import CommandRunner, RunResult
from nsexplorer.ui import render
from nsexplorer.ui.messages import ActionFinished, CommandFinished, CommandOutput
from nsexplorer.ui.roles import ALERT, BAD, GOOD
from nsexplorer.ui.screens.dialogs import ChoiceScreen, ConfirmScreen, PromptScreen
from nsexplorer.ui.screens.prompts import RunPrompt, shell_words
from nsexplorer.ui.widgets.output import OutputPane

if TYPE_CHECKING:
    from nsexplorer.ui.app import NsxApp

READ_ONLY_MESSAGE = "read-only mode (--read-only): {what} refused; nothing ran"
REPLAY_MESSAGE = "replaying a saved snapshot: {what} not possible; nothing ran"
NOTHING_SELECTED = "nothing is selected ({why}): nothing ran"
HISTORY_LIMIT = 100
SHELL_EXTRAS = (
    "(interactive shell; nsexplorer adds a banner, NSX_NETNS, NSX_NETNS_LABEL and the label"
    " in the prompt)"
)
NETNS_DIR = "/var/run/netns"


@dataclass
class Run:
    """One command started from the UI."""

    run_id: int
    label: str
    inode: int
    command: str
    started: float
    cancel: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    streamed: bool = False
    inodes: tuple[int, ...] = ()  # a fan-out's namespaces (``inode`` is then 0)
    ended: float | None = None  # when the command ended (the UI may show it later)


class ActingScreen(Screen[None]):
    """Base of MainScreen holding the action keys. Needs from it: ``selected_ns``, the
    pane switch, the command bar."""

    def __init__(self) -> None:
        super().__init__()
        self.current_command = ""
        # The selection's own command (a shell there) as last computed: the bar shows it
        # unless an action put its own equivalent there since.
        self._shell_command = ""
        self.all_namespaces = False
        self._cmd_history: list[str] = []
        self.runs: dict[int, Run] = {}
        self._next_run = 0
        # A namespace the user just named or unnamed: its label changes with its names,
        # so the filter that found it may no longer match; it stays listed (and
        # selected) until the filter changes.
        self.kept_listed: int | None = None

    @property
    def nsx(self) -> NsxApp:
        return cast("NsxApp", self.app)

    # provided by MainScreen
    @property
    def selected_ns(self) -> NetNamespace | None:
        raise NotImplementedError

    @property
    def selected_container(self) -> Container | None:
        raise NotImplementedError

    def entered_container(self, ns: NetNamespace | None) -> Container | None:
        """With all namespaces on, the container whose namespaces `x` and `s` enter when
        its own ↳ row is highlighted (None: the namespace's own container, or none)."""
        c = self.selected_container if self.all_namespaces else None
        if c is None or not c.pid or ns is None or c not in ns.containers:
            return None  # (a container with no process: its namespace's own is entered)
        return c

    def _via_pid(self, ns: NetNamespace | None) -> int | None:
        c = self.entered_container(ns)
        return c.pid if c is not None else None

    def action_show_pane(self, pane_id: str) -> None:
        raise NotImplementedError

    def update_cmdbar(self, note: str = "") -> None:
        raise NotImplementedError

    def output_pane(self) -> OutputPane:
        raise NotImplementedError

    def nothing_selected_why(self) -> str:
        """Why no namespace is selected, in words that are true now (MainScreen)."""
        return "no namespace is highlighted"

    @property
    def command_running(self) -> bool:
        return any(not run.done.is_set() for run in self.runs.values())

    # --- the command bar ------------------------------------------------------------

    def shell_equivalent(self, ns: NetNamespace | None) -> str:
        runner = self.nsx.runner
        if runner is None or ns is None or ns.gone:
            return ""
        try:
            return runner.equivalent_command(
                ns, ["sh"], self.all_namespaces, via_pid=self._via_pid(ns)
            )
        except Exception:
            return ""

    def action_copy_command(self) -> None:
        command = self.current_command
        ns = self.selected_ns
        if ns is not None and ns.gone:
            self.nsx.notify(
                f"{render.named(ns)} is gone: its command would not work; nothing copied",
                severity="warning",
                markup=False,
            )
            return
        if not command:
            self.nsx.notify("no command to copy")
            return
        how = self.nsx.copy_command_to_clipboard(command)
        out = self.output_pane()
        out.add(render.plain(f"copied ({how}):", "dim"))
        out.add(render.command_line_text(command))

    # --- guards ---------------------------------------------------------------------

    def settle_selection(self) -> None:
        """Draw now what a burst of keys deferred (MainScreen): a prompt must never open
        over a header that still names the previous namespace."""

    def _acting_target(self, what: str) -> tuple[CommandRunner, NetNamespace] | None:
        """The runner and namespace to act on, or None after saying why not."""
        self.settle_selection()
        app = self.nsx
        if not app.source.live or app.runner is None:
            self._refuse(REPLAY_MESSAGE.format(what=what))
            return None
        if app.read_only or app.runner.read_only:
            self._refuse(READ_ONLY_MESSAGE.format(what=what))
            return None
        ns = self.selected_ns
        if ns is None:
            self._refuse(NOTHING_SELECTED.format(why=self.nothing_selected_why()))
            return None
        if ns.gone:
            self._refuse(self._gone_message(ns))
            return None
        return app.runner, ns

    def _still_there(self, ns: NetNamespace) -> NetNamespace | None:
        """The namespace a prompt named, as known now (None, after saying so, if gone)."""
        now = self.nsx.inventory.get(ns.inode)
        if now is None or now.gone or not same_namespace(now, ns):
            self._refuse(self._gone_message(ns))
            return None
        return now

    def _gone_message(self, ns: NetNamespace) -> str:
        if self.nsx.inventory.was_replaced(ns):
            return (
                f"{render.named(ns)} was replaced since it was read: a new "
                "namespace now has its inode; nothing ran"
            )
        return f"{render.named(ns)} is gone; nothing ran"

    def notify_runner_warnings(self) -> None:
        """What the runner warns about (an audit record not written: the action ran)."""
        runner = self.nsx.runner
        if runner is None:
            return
        for warning in runner.take_warnings():
            self.nsx.notify(warning, title="warning", severity="warning", timeout=30, markup=False)
            self.output_pane().add(render.safe(f"warning: {warning}", ALERT))

    def _refuse(self, message: str) -> None:
        self.nsx.drop_rest_of_burst()
        self.nsx.notify(message, title="refused", severity="error")
        self.output_pane().add(render.plain(f"refused: {message}", BAD))

    # --- run a command --------------------------------------------------------------

    def action_run_command(self) -> None:
        target = self._acting_target("running a command is")
        if target is None:
            return
        runner, ns = target
        if self.refused_while_running():
            return

        via = self.entered_container(ns)  # as the prompt names it, checked when it runs

        def chosen(line: str | None) -> None:
            if line and line.strip():
                self._run_line(runner, ns, line, via)

        row_of = None if self.all_namespaces else self.selected_container
        prompt = RunPrompt(
            ns,
            history=self._cmd_history,
            all_namespaces=self.all_namespaces,
            container=via,
            row_of=row_of,
        )
        self.app.push_screen(prompt, chosen)

    def take_line(self, line: str) -> list[str] | None:
        """The argv a prompt's line means (see ``shell_words``), remembered in the
        history; None (said why, when it could not be parsed) when nothing is to run."""
        try:
            argv = shell_words(line)
        except ValueError as err:
            self.nsx.notify(f"cannot parse that command: {err}", severity="error", markup=False)
            return None
        if not argv:
            return None
        if line in self._cmd_history:
            self._cmd_history.remove(line)
        self._cmd_history.append(line)
        del self._cmd_history[:-HISTORY_LIMIT]
        return argv

    def _run_line(
        self, runner: CommandRunner, ns: NetNamespace, line: str, via: Container | None
    ) -> None:
        argv = self.take_line(line)
        if argv is None:
            return
        now = self._still_there(ns)
        if now is None:
            return
        if via is not None and not any(c.id == via.id and c.pid == via.pid for c in now.containers):
            # restarted, stopped, removed or recreated since the prompt named it: its pid
            # may now be another process's
            again = any(c.id == via.id for c in now.containers)
            what = "was restarted" if again else "is no longer in this namespace (stopped?)"
            self._refuse(
                f"container {via.name} {what} since the prompt opened (pid {via.pid}): nothing ran"
            )
            return
        self.run_in(runner, now, argv, line.strip(), via_pid=via.pid if via else None)

    def run_in(
        self,
        runner: CommandRunner,
        ns: NetNamespace,
        argv: Sequence[str],
        typed: str = "",
        *,
        via_pid: int | None = None,
    ) -> None:
        """Run ``argv`` (``typed``: the line as the user typed it, for the entry's head;
        ``via_pid``: the container whose namespaces to enter, as the prompt named it)."""
        all_ns = self.all_namespaces
        try:
            equivalent = runner.equivalent_command(ns, argv, all_ns, via_pid=via_pid)
        except NsxError as err:
            self._refuse(err.message)
            return
        self.current_command = equivalent
        self._next_run += 1
        label = _entered_label(ns, via_pid)
        run = Run(self._next_run, label, ns.inode, equivalent, time.monotonic())
        self.runs = {k: v for k, v in self.runs.items() if not v.done.is_set()}
        self.runs[run.run_id] = run
        self.action_show_pane("output")
        clock = time.strftime("%H:%M:%S")
        self.output_pane().begin(run.label, run.inode, clock, equivalent, typed)
        self.update_cmdbar()
        self._command_worker(runner, ns, tuple(argv), all_ns, run, via_pid=via_pid)

    @work(thread=True, exit_on_error=False, group="command", description="command")
    def _command_worker(
        self,
        runner: CommandRunner,
        ns: NetNamespace,
        argv: tuple[str, ...],
        all_ns: bool,
        run: Run,
        *,
        via_pid: int | None,
    ) -> None:
        def output(text: str) -> None:
            run.streamed = True
            self.post_message(CommandOutput(run.run_id, text))

        try:
            result = runner.run(
                ns,
                argv,
                all_namespaces=all_ns,
                cancel=run.cancel.is_set,
                on_output=output,
                via_pid=via_pid,
            )
        except Exception as err:  # one error path: the run's entry says what went wrong
            message = err.message if isinstance(err, NsxError) else f"{type(err).__name__}: {err}"
            result = RunResult(argv, None, "", error=message)
        finally:
            run.ended = time.monotonic()
            run.done.set()
        self.post_message(CommandFinished(run.run_id, result))

    @on(CommandOutput)
    def command_output(self, message: CommandOutput) -> None:
        self.output_pane().stream(message.run_id, message.text)

    @on(CommandFinished)
    def command_finished(self, message: CommandFinished) -> None:
        run = self.runs.get(message.run_id)
        result = message.result
        out = self.output_pane()
        out.flush(message.run_id)
        if run is not None and not run.streamed and result.output:
            for line in render.output_lines(result.output):
                out.add(line)
        if result.truncated:
            out.add(render.plain("… the output was long: only its tail was kept", "dim"))
        if result.error:
            out.add(render.safe(result.error, BAD))
        if result.stopped:
            status = render.plain(f"[{result.stopped}]", ALERT)  # cancelled, timeout
        elif result.exit_status is None:
            status = render.plain("[no exit status: killed, or never started]", ALERT)
        elif result.exit_status == 0:
            status = render.plain("[exit 0]", GOOD)
        else:
            status = render.plain(f"[exit {result.exit_status}]", BAD)
        if run is not None:
            ended = run.ended if run.ended is not None else time.monotonic()
            status.append(f" after {ended - run.started:.1f} s", style="dim")
        out.add(status)
        self.run_kept(run, result)
        self.notify_runner_warnings()
        self.update_cmdbar()

    def run_kept(self, run: Run | None, result: RunResult) -> None:
        """A run ended (IncidentScreen keeps its output for the bundle)."""

    def action_cancel_command(self) -> None:
        running = [run for run in self.runs.values() if not run.done.is_set()]
        if not running:
            self.nsx.notify("nothing to cancel (q quits)")
            return
        for run in running:
            run.cancel.set()
        self.update_cmdbar("cancelling…")

    def stop_runs(self) -> list[Run]:
        """Ask every running command to stop (its process group is ended); the runs."""
        running = [run for run in self.runs.values() if not run.done.is_set()]
        for run in running:
            run.cancel.set()
        return running

    def action_clear_output(self) -> None:
        self.output_pane().clear_entries()

    # --- interactive shell ----------------------------------------------------------

    def refused_while_running(self) -> bool:
        """One command at a time: the Output pane streams the running one, and a shell
        or termshark over it would hide it and take its later output under theirs."""
        if not self.command_running:
            return False
        self.nsx.drop_rest_of_burst()
        self.nsx.notify("a command is still running (ctrl+c cancels it)", severity="warning")
        return True

    def action_shell(self) -> None:
        target = self._acting_target("opening a shell is")
        if target is None:
            return
        if self.refused_while_running():
            return
        runner, ns = target
        spawn = self.nsx.spawn_shell
        if spawn is None:
            self._refuse("no terminal to hand over (shell not available here)")
            return
        try:
            shell = runner.prepare_shell(ns, self.all_namespaces, via_pid=self._via_pid(ns))
        except NsxError as err:
            self._refuse(err.message)
            return
        self.current_command = shell.command
        out = self.output_pane()
        label = _entered_label(ns, self._via_pid(ns))
        out.begin(label, ns.inode, time.strftime("%H:%M:%S"), shell.command, "sh")
        # "runs as" enters the same namespace; what the shell gets on top is said here
        out.add(render.plain(SHELL_EXTRAS, "dim"))
        status: int | None = None
        why = ""
        try:
            with self.app.suspend():
                status = spawn(shell, netns_inode=ns.inode, label=label)
        except SuspendNotSupported:
            why = "this terminal cannot be handed over to a shell"
            self._refuse(why)
            return
        except OSError as err:
            why = f"could not start the shell: {err}"
            self._refuse(why)
            return
        finally:
            shell.ended(status, why)
            shell.release()
            self.notify_runner_warnings()
            # Keys read with `s`, before the terminal went to the shell, are still
            # queued: they were not typed for the screen the shell returns to.
            self.nsx.drop_rest_of_burst()
        out.add(render.plain(f"[shell exited with status {status}]", "dim"))
        self.update_cmdbar()
        self.app.refresh(layout=True)

    def show_shell_command(self) -> None:
        """The bar shows the selection's own command (a shell there), computed now."""
        self.current_command = self._shell_command = self.shell_equivalent(self.selected_ns)

    def refresh_shell_command(self) -> None:
        """The selected row came again from a refresh, and can need another command now
        (its name went to another namespace, it is gone): `c` must never copy one that
        enters another namespace. An action's own command stays only while the way in
        it was written for is still the way in."""
        fresh = self.shell_equivalent(self.selected_ns)
        if self.current_command == self._shell_command or fresh != self._shell_command:
            self.current_command = fresh
        self._shell_command = fresh

    def action_toggle_all_namespaces(self) -> None:
        self.all_namespaces = not self.all_namespaces
        self.show_shell_command()
        state = "on: mount, uts, ipc, pid and net" if self.all_namespaces else "off: net only"
        self.nsx.notify(f"enter all namespaces {state}")
        self.update_cmdbar()

    # --- name / unname --------------------------------------------------------------

    def action_name_namespace(self) -> None:
        target = self._acting_target("naming a namespace is")
        if target is None:
            return
        runner, ns = target
        title = render.plain("Name ", "bold")
        title.append_text(render.target_text(ns))
        title.append(" for `ip netns`", style="bold")

        def chosen(name: str | None) -> None:
            if name is None:
                return
            try:  # also validates the name, with the runner's own rules
                equivalent = runner.name_command(ns, name)
            except NsxError as err:
                self.nsx.notify(err.message, severity="error")
                return
            question = render.plain("Bind-mount ", "bold")
            question.append_text(render.target_text(ns))
            question.append_text(render.safe(f" as {NETNS_DIR}/{name}?", "bold"))

            def act() -> str:
                return f"named {runner.name(ns, name)}"

            self._confirm(ns, question, equivalent, act)

        note = render.plain("enter: name it (asks first) · escape: cancel", "dim")
        self.app.push_screen(PromptScreen(title, placeholder="new name", note=note), chosen)

    def action_unname_namespace(self) -> None:
        target = self._acting_target("removing a name is")
        if target is None:
            return
        runner, ns = target
        if not ns.names:
            self.nsx.notify("this namespace has no `ip netns` name to remove")
            return
        title = render.plain("Remove which name of ", "bold")
        title.append_text(render.target_text(ns))
        title.append("? (`ip netns delete`)", style="bold")
        names = list(ns.names)  # the raw names; the list shows them escaped
        choices = [render.safe(f"{NETNS_DIR}/{name}") for name in names]
        note = render.plain("enter: choose · escape: cancel", "dim")

        def chosen(index: int | None) -> None:
            if index is not None:
                self._ask_to_unname(runner, ns, names[index])

        self.app.push_screen(ChoiceScreen(title, choices, note), chosen)

    @work(thread=True, exit_on_error=False, group="action", description="unname check")
    def _ask_to_unname(self, runner: CommandRunner, ns: NetNamespace, name: str) -> None:
        """What unname would refuse is said before asking; finding it out reads every
        process's descriptors (what else holds the namespace), so not on the UI thread."""
        try:
            equivalent = runner.unname_command(name)
        except NsxError as err:
            self.app.call_from_thread(self.nsx.notify, err.message, severity="error")
            return
        question = render.safe(f"Remove {NETNS_DIR}/{name}, a name of ", "bold")
        question.append_text(render.target_text(ns))
        question.append("?", style="bold")

        def act() -> str:
            runner.unname(name, ns)
            return f"removed the name {name}"

        self.app.call_from_thread(self._confirm, ns, question, equivalent, act)

    def _confirm(
        self, ns: NetNamespace, question: Text, equivalent: str, act: Callable[[], str]
    ) -> None:
        self.current_command = equivalent
        self.update_cmdbar()

        def answered(yes: bool | None) -> None:
            if not yes:
                self.nsx.notify("nothing changed")
                self.show_shell_command()  # the bar no longer offers what did not run
                self.update_cmdbar()
                return
            if self._still_there(ns) is None:
                return
            self.kept_listed = ns.inode
            out = self.output_pane()
            out.begin(ns_label(ns), ns.inode, time.strftime("%H:%M:%S"), equivalent)
            self._action_worker(act)

        self.app.push_screen(
            ConfirmScreen(question, render.command_line_text(equivalent)), answered
        )

    @work(thread=True, exit_on_error=False, group="action", description="action")
    def _action_worker(self, act: Callable[[], str]) -> None:
        try:
            self.post_message(ActionFinished(act(), True))
        except Exception as err:  # one error path: the entry says what went wrong
            message = err.message if isinstance(err, NsxError) else f"{type(err).__name__}: {err}"
            self.post_message(ActionFinished(message, False))

    @on(ActionFinished)
    def action_finished(self, message: ActionFinished) -> None:
        out = self.output_pane()
        out.add(render.safe(message.message, GOOD if message.ok else BAD))
        self.nsx.notify(
            message.message, severity="information" if message.ok else "error", markup=False
        )
        self.notify_runner_warnings()
        if message.ok:
            self.nsx.request_collect()


def _entered_label(ns: NetNamespace, via_pid: int | None) -> str:
    """What an Output entry (and a shell's banner) is headed by: the namespace's label,
    or the container entered when it is another of the containers sharing it."""
    c = next((c for c in ns.containers if via_pid and c.pid == via_pid), None)
    return c.name if c is not None else ns_label(ns)
