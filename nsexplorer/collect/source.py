"""The live host as a ports.SnapshotSource (work in progress: see issue 3)."""

from __future__ import annotations

from nsexplorer.errors import NsxError
from nsexplorer.model import NetNamespace, ProcessInfo, Snapshot


class LiveSource:
    """Every network namespace of this host, read from /proc, mount tables, Docker and
    netlink. ``discover`` is the cheap pass; ``collect`` adds interfaces, routes, peers."""

    def __init__(self, docker_timeout: float = 3.0) -> None:
        self.docker_timeout = docker_timeout

    @property
    def live(self) -> bool:
        return True

    def discover(self) -> Snapshot:
        raise NsxError("live discovery is not built yet")

    def collect(self) -> Snapshot:
        raise NsxError("live collection is not built yet")

    def detail(self, ns: NetNamespace) -> NetNamespace:
        raise NsxError("live collection is not built yet")

    def processes(self, ns: NetNamespace) -> tuple[ProcessInfo, ...]:
        return ()
