"""CLI handler: no command opens the TUI. The composition root for the UI: it picks the
snapshot source, the command runner and the change watcher, and the one thing the UI
may not do itself, handing the terminal to a shell."""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import os
import sys
import tempfile
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING

from nsexplorer.errors import NsxError
from nsexplorer.ports import TerminalInfo
from nsexplorer.textsafe import visible

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

    from nsexplorer.actions.runner import NamespaceRunner
    from nsexplorer.collect.source import LiveSource
    from nsexplorer.model import NamespaceId, NetNamespace, ProcessInfo, Snapshot
    from nsexplorer.model_inside import InsideFacts
    from nsexplorer.ports import PreparedShell
    from nsexplorer.ui.incident import IncidentTools


def spawn_shell(shell: PreparedShell, *, netns_inode: int, label: str) -> int:
    """Run an interactive shell on the real terminal (the app is suspended), entering
    the namespace through the verified descriptors it inherits, with a banner naming the
    namespace, NSX_NETNS and NSX_NETNS_LABEL in its environment and the label in its
    prompt (sh, bash). ctrl-c there belongs to the shell: it must not interrupt (or
    kill) nsexplorer."""
    from nsexplorer.actions.process import exit_status_of
    from nsexplorer.actions.runner import call_in_foreground
    from nsexplorer.kernel import terminal

    shown = _env_safe(visible(label))  # as the UI shows it; bash's prompt reads it
    env = dict(os.environ, NSX_NETNS=str(netns_inode), NSX_NETNS_LABEL=shown)
    full = list(shell.argv)
    program = os.path.basename(full[-1]) if full else ""
    rcfile = None
    try:
        if program == "bash":
            rcfile = _bash_rcfile()
            full += ["--rcfile", rcfile]
        elif program in ("sh", "dash", "ash", "ksh", "mksh"):
            # the label inside PS1 itself, where sh would expand $ ` \\
            safe = prompt_safe(_env_safe(label))  # no backslash comes back
            env["PS1"] = f"[nsx {safe}] # " if os.geteuid() == 0 else f"[nsx {safe}] $ "
            rcfile = _rcfile('[ -n "$NSX_USER_ENV" ] && . "$NSX_USER_ENV"\n')  # sh's $ENV
            if "ENV" in env:  # an interactive sh reads $ENV: the user's goes first
                env["NSX_USER_ENV"] = env["ENV"]
            env["ENV"] = rcfile
        dropped = terminal.discard_typeahead()
        print(  # stdout never raises on encoding (cli.main: output.make_streams_safe)
            f"\nnsexplorer: a shell in netns {netns_inode} ({shown}); `exit` returns to "
            "nsexplorer. $NSX_NETNS and $NSX_NETNS_LABEL name it.\n"
            + (
                f"nsexplorer: dropped {dropped} byte(s) typed with `s`, before this shell "
                "started (they were not typed for it).\n"
                if dropped
                else ""
            ),
            flush=True,
        )
        code = call_in_foreground(
            full,
            shell.pass_fds,
            env=env,
            interactive=True,
            # recorded before a SIGHUP (the SSH session dropped) ends nsexplorer too
            on_end=lambda code: shell.ended(exit_status_of(code), ""),
        )
        return exit_status_of(code)
    finally:
        if rcfile is not None:
            with contextlib.suppress(OSError):
                os.unlink(rcfile)


def _env_safe(text: str) -> str:
    """``text`` as an environment value can hold it: under an ASCII file system
    encoding, what it cannot encode written as escapes (Popen would raise)."""
    try:
        os.fsencode(text)
    except UnicodeEncodeError:
        return text.encode("ascii", "backslashreplace").decode("ascii")
    return text


def prompt_safe(label: str) -> str:
    """A label fit to be written into sh's PS1: control characters escaped, and
    nothing a shell's prompt expansion would act on (``$ ` \\ !``)."""
    return "".join("?" if ch in "$`\\!" else ch for ch in visible(label))[:64]


# The end of the shell's start-up file: what was typed while the shell started (in the
# same burst as `s`, with an Enter it would be the shell's first command, as root) is
# read away, with the terminal made to return what it holds at once (stty min 0 time 0).
_DRAIN_TYPEAHEAD = """_nsx_tty=$(stty -g 2>/dev/null) && {
  stty -icanon min 0 time 0
  _nsx_n=$(dd bs=65536 count=1 2>/dev/null | wc -c)
  stty "$_nsx_tty"
  [ "$_nsx_n" -gt 0 ] && echo "nsexplorer: dropped $_nsx_n byte(s) typed before this \
prompt (they were not typed for this shell)"
}
unset _nsx_tty _nsx_n
"""


def _bash_rcfile() -> str:
    """bash's: the user's own ~/.bashrc, then the label in front of PS1 (through the
    variable: its value is never expanded again), then the drain."""
    return _rcfile(
        '[ -f "$HOME/.bashrc" ] && . "$HOME/.bashrc"\n'
        "PS1='[nsx ${NSX_NETNS_LABEL}] '\"${PS1:-\\\\$ }\"\n"
    )


def _rcfile(setup: str) -> str:
    """A start-up file for the shell: ``setup``, then the drain."""
    fd, path = tempfile.mkstemp(prefix="nsx-shellrc-", suffix=".sh")
    with os.fdopen(fd, "w") as f:
        f.write(setup + _DRAIN_TYPEAHEAD)
    return path


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


def incident_tools(
    runner: NamespaceRunner,
    detail: Callable[[NetNamespace], NetNamespace],
    baseline: Snapshot | None = None,
    origin: str = "",
    *,
    directory: str = ".",
) -> IncidentTools:
    """The incident verbs' ports: fan-out through the runner, the host's tcpdump and
    the bundle writer (pcaps and bundles written new in ``directory``); ``detail``
    re-reads a namespace (a capture checks its interface is still there)."""
    from nsexplorer.actions import fanout
    from nsexplorer.cli.bundle import SessionBundler
    from nsexplorer.cli.capture import CaptureTools
    from nsexplorer.ui.incident import IncidentTools

    return IncidentTools(
        fanout=functools.partial(fanout.run_in_each, runner),
        capture=CaptureTools(runner, detail, directory=directory),
        bundle=SessionBundler(runner.audit_log_path, directory=directory),
        baseline=baseline,
        baseline_origin=origin,
    )


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


def terminal_info(env: Mapping[str, str]) -> TerminalInfo:
    return TerminalInfo(
        tmux=bool(env.get("TMUX")),
        remote=bool(env.get("SSH_CONNECTION") or env.get("SSH_TTY")),
    )


def use_mouse(args: argparse.Namespace, terminal: TerminalInfo) -> bool:
    """Mouse capture: off over SSH (every pointer motion is a report and a repaint),
    unless --mouse; --no-mouse always wins."""
    if getattr(args, "no_mouse", False):
        return False
    if getattr(args, "mouse", False):
        return True
    return not terminal.remote


def _baseline(args: argparse.Namespace) -> tuple[Snapshot | None, str]:
    """The --since snapshot and how the Changes view names it (None: the first full
    read will be the baseline)."""
    path = getattr(args, "since_file", None)
    if not path:
        return None, ""
    from nsexplorer.cli.bundle import load_snapshot

    snap = load_snapshot(path)
    return snap, f"{os.path.basename(path)} ({snap.collected_at})"


def _run(args: argparse.Namespace) -> int:
    terminal = terminal_info(os.environ)
    baseline, origin = _baseline(args)  # a bad file is refused before the screen changes
    if args.from_file:
        from nsexplorer.collect.recorded import RecordedSource
        from nsexplorer.ui.app import NsxApp
        from nsexplorer.ui.incident import IncidentTools

        source = RecordedSource(args.from_file)
        app = NsxApp(
            source,
            read_only=True,
            replay_name=os.path.basename(args.from_file),
            on_first_paint=_startup_over,
            terminal=terminal,
            incident=IncidentTools(baseline=baseline, baseline_origin=origin),
        )
    else:
        live = PrefetchedSource(docker_timeout=3.0)  # first: it overlaps the imports below

        from nsexplorer.actions.runner import NamespaceRunner
        from nsexplorer.collect.watch import NetlinkWatcher
        from nsexplorer.ui.app import NsxApp

        runner = NamespaceRunner(read_only=args.read_only)
        app = NsxApp(
            live,
            runner=runner,
            # Opens the selected namespace through the paths discovery found; follows the
            # events of the same (shared) container engines the source asks.
            watcher=NetlinkWatcher(paths=live.paths_of),
            spawn_shell=spawn_shell,
            read_only=args.read_only,
            on_first_paint=_startup_over,
            terminal=terminal,
            incident=incident_tools(runner, live.detail, baseline, origin),
        )
    try:
        app.run(mouse=use_mouse(args, terminal))
    finally:
        # The terminal is back; no command started from the UI may outlive us.
        app.stop_commands()
    return app.return_code or 0
