"""Command palette: "go to <namespace>" for every namespace, found by the one matcher
(the rules of `/` and of the command line's TARGET), each hit saying why it matched."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from nsexplorer.model import NetNamespace, ns_label
from nsexplorer.textsafe import visible
from nsexplorer.ui import render

if TYPE_CHECKING:
    from nsexplorer.ui.app import NsxApp

GO_TO = "go to "
# Palette scores by rank (NAME, FACT, PREFIX, PARTIAL): the matcher's order, kept.
_SCORES = (1.0, 0.9, 0.8, 0.6)


def entry_text(ns: NetNamespace) -> str:
    label = ns_label(ns)
    extra = [c.name for c in ns.containers if c.name != label]
    if extra:
        label += " + " + ", ".join(extra)
    return visible(f"{GO_TO}{label}").replace("\n", " ")


class GotoNamespace(Provider):
    """One hit per namespace; labels are untrusted, so every hit is built as ``Content``."""

    @property
    def _app(self) -> NsxApp:
        return cast("NsxApp", self.app)

    def _goto(self, inode: int, container: str | None = None) -> None:
        self._app.goto(inode, container)

    async def discover(self) -> Hits:
        for ns in self._app.namespaces:
            text = entry_text(ns)
            yield DiscoveryHit(
                Content(text), partial(self._goto, ns.inode), text=text, help=f"netns {ns.inode}"
            )

    async def search(self, query: str) -> Hits:
        from nsexplorer.matching import match

        wanted = query.strip()
        if wanted.lower().startswith(GO_TO):
            wanted = wanted[len(GO_TO) :].strip()
            everyone = not wanted
        else:  # the start of the command's own words ("g", "go t"): everyone, after hits
            everyone = GO_TO.rstrip().startswith(wanted.lower())
        namespaces = self._app.namespaces
        by_inode = {ns.inode: ns for ns in namespaces}
        hit: set[int] = set()
        for n, m in enumerate(match(namespaces, wanted) if wanted else ()):
            hit.add(m.inode)
            text = entry_text(by_inode[m.inode])
            why = render.match_reason(m)
            display = Content(text)
            if why:
                display = display + Content(f"  {why}").stylize("italic", 2)
            yield Hit(
                _SCORES[m.rank] - n * 1e-6,
                display,
                partial(self._goto, m.inode, m.container),
                text=text,
                help=f"netns {m.inode}",  # parsed as markup: nothing untrusted here
            )
        if everyone:
            for n, ns in enumerate(ns for ns in namespaces if ns.inode not in hit):
                text = entry_text(ns)
                yield Hit(0.5 - n * 1e-6, Content(text), partial(self._goto, ns.inode), text=text)
