"""CLI handler: actions (placeholder until its issue lands)."""

from __future__ import annotations

import argparse

from nsexplorer.errors import NsxError


def run(args: argparse.Namespace) -> int:
    raise NsxError("the 'actions' command is not built yet")
