"""CLI handler: no command opens the TUI. The composition root for the UI: it picks the
snapshot source, the command runner and the change watcher, and the one thing the UI
may not do itself, handing the terminal to a shell."""

from __future__ import annotations

import argparse
import gc
import os
import sys
import threading
from typing import TYPE_CHECKING

from nsexplorer.errors import NsxError
from nsexplorer.textsafe import visible

if TYPE_CHECKING:
    from collections.abc import Collection

    from nsexplorer.collect.source import LiveSource
    from nsexplorer.model import NamespaceId, NetNamespace, ProcessInfo, Snapshot
    from nsexplorer.model_inside import InsideFacts
    from nsexplorer.ports import PreparedShell


def spawn_shell(shell: PreparedShell) -> int:
    """Run an interactive shell on the real terminal (the app is suspended), entering
    the namespace through the verified descriptors it inherits. ctrl-c there belongs to
    the shell: it must not interrupt (or kill) nsexplorer."""
    from nsexplorer.actions.runner import call_in_foreground

    try:
        return call_in_foreground(shell.argv, shell.pass_fds)
    except OSError as err:
        print(f"nsexplorer: could not start {visible(shell.argv[0])}: {err.strerror}")
        return 127


class PrefetchedSource:
    """A LiveSource whose first discover() starts at once, on its own thread, while the
    main thread is still importing Textual: the sidebar is ready sooner. Later calls go
    straight to the live source."""

    def __init__(self, docker_timeout: float = 3.0) -> None:
        self._docker_timeout = docker_timeout
        self._ready = threading.Event()
        self._source: LiveSource | None = None
        self._first: Snapshot | None = None
        self._error: BaseException | None = None
        threading.Thread(target=self._prefetch, name="nsx-prefetch", daemon=True).start()

    def _prefetch(self) -> None:
        try:
            from nsexplorer.collect.source import LiveSource

            self._source = LiveSource(docker_timeout=self._docker_timeout)
            self._first = self._source.discover()
        except BaseException as err:  # handed to whoever asks for the result
            self._error = err
        finally:
            self._ready.set()

    def _live(self) -> LiveSource:
        self._ready.wait()
        if self._source is None:
            from nsexplorer.collect.source import LiveSource

            self._source = LiveSource(docker_timeout=self._docker_timeout)
        return self._source

    @property
    def live(self) -> bool:
        return True

    def discover(self) -> Snapshot:
        source = self._live()
        first, error = self._first, self._error
        self._first = self._error = None
        if error is not None:
            raise error
        if first is not None:
            return first
        return source.discover()

    def collect(self) -> Snapshot:
        return self._live().collect()

    def detail(self, ns: NetNamespace) -> NetNamespace:
        return self._live().detail(ns)

    def processes(self, ns: NetNamespace) -> tuple[ProcessInfo, ...]:
        return self._live().processes(ns)

    def paths_of(self, ns_id: NamespaceId) -> list[str]:
        return self._live().paths_of(ns_id)

    def inside(self, ns: NetNamespace, parts: Collection[str] | None = None) -> InsideFacts:
        return self._live().inside(ns, parts)


def _startup_over() -> None:
    """Start-up allocates a lot and frees little: the cyclic GC found nothing worth its
    ~50 ms of CPU there. Re-enabled once the first populated frame is on the screen; what
    start-up built is frozen (never rescanned)."""
    gc.freeze()
    gc.enable()


def run(args: argparse.Namespace) -> int:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        # A pipe or file would get escape sequences and the app would wait for keys forever.
        raise NsxError(
            "the terminal UI needs a terminal on stdin and stdout; for scripts use "
            "`nsexplorer list`, `nsexplorer show TARGET` or `nsexplorer snapshot`"
        )
    gc.disable()  # until the first populated frame (see _startup_over)
    try:
        return _run(args)
    finally:
        gc.enable()


def _run(args: argparse.Namespace) -> int:
    if args.from_file:
        from nsexplorer.collect.recorded import RecordedSource
        from nsexplorer.ui.app import NsxApp

        source = RecordedSource(args.from_file)
        app = NsxApp(
            source,
            read_only=True,
            replay_name=os.path.basename(args.from_file),
            on_first_paint=_startup_over,
        )
    else:
        live = PrefetchedSource(docker_timeout=3.0)  # first: it overlaps the imports below

        from nsexplorer.actions.runner import NamespaceRunner
        from nsexplorer.collect.watch import NetlinkWatcher
        from nsexplorer.ui.app import NsxApp

        app = NsxApp(
            live,
            runner=NamespaceRunner(read_only=args.read_only),
            # Opens the selected namespace through the paths discovery found; follows the
            # events of the same (shared) container engines the source asks.
            watcher=NetlinkWatcher(paths=live.paths_of),
            spawn_shell=spawn_shell,
            read_only=args.read_only,
            on_first_paint=_startup_over,
        )
    app.run(mouse=not args.no_mouse)
    return app.return_code or 0
