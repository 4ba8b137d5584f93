"""Snapshots replayed as a SnapshotSource: one in memory, or a saved file
(``nsexplorer snapshot -o FILE``) read-only."""

from __future__ import annotations

import os
from collections.abc import Collection
from typing import TYPE_CHECKING

from nsexplorer import snapshot_json
from nsexplorer.errors import NamespaceGone, NsxError
from nsexplorer.model import NetNamespace, ProcessInfo, Snapshot

if TYPE_CHECKING:
    from nsexplorer.model_inside import InsideFacts

# A snapshot of thousands of namespaces is a few MB; refuse absurd files early.
MAX_SNAPSHOT_BYTES = 512 * 1024 * 1024


class SnapshotReplay:
    """Implements ports.SnapshotSource over one snapshot held in memory; never touches
    the host. ``live=True`` makes the UI treat it as live (used to render screenshots
    and benchmarks of a fixed topology)."""

    def __init__(self, snapshot: Snapshot, *, live: bool = False, origin: str = "") -> None:
        self._snapshot = snapshot
        self._live = live
        self._origin = origin or "the snapshot"

    @property
    def live(self) -> bool:
        return self._live

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
            raise NamespaceGone(f"namespace {ns.inode} is not in {self._origin}")
        return stored

    def processes(self, ns: NetNamespace) -> tuple[ProcessInfo, ...]:
        return ()

    def inside(self, ns: NetNamespace, parts: Collection[str] | None = None) -> InsideFacts:
        from nsexplorer.model_inside import INSIDE_PARTS, InsideFacts

        why = f"not recorded ({self._origin} holds no sockets, neighbours or NAT rules)"
        return InsideFacts(
            namespace_inode=ns.inode,
            unavailable=tuple((p, why) for p in INSIDE_PARTS),
        )


class RecordedSource(SnapshotReplay):
    """A saved snapshot file, replayed read-only."""

    def __init__(self, path: str) -> None:
        super().__init__(load(path), origin=path)
        self.path = path


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
