"""A saved snapshot (``nsexplorer snapshot -o FILE``) as a read-only SnapshotSource."""

from __future__ import annotations

import os

from nsexplorer import snapshot_json
from nsexplorer.errors import NamespaceGone, NsxError
from nsexplorer.model import NetNamespace, ProcessInfo, Snapshot

# A snapshot of thousands of namespaces is a few MB; refuse absurd files early.
MAX_SNAPSHOT_BYTES = 512 * 1024 * 1024


class RecordedSource:
    """Implements ports.SnapshotSource from a snapshot JSON file; never touches the host."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._snapshot = load(path)

    @property
    def live(self) -> bool:
        return False

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    def discover(self) -> Snapshot:
        return self._snapshot

    def collect(self) -> Snapshot:
        return self._snapshot

    def detail(self, ns: NetNamespace) -> NetNamespace:
        stored = self._snapshot.by_inode(ns.inode)
        if stored is None:
            raise NamespaceGone(f"namespace {ns.inode} is not in {self.path}")
        return stored

    def processes(self, ns: NetNamespace) -> tuple[ProcessInfo, ...]:
        return ()


def load(path: str) -> Snapshot:
    """Read and decode a snapshot file; every failure is an NsxError naming the file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError as err:
        raise NsxError(f"snapshot file {path!r} does not exist") from err
    except OSError as err:
        raise NsxError(f"cannot open snapshot file {path!r}: {err.strerror}") from err
    try:
        with os.fdopen(fd, "rb") as f:
            data = f.read(MAX_SNAPSHOT_BYTES + 1)
    except OSError as err:
        raise NsxError(f"cannot read snapshot file {path!r}: {err.strerror}") from err
    if len(data) > MAX_SNAPSHOT_BYTES:
        raise NsxError(f"snapshot file {path!r} is too large")
    try:
        return snapshot_json.loads(data)
    except snapshot_json.SnapshotFormatError as err:
        raise NsxError(f"{path!r} is not an nsexplorer snapshot: {err}") from err
