"""Snapshots replayed as a SnapshotSource: one in memory, or a saved file
(``nsexplorer snapshot -o FILE``) read-only."""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

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
    and benchmarks of a fixed topology). ``inside``: what was recorded inside some
    namespaces (namespace inode -> facts); the others say "not recorded"."""

    def __init__(
        self,
        snapshot: Snapshot,
        *,
        live: bool = False,
        origin: str = "",
        inside: Mapping[int, InsideFacts] | None = None,
    ) -> None:
        self._snapshot = snapshot
        self._live = live
        self._origin = origin or "the snapshot"
        self._inside = dict(inside or {})

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

        recorded = self._inside.get(ns.inode)
        if recorded is not None:
            return recorded
        why = f"not recorded ({self._origin} holds no sockets, neighbours or NAT rules)"
        return InsideFacts(
            namespace_inode=ns.inode,
            unavailable=tuple((p, why) for p in INSIDE_PARTS),
        )


class RecordedSource(SnapshotReplay):
    """A saved snapshot file, replayed read-only."""

    def __init__(self, path: str) -> None:
        doc, snapshot = _load(path)
        super().__init__(snapshot, origin=path, inside=_recorded_inside(path, doc))
        self.path = path


def load(path: str) -> Snapshot:
    """Read and decode a snapshot file; every failure is an NsxError naming the file."""
    return _load(path)[1]


def _recorded_inside(path: str, doc: Mapping[str, Any]) -> dict[int, InsideFacts]:
    """The inside facts a document holds for its namespaces (the keys ``show --json``
    adds to a namespace object), by inode; none for a plain snapshot."""
    out: dict[int, InsideFacts] = {}
    for d in doc.get("namespaces", ()):
        if not isinstance(d, Mapping) or "inside" not in d:
            continue
        try:
            facts = snapshot_json.decode_inside(d)
        except (snapshot_json.SnapshotFormatError, TypeError, ValueError) as err:
            raise NsxError(f"{path!r}: inside facts of a namespace: {err}") from err
        if facts is not None:
            out[int(d.get("inode") or facts.namespace_inode)] = facts
    return out


def _load(path: str) -> tuple[Mapping[str, Any], Snapshot]:
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
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as err:
        raise NsxError(f"{path!r} is not an nsexplorer snapshot: not valid JSON: {err}") from err
    try:
        return doc, snapshot_json.decode(doc)
    except snapshot_json.SnapshotFormatError as err:
        raise NsxError(f"{path!r} is not an nsexplorer snapshot: {err}") from err
