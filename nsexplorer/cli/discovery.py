"""CLI handler: discovery (placeholder until its issue lands)."""

from __future__ import annotations

import argparse

from nsexplorer.errors import NsxError


def run(args: argparse.Namespace) -> int:
    raise NsxError("the 'discovery' command is not built yet")
