"""CLI handler: tui (placeholder until its issue lands)."""

from __future__ import annotations

import argparse

from nsexplorer.errors import NsxError


def run(args: argparse.Namespace) -> int:
    raise NsxError("the 'tui' command is not built yet")
