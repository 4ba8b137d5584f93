"""The nsexplorer terminal UI: a sidebar of namespaces and panes about the selected one.

The app owns the ports (where data comes from, what runs commands, what watches for
changes) and the inventory of what is known; ``collecting`` reads the host in thread
workers; the ``MainScreen`` owns the keys, the selection and the panes. The app cannot
tell a live host from a recorded snapshot.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import signal
from collections.abc import Callable, Sequence
from typing import Any

from rich.color import ColorSystem
from rich.console import RenderableType
from textual import _time, events
from textual._compositor import CompositorUpdate, LayoutUpdate
from textual.app import App
from textual.filter import LineFilter
from textual.screen import Screen
from textual.widgets import Input

from nsexplorer.model import NetNamespace, Snapshot
from nsexplorer.ports import (
    ChangeWatcher,
    CommandRunner,
    ShellSpawner,
    SnapshotSource,
    TerminalInfo,
)
from nsexplorer.ui import input_parser, roles
from nsexplorer.ui.collecting import CollectingApp
from nsexplorer.ui.contrast import Legible
from nsexplorer.ui.incident import IncidentTools
from nsexplorer.ui.main_screen import MainScreen
from nsexplorer.ui.palette import GotoNamespace
from nsexplorer.ui.typeahead import TypeAhead
from nsexplorer.ui.wire import Encoded, Wire

STARTUP_GRACE = 1.0  # seconds: mount the rest of the UI by then even if discovery is slow
STOP_WAIT = 3.0  # seconds to wait, after the terminal is restored, for commands to end
TMUX_WRAP = "\x1bPtmux;{}\x1b\\"


def escape_then_key(event: events.Key) -> tuple[events.Key, events.Key] | None:
    """``alt+KEY`` as two keys, escape then KEY, or None for any other key.

    A terminal sends alt+KEY as ESC KEY, and Textual's parser reads ESC followed within
    its escape delay (100 ms) by KEY the same way. nsexplorer binds no alt key, so it is
    always someone typing escape and then KEY quickly, or a slow link batching them:
    read as alt+KEY, the escape was lost and KEY typed into the prompt it meant to
    cancel (``x`` escape ``id`` enter ran ``id``)."""
    if not event.key.startswith("alt+"):
        return None
    key = event.key.removeprefix("alt+")
    if key.startswith("shift+") and len(key) == len("shift+") + 1:
        key = key.removeprefix("shift+").upper()
    return events.Key("escape", "\x1b"), events.Key(key, event.character)


KEYS_DROPPED = "ignored the keys typed with it and right after it (typed before it took effect)"


class HeldMainScreen(MainScreen):
    """The main screen, drawn for the first time only once it shows the data: Textual
    lays out and renders a screen as soon as it is mounted, and that frame (an empty
    sidebar, "discovering…") would be thrown away (see NsxApp._display) after costing
    as much CPU as the populated one."""

    def _compositor_refresh(self) -> None:
        if self.nsx.frame_wanted:
            super()._compositor_refresh()
        else:
            # what changed is in the compositor's dirty regions; the first frame is
            # rendered whole (see NsxApp.startup_done)
            self._dirty_widgets.clear()


class NsxApp(CollectingApp):
    CSS_PATH = "app.tcss"
    TITLE = "nsexplorer"
    COMMANDS = App.COMMANDS | {GotoNamespace}
    COMMAND_PALETTE_DISPLAY = "^p"
    ENABLE_COMMAND_PALETTE = True

    def __init__(
        self,
        source: SnapshotSource,
        *,
        runner: CommandRunner | None = None,
        watcher: ChangeWatcher | None = None,
        spawn_shell: ShellSpawner | None = None,
        read_only: bool = False,
        replay_name: str = "",
        debounce: float = 0.7,
        min_collect_gap: float = 2.0,
        on_first_paint: Callable[[], None] | None = None,
        terminal: TerminalInfo | None = None,
        incident: IncidentTools | None = None,
    ) -> None:
        super().__init__(source, watcher=watcher, debounce=debounce, gap=min_collect_gap)
        self.runner = runner
        self.spawn_shell = spawn_shell
        self.read_only = read_only or (runner is not None and runner.read_only)
        self.replay_name = replay_name
        self.terminal = terminal or TerminalInfo()
        self.incident = incident or IncidentTools()  # fan-out, capture, bundle, baseline
        self.on_first_paint = on_first_paint
        self.exit_signal: int | None = None
        self._main: MainScreen | None = None
        self._legible: Legible | None = None
        # Nothing reaches the terminal until the first populated frame is laid out (or
        # STARTUP_GRACE passed): then one full frame, not one per mount and message.
        self._holding_first_frame = True
        self._started = False  # the first frame is out and the rest of the UI mounted
        self._last_key_at = 0.0
        self._key_gap = float("inf")
        self._data_shown = False
        self._wire: Wire | None = None if os.environ.get("NSX_WIRE") == "full" else Wire()
        self.console.push_theme(roles.console_theme(None))  # until the screen has its CSS
        input_parser.install()  # pasted ESCs, escape then a key (ui/input_parser.py)
        self._typeahead = TypeAhead(
            self._top_screen, self.on_event, self.set_timer, self._keys_dropped
        )

    def get_default_screen(self) -> MainScreen:
        self._main = HeldMainScreen()
        self._typeahead.always_ready(self._main)
        return self._main

    def _top_screen(self) -> Screen[Any] | None:
        return self.screen if self.screen_stack else None

    def drop_rest_of_burst(self) -> None:
        """An action refused its key: the keys typed with it were meant for a prompt
        that did not open; they must not act as keys (see ui/typeahead.py)."""
        self._typeahead.drop_rest_of_burst()

    def _keys_dropped(self) -> None:
        self.notify(KEYS_DROPPED, severity="warning")

    @property
    def main(self) -> MainScreen:
        if self._main is None:
            raise RuntimeError("the main screen is not up")
        return self._main

    @property
    def main_up(self) -> bool:
        """The main screen is composed and running (not yet, or no longer, at the ends)."""
        return self._main is not None and self._main.is_running and self._main.is_attached

    # --- keys: the filter takes them as they arrive ---------------------------------

    async def on_event(self, event: events.Event) -> None:
        """Keys are handled here in arrival order, before any widget's queue: the main
        screen's filter takes them (MainScreen.take_key), then its bindings run at once;
        a screen one of them opened gets the keys typed after it (ui/typeahead.py)."""
        if isinstance(event, events.Key) and not event.is_forwarded:
            split = escape_then_key(event)
            if split is not None:
                for key in split:
                    await self.on_event(key)
                return
            if self._typeahead.hold(event):
                return
            self._key_gap, self._last_key_at = event.time - self._last_key_at, event.time
        screen = self._top_screen()
        if isinstance(screen, MainScreen) and not event.is_forwarded:
            if isinstance(event, events.Key):
                if screen.take_key(event.key, event.character):
                    return
                if await self._run_binding_now(event.key):
                    return
            if isinstance(event, events.Paste) and screen.take_paste(event.text):
                return
        await super().on_event(event)

    async def _run_binding_now(self, key: str) -> bool:
        """The binding Textual would run once ``key`` had gone through the focused
        widget's queue and back (the main screen has no text field to type into)."""
        if await self._check_bindings(key, priority=True):
            return True
        return await self._check_bindings(key)

    def get_line_filters(self) -> Sequence[LineFilter]:
        """Textual's filters (NO_COLOR greys...), then ours: no text under 4.5:1."""
        if self._legible is None:
            self._legible = Legible(self.console.color_system)
        return [*super().get_line_filters(), self._legible]

    @property
    def settled(self) -> bool:
        """As CollectingApp's, the whole UI up, and no drawing deferred to the end of a
        burst of keys."""
        drawing = not self._started or (self.main_up and self.main.drawing_deferred)
        return super().settled and not drawing

    def keys_in_burst(self) -> bool:
        """A key is being handled, and it came right after the one before (see
        BURST_GAP); not when the selection moves by itself (a jump, a refresh, a click)
        long after the last key."""
        from nsexplorer.ui.main_screen import BURST_GAP

        recent = _time.get_time() - self._last_key_at < BURST_GAP
        return self._key_gap < BURST_GAP and recent

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # No blinking cursor: over SSH each blink is a repaint, twice a second.
        if isinstance(event.widget, Input):
            event.widget.cursor_blink = False

    # --- start and stop -------------------------------------------------------------

    def main_ready(self) -> None:
        """The main screen is composed and mounted: start reading."""
        self.main.set_status("discovering…")
        self.start_collect(discover_first=True)
        # a slow discovery (a hanging Docker daemon) must not leave the footer off for long
        self.set_timer(STARTUP_GRACE, self.startup_done)

    def on_mount(self) -> None:
        # back from a suspend (a shell, ctrl+z): the terminal shows something else now
        self.app_resume_signal.subscribe(self, lambda _app: self._forget_terminal())
        self.theme_changed_signal.subscribe(self, lambda _theme: self._theme_changed())
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGHUP, signal.SIGTERM):
                loop.add_signal_handler(sig, self._on_signal, sig)
        self.set_interval(1.0, self._tick, name="running-clock")

    @property
    def frame_wanted(self) -> bool:
        """Render the screen: the data is there, or the wait for it is over."""
        return self._data_shown or not self._holding_first_frame

    def startup_done(self) -> None:
        """The populated sidebar is ready (or discovery failed, or is slow): the footer
        joins it, and the next frame is the first one shown (see _display)."""
        if self._holding_first_frame and not self._data_shown and self.main_up:
            self.main.ensure_footer()
            self.screen.refresh()  # the whole of it: that frame goes out in full
        self._data_shown = True

    def _first_frame_shown(self) -> None:
        """Mount the hidden panes, and let the composition root undo its start-up tweaks
        (the cyclic GC)."""
        if self.main_up:
            self.main.ensure_panes()
        self._started = True
        callback, self.on_first_paint = self.on_first_paint, None
        if callback is not None:
            callback()

    def _display(self, screen: Screen[Any], renderable: RenderableType | None) -> None:
        """Textual's output step: nothing until the first populated frame is laid out,
        then only what changed on the terminal (see ui.wire)."""
        if self._holding_first_frame:
            if not self._data_shown or renderable is None or screen._layout_required:
                return
            self._holding_first_frame = False
            if not isinstance(renderable, LayoutUpdate):  # the first one is whole
                renderable = screen._compositor.render_update(
                    full=True, screen_stack=self._background_screens
                )
            self.call_after_refresh(self._first_frame_shown)
        if (
            isinstance(renderable, CompositorUpdate)
            and self._wire is not None
            and not self.is_headless
            and not self.is_inline
        ):
            system = self.console._color_system or ColorSystem.TRUECOLOR
            data = self._wire.encode(renderable, self.size, system)
            if data == "":
                self.post_display_hook()
                return  # nothing the terminal does not show already
            if data is not None:
                renderable = Encoded(data)
        super()._display(screen, renderable)

    def show_roles(self) -> None:
        """The roles' look (ui/roles.py) from the main screen's CSS, as it is now."""
        if not self.main_up:
            return
        self.main.notify_style_update()  # its component styles, freshly computed
        self.console.pop_theme()
        self.console.push_theme(roles.console_theme(self.main))

    def _theme_changed(self) -> None:
        """Another theme: the roles' look again, and everything drawn with it redrawn."""
        self.show_roles()
        for screen in self.screen_stack:
            for widget in screen.walk_children(with_self=True):
                widget.notify_style_update()  # Tree, DataTable: drop their cached lines
            screen.refresh(repaint=True)

    def _forget_terminal(self) -> None:
        if self._wire is not None:
            self._wire.forget()

    def _tick(self) -> None:
        if self.main_up and self.main.command_running:
            self.main.update_cmdbar()  # the running clock; nothing to write otherwise

    def _on_signal(self, sig: int) -> None:
        """SIGTERM: end the commands' process groups, restore the terminal, leave.
        A hangup: the terminal is gone, there is nothing to restore (and Textual's
        shutdown would wait forever on its input thread, which reads EOF in a loop):
        end the commands, wait for their groups to be gone, then die of the signal."""
        self.exit_signal = sig
        if sig == signal.SIGHUP:
            self.stop_commands(wait=STOP_WAIT)
            signal.signal(sig, signal.SIG_DFL)
            os.kill(os.getpid(), sig)
            return
        self.stop_commands(wait=0)
        self.exit(return_code=128 + sig)

    async def action_quit(self) -> None:  # ctrl+q lands here, q on the main screen
        self.main.action_quit()

    def exit(self, *args: Any, **kwargs: Any) -> None:
        self.stop_commands(wait=0)
        super().exit(*args, **kwargs)

    def on_unmount(self) -> None:
        self.stop_watching()
        self.stop_commands(wait=0)

    def stop_commands(self, wait: float = STOP_WAIT) -> bool:
        """Ask every running command to stop (the runner ends its process group) and
        wait up to ``wait`` seconds for them; True when none is left running."""
        runs = self.main.stop_runs() if self._main is not None else []
        return all(run.done.wait(wait) for run in runs)

    # --- clipboard ------------------------------------------------------------------

    def copy_command_to_clipboard(self, command: str) -> str:
        """Send ``command`` to the terminal's clipboard (OSC 52; inside tmux wrapped for
        passthrough too) and say what was sent, honestly."""
        self.copy_to_clipboard(command)
        size = len(command.encode())
        if self.terminal.tmux:
            payload = base64.b64encode(command.encode()).decode()
            osc = f"\x1b]52;c;{payload}\x07".replace("\x1b", "\x1b\x1b")
            driver = self._driver
            if driver is not None:
                driver.write(TMUX_WRAP.format(osc))
            how = "OSC 52, also wrapped for tmux passthrough"
            self.notify(
                f"sent {size} bytes to the clipboard ({how}); tmux passes it on only with "
                "`set -g set-clipboard on` (or allow-passthrough on); the command is also "
                "in the Output pane",
                title="copy",
            )
            return how
        how = "OSC 52"
        self.notify(
            f"sent {size} bytes to the terminal's clipboard ({how}); terminals that ignore "
            "OSC 52 drop it: the command is also in the Output pane",
            title="copy",
        )
        return how

    # --- for the main screen, and for tests -----------------------------------------

    def selection_changed(self, ns: NetNamespace | None) -> None:
        if ns is not None and not ns.detailed and not ns.gone and self.source.live:
            self.request_detail(ns)
        self.watch_selected_namespace(ns)

    @property
    def selected(self) -> int | None:
        return self.main.selected

    @property
    def selected_ns(self) -> NetNamespace | None:
        return self.main.selected_ns

    @property
    def pane(self) -> str:
        return self.main.pane

    @property
    def namespaces(self) -> list[NetNamespace]:
        return self.inventory.namespaces

    @property
    def snapshot(self) -> Snapshot | None:
        return self.inventory.snapshot

    @property
    def command_running(self) -> bool:
        return self.main.command_running

    def goto(self, inode: int, container: str | None = None) -> None:
        self.main.goto(inode, container)

    def action_show_pane(self, pane_id: str) -> None:
        self.main.action_show_pane(pane_id)
