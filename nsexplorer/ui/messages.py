"""Messages workers post to the app: past-tense facts, posted from any thread."""

from __future__ import annotations

from textual.message import Message

from nsexplorer.model import NetNamespace, ProcessInfo, Snapshot
from nsexplorer.ports import RunResult


class SnapshotArrived(Message):
    """A snapshot was read; ``complete`` is False for the cheap discover() pass."""

    def __init__(self, snapshot: Snapshot, complete: bool) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.complete = complete


class CollectFailed(Message):
    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message


class NamespaceDetailed(Message):
    def __init__(self, ns: NetNamespace) -> None:
        super().__init__()
        self.ns = ns


class NamespaceVanished(Message):
    def __init__(self, inode: int, message: str) -> None:
        super().__init__()
        self.inode = inode
        self.message = message


class ProcessesFetched(Message):
    def __init__(self, inode: int, processes: tuple[ProcessInfo, ...], error: str = "") -> None:
        super().__init__()
        self.inode = inode
        self.processes = processes
        self.error = error


class ChangeDetected(Message):
    """The watcher saw something that may have changed the picture."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class CommandFinished(Message):
    def __init__(self, result: RunResult, equivalent: str) -> None:
        super().__init__()
        self.result = result
        self.equivalent = equivalent


class ActionFinished(Message):
    """A name/unname action ended; ``message`` is for the person, ``ok`` its outcome."""

    def __init__(self, message: str, ok: bool) -> None:
        super().__init__()
        self.message = message
        self.ok = ok
