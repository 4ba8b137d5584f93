"""Messages workers post to the app or the main screen: past-tense facts, posted from any
thread. Those that come in bursts say which pending copy a newer one replaces."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

from nsexplorer.model import NamespaceId, NetNamespace, ProcessInfo, Snapshot
from nsexplorer.ports import RunResult, WatchCoverage

if TYPE_CHECKING:
    from nsexplorer.ui.render_views import Finding


@dataclass
class SnapshotArrived(Message):
    """A snapshot was read; ``complete`` is False for the cheap discover() pass.
    ``problems``: the findings of a complete one (ProblemBoard.findings, computed in the
    worker); None when they were not computed."""

    snapshot: Snapshot
    complete: bool
    problems: Sequence[Finding] | None = None
    problems_error: str = ""


@dataclass
class CollectFailed(Message):
    message: str


@dataclass
class NamespaceDetailed(Message):
    ns: NetNamespace

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, NamespaceDetailed) and message.ns.inode == self.ns.inode


@dataclass
class NamespaceVanished(Message):
    ns: NetNamespace  # as it was asked for: its inode may name a new namespace by now
    message: str


@dataclass
class ProcessesFetched(Message):
    ns: NetNamespace  # as it was asked for, like NamespaceVanished
    processes: tuple[ProcessInfo, ...]
    error: str = ""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ProcessesFetched) and message.ns.inode == self.ns.inode


@dataclass
class ChangeDetected(Message):
    """The watcher saw something that may have changed the picture (a newer one makes a
    pending one redundant: the re-read covers both)."""

    reason: str

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ChangeDetected)


@dataclass
class WatchSubscribed(Message):
    """The watcher's sockets in these namespaces are subscribed now: what changed there
    between their last read and this moment was heard by nobody (one re-read covers a
    pending one too)."""

    namespaces: tuple[NamespaceId, ...]

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, WatchSubscribed)


@dataclass
class WatchCoverageChanged(Message):
    """How many namespaces the watcher follows live settled differently."""

    coverage: WatchCoverage

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, WatchCoverageChanged)


@dataclass
class CommandOutput(Message):
    """Output of the running command ``run_id``, as it arrived."""

    run_id: int
    text: str


@dataclass
class CommandFinished(Message):
    run_id: int
    result: RunResult


@dataclass
class ActionFinished(Message):
    """A name/unname action ended; ``message`` is for the person, ``ok`` its outcome."""

    message: str
    ok: bool
