#!/usr/bin/env python3
"""The baseline of bench_wire.py: a plain Textual app with one Tree and a Footer.

    python bench/wire_tree_app.py [--size 15] [--groups 5]

The Tree has ``--groups`` expanded group nodes holding ``--size`` leaves between them
(``groups + size`` rows, like nsexplorer's sidebar: group headers, then one row per
namespace), no root shown, default styles and bindings, nothing else: what Textual
itself costs on the wire for a tree of that many rows. It reads nothing and changes
nothing; ctrl+q quits (Textual's default).
"""

from __future__ import annotations

import argparse

from textual.app import App, ComposeResult
from textual.widgets import Footer, Tree


class WireTreeApp(App[None]):
    def __init__(self, size: int, groups: int) -> None:
        super().__init__()
        self.leaves = size
        self.group_count = max(1, groups)

    def compose(self) -> ComposeResult:
        tree: Tree[int] = Tree("namespaces")
        tree.show_root = False
        per_group, extra = divmod(self.leaves, self.group_count)
        leaf = 0
        for g in range(self.group_count):
            count = per_group + (1 if g < extra else 0)
            group = tree.root.add(f"group {g + 1} ({count})", expand=True)
            for _ in range(count):
                leaf += 1
                group.add_leaf(f"ns-{leaf:04d}  10.0.{leaf // 256}.{leaf % 256}", data=leaf)
        yield tree
        yield Footer()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=15, help="leaf rows (namespaces)")
    parser.add_argument("--groups", type=int, default=5, help="group rows")
    args = parser.parse_args()
    WireTreeApp(args.size, args.groups).run()


if __name__ == "__main__":
    main()
