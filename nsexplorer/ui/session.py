"""What this TUI session saw and did, kept for the incident bundle: the namespaces looked
at, the output of what was run (the Output pane's, bounded), the pcaps taken, and when
the session started (its audit entries are from then on).

Plain Python (no Textual). Fan-out workers add outputs from their threads: a lock.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from nsexplorer.model import NetNamespace, Snapshot, ns_label
from nsexplorer.ports import KeptOutput, SessionEvidence

MAX_OUTPUTS = 500  # runs kept; the oldest go first (the audit log keeps every run)
MAX_VIEWED = 500


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Session:
    def __init__(self) -> None:
        self.started = datetime.now(UTC)
        self._outputs: list[KeptOutput] = []
        self._pcaps: list[str] = []
        self._viewed: dict[int, str] = {}  # inode -> label, in the order first seen
        self._lock = threading.Lock()

    def saw(self, ns: NetNamespace | None) -> None:
        if ns is not None and len(self._viewed) < MAX_VIEWED:
            self._viewed.setdefault(ns.inode, f"{ns_label(ns)} (netns {ns.inode})")

    def keep_output(self, kept: KeptOutput) -> None:
        with self._lock:
            self._outputs.append(kept)
            del self._outputs[:-MAX_OUTPUTS]

    def keep_pcap(self, path: str) -> None:
        with self._lock:
            if path not in self._pcaps:
                self._pcaps.append(path)

    @property
    def pcaps(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._pcaps)

    @property
    def outputs(self) -> tuple[KeptOutput, ...]:
        with self._lock:
            return tuple(self._outputs)

    def evidence(self, snapshot: Snapshot, baseline: Snapshot | None) -> SessionEvidence:
        return SessionEvidence(
            snapshot=snapshot,
            baseline=baseline,
            started=self.started,
            outputs=self.outputs,
            pcaps=self.pcaps,
            viewed=tuple(self._viewed.values()),
        )
