"""The live host as a ports.SnapshotSource."""

from __future__ import annotations

import os
import threading
from collections.abc import Collection, Sequence
from dataclasses import replace

from nsexplorer import TYPE_CHECKING
from nsexplorer.collect import discovery, engine
from nsexplorer.errors import NamespaceGone
from nsexplorer.model import NamespaceId, NetNamespace, ProcessInfo, Snapshot, candidate_paths

if TYPE_CHECKING:
    from nsexplorer.collect.engine import ContainerEngine
    from nsexplorer.collect.netns_reader import NsRead
    from nsexplorer.model_inside import InsideFacts


class LiveSource:
    """Every network namespace of this host, read from /proc, the mount tables of every
    mount namespace, Docker and netlink. ``discover`` is the cheap pass; ``collect`` adds
    interfaces, addresses, routes (all tables) and exact veth peers.

    Thread-safe: the TUI may call it from several workers. Never creates or changes
    anything on the host.
    """

    def __init__(
        self,
        docker_timeout: float = 3.0,
        *,
        proc: str = "/proc",
        engines: Sequence[ContainerEngine] | None = None,
        thorough_discover: bool = False,
    ) -> None:
        """``thorough_discover``: let ``discover`` do what ``collect`` does beyond the
        cheap pass (sockets, helpers into process-less mount namespaces and under covering
        mounts), for one-shot commands such as ``show`` whose TARGET may be held only that
        way; the UI's first pass leaves it to ``collect``."""
        self.docker_timeout = docker_timeout
        self._proc = proc
        self._thorough = thorough_discover
        # The container engines, shared with the watcher (one resolution per process).
        self.engines = engine.engines(docker_timeout) if engines is None else engines
        self._lock = threading.Lock()
        self._last: discovery.Discovery | None = None
        # (namespace, nsid) -> namespace, as the kernel confirmed it last time.
        self._nsid_hints: dict[tuple[NamespaceId, int], NamespaceId] = {}

    @property
    def live(self) -> bool:
        return True

    def _discover(self, *, thorough: bool) -> discovery.Discovery:
        found = discovery.discover(
            self.docker_timeout, proc=self._proc, thorough=thorough, engines=self.engines
        )
        with self._lock:
            self._last = found
        return found

    def discover(self) -> Snapshot:
        # Sockets and helper processes are left to collect() (see discovery.discover).
        return self._discover(thorough=self._thorough).snapshot

    def paths_of(self, ns_id: NamespaceId) -> list[str]:
        """Paths that may open ``ns_id`` (best first; verified when opened), as the last
        discovery found them: for the watcher, which is told only the identity."""
        with self._lock:
            last = self._last
        return list(last.paths.get(ns_id, ())) if last is not None else []

    def collect(self) -> Snapshot:
        from nsexplorer.collect import netns_reader

        found = self._discover(thorough=True)
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
        _same_as_read(ns, paths)
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
        if read is not None and read.gone and not held_by_covered_mount(ns):
            raise NamespaceGone(f"namespace {ns.label or ns.inode} is gone ({read.error})")
        detailed = merge(ns, read)
        if result.warnings:
            detailed = replace(detailed, warnings=(*detailed.warnings, *result.warnings))
        return detailed

    def processes(self, ns: NetNamespace) -> tuple[ProcessInfo, ...]:
        from nsexplorer.collect import processes

        return processes.processes_in(ns.inode, proc=self._proc)

    def inside(self, ns: NetNamespace, parts: Collection[str] | None = None) -> InsideFacts:
        from nsexplorer.collect.inside import reader

        with self._lock:
            last = self._last
        if last is None:
            last = self._discover(thorough=False)
        addresses = [a.address for i in ns.interfaces for a in i.addresses]
        for c in ns.containers:
            for n in c.networks:
                addresses.extend(a for a in (n.ip_address, n.ipv6_address) if a)
        paths = _paths_of(ns, last)
        _same_as_read(ns, paths)
        target = reader.Target(
            id=ns.id,
            paths=paths,
            label=ns.label,
            addresses=tuple(dict.fromkeys(addresses)),
            container_ids=tuple(c.id for c in ns.containers),
            published=tuple(p for c in ns.containers for p in c.ports),
            pids=tuple(dict.fromkeys([*ns.pids, *(c.pid for c in ns.containers if c.pid)])),
        )
        host = reader.Host(
            id=last.host,
            paths=tuple(last.paths.get(last.host, ())) if last.host is not None else (),
        )
        facts = reader.read(target, host, parts, proc=self._proc)
        if not any(i.tun is not None for i in ns.interfaces):
            return facts
        from nsexplorer.collect.tun_holders import tun_holders

        held = tun_holders(ns, self._proc)  # who keeps each tun/tap's carrier on
        return replace(facts, tun_holders=tuple(sorted(held.items())))


def _same_as_read(ns: NetNamespace, paths: Sequence[str]) -> None:
    """Raise NamespaceGone when ``ns``'s inode now names a new namespace (another
    kernel id): its interfaces must not be read into the one that was shown."""
    if ns.cookie is None:
        return
    now = discovery.read_cookie(ns.id, paths)
    if now is not None and now != ns.cookie:
        raise NamespaceGone(
            f"namespace {ns.label or ns.inode} is gone: its inode now belongs to another "
            f"namespace (kernel id {now}, not {ns.cookie})"
        )


def merge(ns: NetNamespace, read: NsRead | None) -> NetNamespace:
    """``ns`` with what netlink said about it (or why it could not say)."""
    if read is None:
        return ns
    if read.error and read.gone and held_by_covered_mount(ns):
        # No path opens it, but a bind mount under another mount still holds it.
        covered = ", ".join(m.path for m in ns.bind_mounts if m.covered)
        why = f"not readable: its bind mount {covered} is covered by another mount"
        return replace(ns, warnings=(*ns.warnings, why))
    if read.error:
        return replace(ns, warnings=(*ns.warnings, read.error), gone=read.gone)
    if None not in (ns.cookie, read.cookie) and ns.cookie != read.cookie:
        # Between discovery and the read the kernel gave the inode to a new namespace:
        # what was read is not this one's.
        why = f"gone: its inode now belongs to another namespace (kernel id {read.cookie})"
        return replace(ns, warnings=(*ns.warnings, why), gone=True)
    return replace(
        ns,
        detailed=True,
        interfaces=read.interfaces,
        routes=read.routes,
        rules=read.rules,
        access_path=ns.access_path or (read.path if not _private(ns, read.path) else ""),
        warnings=(*ns.warnings, *read.warnings),
    )


def _private(ns: NetNamespace, path: str) -> bool:
    """A way in only nsexplorer can use: a socket (SIOCGSKNS) or its own pinned fd.
    Never shown as the access path, which is what a person pastes into nsenter."""
    sockets = {f"/proc/{h.pid}/fd/{h.fd}" for h in ns.socket_holders}
    return path in sockets or path.startswith(f"/proc/{os.getpid()}/fd/")


def held_by_covered_mount(ns: NetNamespace) -> bool:
    """A covered bind mount keeps the namespace alive although no path opens it."""
    return any(m.covered for m in ns.bind_mounts)


def _paths_of(ns: NetNamespace, last: discovery.Discovery | None) -> list[str]:
    found = list(last.paths.get(ns.id, ())) if last is not None else []
    return list(dict.fromkeys([*found, *candidate_paths(ns)]))
