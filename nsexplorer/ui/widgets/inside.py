"""The Inside pane: sockets, neighbours, bridge FDB, NAT, conntrack and policy rules of
one namespace, read on demand through ``SnapshotSource.inside`` in a thread worker.

The read is blocking (sock_diag, nft/iptables), so it never runs on the event loop; a
result that arrives for a namespace that is no longer the one shown is dropped, and a
failed read is a message in the pane, never a crash. Every string is rendered by
``ui.render_views`` (escaped, never markup).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Protocol

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static
from textual.worker import get_current_worker

from nsexplorer.errors import NsxError
from nsexplorer.model import NetNamespace
from nsexplorer.ui.render import ns_title, safe
from nsexplorer.ui.render_views import inside_text
from nsexplorer.ui.roles import BAD

if TYPE_CHECKING:
    from collections.abc import Collection

    from textual.app import ComposeResult

    from nsexplorer.model_inside import InsideFacts


class InsideReader(Protocol):
    """The part of ports.SnapshotSource this pane uses."""

    def inside(self, ns: NetNamespace, parts: Collection[str] | None = None) -> InsideFacts: ...


class InsidePane(VerticalScroll):
    """Scrollable text of what is inside the namespace last given to :meth:`load`."""

    can_focus = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._inode: int | None = None
        self._ns: NetNamespace | None = None
        self.facts: InsideFacts | None = None
        self.reads = 0  # reads started (what "on demand only" is checked by)
        self._shown: tuple[str, object] | None = None  # what the body shows (plain, spans)

    def compose(self) -> ComposeResult:
        yield Static(Text("Select a namespace", style="dim"), id="inside-body")

    def _body(self) -> Static:
        return self.query_one("#inside-body", Static)

    def load(self, source: InsideReader, ns: NetNamespace, *, again: bool = True) -> None:
        """Read what is inside ``ns`` (in a worker) and show it when it arrives. With
        ``again`` False, a namespace shown (or being read) already is not read again:
        only its policy rules are redrawn if they changed."""
        if not again and ns.inode == self._inode:
            old, self._ns = self._ns, ns
            changed = old is None or (old.detailed, old.rules) != (ns.detailed, ns.rules)
            if self.facts is not None and changed:
                self._update(inside_text(self.facts, ns))
            return
        again_here = ns.inode == self._inode and self.facts is not None
        self._inode = ns.inode
        self._ns = ns
        self.reads += 1
        if not again_here:  # a re-read of what is shown keeps it until the new facts
            self.facts = None
            msg = Text(end="")
            msg.append("reading sockets, neighbours and NAT of ", style="dim")
            msg.append_text(ns_title(ns))
            self._update(msg)
        self.run_worker(
            lambda: self._read(source, ns),
            thread=True,
            exclusive=True,
            group="inside",
            name="inside",
        )

    def show_message(self, message: str) -> None:
        """No namespace to read (nothing selected, it is gone): say so."""
        self._inode = self._ns = self.facts = None
        self._update(Text(message, style="dim italic"))

    def _update(self, text: Text) -> None:
        """Show ``text``; the same again sends nothing to the terminal."""
        key = (text.plain, text.spans)
        if key != self._shown:
            self._shown = key
            self._body().update(text)

    def _read(self, source: InsideReader, ns: NetNamespace) -> None:
        try:
            facts = source.inside(ns)
        except Exception as err:  # one failed read is a message, never a crash
            why = str(err) if isinstance(err, NsxError) else f"{type(err).__name__}: {err}"
            if not get_current_worker().is_cancelled:
                self.app.call_from_thread(self._failed, ns, why)
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.show, ns, facts)

    def show(self, ns: NetNamespace, facts: InsideFacts) -> None:
        """Render ``facts`` (read for ``ns``) if ``ns`` is still the one loaded."""
        if ns.inode != self._inode:
            return  # read for a namespace no longer shown (or none is shown now)
        self.facts = facts
        shown = self._ns if self._ns is not None and self._ns.inode == ns.inode else ns
        self._update(inside_text(facts, shown))

    def _failed(self, ns: NetNamespace, why: str) -> None:
        if ns.inode != self._inode:
            return
        self.facts = None
        self._update(safe(why, BAD))
