"""NamespaceRunner: the live implementation of nsexplorer.ports.CommandRunner."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from nsexplorer import shellquote as quoting
from nsexplorer.actions import audit, capture, entry, holders, naming, opened
from nsexplorer.actions.nsfs import OWN_NETNS, ns_id_of
from nsexplorer.actions.output import DEFAULT_LIMIT
from nsexplorer.actions.process import exit_status_of, run_captured
from nsexplorer.errors import ActionFailed, NeedsRoot, ReadOnlyRefused
from nsexplorer.kernel import children, sessionguard, terminal
from nsexplorer.model import NetNamespace, describe
from nsexplorer.ports import CommandRunner, PreparedShell, RunResult

NOT_FOUND = 127


class NamespaceRunner:
    """Runs host tools inside any network namespace, names and unnames namespaces.

    Every action refuses in read-only mode before anything runs, and every action
    that runs is appended to the audit log. What runs enters the namespace through the
    descriptor that was verified (actions.opened), never by opening its path again.
    """

    def __init__(
        self,
        read_only: bool = False,
        audit_log: str | None = None,
        *,
        output_limit: int = DEFAULT_LIMIT,
    ) -> None:
        self._read_only = read_only
        self._audit = audit.AuditLog(audit.choose_path(audit_log))
        self._limit = output_limit
        self._warnings: list[str] = []
        self._lock = threading.Lock()
        self._runs = itertools.count(1)
        # A pid is reused (every container's nsexplorer may be pid 1), and a bundle reads
        # a day of lines: ids of two processes must never meet. (os.urandom, not the
        # secrets module: that loads OpenSSL's hashlib, ~10 ms of the TUI's start.)
        self._run_prefix = f"{os.getpid()}.{os.urandom(4).hex()}"

    # -- CommandRunner -----------------------------------------------------------

    @property
    def read_only(self) -> bool:
        return self._read_only

    @property
    def audit_log_path(self) -> str:
        return self._audit.path

    def take_warnings(self) -> tuple[str, ...]:
        with self._lock:
            taken = tuple(self._warnings)
            self._warnings.clear()
        return taken

    def equivalent_command(
        self,
        ns: NetNamespace,
        argv: Sequence[str],
        all_namespaces: bool = False,
        *,
        via_pid: int | None = None,
    ) -> str:
        way = entry.plan(ns, all_namespaces, via_pid=via_pid)
        return quoting.join(entry.wrap(way, argv))

    def run(
        self,
        ns: NetNamespace,
        argv: Sequence[str],
        *,
        all_namespaces: bool = False,
        timeout: float | None = None,
        cancel: Callable[[], bool] | None = None,
        on_output: Callable[[str], None] | None = None,
        via_pid: int | None = None,
    ) -> RunResult:
        self.refuse_if_read_only("run a command")
        cmd = _checked_argv(argv)
        with opened.open_way(ns, all_namespaces, via_pid=via_pid) as way:
            shown = way.shown(cmd)
            denied = privilege_problem(way.way, ns)
            if denied:
                return RunResult(tuple(shown), None, "", error=denied)
            missing = None if way.way.kind is entry.Kind.ALL else missing_program(cmd[0])
            if missing:
                self._log("run", ns, cmd, shown, NOT_FOUND, error=missing)
                return RunResult(tuple(shown), NOT_FOUND, "", error=missing)
            facts = {**way.audit_facts(cmd), "run": self._run_id()}
            self._log_started("run", ns, cmd, shown, facts)
            try:
                got = run_captured(
                    way.argv(cmd),
                    timeout=timeout,
                    cancel=cancel,
                    limit=self._limit,
                    pass_fds=way.pass_fds,
                    on_output=on_output,
                )
            except OSError as err:
                msg = f"could not start {facts['executed'][0]}: {err.strerror}; nothing ran"
                self._log("run", ns, cmd, shown, None, error=msg, **facts)
                return RunResult(tuple(shown), None, "", error=msg)
        error = ""
        if got.stopped == "timeout":
            error = f"stopped after {timeout:g} s (timeout); output so far is shown"
        elif got.stopped == "cancelled":
            error = "cancelled; output so far is shown"
        elif got.exit_status == NOT_FOUND and "failed to execute" in got.output:
            error = f"command not found inside the container: {cmd[0]}"
        self._log("run", ns, cmd, shown, got.exit_status, stopped=got.stopped or None, **facts)
        return RunResult(
            tuple(shown), got.exit_status, got.output, got.truncated, error, got.stopped
        )

    def capture(
        self,
        ns: NetNamespace,
        req: capture.CaptureRequest,
        *,
        on_line: Callable[[str], None],
        cancel: Callable[[], bool] | None = None,
        announce: Callable[[str], None] | None = None,
    ) -> capture.CaptureOutcome:
        """tcpdump inside ``ns`` through the verified entry; the pcap handed over as an fd.

        ``announce(equivalent)`` is called once every check passed, before it starts.
        """
        self.refuse_if_read_only("capture packets")
        if missing_program("tcpdump"):
            raise ActionFailed(
                "tcpdump is not installed on the host (apt-get install tcpdump); nothing was run"
            )
        shown_cmd = capture.tcpdump_argv(req, req.pcap_path)
        with opened.open_way(ns) as way:
            denied = privilege_problem(way.way, ns)
            if denied:
                raise NeedsRoot(denied)
            pcap_fd = capture.create_pcap(req.pcap_path)
            try:
                run_cmd = capture.tcpdump_argv(req, f"/proc/self/fd/{pcap_fd}")
                shown = way.shown(shown_cmd)
                if announce is not None:
                    announce(quoting.join(shown))
                facts = {**way.audit_facts(run_cmd), "run": self._run_id()}
                proc = children.popen(
                    way.argv(run_cmd),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    pass_fds=(*way.pass_fds, pcap_fd),
                    start_new_session=True,  # stopped by us, whole group, never orphaned
                )
                self._log_started("capture", ns, shown_cmd, shown, facts)
                with proc:
                    outcome = capture.supervise(proc, req, pcap_fd, on_line=on_line, cancel=cancel)
                if outcome.exit_status != 0 and outcome.pcap_bytes == 0:
                    outcome = _discard_empty_pcap(outcome, pcap_fd)
            finally:
                os.close(pcap_fd)
        self._log(
            "capture",
            ns,
            shown_cmd,
            shown,
            outcome.exit_status,
            pcap=req.pcap_path,
            stopped=outcome.stopped or None,
            **facts,
        )
        return outcome

    def prepare_shell(
        self, ns: NetNamespace, all_namespaces: bool = False, *, via_pid: int | None = None
    ) -> PreparedShell:
        self.refuse_if_read_only("open a shell")
        way = opened.open_way(ns, all_namespaces, via_pid=via_pid)
        try:
            shell = "/bin/sh" if way.way.kind is entry.Kind.ALL else entry.host_shell()
            shown = way.shown([shell])
            denied = privilege_problem(way.way, ns)
            if denied:
                raise NeedsRoot(denied)
            facts = {**way.audit_facts([shell]), "run": self._run_id()}
            self._log_started("shell", ns, [shell], shown, facts)

            logged = False

            def ended(status: int | None, error: str) -> None:
                nonlocal logged
                if not logged:  # once: spawn_shell's on_end, or the caller's finally
                    logged = True
                    self._log("shell", ns, [shell], shown, status, error=error or None, **facts)

            return PreparedShell(
                argv=tuple(way.argv([shell])),
                command=quoting.join(shown),
                pass_fds=way.pass_fds,
                release=way.close,
                ended=ended,
            )
        except BaseException:
            way.close()
            raise

    def name(
        self, ns: NetNamespace, name: str, *, announce: Callable[[str], None] | None = None
    ) -> str:
        """Bind-mount ``ns`` as /var/run/netns/``name``; the path.

        ``announce(equivalent)`` is called once every check passed, just before the mount.
        """
        self.refuse_if_read_only(f"name a namespace {name!r}")
        naming.require_free(name)  # validates it too
        with opened.open_way(ns, need_fd=True) as way:
            if not has_capability(CAP_SYS_ADMIN):
                raise NeedsRoot("naming a namespace needs root (CAP_SYS_ADMIN); nothing changed")
            shown = _name_command(way.way, name)  # refuses what it cannot name
            if announce is not None:
                announce(shown)
            path = naming.bind_fd(way.fds["net"], name)
            if _by_own_command(way.way):
                command = _own_name_command(way.way, name)
            else:
                command = ["mount", "--bind", _name_source(way.way), path]
            self._log("name", ns, [name], command, 0, name=name, verified_path=way.path)
        return path

    def unname(
        self,
        name: str,
        ns: NetNamespace | None = None,
        *,
        announce: Callable[[str], None] | None = None,
    ) -> None:
        """Remove the name ``name`` (only while it still leads to ``ns``, when given);
        ``announce(equivalent)`` once every check passed."""
        self.refuse_if_read_only(f"remove the name {name!r}")
        target = naming.existing_name_path(name)
        if not has_capability(CAP_SYS_ADMIN):
            raise NeedsRoot("removing a name needs root (CAP_SYS_ADMIN); nothing changed")

        def ready() -> None:
            if announce is not None:
                announce(_unname_words(name))

        ns_id = naming.unbind_name(
            name, holders=self._holders_of(target), announce=ready, expect=ns
        )
        self._record(
            "unname",
            netns_inode=ns_id.ino,
            netns=name,
            argv=[name],
            command=["umount", "--lazy", target],
            exit_status=0,
            name=name,
        )

    # -- beyond the Protocol: for the CLI ------------------------------------------

    def name_command(self, ns: NetNamespace, name: str) -> str:
        """What ``name`` does, as commands a person would paste; ActionFailed for a name
        it would refuse (invalid, taken), said before anything is asked."""
        naming.require_free(name)
        return _name_command(entry.plan(ns), name)

    def unname_command(self, name: str) -> str:
        """What ``unname`` does: exactly `ip netns delete` (lazy umount, then unlink);
        ActionFailed when unname would refuse it now (nothing else keeps the namespace
        alive, not a bind mount), said before anything is asked."""
        target = naming.existing_name_path(name)
        if not has_capability(CAP_SYS_ADMIN):  # and then what holds it is unknown
            raise NeedsRoot("removing a name needs root (CAP_SYS_ADMIN); nothing changed")
        naming.check_unbind(name, holders=self._holders_of(target))
        return _unname_words(name)

    def seed_command(self, ns: NetNamespace, argv: Sequence[str]) -> str | None:
        """The seed article's `nsenter -t PID -m nsenter --net=...` form, if it applies."""
        form = entry.seed_form(entry.plan(ns), argv)
        return None if form is None else quoting.join(form)

    def run_attached(
        self,
        ns: NetNamespace,
        argv: Sequence[str],
        *,
        all_namespaces: bool = False,
        via_pid: int | None = None,
        announce: Callable[[str, str | None], None] | None = None,
    ) -> int:
        """Run with the terminal attached (output streams, not captured); exit status.

        An empty ``argv`` starts an interactive shell (the host's $SHELL, or /bin/sh of
        the container with --all-namespaces). ``announce(equivalent, seed_form)`` is
        called once every check passed, just before the command starts.
        """
        self.refuse_if_read_only("run a command")
        given = _checked_argv(argv) if argv else []
        with opened.open_way(ns, all_namespaces, via_pid=via_pid) as way:
            cmd = given or ["/bin/sh" if way.way.kind is entry.Kind.ALL else entry.host_shell()]
            shown = way.shown(cmd)
            denied = privilege_problem(way.way, ns)
            if denied:
                raise NeedsRoot(denied)
            missing = None if way.way.kind is entry.Kind.ALL else missing_program(cmd[0])
            if missing:
                self._log("exec", ns, cmd, shown, NOT_FOUND, error=missing)
                raise CommandNotFound(missing)
            if announce is not None:
                seed = entry.seed_form(way.way, cmd)
                announce(quoting.join(shown), None if seed is None else quoting.join(seed))
            facts = {**way.audit_facts(cmd), "run": self._run_id()}
            self._log_started("exec", ns, cmd, shown, facts)

            def log_end(code: int) -> None:  # before a SIGTERM/SIGHUP ends us too
                self._log("exec", ns, cmd, shown, exit_status_of(code), **facts)

            try:
                code = call_in_foreground(
                    way.argv(cmd), way.pass_fds, interactive=not given, on_end=log_end
                )
            except OSError as err:
                self._log("exec", ns, cmd, shown, None, error=str(err), **facts)
                raise ActionFailed(
                    f"could not start {facts['executed'][0]}: {err.strerror}; nothing ran"
                ) from err
        return exit_status_of(code)

    # -- helpers -----------------------------------------------------------------

    def _run_id(self) -> str:
        """Ties a run's "running" line to its final one: pid, a token of this runner
        and a counter."""
        return f"{self._run_prefix}.{next(self._runs)}"

    def _log_started(
        self,
        action: str,
        ns: NetNamespace,
        argv: Sequence[str],
        full: Sequence[str],
        facts: Mapping[str, Any],
    ) -> None:
        """The line written just before a command starts ("state": "running"); its final
        line (exit status) shares its ``run`` id. Written ahead, so that a command
        nsexplorer was killed under (SIGKILL, a hangup, the host going down) is on record
        however soon that happened."""
        self._log(action, ns, argv, full, None, state="running", **facts)

    def refuse_if_read_only(self, what: str) -> None:
        if self._read_only:
            raise ReadOnlyRefused(
                f"read-only mode: refusing to {what}; nothing was run or changed "
                "(start without --read-only to act)"
            )

    def _log(
        self,
        action: str,
        ns: NetNamespace,
        argv: Sequence[str],
        full: Sequence[str],
        status: int | None,
        **extra: object,
    ) -> None:
        self._record(
            action,
            netns_inode=ns.inode,
            netns=describe(ns),
            argv=argv,
            command=full,
            exit_status=status,
            **{k: v for k, v in extra.items() if v is not None},
        )

    def _record(self, action: str, **fields: Any) -> None:
        problem = self._audit.record(action, **fields)
        if problem:
            with self._lock:
                if problem not in self._warnings:  # a run's two lines fail alike: once
                    self._warnings.append(problem)

    @staticmethod
    def _holders_of(target: str) -> int:
        ns = ns_id_of(target)
        if ns is None:
            return 1  # unbind_name explains what is wrong with it
        paths = (target, os.path.realpath(target))
        return holders.count_holders(ns.ino, paths, dev=ns.dev)


def _unname_words(name: str) -> str:
    return quoting.join(["ip", "netns", "delete", name])


def _discard_empty_pcap(outcome: capture.CaptureOutcome, fd: int) -> capture.CaptureOutcome:
    """tcpdump failed before writing anything (a bad filter, an interface down): remove
    the empty file we made (only if the path is still that file), and say so."""
    path = outcome.pcap_path
    with contextlib.suppress(OSError):
        st, mine = os.lstat(path), os.fstat(fd)
        if (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino):
            os.unlink(path)
            path = ""
    why = f"capture failed: tcpdump exited with status {outcome.exit_status}"
    kept = f"; the empty {outcome.pcap_path} was removed" if not path else ""
    return dataclasses.replace(outcome, error=outcome.error or why + kept)


END_GRACE = 3.0  # seconds a foreground command has to end after our end, then SIGKILL


def call_in_foreground(
    argv: Sequence[str],
    pass_fds: Sequence[int] = (),
    env: Mapping[str, str] | None = None,
    *,
    interactive: bool = False,
    on_end: Callable[[int], None] | None = None,
) -> int:
    """Run with the terminal; ctrl-c belongs to the command, not to us; its return code
    (Popen's: -N for a signal), also given to ``on_end`` as soon as it is reaped.

    The terminal sends SIGINT to the command and to nsexplorer alike. subprocess.call
    would SIGKILL the command then, and a KeyboardInterrupt landing just as the child
    is reaped loses its exit status (Popen then reports 0). So, while it runs, SIGINT
    and SIGQUIT only interrupt our wait, which resumes; the command decides. A caught
    signal is reset to the default in the child at exec, so the command is unaffected.
    SIGTERM or SIGHUP to nsexplorer meanwhile goes on to the command (an
    ``interactive`` one, a shell, is hung up instead: it ignores SIGTERM), SIGKILL
    after END_GRACE s, then takes its usual course once the command is reaped. A
    signal we were started ignoring (nohup) stays ignored, for the command too.
    ``on_end`` runs before that course is taken (a final audit line, say): the default
    action of SIGTERM would end us before the caller could write it.
    """
    main = threading.current_thread() is threading.main_thread()
    saved: dict[signal.Signals, Any] = {}
    ending: list[signal.Signals] = []  # SIGTERM or SIGHUP that came while it ran
    proc: subprocess.Popen[bytes] | None = None
    reaper = _Reaper()

    def end_command(signum: int, frame: object) -> None:
        # Our own end was asked for: the command goes first, then us.
        ending.append(signal.Signals(signum))
        if proc is not None and proc.returncode is None:
            reaper.end(proc, signal.SIGHUP if interactive else ending[0])

    if main:
        for sig in (signal.SIGINT, signal.SIGQUIT):
            saved[sig] = signal.signal(sig, _ignore_while_waiting)
        for sig in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(sig) is not signal.SIG_IGN:
                saved[sig] = signal.signal(sig, end_command)
    try:
        sessionguard.watch_group()  # what it forks in our process group ends with us
        with (
            terminal.kept_in_foreground(),
            children.popen(argv, pass_fds=tuple(pass_fds), env=env) as proc,
        ):
            if ending:  # asked for before the command was there
                reaper.end(proc, signal.SIGHUP if interactive else ending[0])
            code = proc.wait()
        if on_end is not None:
            on_end(code)
        return code
    finally:
        reaper.close()
        for sig, handler in saved.items():
            signal.signal(sig, handler)
        if ending:
            signal.raise_signal(ending[0])  # now handled as it would have been


class _Reaper:
    """Passes our end on to a foreground command, and kills it END_GRACE s later if it
    is still there (from a timer: the main thread stays in its wait). Through a pidfd
    taken before the command is reaped, so a reused pid is never signalled; without one
    (kernel < 5.3, no descriptor left) through Popen, which signals only an unreaped
    child."""

    def __init__(self) -> None:
        self._pidfd: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._timer: threading.Timer | None = None

    def end(self, proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
        if self._proc is not None:
            return
        self._proc = proc
        with contextlib.suppress(OSError):
            self._pidfd = os.pidfd_open(proc.pid)
        self._send(sig)
        self._send(signal.SIGCONT)  # a stopped command would never see it
        self._timer = threading.Timer(END_GRACE, self._send, (signal.SIGKILL,))
        self._timer.daemon = True
        self._timer.start()

    def _send(self, sig: signal.Signals) -> None:
        with contextlib.suppress(OSError):  # ended meanwhile, or the fd closed
            if self._pidfd is not None:
                signal.pidfd_send_signal(self._pidfd, sig)
            elif self._proc is not None:
                self._proc.send_signal(sig)  # a no-op once it was reaped

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer.join()
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None
        self._proc = None


def _ignore_while_waiting(signum: int, frame: object) -> None:
    """A handler (not SIG_IGN, which the command would inherit) that does nothing."""


def _name_command(way: entry.Entry, name: str) -> str:
    """What naming through ``way`` does, as commands a person would paste. A socket's
    namespace, and one mounted only inside a mount namespace no process is in, open
    through no path a mount here could bind: nsexplorer's own command."""
    if _by_own_command(way):
        return quoting.join(_own_name_command(way, name))
    return naming.name_command(_name_source(way), name)


def _by_own_command(way: entry.Entry) -> bool:
    return way.kind in (entry.Kind.SOCKET, entry.Kind.MOUNT_NS)


def _own_name_command(way: entry.Entry, name: str) -> list[str]:
    return [*entry.self_command(), "name", str(way.inode), name]


def _name_source(way: entry.Entry) -> str:
    """The path a bind mount for a new name is made from."""
    if way.kind is entry.Kind.NAMED:
        return f"{entry.NETNS_RUN_DIR}/{way.ref}"
    if way.kind is entry.Kind.DIRECT:
        return OWN_NETNS
    return way.ref


class CommandNotFound(ActionFailed):
    exit_code = NOT_FOUND


def _checked_argv(argv: Sequence[str]) -> list[str]:
    cmd = list(argv)
    if not cmd or not cmd[0]:
        raise ActionFailed("no command given")
    if any("\0" in word for word in cmd):
        raise ActionFailed("a command argument contains a NUL byte")
    return cmd


def missing_program(program: str) -> str | None:
    """A message if ``program`` cannot be found on the HOST (where it will run from)."""
    if "/" in program:
        if os.path.isfile(program) and os.access(program, os.X_OK):
            return None
        return f"command not found: {program} (no such executable file)"
    if shutil.which(program) is None:
        return f"command not found: {program} (not on the host's PATH)"
    return None


CAP_SYS_ADMIN = 21


def privilege_problem(way: entry.Entry, ns: NetNamespace, status_path: str = "") -> str:
    """Why entering ``ns`` this way cannot work for us ("" when it can).

    setns() into another namespace needs CAP_SYS_ADMIN; without it `ip netns exec`
    and nsenter fail with their own terse EPERM (exit 255/1), after the equivalent
    command was announced. Say it first, and run nothing.
    """
    if way.kind is entry.Kind.DIRECT or has_capability(CAP_SYS_ADMIN, status_path):
        return ""
    return (
        f"entering namespace {describe(ns)} needs root (CAP_SYS_ADMIN); "
        "nothing was run (try again with sudo)"
    )


def has_capability(cap: int, status_path: str = "") -> bool:
    """Whether ``cap`` is in our effective set (/proc/self/status CapEff)."""
    try:
        with open(status_path or "/proc/thread-self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> cap & 1)
    except (OSError, ValueError, IndexError):
        pass
    return os.geteuid() == 0


def _conforms(runner: NamespaceRunner) -> CommandRunner:
    """Checked by mypy: NamespaceRunner satisfies the port the UI depends on."""
    return runner
