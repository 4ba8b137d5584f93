"""What the UI (and the CLI) depend on, not where it comes from.

The live kernel, a recorded JSON snapshot, or later a remote host all satisfy these.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from nsexplorer.model import NamespaceId, NetNamespace, ProcessInfo, Snapshot

if TYPE_CHECKING:
    from nsexplorer.model_inside import InsideFacts


class SnapshotSource(Protocol):
    """Where namespaces come from."""

    @property
    def live(self) -> bool:
        """False for a recorded snapshot: no refresh, no events, no actions."""
        ...

    def discover(self) -> Snapshot:
        """The cheap pass: every namespace and its labels, no per-namespace netlink."""
        ...

    def collect(self) -> Snapshot:
        """Everything: interfaces, addresses, routes and exact veth peers."""
        ...

    def detail(self, ns: NetNamespace) -> NetNamespace:
        """One namespace re-read in full (raises NamespaceGone if it vanished)."""
        ...

    def processes(self, ns: NetNamespace) -> tuple[ProcessInfo, ...]:
        """Processes whose netns is ``ns`` (fetched lazily, on demand)."""
        ...

    def inside(self, ns: NetNamespace, parts: Collection[str] | None = None) -> InsideFacts:
        """What is inside ``ns`` now: sockets with their processes, neighbours, bridge
        FDB, DNAT rules and published ports, conntrack count (``parts``: a subset of
        model.INSIDE_PARTS; None for all). Blocks (call from a worker). A part that was
        not read says why in ``unavailable``; raises NamespaceGone if ``ns`` vanished."""
        ...


@dataclass(frozen=True, slots=True)
class WatchCoverage:
    """How many of the namespaces a ChangeWatcher was asked to follow it does follow."""

    watched: int = 0
    unwatched: int = 0  # could not be opened, or left out to stay within the fd budget
    over_budget: int = 0  # of ``unwatched``: left out for the budget
    pending: int = 0  # still being opened
    gone: int = 0  # vanished since they were asked for (counted in neither above)
    stopped: str = ""  # the watcher's thread ended: why (then nothing is watched)

    @property
    def complete(self) -> bool:
        """Every namespace asked for (and still there) is watched."""
        return self.unwatched == 0 and self.pending == 0 and not self.stopped


class ChangeWatcher(Protocol):
    """Tells when something may have changed, so the UI re-collects only then."""

    def start(
        self,
        on_change: Callable[[str], None],
        on_coverage: Callable[[WatchCoverage], None] | None = None,
        on_subscribed: Callable[[tuple[NamespaceId, ...]], None] | None = None,
    ) -> None:
        """Begin watching; ``on_change(reason)`` may be called from any thread, and so
        may ``on_coverage``, each time what is watched settles differently (after
        ``watch_all``, a namespace that could not be opened, one that went), and
        ``on_subscribed(namespaces)``, each time sockets were just subscribed in these
        namespaces (a batch; an empty tuple once at start: the watcher's own sources).
        A change made after a namespace was read and before this notice was heard by
        nobody: the caller re-reads those namespaces once after it."""
        ...

    def watch_all(self, namespaces: Mapping[NamespaceId, Sequence[str]]) -> None:
        """Watch every one of these namespaces (each with the paths that may open it,
        best first), and no longer those left out; called after each full read."""
        ...

    def watch_namespace(self, ns: NamespaceId | None) -> None:
        """The selected namespace: watched first (before every other but the host's),
        also when it is not among ``watch_all``'s; None: nothing is selected."""
        ...

    def watch_host(self, ns: NamespaceId, path: str) -> None:
        """The host's namespace, opened through ``path``: watched too when it is not the
        watcher's own (nsexplorer started inside another namespace)."""
        ...

    def stop(self) -> None: ...


CANCELLED = "cancelled"  # RunResult.stopped when the user stopped it


@dataclass(frozen=True, slots=True)
class RunResult:
    argv: tuple[str, ...]
    exit_status: int | None  # None: killed, cancelled, stopped or never started
    output: str  # stdout and stderr merged; bounded, the tail kept
    truncated: bool = False
    error: str = ""  # nsexplorer's user-facing note (could not start, cancelled...)
    stopped: str = ""  # "cancelled" (the user) or "timeout": nsexplorer ended it

    @property
    def outcome(self) -> str:
        """ "ok", "cancelled" or "failed": how a fan-out counts it."""
        if self.stopped == CANCELLED:
            return CANCELLED
        return "ok" if self.exit_status == 0 and not self.error else "failed"


def tally_text(results: Iterable[RunResult]) -> str:
    """ "2 ok, 1 failed, 3 cancelled" (cancelled ones are said apart, not as failures)."""
    counts = {"ok": 0, "failed": 0, CANCELLED: 0}
    for r in results:
        counts[r.outcome] += 1
    words = [f"{counts['ok']} ok", f"{counts['failed']} failed"]
    if counts[CANCELLED]:
        words.append(f"{counts[CANCELLED]} cancelled")
    return ", ".join(words)


@dataclass(frozen=True, slots=True)
class PreparedShell:
    """An interactive shell ready to start in a namespace that was opened and verified.

    ``argv`` enters it through the open descriptors ``pass_fds`` (the child inherits
    them, nothing else does); ``command`` is the equivalent a person would paste.
    ``release()`` closes the descriptors: call it once the shell ended or was abandoned.
    ``ended(status, error)`` records how it ended (status None: it never started).
    """

    argv: tuple[str, ...]
    command: str
    pass_fds: tuple[int, ...]
    release: Callable[[], None]
    ended: Callable[[int | None, str], None] = lambda status, error: None


class CommandRunner(Protocol):
    """Acts inside a namespace. Every method refuses in read-only mode."""

    @property
    def read_only(self) -> bool: ...

    @property
    def audit_log_path(self) -> str: ...

    def equivalent_command(
        self,
        ns: NetNamespace,
        argv: Sequence[str],
        all_namespaces: bool = False,
        *,
        via_pid: int | None = None,
    ) -> str:
        """The shell command a person would paste to do the same thing. ``via_pid``: with
        ``all_namespaces``, the process whose namespaces to enter (one of several
        containers sharing ``ns``); by default the container that owns ``ns``."""
        ...

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
        """Run ``argv`` inside ``ns`` capturing output; blocks (call from a worker).

        ``cancel()`` is polled: once it returns True the command's whole process group
        is ended. ``on_output(text)`` (if given) receives the output as it arrives, from
        the calling thread; ``RunResult.output`` still holds its bounded tail.
        """
        ...

    def prepare_shell(
        self, ns: NetNamespace, all_namespaces: bool = False, *, via_pid: int | None = None
    ) -> PreparedShell:
        """An interactive shell in ``ns``, to start inside app.suspend()."""
        ...

    def take_warnings(self) -> tuple[str, ...]:
        """What went wrong around actions since the last call, for the caller to show
        (e.g. an audit record that could not be written: the action still ran)."""
        ...

    def name(self, ns: NetNamespace, name: str) -> str:
        """Bind-mount ``ns`` as /var/run/netns/<name>; returns the path."""
        ...

    def unname(self, name: str, ns: NetNamespace) -> None:
        """Remove the name ``name`` of ``ns``; refused when the name now leads elsewhere."""
        ...

    def name_command(self, ns: NetNamespace, name: str) -> str:
        """The paste-able equivalent of ``name``; raises ActionFailed for an unusable name."""
        ...

    def unname_command(self, name: str) -> str:
        """The paste-able equivalent of ``unname``; raises ActionFailed when unname
        would refuse it (nothing else keeps the namespace alive)."""
        ...


class ShellSpawner(Protocol):
    """Hands the real terminal to an interactive shell (the app is suspended meanwhile)
    and returns its exit status. ``label`` and ``netns_inode`` name the namespace in a
    banner, in the shell's environment (NSX_NETNS, NSX_NETNS_LABEL) and in its prompt."""

    def __call__(self, shell: PreparedShell, *, netns_inode: int, label: str) -> int: ...


@dataclass(frozen=True, slots=True)
class TerminalInfo:
    """What the UI needs to know about the terminal it runs in (read by the caller)."""

    tmux: bool = False  # $TMUX is set: OSC 52 must be wrapped for passthrough
    remote: bool = False  # $SSH_CONNECTION or $SSH_TTY is set


# --- acting in an incident: packet capture, the evidence bundle (issue 12) -------------


@dataclass(frozen=True, slots=True)
class CaptureOrder:
    """What the UI asks a capture for: where, its bounds, a tcpdump filter."""

    interface: str  # "any": every interface of the namespace
    count: int | None = None
    seconds: float | None = None
    filter: tuple[str, ...] = ()


class CaptureResult(Protocol):
    """How a capture ended (actions.capture.CaptureOutcome has these)."""

    @property
    def exit_status(self) -> int | None: ...
    @property
    def stopped(self) -> str: ...  # "", "count", "time limit", "size limit", "cancelled"
    @property
    def pcap_path(self) -> str: ...
    @property
    def pcap_bytes(self) -> int: ...  # 0: nothing written (a failed start removes it)
    @property
    def error(self) -> str: ...


class PacketCapture(Protocol):
    """The host's tcpdump (and termshark) inside a namespace. Refuses in read-only mode."""

    def missing(self) -> str:
        """Why no capture can run here ("" when tcpdump is there)."""
        ...

    def capture(
        self,
        ns: NetNamespace,
        order: CaptureOrder,
        *,
        on_line: Callable[[str], None],
        cancel: Callable[[], bool],
        announce: Callable[[str, str], None],
    ) -> CaptureResult:
        """Capture until a bound or ``cancel()``; blocks (call from a worker).
        ``announce(equivalent, pcap_path)`` once every check passed, before it starts;
        raises NsxError (tcpdump missing, interface gone, not root) before that."""
        ...

    def termshark_command(self, ns: NetNamespace, interface: str) -> str | None:
        """The equivalent command for termshark on ``interface``; None when termshark
        is not on the host's PATH."""
        ...

    def termshark(self, ns: NetNamespace, interface: str) -> int:
        """Run termshark in ``ns`` on the real terminal (inside app.suspend()); its
        exit status."""
        ...


@dataclass(frozen=True, slots=True)
class KeptOutput:
    """Output the UI kept of one run (for the bundle): the command's own output in
    ``text``; nsexplorer's note (``error``) and why it ended early apart from it."""

    time: str  # ISO 8601, when it started
    label: str
    command: str
    exit_status: int | None
    text: str
    error: str = ""
    stopped: str = ""  # "cancelled", "timeout" or ""


@dataclass(frozen=True, slots=True)
class SessionEvidence:
    """What a TUI session saw and did, for the incident bundle."""

    snapshot: Snapshot
    baseline: Snapshot | None
    started: datetime  # aware; the session's audit entries are from then on
    outputs: tuple[KeptOutput, ...] = ()
    pcaps: tuple[str, ...] = ()
    viewed: tuple[str, ...] = ()  # labels of the namespaces looked at


@dataclass(frozen=True, slots=True)
class BundleWritten:
    path: str
    size: int
    audit_entries: int


class BundleWriter(Protocol):
    def default_path(self, hostname: str) -> str:
        """Where a bundle of ``hostname`` goes unless the person says otherwise."""
        ...

    def __call__(self, evidence: SessionEvidence, path: str | None = None) -> BundleWritten:
        """Write the bundle at ``path`` (None: a new file at the default path), never
        over an existing file (blocks: call from a worker); raises NsxError."""
        ...
