"""CLI handler: no command opens the TUI. The composition root for the UI: it picks the
snapshot source, the command runner and the change watcher, and the one thing the UI
may not do itself, handing the terminal to a shell."""

from __future__ import annotations

import argparse
import os
import subprocess

from nsexplorer.errors import NsxError


def spawn_shell(argv: list[str]) -> int:
    """Run an interactive command on the real terminal (the app is suspended)."""
    try:
        return subprocess.call(argv)
    except OSError as err:
        print(f"nsexplorer: could not start {argv[0]}: {err.strerror}")
        return 127


def run(args: argparse.Namespace) -> int:
    from nsexplorer.ui.app import NsxApp

    if args.from_file:
        from nsexplorer.collect.recorded import RecordedSource

        source = RecordedSource(args.from_file)
        app = NsxApp(source, read_only=True, replay_name=os.path.basename(args.from_file))
    else:
        from nsexplorer.actions.runner import NamespaceRunner
        from nsexplorer.collect.source import LiveSource
        from nsexplorer.collect.watch import NetlinkWatcher

        try:
            runner = NamespaceRunner(read_only=args.read_only)
        except NsxError:
            raise
        app = NsxApp(
            LiveSource(docker_timeout=3.0),
            runner=runner,
            watcher=NetlinkWatcher(),
            spawn_shell=spawn_shell,
            read_only=args.read_only,
        )
    app.run(mouse=not args.no_mouse)
    return app.return_code or 0
