"""The app's verbs: run a command, shell in, name/unname, copy the equivalent command.

Everything goes through ``ports.CommandRunner``; the interactive shell is started by a
callable injected by the composition root, so the UI never imports ``subprocess``.
Every action shows the exact equivalent shell command, and ``c`` copies it (OSC 52).
"""

from __future__ import annotations

import shlex
import threading
from collections.abc import Callable, Sequence

from rich.text import Text
from textual.app import App, SuspendNotSupported
from textual.notifications import SeverityLevel
from textual.widgets import Static

from nsexplorer.errors import NsxError
from nsexplorer.model import NetNamespace
from nsexplorer.ports import CommandRunner, PreparedShell, RunResult, SnapshotSource
from nsexplorer.textsafe import visible
from nsexplorer.ui import render
from nsexplorer.ui.messages import ActionFinished, CommandFinished
from nsexplorer.ui.screens.dialogs import ChoiceScreen, ConfirmScreen, PromptScreen
from nsexplorer.ui.widgets.panes import OutputPane

READ_ONLY_MESSAGE = "read-only mode (--read-only): {what} refused; nothing ran"
REPLAY_MESSAGE = "replaying a saved snapshot: {what} is not possible; nothing ran"
HISTORY_LIMIT = 100
NETNS_DIR = "/var/run/netns"


class ActingApp(App[None]):
    """Base of NsxApp holding the action keys (split out to keep each file small)."""

    runner: CommandRunner | None
    source: SnapshotSource
    spawn_shell: Callable[[PreparedShell], int] | None
    read_only: bool

    def init_actions(self) -> None:
        self.current_command = ""
        self.all_namespaces = False
        self.command_running = False
        self._cancel = threading.Event()
        self._cmd_history: list[str] = []

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Notifications often quote untrusted names: never markup, always visible."""
        super().notify(
            visible(message), title=visible(title), severity=severity, timeout=timeout, markup=False
        )

    # provided by NsxApp
    @property
    def selected_ns(self) -> NetNamespace | None:
        raise NotImplementedError

    def action_show_pane(self, pane_id: str) -> None:
        raise NotImplementedError

    def ensure_panes(self) -> None:
        raise NotImplementedError

    def output_pane(self) -> OutputPane:
        self.ensure_panes()
        return self.query_one(OutputPane)

    def _start_collect(self, *, discover_first: bool = False) -> None:
        raise NotImplementedError

    # --- the command bar ------------------------------------------------------------

    def on_selection_changed(self, ns: NetNamespace) -> None:
        self.current_command = self._shell_equivalent(ns)
        self.update_cmdbar()

    def _shell_equivalent(self, ns: NetNamespace) -> str:
        if self.runner is None or ns.gone:
            return ""
        try:
            return self.runner.equivalent_command(ns, ["sh"], self.all_namespaces)
        except Exception:
            return ""

    def update_cmdbar(self, note: str = "") -> None:
        bar = self.query_one("#cmdbar", Static)
        text = Text(end="")
        if not self.source.live:
            text.append("replay: read-only  ", style="bold yellow")
        elif self.read_only:
            text.append("read-only  ", style="bold yellow")
        if self.all_namespaces:
            text.append("[all ns] ", style="bold magenta")
        if self.current_command:
            text.append_text(render.command_line_text(self.current_command))
            text.append("  (c copies)", style="dim")
        if note:
            text.append("  ")
            text.append(note, style="dim")
        bar.update(text)

    def action_copy_command(self) -> None:
        if not self.current_command:
            self.notify("no command to copy")
            return
        self.copy_to_clipboard(self.current_command)
        self.notify(visible(self.current_command), title="copied (OSC 52)", markup=False)

    # --- guards ---------------------------------------------------------------------

    def _acting_target(self, what: str) -> tuple[CommandRunner, NetNamespace] | None:
        """The runner and namespace to act on, or None after saying why not."""
        if not self.source.live or self.runner is None:
            self._refuse(REPLAY_MESSAGE.format(what=what))
            return None
        if self.read_only or self.runner.read_only:
            self._refuse(READ_ONLY_MESSAGE.format(what=what))
            return None
        ns = self.selected_ns
        if ns is None:
            self.notify("select a namespace first")
            return None
        if ns.gone:
            self._refuse("that namespace is gone; nothing ran")
            return None
        return self.runner, ns

    def notify_runner_warnings(self) -> None:
        """What the runner warns about (an audit record not written: the action ran)."""
        if self.runner is None:
            return
        for warning in self.runner.take_warnings():
            self.notify(warning, title="warning", severity="warning", timeout=30)
            self.output_pane().add(render.safe(f"warning: {warning}", "bold yellow"))

    def _refuse(self, message: str) -> None:
        self.notify(message, title="refused", severity="error", markup=False)
        out = self.output_pane()
        out.add(render.plain(f"refused: {message}", "bold red"))

    # --- run a command --------------------------------------------------------------

    def action_run_command(self) -> None:
        target = self._acting_target("running a command is")
        if target is None:
            return
        runner, ns = target
        if self.command_running:
            self.notify("a command is still running (ctrl+c cancels it)", severity="warning")
            return
        title = render.plain("Run in ", "bold")
        title.append_text(render.safe(render.ns_label(ns), "bold"))
        if self.all_namespaces:
            title.append(" (all of its namespaces)", style="magenta")
        note = render.plain("enter: run · ↑↓: history · escape: cancel", "dim")

        def chosen(line: str | None) -> None:
            if line:
                self._run_line(runner, ns, line)

        self.push_screen(
            PromptScreen(
                title, history=self._cmd_history, placeholder="e.g. ip -br addr", note=note
            ),
            chosen,
        )

    def _run_line(self, runner: CommandRunner, ns: NetNamespace, line: str) -> None:
        try:
            argv = shlex.split(line)
        except ValueError as err:
            self.notify(f"cannot parse that command: {err}", severity="error", markup=False)
            return
        if not argv:
            return
        if line in self._cmd_history:
            self._cmd_history.remove(line)
        self._cmd_history.append(line)
        del self._cmd_history[:-HISTORY_LIMIT]
        self.run_in(runner, ns, argv)

    def run_in(self, runner: CommandRunner, ns: NetNamespace, argv: Sequence[str]) -> None:
        all_ns = self.all_namespaces
        try:
            equivalent = runner.equivalent_command(ns, argv, all_ns)
        except NsxError as err:
            self._refuse(err.message)
            return
        self.current_command = equivalent
        self.update_cmdbar("running… ctrl+c cancels")
        self.action_show_pane("output")
        out = self.output_pane()
        out.add(render.command_line_text(equivalent))
        self._cancel.clear()
        self.command_running = True
        cancel = self._cancel

        def work() -> None:
            try:
                result = runner.run(ns, argv, all_namespaces=all_ns, cancel=cancel.is_set)
            except NsxError as err:
                result = RunResult(tuple(argv), None, "", error=err.message)
            except Exception as err:
                result = RunResult(tuple(argv), None, "", error=f"{type(err).__name__}: {err}")
            self.post_message(CommandFinished(result, equivalent))

        self.run_worker(work, thread=True, exit_on_error=False, group="command")

    def on_command_finished(self, message: CommandFinished) -> None:
        self.command_running = False
        result = message.result
        out = self.output_pane()
        if result.truncated:
            out.add(render.plain("… output truncated, the tail is kept", "dim"))
        for line in render.output_lines(result.output):
            out.add(line)
        if result.error:
            out.add(render.safe(result.error, "bold red"))
        if result.exit_status is None:
            status = render.plain("[cancelled or killed]", "bold yellow")
        elif result.exit_status == 0:
            status = render.plain("[exit 0]", "bold green")
        else:
            status = render.plain(f"[exit {result.exit_status}]", "bold red")
        out.add(status)
        self.notify_runner_warnings()
        self.update_cmdbar()

    def action_cancel_command(self) -> None:
        if self.command_running:
            self._cancel.set()
            self.update_cmdbar("cancelling…")
        else:
            self.notify("nothing to cancel (q quits)")

    # --- interactive shell ----------------------------------------------------------

    def action_shell(self) -> None:
        target = self._acting_target("opening a shell is")
        if target is None:
            return
        runner, ns = target
        if self.spawn_shell is None:
            self._refuse("no terminal to hand over (shell not available here)")
            return
        try:
            shell = runner.prepare_shell(ns, self.all_namespaces)
        except NsxError as err:
            self._refuse(err.message)
            return
        self.current_command = shell.command
        out = self.output_pane()
        out.add(render.command_line_text(shell.command, "(interactive shell)"))
        try:
            with self.suspend():
                status = self.spawn_shell(shell)
        except SuspendNotSupported:
            self._refuse("this terminal cannot be handed over to a shell")
            return
        except OSError as err:
            self._refuse(f"could not start the shell: {err}")
            return
        finally:
            shell.release()
            self.notify_runner_warnings()
        out.add(render.plain(f"[shell exited with status {status}]", "dim"))
        self.update_cmdbar()
        self.refresh(layout=True)

    def action_toggle_all_namespaces(self) -> None:
        self.all_namespaces = not self.all_namespaces
        ns = self.selected_ns
        if ns is not None:
            self.current_command = self._shell_equivalent(ns)
        state = "on: mount, uts, ipc, pid and net" if self.all_namespaces else "off: net only"
        self.notify(f"enter all namespaces {state}")
        self.update_cmdbar()

    # --- name / unname --------------------------------------------------------------

    def action_name_namespace(self) -> None:
        target = self._acting_target("naming a namespace is")
        if target is None:
            return
        runner, ns = target
        title = render.plain("Name ", "bold")
        title.append_text(render.safe(render.ns_label(ns), "bold"))
        title.append(" for `ip netns`", style="bold")

        def chosen(name: str | None) -> None:
            if name is None:
                return
            try:  # also validates the name, with the runner's own rules
                equivalent = runner.name_command(ns, name)
            except NsxError as err:
                self.notify(err.message, severity="error")
                return
            self._confirm(
                f"Bind-mount this namespace as {NETNS_DIR}/{name}?",
                equivalent,
                lambda: f"named {runner.name(ns, name)}",
            )

        self.push_screen(PromptScreen(title, placeholder="new name"), chosen)

    def action_unname_namespace(self) -> None:
        target = self._acting_target("removing a name is")
        if target is None:
            return
        runner, ns = target
        if not ns.names:
            self.notify("this namespace has no `ip netns` name to remove")
            return
        title = render.plain("Remove which name? (`ip netns delete`)", "bold")
        names = list(ns.names)  # the raw names; the list shows them escaped
        choices = [render.safe(f"{NETNS_DIR}/{name}") for name in names]
        note = render.plain("enter: choose · escape: cancel", "dim")

        def chosen(index: int | None) -> None:
            if index is None:
                return
            name = names[index]

            def do() -> str:
                runner.unname(name)
                return f"removed the name {name}"

            self._confirm(f"Remove {NETNS_DIR}/{name}?", runner.unname_command(name), do)

        self.push_screen(ChoiceScreen(title, choices, note), chosen)

    def _confirm(self, question: str, equivalent: str, act: Callable[[], str]) -> None:
        self.current_command = equivalent
        self.update_cmdbar()

        def answered(yes: bool | None) -> None:
            if not yes:
                self.notify("nothing changed")
                return
            out = self.output_pane()
            out.add(render.command_line_text(equivalent))

            def work() -> None:
                try:
                    self.post_message(ActionFinished(act(), True))
                except NsxError as err:
                    self.post_message(ActionFinished(err.message, False))
                except Exception as err:
                    self.post_message(ActionFinished(f"{type(err).__name__}: {err}", False))

            self.run_worker(work, thread=True, exit_on_error=False, group="action")

        self.push_screen(
            ConfirmScreen(render.safe(question, "bold"), render.command_line_text(equivalent)),
            answered,
        )

    def on_action_finished(self, message: ActionFinished) -> None:
        out = self.output_pane()
        out.add(render.safe(message.message, "green" if message.ok else "bold red"))
        self.notify(
            message.message, severity="information" if message.ok else "error", markup=False
        )
        self.notify_runner_warnings()
        if message.ok:
            self._start_collect()
