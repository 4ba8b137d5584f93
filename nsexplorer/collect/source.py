"""The live host as a ports.SnapshotSource."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from nsexplorer.collect import discovery
from nsexplorer.errors import NamespaceGone
from nsexplorer.model import NamespaceId, NetNamespace, ProcessInfo, Snapshot

if TYPE_CHECKING:
    from nsexplorer.collect.netns_reader import NsRead


class LiveSource:
    """Every network namespace of this host, read from /proc, the mount tables of every
    mount namespace, Docker and netlink. ``discover`` is the cheap pass; ``collect`` adds
    interfaces, addresses, routes (all tables) and exact veth peers.

    Thread-safe: the TUI may call it from several workers. Never creates or changes
    anything on the host.
    """

    def __init__(self, docker_timeout: float = 3.0, *, proc: str = "/proc") -> None:
        self.docker_timeout = docker_timeout
        self._proc = proc
        self._lock = threading.Lock()
        self._last: discovery.Discovery | None = None
        # (namespace, nsid) -> namespace, as the kernel confirmed it last time.
        self._nsid_hints: dict[tuple[NamespaceId, int], NamespaceId] = {}

    @property
    def live(self) -> bool:
        return True

    def _discover(self) -> discovery.Discovery:
        found = discovery.discover(self.docker_timeout, proc=self._proc)
        with self._lock:
            self._last = found
        return found

    def discover(self) -> Snapshot:
        return self._discover().snapshot

    def collect(self) -> Snapshot:
        from nsexplorer.collect import netns_reader

        found = self._discover()
        snap = found.snapshot
        targets = [(ns.id, found.paths.get(ns.id, [])) for ns in snap.namespaces]
        result = netns_reader.read_namespaces(targets, host=found.host)
        with self._lock:
            self._nsid_hints = dict(result.nsids)
        namespaces = tuple(merge(ns, result.reads.get(ns.id)) for ns in snap.namespaces)
        return replace(snap, namespaces=namespaces, warnings=(*snap.warnings, *result.warnings))

    def detail(self, ns: NetNamespace) -> NetNamespace:
        from nsexplorer.collect import netns_reader

        with self._lock:
            last = self._last
        paths = _paths_of(ns, last)
        others: list[tuple[NamespaceId, Sequence[str]]] = []
        host = None
        if last is not None:
            host = last.host
            others = [(i, p) for i, p in last.paths.items() if i != ns.id]
        with self._lock:
            hints = dict(self._nsid_hints)
        result = netns_reader.read_one(ns.id, paths, others, host=host, hints=hints)
        with self._lock:
            self._nsid_hints.update(result.nsids)
        read = result.reads.get(ns.id)
        if read is not None and read.gone:
            raise NamespaceGone(f"namespace {ns.label or ns.inode} is gone ({read.error})")
        detailed = merge(ns, read)
        if result.warnings:
            detailed = replace(detailed, warnings=(*detailed.warnings, *result.warnings))
        return detailed

    def processes(self, ns: NetNamespace) -> tuple[ProcessInfo, ...]:
        from nsexplorer.collect import processes

        return processes.processes_in(ns.inode, proc=self._proc)


def merge(ns: NetNamespace, read: NsRead | None) -> NetNamespace:
    """``ns`` with what netlink said about it (or why it could not say)."""
    if read is None:
        return ns
    if read.error:
        return replace(ns, warnings=(*ns.warnings, read.error), gone=read.gone)
    return replace(
        ns,
        detailed=True,
        interfaces=read.interfaces,
        routes=read.routes,
        rules=read.rules,
        access_path=ns.access_path or read.path,
        warnings=(*ns.warnings, *read.warnings),
    )


def _paths_of(ns: NetNamespace, last: discovery.Discovery | None) -> list[str]:
    paths: list[str] = []
    if last is not None:
        paths.extend(last.paths.get(ns.id, ()))
    if ns.access_path:
        paths.append(ns.access_path)
    paths.extend(m.path for m in ns.bind_mounts if not m.hidden)
    paths.extend(f"/proc/{p}/ns/net" for p in ns.pids[:3])
    paths.extend(f"/proc/{c.pid}/ns/net" for c in ns.containers if c.pid is not None)
    paths.extend(m.reach_path for m in ns.bind_mounts if m.hidden)
    paths.extend(f"/proc/{h.pid}/fd/{h.fd}" for h in ns.fd_holders[:3])
    return list(dict.fromkeys(paths))
