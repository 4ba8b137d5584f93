"""The Inside pane: sockets, neighbours, bridge FDB, NAT, conntrack and policy rules of
one namespace, read on demand through ``SnapshotSource.inside`` in a thread worker.

The read is blocking (sock_diag, nft/iptables), so it never runs on the event loop; a
result that arrives for a namespace that is no longer the one shown is dropped. Every
string is rendered by ``ui.render_views`` (escaped, never markup).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static
from textual.worker import get_current_worker

from nsexplorer.errors import NsxError
from nsexplorer.model import NetNamespace
from nsexplorer.ui.render import ns_title, safe
from nsexplorer.ui.render_views import inside_text

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

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._inode: int | None = None
        self.facts: InsideFacts | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("Select a namespace", style="dim"), id="inside-body")

    def _body(self) -> Static:
        return self.query_one("#inside-body", Static)

    def load(self, source: InsideReader, ns: NetNamespace) -> None:
        """Read what is inside ``ns`` (in a worker) and show it when it arrives."""
        self._inode = ns.inode
        self.facts = None
        msg = Text("reading sockets, neighbours and NAT of ", style="dim")
        msg.append_text(ns_title(ns))
        self._body().update(msg)
        self.run_worker(
            lambda: self._read(source, ns),
            thread=True,
            exclusive=True,
            group="inside",
            name="inside",
        )

    def _read(self, source: InsideReader, ns: NetNamespace) -> None:
        try:
            facts = source.inside(ns)
        except NsxError as err:
            if not get_current_worker().is_cancelled:
                self.app.call_from_thread(self._failed, ns, str(err))
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.show, ns, facts)

    def show(self, ns: NetNamespace, facts: InsideFacts) -> None:
        """Render ``facts`` (read for ``ns``) unless another namespace is shown now."""
        if self._inode is not None and ns.inode != self._inode:
            return
        self._inode = ns.inode
        self.facts = facts
        self._body().update(inside_text(facts, ns))

    def _failed(self, ns: NetNamespace, why: str) -> None:
        if ns.inode != self._inode:
            return
        self._body().update(safe(why, "bold red"))
