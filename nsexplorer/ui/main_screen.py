"""The main screen: the sidebar, the panes about the selected namespace, and every key.

One source of truth for what the user will act on: ``selected`` is set only from the
sidebar's highlighted, visible row (``NamespaceTree.highlighted``), synchronously, and
every action, the title, the panes and the status read it. The filter is edited at the
moment each key arrives (see ``take_key``), so no key is ever acted on against an
intermediate filter.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Horizontal, Vertical
from textual.css.query import NoMatches
from textual.reactive import var
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import ContentSwitcher, Footer, Tree

from nsexplorer.model import Container as EngineContainer
from nsexplorer.model import NetNamespace, bridge_networks
from nsexplorer.textsafe import counted
from nsexplorer.ui import render, roles
from nsexplorer.ui.help import help_text
from nsexplorer.ui.incident import IncidentScreen
from nsexplorer.ui.navigation import History, Place
from nsexplorer.ui.problemboard import split_warnings
from nsexplorer.ui.render_views import namespace_problems_text, problems_summary_text
from nsexplorer.ui.screens.dialogs import ConfirmScreen, HelpScreen
from nsexplorer.ui.screens.problems import Jump, ProblemsScreen, ifindex_for
from nsexplorer.ui.widgets import filterbar
from nsexplorer.ui.widgets.counters import CounterHistory, CountersPane
from nsexplorer.ui.widgets.filterbar import FilterBar
from nsexplorer.ui.widgets.inside import InsidePane
from nsexplorer.ui.widgets.line import Line
from nsexplorer.ui.widgets.output import OutputPane
from nsexplorer.ui.widgets.panes import (
    PANES,
    DetailsPane,
    InterfacesPane,
    PaneBar,
    ProcessesPane,
    RoutesPane,
    WiringPane,
)
from nsexplorer.ui.widgets.sidebar import NamespaceTree, display_order

PANE_IDS = tuple(pane_id for pane_id, _ in PANES)
SIDEBAR_STEP = 6
_PANES_HELP = "show a pane (see bar)"
_WIDER = "sidebar wider/narrower"
_MARKS = "mark / run in marked"
_CAPTURE = "tcpdump / termshark"
_EVIDENCE = "changes / bundle"
COUNTERS_EVERY = 1.0  # seconds between counter readings while the Counters pane shows
BURST_GAP = 0.1  # keys closer are a burst: auto-repeat (30-40 ms apart) plus jitter of the link


class MainScreen(IncidentScreen):
    # The one key table: the help page and the README's table are generated from it
    # (the tooltip is the help text; rows with the same tooltip are merged).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", tooltip="quit (asks if running)"),
        Binding("question_mark", "help", "Help", tooltip="this help"),
        # "/" is taken as it arrives (take_key); the binding names it in footer and help
        Binding("slash", "filter", "Filter", tooltip="filter: name ip mac if"),
        Binding("tab", "next_pane", "Pane", show=False, tooltip="next / previous pane"),
        Binding(
            "shift+tab",
            "previous_pane",
            "Pane",
            show=False,
            key_display="⇧tab",
            tooltip="next / previous pane",
        ),
        Binding("r", "refresh", "Refresh", tooltip="read everything again"),
        Binding("p", "problems", "Problems", show=False, tooltip="problems (Enter jumps)"),
        Binding("b,backspace", "go_back", "Back", tooltip="back (after a jump)"),
        Binding("f", "go_forward", "Forward", show=False, tooltip="forward again"),
        Binding("escape", "to_sidebar", "Sidebar", show=False, tooltip="sidebar; clear filter"),
        Binding("x", "run_command", "Run", tooltip="run command (! sh -c)"),
        Binding("s", "shell", "Shell", tooltip="shell in the namespace"),
        Binding("a", "toggle_all_namespaces", "All ns", show=False, tooltip="x/s: all its ns"),
        Binding("n", "name_namespace", "Name", show=False, tooltip="name it (ip netns)"),
        Binding("N", "unname_namespace", "Unname", show=False, tooltip="unname (ip netns)"),
        Binding("c", "copy_command", "Copy cmd", tooltip="copy command (OSC 52)"),
        Binding("ctrl+c", "cancel_command", "Cancel", show=False, tooltip="stop the command"),
        Binding("ctrl+l", "clear_output", "Clear", show=False, tooltip="clear the Output pane"),
        Binding("greater_than_sign", "widen_sidebar(1)", "Wider", show=False, tooltip=_WIDER),
        Binding("less_than_sign", "widen_sidebar(-1)", "Narrower", show=False, tooltip=_WIDER),
        *[
            Binding(str(n), f"show_pane('{pane_id}')", title, show=False, tooltip=_PANES_HELP)
            for n, (pane_id, title) in enumerate(PANES, start=1)
        ],
        # issue 12: act in an incident (ui/incident.py). Never priority bindings: those
        # run as the key arrives, ahead of keys still queued for the sidebar (j, k).
        Binding("space", "toggle_mark", "Mark", show=False, tooltip=_MARKS),
        Binding("X", "run_in_marked", "Run in marked", show=False, tooltip=_MARKS),
        Binding("t", "capture", "Capture", show=False, tooltip=_CAPTURE),
        Binding("T", "termshark", "Termshark", show=False, tooltip=_CAPTURE),
        Binding("d", "changes", "Changes", show=False, tooltip=_EVIDENCE),
        Binding("B", "bundle", "Bundle", show=False, tooltip=_EVIDENCE),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = set(roles.COMPONENT_CLASSES)  # app.tcss

    selected: var[int | None] = var(None, init=False)
    """The inode of the namespace every action targets: the sidebar's highlighted row."""

    def __init__(self) -> None:
        super().__init__()
        self.pane = PANE_IDS[0]
        self.history = History()
        self.counters = CounterHistory()
        self._dirty: set[str] = set()
        self._query = ""
        # a jump's row to highlight once its pane is drawn: (pane, inode, ifindex, column)
        self._pending_row: tuple[str, int, int, str | None] | None = None
        self._status = "discovering…"
        self._panes_mounted = False
        self._sidebar_width: int | None = None
        self._counter_timer: object = None
        self._burst_timer: Timer | None = None
        self._inside_stale = False  # a full read came in: read Inside again when shown

    # --- layout ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            with Vertical(id="sidebar"):
                yield FilterBar(id="filter")
                yield NamespaceTree(id="tree")
                yield Line(id="status")
            with Vertical(id="main"):
                yield Line(id="title")
                yield PaneBar(id="panebar")
                with ContentSwitcher(initial=PANE_IDS[0], id="panes"):
                    yield InterfacesPane()  # the others: mounted by ensure_panes
        yield Line(id="cmdbar")
        # The footer's row, there from the start: mounting the footer later must not
        # resize everything above it (a full repaint on the wire).
        yield Container(id="footer-slot")

    def on_mount(self) -> None:
        self.query_one(PaneBar).show_active(self.pane)
        tree = self.sidebar_tree
        self.watch(tree, "highlighted", self._highlight_moved, init=False)
        self.watch(tree, "highlighted_container", self._container_moved, init=False)
        tree.focus()
        self.nsx.show_roles()
        self.update_cmdbar()
        self.nsx.main_ready()

    def ensure_footer(self) -> None:
        """Mount the footer (its row is there from the start). Idempotent."""
        slot = self.query_one("#footer-slot")
        if slot.children or not slot.is_attached:
            return
        slot.mount(Footer(compact=True, show_command_palette=True))
        self.call_after_refresh(self.app.refresh_bindings)

    def ensure_panes(self) -> None:
        """Mount what the first frame does not show: the other panes (and the footer, if
        not yet). Idempotent and synchronous, so a key pressed before the first paint
        finds them."""
        self.ensure_footer()
        if self._panes_mounted:
            return
        switcher = self.query_one(ContentSwitcher)
        if not switcher.is_attached:
            return  # exiting
        self._panes_mounted = True
        panes: list[Widget] = [
            RoutesPane(),
            WiringPane(),
            ProcessesPane(),
            DetailsPane(),
            OutputPane(),
            CountersPane(),
            InsidePane(id="inside"),
        ]
        for pane in panes:  # the switcher hides only the children it was composed with
            pane.display = pane.id == switcher.current
        switcher.mount(*panes)

    @property
    def sidebar_tree(self) -> NamespaceTree:
        return self.query_one(NamespaceTree)

    def output_pane(self) -> OutputPane:
        self.ensure_panes()
        return self.query_one(OutputPane)

    def _set(self, widget_id: str, text: Text) -> None:
        """Show ``text`` on a one-line widget; showing the same again writes nothing."""
        self.query_one(f"#{widget_id}", Line).show(text)

    # --- keys taken as they arrive (the filter) -------------------------------------

    def take_key(self, key: str, character: str | None) -> bool:
        """Called by the app for every key as it arrives, before any binding: edits the
        filter while it is open, opens it on ``/``. True when the key is used up."""
        bar = self._filter_bar()
        if bar is None:
            return False  # not composed yet: the key goes on as usual
        if not bar.editing:
            if key == "slash":
                self.action_filter()
                return True
            return False
        outcome = bar.edit(key, character)
        if outcome == filterbar.EDITED:
            self._filter_changed()
        elif outcome == filterbar.CLEAR:
            self._clear_filter()
        elif outcome == filterbar.DONE:
            bar.editing = False
        else:
            bar.editing = False
            return False
        return True

    def _filter_bar(self) -> FilterBar | None:
        try:
            return self.query_one(FilterBar)
        except NoMatches:
            return None

    def take_paste(self, text: str) -> bool:
        bar = self._filter_bar()
        if bar is None or not bar.editing:
            return False
        bar.insert(text)
        self._filter_changed()
        return True

    def action_filter(self) -> None:
        self.query_one(FilterBar).start()
        self.sidebar_tree.focus()

    @on(FilterBar.Clicked)
    def filter_clicked(self) -> None:
        self.action_filter()

    def _filter_changed(self) -> None:
        query = self.query_one(FilterBar).value.strip()
        if query == self._query:
            return
        self._query = query
        self.kept_listed = None
        self._show_sidebar(best=True)

    def _clear_filter(self) -> None:
        bar = self.query_one(FilterBar)
        bar.editing = False
        bar.value = ""
        self.kept_listed = None
        if self._query:
            self._query = ""
            self._show_sidebar()

    def action_to_sidebar(self) -> None:
        if self.focused is self.sidebar_tree and self._query:
            self._clear_filter()
        self.sidebar_tree.focus()

    # --- the sidebar and the selection ----------------------------------------------

    def _show_sidebar(self, *, best: bool = False) -> None:
        """List what the filter finds. After a filter change the best match is
        highlighted; otherwise the selection stays where it is if still listed, else
        the best match is."""
        namespaces = self.nsx.inventory.namespaces
        if self._query:
            # the one matcher (as the palette, and TARGET on the command line); best first
            from nsexplorer.matching import match, strength

            matches = match(namespaces, self._query)
            why = {m.inode: render.match_reason(m) for m in matches}
            kept = self.kept_listed
            if kept is not None and kept not in why and self.nsx.inventory.get(kept):
                why[kept] = "names changed: kept until the filter changes"
            shown, reasons = [ns for ns in namespaces if ns.inode in why], why
            levels = sorted({strength(m) for m in matches})
            order = {m.inode: levels.index(strength(m)) for m in matches}
            if kept is not None and kept not in order:
                order[kept] = len(levels)  # not a match: under all of them
            keep, container = self.selected, None
            # After a filter change, or when the selection is not (or no longer) among
            # the matches (the filter was typed before the namespaces were read): the
            # best match, of the equally best the one listed first; a container found
            # by its name or id is highlighted on its own row.
            if matches and (best or keep not in why):
                top = {m.inode: m for m in matches if order[m.inode] == 0}
                keep = next(ns.inode for ns in display_order(shown, order) if ns.inode in top)
                container = top[keep].container
        else:
            shown, reasons, keep, container = namespaces, None, self.selected, None
            order = None
        self.sidebar_tree.show(shown, reasons, keep, container, order)
        self._show_status()

    def _highlight_moved(self, inode: int | None) -> None:
        self.selected = inode if self.nsx.inventory.get(inode) is not None else None

    def _container_moved(self, _container: str | None) -> None:
        # Between a namespace's row and a ↳ row of it: the selection stays, but with
        # all namespaces on, what `x` and `s` enter changes, and the bar says it.
        if self.all_namespaces:
            self.show_shell_command()
            self.update_cmdbar()

    @property
    def selected_container(self) -> EngineContainer | None:
        """The container of the highlighted ↳ row, if it is one of the selected
        namespace's (None on a namespace's own row)."""
        ns, wanted = self.selected_ns, self.sidebar_tree.highlighted_container
        if ns is None or wanted is None:
            return None
        return next((c for c in ns.containers if c.id == wanted), None)

    def watch_selected(self, old: int | None, new: int | None) -> None:
        self.show_shell_command()
        self._dirty = set(PANE_IDS)
        if self.nsx.keys_in_burst():
            # Keys arriving faster than a person types (auto-repeat, a paste, a laggy
            # link): the sidebar follows each one, the main area is drawn once they
            # stop. The selection itself is already final: actions read it.
            if self._burst_timer is not None:
                self._burst_timer.stop()
            self._burst_timer = self.set_timer(BURST_GAP, self._selection_settled)
            return
        self._selection_settled()

    @property
    def drawing_deferred(self) -> bool:
        """The main area waits for a burst of keys to end (see BURST_GAP)."""
        return self._burst_timer is not None

    def settle_selection(self) -> None:
        if self._burst_timer is not None:
            self._burst_timer.stop()
            self._selection_settled()

    def _selection_settled(self) -> None:
        self._burst_timer = None
        ns = self.selected_ns
        self._draw_main()
        self.update_cmdbar()
        self.selection_seen(ns)
        self.nsx.selection_changed(ns)

    @property
    def selected_ns(self) -> NetNamespace | None:
        return self.nsx.inventory.get(self.selected)

    @on(Tree.NodeSelected, "#tree")
    def sidebar_enter(self, event: Tree.NodeSelected[int]) -> None:
        # Enter on the highlighted row: go into the pane. Which row is read from the
        # selection, never from the (possibly stale) event.
        if self.selected is not None:
            self._focus_pane()

    # --- data from the app ----------------------------------------------------------

    def show_inventory(self) -> None:
        """The inventory changed (a snapshot was merged in)."""
        previous = self.selected
        self._inside_stale = True
        for inode in self.nsx.inventory.replaced_now:  # nothing of the old one carries over
            self.counters.forget(inode)
            self.history.forget(inode)
        self._show_problems()
        self.inventory_shown()
        self._show_sidebar()
        if self.selected == previous:
            self._dirty = set(PANE_IDS)
            self._draw_main()
            self.refresh_shell_command()
        self.update_cmdbar()

    def _show_problems(self) -> None:
        """The problem board's state: a badge on each affected sidebar row, the count at
        the right of the title line (nothing before the first full read)."""
        board = self.nsx.board
        self.sidebar_tree.set_badges(board.badges())
        if board.previous is None:
            return
        summary = problems_summary_text(board.problems)
        tail = render.plain("p: ", "dim")
        tail.append_text(summary if summary else render.plain("no problems", "dim"))
        self.query_one("#title", Line).show_tail(tail)
        snap = self.nsx.snapshot
        for screen in self.app.screen_stack:  # an open Problems view follows the board
            if isinstance(screen, ProblemsScreen) and snap is not None:
                screen.show(board.problems, snap)

    def namespace_updated(self, inode: int) -> None:
        fresh = self.nsx.inventory.get(inode)
        if fresh is not None and fresh.detailed and self.nsx.board.update_counters(fresh):
            self._show_problems()
        self._show_sidebar()
        if inode == self.selected:
            ns = self.selected_ns
            if ns is not None and self.pane == "counters":
                self.counters.record(ns)
            self._dirty = set(PANE_IDS)
            self._draw_main()

    def processes_ready(self, inode: int, error: str = "") -> None:
        if inode != self.selected or not self._panes_mounted:
            return
        pane = self.query_one(ProcessesPane)
        if error:
            pane.show_message(error)
        elif self.pane == "processes":
            pane.show_processes(inode, self.nsx.inventory.processes.get(inode, ()))

    def set_status(self, status: str) -> None:
        self._status = status
        self._show_status()

    def _show_status(self) -> None:
        """'N namespaces · state', or with a filter 'shown/N shown · state' (short: the
        sidebar is 24 columns at 80x24)."""
        text = self._status
        if self._query:
            # Counted as the unfiltered line counts: namespaces that exist; gone rows
            # that match are said apart ("1/79" with 60 gone read as 79 live ones).
            visible = set(self.sidebar_tree.inodes())
            namespaces = self.nsx.inventory.namespaces
            total = sum(not ns.gone for ns in namespaces)
            gone = sum(ns.gone for ns in namespaces if ns.inode in visible)
            shown = len(visible) - gone
            # "N namespaces · state", or a state alone ("not live: why")
            count, sep, state = self._status.partition(" · ")
            state = state if sep else count
            also = f" +{gone} gone" if gone else ""
            text = f"{shown}/{total}{also} shown · {state}" if visible else f"no match · {state}"
        self._set("status", render.plain(text, "dim"))

    # --- the main area --------------------------------------------------------------

    def nothing_selected_why(self) -> str:
        if self._query and not any(True for _ in self.sidebar_tree.inodes()):
            return "the filter matches no namespace"
        if not self.nsx.inventory.namespaces:
            done = self.nsx.inventory.complete
            return "no namespace was found" if done else "still discovering namespaces"
        return "the cursor is on no namespace"

    def _draw_main(self) -> None:
        ns = self.selected_ns
        why = self.nothing_selected_why() if ns is None else ""
        head, keep = render.title_lengths(ns) if ns is not None else (0, 0)
        self.query_one("#title", Line).show(render.ns_title_or_none(ns, why), head, keep)
        if ns is None:
            self._draw_nothing()
            return
        self._draw_pane(self.pane, ns)

    def _draw_nothing(self) -> None:
        message = "nothing selected"
        self.query_one(InterfacesPane).show_message(message)
        if self._panes_mounted:
            for pane in (RoutesPane, ProcessesPane, CountersPane):
                self.query_one(pane).show_message(message)
            self.query_one(DetailsPane).show_text(render.plain(message, "dim italic"))
            self.query_one(InsidePane).show_message(message)
        self._dirty = set()

    def _draw_pane(self, pane_id: str, ns: NetNamespace) -> None:
        if pane_id != "interfaces" and not self._panes_mounted:
            return
        self._dirty.discard(pane_id)
        inv = self.nsx.inventory
        lookup = inv.by_inode
        if pane_id == "interfaces":
            table = self.query_one(InterfacesPane)
            table.show_namespace(ns, lookup, self._networks(ns), inv.gone_since(ns.inode))
            self._select_pending(pane_id, ns, table.select_ifindex)
        elif pane_id == "routes":
            self.query_one(RoutesPane).show_namespace(ns)
        elif pane_id == "wiring":
            self.query_one(WiringPane).show_namespace(ns, lookup, self._networks)
        elif pane_id == "processes":
            self._draw_processes(ns)
        elif pane_id == "details":
            self.query_one(DetailsPane).show_text(self._details(ns))
        elif pane_id == "counters":
            counters = self.query_one(CountersPane)
            counters.show_namespace(ns, self.counters, self.nsx.source.live)
            self._select_pending(pane_id, ns, counters.select_ifindex)
        elif pane_id == "inside":
            self._draw_inside(ns)

    def _select_pending(
        self, pane_id: str, ns: NetNamespace, select: Callable[[int, str | None], bool]
    ) -> None:
        """A jump's row, highlighted by the pane it was meant for once that is drawn."""
        pending = self._pending_row
        if pending and pending[:2] == (pane_id, ns.inode) and select(*pending[2:]):
            self._pending_row = None

    def _networks(self, ns: NetNamespace) -> dict[str, str]:
        snap = self.nsx.inventory.snapshot
        return bridge_networks(snap, ns) if snap is not None else {}

    def _details(self, ns: NetNamespace) -> Text:
        """The namespace's Details: its own findings first, the collection warnings that
        name it with its warnings; the collection-wide ones in the host's only (every
        namespace's when the snapshot has no host), never repeated in all of them."""
        snap = self.nsx.inventory.snapshot
        live = self.nsx.source.live
        wide, per = split_warnings(snap) if snap is not None else ((), {})
        text = Text(end="")
        header = render.snapshot_header_text(snap, live=live) if snap is not None else None
        if header is not None and not live:
            text.append_text(header)  # a replay says where and when, first
        found = self.nsx.board.for_namespace(ns.inode)
        if found:
            text.append("Problems\n", style="bold underline")
            text.append_text(namespace_problems_text(found))
            text.append("\n\n")
        text.append_text(render.details_text(ns, per.get(ns.inode, ())))
        if wide and (ns.is_host or snap is None or snap.host is None):
            text.append("\nCollection warnings\n", style="bold underline")
            text.append_text(render.warnings_text(wide))
        if header is not None and live:
            text.append("\n")
            text.append_text(header)
        return text

    def _draw_inside(self, ns: NetNamespace) -> None:
        """Read what is inside the selected namespace: only while the pane shows (this is
        called for the visible pane only), again after a full read, in a worker."""
        pane = self.query_one(InsidePane)
        if ns.gone:
            pane.show_message("gone: this namespace no longer exists")
            return
        pane.load(self.nsx.source, ns, again=self._inside_stale)
        self._inside_stale = False

    def _draw_processes(self, ns: NetNamespace) -> None:
        pane = self.query_one(ProcessesPane)
        cached = self.nsx.inventory.processes.get(ns.inode)
        if not self.nsx.source.live:
            pane.show_not_recorded(ns)
        elif cached is not None:
            pane.show_processes(ns.inode, cached)
        elif ns.gone:
            pane.show_message("gone: this namespace no longer exists")
        else:
            pane.show_message("reading processes…")
            self.nsx.request_processes(ns)

    def action_show_pane(self, pane_id: str) -> None:
        self.ensure_panes()
        had_focus = self._pane_has_focus()
        self.pane = pane_id
        self.query_one(ContentSwitcher).current = pane_id
        self.query_one(PaneBar).show_active(pane_id, self._running_mark())
        ns = self.selected_ns
        if ns is not None and pane_id in self._dirty:
            self._draw_pane(pane_id, ns)
        self._counters_ticking(pane_id == "counters")
        if had_focus:
            self._focus_pane()

    def _counters_ticking(self, on: bool) -> None:
        timer = self._counter_timer
        if on and timer is None and self.nsx.source.live:
            self._counter_timer = self.set_interval(COUNTERS_EVERY, self._read_counters)
            self._read_counters()
        elif not on and timer is not None:
            timer.stop()  # type: ignore[attr-defined]
            self._counter_timer = None

    def _read_counters(self) -> None:
        ns = self.selected_ns
        if ns is not None and not ns.gone:
            self.counters.record(ns)
            self.nsx.request_detail(ns)

    def _cycle(self, step: int) -> None:
        self.action_show_pane(PANE_IDS[(PANE_IDS.index(self.pane) + step) % len(PANE_IDS)])

    def action_next_pane(self) -> None:
        self._cycle(1)

    def action_previous_pane(self) -> None:
        self._cycle(-1)

    def _pane_has_focus(self) -> bool:
        focused = self.focused
        return focused is not None and focused.id in PANE_IDS

    def _focus_pane(self) -> None:
        self.ensure_panes()
        self.query_one(f"#{self.pane}").focus()

    def _running_mark(self) -> str:
        return " ●" if self.command_running else ""

    def update_cmdbar(self, note: str = "") -> None:
        app = self.nsx
        text = Text(end="", no_wrap=True, overflow="ellipsis")
        snap = app.inventory.snapshot
        if not app.source.live:
            text.append("replay: read-only", style="bold reverse")
            if snap is not None:
                text.append(" ")
                text.append_text(render.safe(render.snapshot_origin(snap), "bold"))
            text.append(" ")
        elif app.read_only:
            text.append("read-only ", style="bold reverse")
            text.append(" ")
        running = [run for run in self.runs.values() if not run.done.is_set()]
        if running:
            run = running[0]
            took = time.monotonic() - run.started
            text.append(f"● running {took:.0f} s in ", style="bold")
            text.append_text(render.safe(run.label, "bold"))
            text.append(" · ctrl+c cancels ", style="bold")
            note = note or ""
        if self.all_namespaces:
            # on a ↳ row: the container entered, named (the title names the namespace's)
            c = self.entered_container(self.selected_ns)
            text.append_text(
                render.safe(f"[all ns of {c.name}]" if c else "[all ns]", "bold reverse")
            )
            text.append(" ")
        gone = self.selected_ns
        if gone is not None and gone.gone:  # nothing offered that cannot work
            text.append_text(render.target_text(gone))
            text.append(" is gone: no command to run or copy", style="bold")
        elif self.current_command:
            text.append_text(render.command_line_text(self.current_command))
            text.append("  (c copies)", style="dim")
        if note:
            text.append("  ")
            text.append(note, style="dim")
        self._set("cmdbar", text)
        if self._panes_mounted:
            self.query_one(PaneBar).show_active(self.pane, self._running_mark())

    # --- jumps along wires, the palette, back and forward ---------------------------

    @on(InterfacesPane.RowSelected, "#interfaces")
    def interface_chosen(self, event: InterfacesPane.RowSelected) -> None:
        ns = self.selected_ns
        ifindex = self.query_one(InterfacesPane).selected_ifindex
        iface = ns.interface(ifindex) if ns is not None and ifindex is not None else None
        if iface is None:
            return
        peer = iface.peer
        if peer is None or not peer.resolved or peer.netns_inode is None:
            if iface.kind == "veth":
                self.nsx.notify("this veth's peer could not be resolved", severity="warning")
            return
        self.jump(peer.netns_inode, peer.ifindex)

    @on(Tree.NodeSelected, "#wiring")
    def wire_chosen(self, event: Tree.NodeSelected[tuple[int, int]]) -> None:
        ref = event.node.data
        if ref is not None:
            self.jump(ref[0], ref[1])

    def _here(self) -> Place | None:
        if self.selected is None:
            return None
        ifindex = self.query_one(InterfacesPane).selected_ifindex
        return Place(self.selected, self.pane, ifindex if self.pane == "interfaces" else None)

    def jump(
        self, inode: int, ifindex: int | None, column: str | None = None, pane: str = "interfaces"
    ) -> None:
        """Go to namespace ``inode`` with interface ``ifindex`` highlighted in ``pane``
        (Interfaces or Counters), and its ``column`` in view."""
        if self.nsx.inventory.get(inode) is None:
            self.nsx.notify(f"netns {inode} is not in the list", severity="warning")
            return
        here = self._here()
        if here is not None:
            self.history.visit(here)
        self._go(Place(inode, pane, ifindex), column)
        self._focus_pane()

    def follow(self, jump: Jump) -> None:
        """Enter in Problems or Changes: to the jump's namespace and interface, in the
        newest snapshot (the views follow the reads); said when it cannot be: a namespace
        that went, whose inode another has taken since, or an interface that is gone."""
        inode = jump.namespace_inode
        ns = self.nsx.inventory.get(inode)
        snap = self.nsx.snapshot
        if ns is None or snap is None:
            self.nsx.notify(f"netns {inode} is not in the list", severity="warning")
            return
        if jump.gone and not ns.gone:
            self.nsx.notify(
                [f"{jump.label} is gone, and netns {inode} now names another namespace:",
                 f"{render.label_text(ns).plain}; nothing was selected"],
                severity="warning",
            )  # fmt: skip
            return
        ifindex = ifindex_for(snap, jump)
        if jump.interface is not None and ifindex is None:
            gone = f"{jump.interface} is no longer in {render.named(ns)}; showing the namespace"
            self.nsx.notify(gone, severity="warning")
        self.jump(inode, ifindex, jump.column, jump.pane)

    def goto(self, inode: int, container: str | None = None) -> None:
        """Go to a namespace (from the command palette), the sidebar focused; with
        ``container`` (an id), to that container's own row if it has one."""
        here = self._here()
        if here is not None and inode != here.inode:
            self.history.visit(here)
        self._go(Place(inode, self.pane, None))
        if container is not None:
            self.sidebar_tree.select_inode(inode, container)
        self.sidebar_tree.focus()

    def _go(self, place: Place, column: str | None = None) -> None:
        if place.inode not in set(self.sidebar_tree.inodes()) and self._query:
            self._clear_filter()
        ifindex = place.ifindex
        self._pending_row = None
        if ifindex is not None:
            self._pending_row = (place.pane, place.inode, ifindex, column)
        self.sidebar_tree.select_inode(place.inode)
        self.action_show_pane(place.pane)
        rows = ("interfaces", "counters")  # the panes with a row per interface
        if place.pane in rows and place.ifindex is not None and self.selected_ns:
            self._draw_pane(place.pane, self.selected_ns)

    def _walk(self, place: Place | None, nowhere: str) -> None:
        while place is not None and self.nsx.inventory.get(place.inode) is None:
            self.history.forget(place.inode)
            place = None
        if place is None:
            self.nsx.notify(nowhere)
            return
        self._go(place)
        if place.ifindex is not None:
            self._focus_pane()

    def action_go_back(self) -> None:
        self._walk(self.history.back(self._here()), "nowhere to go back to")

    def action_go_forward(self) -> None:
        self._walk(self.history.forward(self._here()), "nowhere to go forward to")

    # --- the rest -------------------------------------------------------------------

    def action_problems(self) -> None:
        """The Problems view over the snapshot shown; Enter jumps to its namespace."""
        snap = self.nsx.snapshot
        board = self.nsx.board
        if snap is None or board.previous is None:
            self.nsx.notify(
                "still reading: problems are checked once every interface is read",
                severity="warning",
            )
            return

        def chosen(jump: Jump | None) -> None:
            if jump is not None:
                self.follow(jump)

        # The board's: the last full read's findings and the counters that grew; a live
        # session reads again while the view is open (counters are compared by reads).
        reread = self.nsx.request_idle_collect if self.nsx.source.live else None
        self.nsx.push_screen(ProblemsScreen(board.problems, snap, reread), chosen)

    def action_refresh(self) -> None:
        if not self.nsx.source.live:
            self._refuse("replaying a saved snapshot: nothing to refresh")
            return
        self.set_status(f"{counted(len(self.nsx.inventory.namespaces), 'namespace')} · refreshing…")
        self.nsx.request_collect()

    def action_widen_sidebar(self, step: int) -> None:
        sidebar = self.query_one("#sidebar")
        width = self._sidebar_width or sidebar.size.width
        limit = max(24, self.size.width - 30)
        self._sidebar_width = max(16, min(limit, width + step * SIDEBAR_STEP))
        sidebar.styles.width = self._sidebar_width
        sidebar.styles.max_width = self._sidebar_width  # None would be app.tcss's 48 again

    def action_help(self) -> None:
        runner = self.nsx.runner
        audit = runner.audit_log_path if runner is not None else ""
        self.app.push_screen(HelpScreen((), help_text(self, audit, self.size)))

    def action_quit(self) -> None:
        running = [run for run in self.runs.values() if not run.done.is_set()]
        if not running:
            self.nsx.exit()
            return
        run = running[0]
        question = render.plain("A command is still running in ", "bold")
        question.append_text(render.safe(run.label, "bold underline"))
        if run.inodes:  # a fan-out: "3 namespaces (netns 1, 2, 3)"
            question.append(" ")
            question.append_text(render.inodes_text(run.inodes, 8))
        else:
            question.append(f" (netns {run.inode})", style="bold")
        question.append(". Stop it and quit?", style="bold")

        def answered(yes: bool | None) -> None:
            if yes:
                self.nsx.exit()

        self.app.push_screen(
            ConfirmScreen(question, render.command_line_text(run.command)), answered
        )
