"""Command palette: "go to <namespace>" for every namespace."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from nsexplorer.model import ns_label
from nsexplorer.textsafe import visible

if TYPE_CHECKING:
    from nsexplorer.ui.app import NsxApp


class GotoNamespace(Provider):
    """One hit per namespace; the label is untrusted, so it is built as ``Content``."""

    def _entries(self) -> list[tuple[int, str]]:
        app = cast("NsxApp", self.app)
        out = []
        for ns in app.namespaces:
            label = ns_label(ns)
            extra = [c.name for c in ns.containers if c.name != label]
            if extra:
                label += " + " + ", ".join(extra)
            out.append((ns.inode, visible(f"go to {label}").replace("\n", " ")))
        return out

    def _goto(self, inode: int) -> None:
        cast("NsxApp", self.app).goto(inode)

    async def discover(self) -> Hits:
        for inode, text in self._entries():
            yield DiscoveryHit(
                Content(text), partial(self._goto, inode), text=text, help=f"netns {inode}"
            )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for inode, text in self._entries():
            score = matcher.match(text)
            if score <= 0 and query not in str(inode):
                continue
            # Highlight ourselves: matcher.highlight() would parse ``text`` as markup.
            display = Content(text)
            _, offsets = matcher.fuzzy_search.match(matcher.query, text)
            for offset in offsets:
                display = display.stylize(matcher.match_style, offset, offset + 1)
            yield Hit(
                max(score, 0.1),
                display,
                partial(self._goto, inode),
                text=text,
                help=f"netns {inode}",
            )
