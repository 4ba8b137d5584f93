"""NamespaceRunner: the live implementation of nsexplorer.ports.CommandRunner."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from nsexplorer.actions import audit, entry, holders, naming, quoting
from nsexplorer.actions.nsfs import OWN_NETNS, ns_id_of
from nsexplorer.actions.output import DEFAULT_LIMIT
from nsexplorer.actions.process import exit_status_of, run_captured
from nsexplorer.errors import ActionFailed, NeedsRoot, ReadOnlyRefused
from nsexplorer.model import NetNamespace
from nsexplorer.ports import CommandRunner, RunResult

NOT_FOUND = 127


class NamespaceRunner:
    """Runs host tools inside any network namespace, names and unnames namespaces.

    Every action refuses in read-only mode before anything runs, and every action
    that runs is appended to the audit log.
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

    # -- CommandRunner -----------------------------------------------------------

    @property
    def read_only(self) -> bool:
        return self._read_only

    @property
    def audit_log_path(self) -> str:
        return self._audit.path

    @property
    def audit_error(self) -> str:
        """Why the last audit record could not be written ("" when it was)."""
        return self._audit.last_error

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
        way = entry.plan(ns, all_namespaces, via_pid=via_pid)
        full = entry.wrap(way, cmd)
        denied = privilege_problem(way, ns)
        if denied:
            return RunResult(tuple(full), None, "", error=denied)
        missing = None if way.kind is entry.Kind.ALL else missing_program(cmd[0])
        if missing:
            self._log("run", ns, cmd, full, NOT_FOUND, error=missing)
            return RunResult(tuple(full), NOT_FOUND, "", error=missing)
        try:
            got = run_captured(
                full, timeout=timeout, cancel=cancel, limit=self._limit, on_output=on_output
            )
        except OSError as err:
            msg = f"could not start {full[0]}: {err.strerror}"
            self._log("run", ns, cmd, full, None, error=msg)
            return RunResult(tuple(full), None, "", error=msg)
        error = ""
        if got.stopped == "timeout":
            error = f"stopped after {timeout:g} s (timeout); output so far is shown"
        elif got.stopped == "cancelled":
            error = "cancelled; output so far is shown"
        elif got.exit_status == NOT_FOUND and "failed to execute" in got.output:
            error = f"command not found inside the container: {cmd[0]}"
        self._log("run", ns, cmd, full, got.exit_status, stopped=got.stopped or None)
        return RunResult(tuple(full), got.exit_status, got.output, got.truncated, error)

    def interactive_argv(
        self, ns: NetNamespace, all_namespaces: bool = False, *, via_pid: int | None = None
    ) -> list[str]:
        self.refuse_if_read_only("open a shell")
        way = entry.plan(ns, all_namespaces, via_pid=via_pid)
        shell = "/bin/sh" if way.kind is entry.Kind.ALL else entry.host_shell()
        full = entry.wrap(way, [shell])
        denied = privilege_problem(way, ns)
        if denied:
            raise NeedsRoot(denied)
        self._log("shell", ns, [shell], full, None)
        return full

    def name(self, ns: NetNamespace, name: str) -> str:
        self.refuse_if_read_only(f"name a namespace {name!r}")
        naming.validate_name(name)
        source = _name_source(entry.plan(ns))
        path = naming.bind_name(source, ns.id, name)
        self._log("name", ns, [name], ["mount", "--bind", source, path], 0, name=name)
        return path

    def unname(self, name: str) -> None:
        self.refuse_if_read_only(f"remove the name {name!r}")
        target = naming.existing_name_path(name)
        ns_id = naming.unbind_name(name, holders=self._holders_of(target))
        self._audit.record(
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
        """What ``name`` does, as commands a person would paste."""
        return naming.name_command(_name_source(entry.plan(ns)), name)

    @staticmethod
    def unname_command(name: str) -> str:
        """What ``unname`` does: exactly `ip netns delete` (lazy umount, then unlink)."""
        return quoting.join(["ip", "netns", "delete", name])

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
        way = entry.plan(ns, all_namespaces, via_pid=via_pid)
        if not argv:
            argv = ["/bin/sh" if way.kind is entry.Kind.ALL else entry.host_shell()]
        cmd = _checked_argv(argv)
        full = entry.wrap(way, cmd)
        denied = privilege_problem(way, ns)
        if denied:
            raise NeedsRoot(denied)
        missing = None if way.kind is entry.Kind.ALL else missing_program(cmd[0])
        if missing:
            self._log("exec", ns, cmd, full, NOT_FOUND, error=missing)
            raise CommandNotFound(missing)
        if announce is not None:
            seed = entry.seed_form(way, cmd)
            announce(quoting.join(full), None if seed is None else quoting.join(seed))
        try:
            status = exit_status_of(call_in_foreground(full))
        except OSError as err:
            self._log("exec", ns, cmd, full, None, error=str(err))
            raise ActionFailed(f"could not start {full[0]}: {err.strerror}") from err
        self._log("exec", ns, cmd, full, status)
        return status

    # -- helpers -----------------------------------------------------------------

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
        self._audit.record(
            action,
            netns_inode=ns.inode,
            netns=entry.describe(ns),
            argv=argv,
            command=full,
            exit_status=status,
            **{k: v for k, v in extra.items() if v is not None},
        )

    @staticmethod
    def _holders_of(target: str) -> int:
        ns = ns_id_of(target)
        if ns is None:
            return 1  # unbind_name explains what is wrong with it
        paths = (target, os.path.realpath(target))
        return holders.count_holders(ns.ino, paths, dev=ns.dev)


def call_in_foreground(argv: Sequence[str], env: Mapping[str, str] | None = None) -> int:
    """Run with the terminal; ctrl-c belongs to the command, not to us.

    The terminal sends SIGINT to the command and to nsexplorer alike. subprocess.call
    would SIGKILL the command then, and a KeyboardInterrupt landing just as the child
    is reaped loses its exit status (Popen then reports 0). So, while it runs, SIGINT
    and SIGQUIT only interrupt our wait, which resumes; the command decides. A caught
    signal is reset to the default in the child at exec, so the command is unaffected.
    """
    main = threading.current_thread() is threading.main_thread()
    saved: dict[signal.Signals, Any] = {}
    if main:
        for sig in (signal.SIGINT, signal.SIGQUIT):
            saved[sig] = signal.signal(sig, _ignore_while_waiting)
    try:
        with subprocess.Popen(list(argv), env=env) as proc:
            return proc.wait()
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def _ignore_while_waiting(signum: int, frame: object) -> None:
    """A handler (not SIG_IGN, which the command would inherit) that does nothing."""


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
        f"entering namespace {entry.describe(ns)} needs root (CAP_SYS_ADMIN); "
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
