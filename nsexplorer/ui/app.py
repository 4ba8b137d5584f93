"""The nsexplorer terminal UI: a sidebar of namespaces and panes about the selected one.

All collection runs in thread workers that post messages; handlers on the app thread
update widgets (``collecting``); jumps along veths and back are in ``navigation``. The
app knows its data only through ``ports``: it cannot tell a live host from a recorded
snapshot.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import ContentSwitcher, Footer, Input, Static, Tree

from nsexplorer.model import NetNamespace, ProcessInfo, Snapshot
from nsexplorer.ports import ChangeWatcher, CommandRunner, PreparedShell, SnapshotSource
from nsexplorer.ui import render
from nsexplorer.ui.navigation import NavigatingApp
from nsexplorer.ui.palette import GotoNamespace
from nsexplorer.ui.screens.dialogs import HelpScreen
from nsexplorer.ui.widgets.inputs import SafeInput
from nsexplorer.ui.widgets.panes import (
    PANES,
    DetailsPane,
    InterfacesPane,
    OutputPane,
    PaneBar,
    ProcessesPane,
    RoutesPane,
    WiringPane,
)
from nsexplorer.ui.widgets.sidebar import NamespaceTree

ShellSpawner = Callable[[PreparedShell], int]

# Every key, for the help screen (the single source of truth for the docs too).
KEYS: tuple[tuple[str, str], ...] = (
    ("↑ ↓ / j k", "move in the sidebar or the pane"),
    ("enter", "sidebar: go into the pane; on a veth: jump to its peer"),
    ("b / backspace", "go back to where you jumped from"),
    ("escape", "back to the sidebar (and clear the filter)"),
    ("tab / shift+tab", "next / previous pane"),
    ("1 … 6", "Interfaces, Routes, Wiring, Processes, Details, Output"),
    ("/", "filter the sidebar: labels, interface names, IPs, MACs"),
    ("ctrl+p", "command palette: go to any namespace"),
    ("r", "refresh everything now"),
    ("x", "run a command in the selected namespace (output in pane 6)"),
    ("ctrl+c", "cancel the running command"),
    ("s", "suspend into a shell in the selected namespace"),
    ("a", "toggle: enter all of a container's namespaces (mnt uts ipc pid net)"),
    ("n / N", "name the namespace for `ip netns` / remove a name"),
    ("c", "copy the command shown at the bottom (OSC 52)"),
    ("?", "this help"),
    ("q", "quit"),
)

STARTUP_GRACE = 1.0  # seconds: mount the rest of the UI by then even if discovery is slow


class NsxApp(NavigatingApp):
    """The layout, selection and panes, the filter and help. Collection lives in
    ``collecting.CollectingApp``, peer jumps in ``navigation.NavigatingApp``."""

    CSS_PATH = "app.tcss"
    TITLE = "nsexplorer"
    COMMANDS = App.COMMANDS | {GotoNamespace}
    COMMAND_PALETTE_DISPLAY = "^p"
    ENABLE_COMMAND_PALETTE = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
        # priority: decided in the app before later keys are routed, so text typed right
        # after `/` lands in the filter (not in the sidebar, not as action keys)
        Binding("slash", "filter", "Filter", priority=True),
        Binding("tab", "next_pane", "Pane", priority=True),
        Binding("shift+tab", "previous_pane", "Pane", show=False, priority=True),
        Binding("r", "refresh", "Refresh"),
        Binding("b,backspace", "go_back", "Back"),
        Binding("escape", "to_sidebar", "Sidebar", show=False),
        # While the filter has focus: decided in the app, before later keys are routed.
        Binding("enter,down", "filter_done", "Done", show=False, priority=True),
        Binding("x", "run_command", "Run"),
        Binding("s", "shell", "Shell"),
        Binding("a", "toggle_all_namespaces", "All ns", show=False),
        Binding("n", "name_namespace", "Name", show=False),
        Binding("N", "unname_namespace", "Unname", show=False),
        Binding("c", "copy_command", "Copy cmd"),
        Binding("ctrl+c", "cancel_command", "Cancel", show=False),
        *[
            Binding(str(n), f"show_pane('{pane_id}')", title, show=False)
            for n, (pane_id, title) in enumerate(PANES, start=1)
        ],
    ]

    # Actions that belong to the main screen; refused while a dialog is open.
    MAIN_ACTIONS: ClassVar[frozenset[str]] = frozenset(
        {
            "filter",
            "next_pane",
            "previous_pane",
            "refresh",
            "go_back",
            "to_sidebar",
            "run_command",
            "shell",
            "toggle_all_namespaces",
            "name_namespace",
            "unname_namespace",
            "copy_command",
            "show_pane",
            "help",
            "quit",
        }
    )

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
    ) -> None:
        super().__init__()
        self.source = source
        self.runner = runner
        self.watcher = watcher
        self.spawn_shell = spawn_shell
        self.read_only = read_only or (runner is not None and runner.read_only)
        self.replay_name = replay_name
        self.debounce = debounce
        self.min_collect_gap = min_collect_gap

        self.snapshot: Snapshot | None = None
        self.namespaces: list[NetNamespace] = []
        self._by_inode: dict[int, NetNamespace] = {}
        self.selected: int | None = None
        self.pane = PANES[0][0]
        self._dirty: set[str] = set()
        self._filter = ""
        self._history: list[tuple[int, str, int | None]] = []
        self._pending_row: tuple[int, int] | None = None
        self._processes: dict[int, tuple[ProcessInfo, ...]] = {}
        self._collecting = False
        self._collect_again = False
        self._complete = False
        self._debounce_timer = None
        self._collect_started = 0.0
        self._collect_cost = 0.0
        self._status = "discovering…"
        self._gone_since: dict[int, float] = {}
        self._first_paint = None
        self._watching = False
        self._panes_mounted = False
        self.on_first_paint = on_first_paint
        self.init_actions()

    @property
    def settled(self) -> bool:
        """A full snapshot is shown and no collection is under way (for tests, benches)."""
        return self._complete and not self._collecting and self._debounce_timer is None

    # --- layout ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            with Vertical(id="sidebar"):
                yield SafeInput(placeholder="/ filter: name, ip, mac…", id="filter")
                yield NamespaceTree(id="tree")
                yield Static(Text(""), id="status")
            with Vertical(id="main"):
                yield Static(Text(""), id="title")
                yield PaneBar(Text(""), id="panebar")
                with ContentSwitcher(initial=PANES[0][0], id="panes"):
                    yield InterfacesPane()  # the others: after the first paint
        yield Static(Text(""), id="cmdbar")

    def ensure_panes(self) -> None:
        """Mount what the first frame does not show: the other panes and the footer. Their
        widgets' default CSS and layout would otherwise delay the first paint. Idempotent
        and synchronous (the widgets are in the DOM when it returns), so a key pressed
        before the first paint still finds its pane."""
        if self._panes_mounted:
            return
        switcher = self.query_one(ContentSwitcher)
        if not switcher.is_attached:
            return  # the app is exiting
        self._panes_mounted = True
        panes = [RoutesPane(), WiringPane(), ProcessesPane(), DetailsPane(), OutputPane()]
        for pane in panes:  # the switcher hides only the children it was composed with
            pane.display = pane.id == switcher.current
        switcher.mount(*panes)
        self.mount(Footer(compact=True, show_command_palette=True))
        # a footer draws its keys once the bindings are announced after it is mounted
        self.call_after_refresh(self.refresh_bindings)

    def _startup_done(self) -> None:
        """The populated sidebar is on the screen (or discovery failed): mount the rest,
        and let the composition root undo its start-up tweaks (the cyclic GC)."""
        self.ensure_panes()
        callback, self.on_first_paint = self.on_first_paint, None
        if callback is not None:
            callback()

    def on_mount(self) -> None:
        self.query_one(PaneBar).show_active(self.pane)
        self._focus(self.query_one(NamespaceTree))
        self._set_status("discovering…")
        self.update_cmdbar()
        self._start_collect(discover_first=True)
        # a slow discovery (a hanging Docker daemon) must not leave the footer off for long
        self.set_timer(STARTUP_GRACE, self._startup_done)

    def on_unmount(self) -> None:
        if self.watcher is not None:
            with contextlib.suppress(Exception):  # shutting down anyway
                self.watcher.stop()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "filter_done":
            return self.focused is not None and self.focused.id == "filter"
        if action == "filter" and isinstance(self.focused, Input):
            return False  # a "/" typed into the filter or a prompt is just a "/"
        return not (action in self.MAIN_ACTIONS and len(self.screen_stack) > 1)

    def _rebuild_sidebar(self) -> None:
        tree = self.query_one(NamespaceTree)
        tree.show(self.namespaces, self._filter, self.selected)

    def _set_status(self, status: str) -> None:
        self._status = status
        self._show_status()

    def _show_status(self) -> None:
        """'N namespaces · state', or with a filter 'shown/N shown · state' (short: the
        sidebar is 24 columns at 80x24)."""
        text = self._status
        if self._filter:
            shown = len(list(self.query_one(NamespaceTree).inodes()))
            state = self._status.partition(" · ")[2]
            text = f"{shown}/{len(self.namespaces)} shown · {state}" if shown else "no match"
        self.query_one("#status", Static).update(render.plain(text, "dim"))

    # --- selection and panes --------------------------------------------------------

    @property
    def selected_ns(self) -> NetNamespace | None:
        return self._by_inode.get(self.selected) if self.selected is not None else None

    @on(Tree.NodeHighlighted, "#tree")
    def sidebar_highlighted(self, event: Tree.NodeHighlighted[int]) -> None:
        inode = event.node.data
        if inode is not None and inode != self.selected:
            self.select(inode)

    @on(Tree.NodeSelected, "#tree")
    def sidebar_selected(self, event: Tree.NodeSelected[int]) -> None:
        if event.node.data is not None:
            self._focus_pane()

    def select(self, inode: int) -> None:
        """Show namespace ``inode`` in the main area."""
        ns = self._by_inode.get(inode)
        if ns is None:
            return
        changed = inode != self.selected
        self.selected = inode
        self._dirty = {pane_id for pane_id, _ in PANES}
        self._refresh_panes()
        if changed:
            self.on_selection_changed(ns)
            if not ns.detailed and not ns.gone and self.source.live:
                self.call_after_refresh(self._fetch_detail, ns)
            if self._watching and self.watcher is not None:
                try:
                    self.watcher.watch_namespace(None if ns.gone else ns.id)
                except Exception as err:
                    self.log.warning(f"watch_namespace failed: {err}")

    def _refresh_panes(self) -> None:
        """Redraw the active pane now; the others when they are shown."""
        ns = self.selected_ns
        if ns is None:
            return
        self.query_one("#title", Static).update(render.ns_title(ns))
        self._dirty = {pane_id for pane_id, _ in PANES}
        self._draw_pane(self.pane, ns)

    def _draw_pane(self, pane_id: str, ns: NetNamespace) -> None:
        self._dirty.discard(pane_id)
        snap = self.snapshot
        if pane_id == "interfaces":
            table = self.query_one(InterfacesPane)
            table.show_namespace(ns, self._by_inode)
            pending = self._pending_row
            if pending is not None and pending[0] == ns.inode and table.select_ifindex(pending[1]):
                self._pending_row = None
        elif pane_id == "routes":
            self.query_one(RoutesPane).show_namespace(ns)
        elif pane_id == "wiring":
            self.query_one(WiringPane).show_namespace(ns, self._by_inode)
        elif pane_id == "processes":
            pane = self.query_one(ProcessesPane)
            cached = self._processes.get(ns.inode)
            if cached is not None:
                pane.show_processes(cached)
            elif ns.gone:
                pane.show_message("namespace gone")
            else:
                pane.show_message("reading processes…")
                self._fetch_processes(ns)
        elif pane_id == "details":
            text = render.details_text(ns)
            if snap is not None and snap.warnings:
                text.append("\nCollection warnings\n", style="bold underline yellow")
                text.append_text(render.snapshot_warnings_text(snap))
            self.query_one(DetailsPane).query_one("#details-body", Static).update(text)

    def action_show_pane(self, pane_id: str) -> None:
        self.ensure_panes()
        had_focus = self._pane_has_focus()
        self.pane = pane_id
        self.query_one(ContentSwitcher).current = pane_id
        self.query_one(PaneBar).show_active(pane_id)
        ns = self.selected_ns
        if ns is not None and pane_id in self._dirty:
            self._draw_pane(pane_id, ns)
        if had_focus:
            self._focus_pane()

    def _cycle(self, step: int) -> None:
        ids = [pane_id for pane_id, _ in PANES]
        self.action_show_pane(ids[(ids.index(self.pane) + step) % len(ids)])

    def action_next_pane(self) -> None:
        self._cycle(1)

    def action_previous_pane(self) -> None:
        self._cycle(-1)

    def _pane_has_focus(self) -> bool:
        focused = self.focused
        return focused is not None and focused.id in {pane_id for pane_id, _ in PANES}

    def _focus(self, widget: Widget) -> None:
        """Focus now, not after the queue: keys typed right after `/` or Enter (a paste,
        a fast typist over SSH) must reach the widget they were meant for."""
        if widget.screen is self.screen:
            self.screen.set_focus(widget)
        else:
            widget.focus()

    def _focus_pane(self) -> None:
        self._focus(self.query_one(f"#{self.pane}"))

    # --- refresh, help ----------------------------------------------------------------

    def action_refresh(self) -> None:
        if not self.source.live:
            self.notify("replaying a saved snapshot: nothing to refresh")
            return
        # A manual refresh forgets namespaces already marked gone.
        self.namespaces = [ns for ns in self.namespaces if not ns.gone]
        self._by_inode = {ns.inode: ns for ns in self.namespaces}
        self._processes.clear()
        self._set_status(f"{len(self.namespaces)} namespaces · refreshing…")
        self._start_collect()

    def action_help(self) -> None:
        footer = Text(end="")
        if self.runner is not None:
            footer.append("Audit log: ", style="bold")
            footer.append_text(render.safe(self.runner.audit_log_path))
            footer.append("\n")
        if self.read_only:
            footer.append("Read-only: every action that runs or changes anything is refused.\n")
        if not self.source.live:
            footer.append("Replay of a saved snapshot: nothing runs, nothing refreshes.\n")
        self.push_screen(HelpScreen(KEYS, footer))


def default_css_path() -> Path:
    return Path(__file__).with_name("app.tcss")
