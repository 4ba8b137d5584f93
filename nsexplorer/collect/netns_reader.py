"""Reading many namespaces over netlink without forking.

All work runs on a short-lived thread this module owns: for each namespace it opens a
verified fd, setns()'s the thread into it just long enough to create an rtnetlink
socket, and returns home (in a ``finally``). The socket stays bound to that namespace, so
the dumps and the RTM_GETNSID queries for peer resolution go over it afterwards.
Descriptors come from a ns_handles.HandlePool, which stays within the open-file limit
(reading in batches when there are many namespaces); a namespace that could not be
opened for lack of descriptors is a warning, never "gone".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from nsexplorer import gcpause
from nsexplorer.collect import wiring
from nsexplorer.collect.ns_handles import GONE_ERRNOS, HandlePool
from nsexplorer.kernel import fdlimit, rtnl_dump
from nsexplorer.kernel.netlink import RtSocket
from nsexplorer.kernel.rtnl_raw import Dump
from nsexplorer.model import Interface, NamespaceId, Peer, Route, Rule

T = TypeVar("T")


@dataclass(slots=True)
class NsRead:
    """What netlink said about one namespace (or why it could not be read)."""

    interfaces: tuple[Interface, ...] = ()
    routes: tuple[Route, ...] = ()
    error: str = ""
    gone: bool = False
    path: str = ""  # the path that opened it
    rules: tuple[Rule, ...] = ()
    warnings: tuple[str, ...] = ()  # about this namespace's data (interrupted dumps, ...)
    cookie: int | None = None  # the kernel id of what was read (None: not known)


def _read_of(
    ns_id: NamespaceId,
    dump: Dump,
    *,
    notes: tuple[str, ...],
    peers: dict[tuple[NamespaceId, int], Peer],
    parents: dict[tuple[NamespaceId, int], Peer],
    path: str,
    read_at: float,
    cookie: int | None = None,
) -> NsRead:
    return NsRead(
        interfaces=wiring.build_interfaces(ns_id, dump, peers, parents, read_at),
        routes=wiring.build_routes(dump),
        rules=tuple(dump.rules),
        path=path,
        warnings=notes,
        cookie=cookie,
    )


@dataclass(slots=True)
class ReadResult:
    reads: dict[NamespaceId, NsRead] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # (namespace, nsid it uses) -> the namespace the kernel confirmed that id names;
    # hints that make the next detail() of the same namespace cheap.
    nsids: dict[tuple[NamespaceId, int], NamespaceId] = field(default_factory=dict)


def run_on_own_thread(fn: Callable[[], T], name: str = "nsx-netns") -> T:
    """Run ``fn`` on a fresh thread (which may setns freely) and return its result."""
    box: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            box.append(fn())
        except BaseException as err:
            failure.append(err)

    t = threading.Thread(target=target, name=name, daemon=True)
    t.start()
    t.join()
    if failure:
        raise failure[0]
    return box[0]


NO_FDS = "not read: too many open files (it is not gone)"


def _out_of_fds_warning(count: int) -> str:
    return (
        f"could not open {count} namespace(s): too many open files "
        f"(limit {fdlimit.soft_limit()}); they are not gone, only not read"
    )


def read_namespaces(
    targets: Sequence[tuple[NamespaceId, Sequence[str]]],
    *,
    host: NamespaceId | None = None,
) -> ReadResult:
    """Interfaces (with exact peers), routes and rules of every target namespace."""

    def read() -> ReadResult:
        with gcpause.paused():
            return _read_all(targets, host)

    return run_on_own_thread(read)


def _read_all(
    targets: Sequence[tuple[NamespaceId, Sequence[str]]], host: NamespaceId | None
) -> ReadResult:
    result = ReadResult()
    pool = HandlePool()
    paths_of = dict(targets)
    dumps: dict[NamespaceId, Dump] = {}
    read_at: dict[NamespaceId, float] = {}
    notes: dict[NamespaceId, tuple[str, ...]] = {}
    opened: list[NamespaceId] = []  # could be asked about with RTM_GETNSID
    denied = 0
    short = 0  # not opened or not read for lack of descriptors
    try:
        for ns_id, paths in targets:
            try:
                pool.fd(ns_id, paths)
            except PermissionError:
                denied += 1
                result.reads[ns_id] = NsRead(error="cannot open it (needs root)")
                continue
            except OSError as err:
                if fdlimit.is_out_of_fds(err):
                    short += 1
                    result.reads[ns_id] = NsRead(error=NO_FDS)
                elif err.errno in GONE_ERRNOS:
                    result.reads[ns_id] = NsRead(error=f"gone ({err.strerror})", gone=True)
                else:
                    result.reads[ns_id] = NsRead(error=f"cannot open it ({err.strerror})")
                continue
            opened.append(ns_id)
            path = pool.path_of(ns_id)
            try:
                sock = pool.sock(ns_id, paths)
                read_at[ns_id] = time.monotonic()  # links (and counters) are dumped first
                dumps[ns_id] = rtnl_dump.dump_namespace(sock)
                notes[ns_id] = rtnl_dump.dump_warnings(dumps[ns_id], sock)
            except rtnl_dump.DECODE_ERRORS as err:
                result.reads[ns_id] = NsRead(error=rtnl_dump.decode_error(err), path=path)
                result.warnings.append(f"namespace {ns_id.ino}: {rtnl_dump.decode_error(err)}")
            except PermissionError:
                denied += 1
                result.reads[ns_id] = NsRead(error="cannot enter it (needs root)", path=path)
            except OSError as err:
                if fdlimit.is_out_of_fds(err):
                    short += 1
                    result.reads[ns_id] = NsRead(error=NO_FDS, path=path)
                    continue
                result.reads[ns_id] = NsRead(
                    error=f"netlink failed: {err.strerror or err}", path=path
                )
        if denied:
            result.warnings.append(
                f"{denied} namespace(s) could not be read over netlink: entering a network "
                "namespace needs root (CAP_SYS_ADMIN)"
            )
        if short:
            result.warnings.append(_out_of_fds_warning(short))
        cache: dict[tuple[NamespaceId, NamespaceId], int | None] = {}
        short_lookups: list[tuple[NamespaceId, NamespaceId]] = []
        peers, peer_warnings = wiring.resolve_peers(
            dumps,
            _nsid_lookup(pool, paths_of, result.warnings, cache, short_lookups),
            host=host,
            unread=[i for i in opened if i not in dumps],
        )
        if short_lookups:
            result.warnings.append(_short_lookups_warning(len(short_lookups)))
        for (asking, about), nsid in cache.items():
            if nsid is not None:
                result.nsids[(asking, nsid)] = about
        result.warnings.extend(peer_warnings)
        parents, parent_warnings = wiring.resolve_parents(
            dumps,
            _nsid_lookup(pool, paths_of, result.warnings, cache, short_lookups),
            host=host,
            unread=[i for i in opened if i not in dumps],
        )
        result.warnings.extend(parent_warnings)
        for ns_id, dump in dumps.items():
            result.reads[ns_id] = _read_of(
                ns_id,
                dump,
                notes=notes.get(ns_id, ()),
                peers=peers,
                parents=parents,
                path=pool.path_of(ns_id),
                cookie=pool.cookie_of(ns_id),
                read_at=read_at[ns_id],
            )
    finally:
        pool.close_all()
    return result


def _nsid_lookup(
    pool: HandlePool,
    paths_of: Mapping[NamespaceId, Sequence[str]],
    warnings: list[str],
    cache: dict[tuple[NamespaceId, NamespaceId], int | None],
    short: list[tuple[NamespaceId, NamespaceId]],
) -> wiring.NsidLookup:
    """RTM_GETNSID over ``asking``'s socket about ``about``'s descriptor. Either may have
    been closed to make room: the pool reopens it by the path verified before."""

    def lookup(asking: NamespaceId, about: NamespaceId) -> int | None:
        key = (asking, about)
        if key not in cache:
            value: int | None = None
            try:
                sock = pool.sock(asking, paths_of.get(asking, ()))
                value = sock.get_nsid(pool.fd(about, paths_of.get(about, ()), keep=(asking,)))
            except OSError as err:
                if fdlimit.is_out_of_fds(err):
                    short.append(key)
                else:
                    warnings.append(
                        f"RTM_GETNSID in namespace {asking.ino} about {about.ino} failed: "
                        f"{err.strerror or err}"
                    )
            cache[key] = value
        return cache[key]

    return lookup


def _short_lookups_warning(count: int) -> str:
    return (
        f"{count} peer lookup(s) could not be made: too many open files "
        f"(limit {fdlimit.soft_limit()}); those peers are not proven"
    )


def read_one(
    ns_id: NamespaceId,
    paths: Sequence[str],
    others: Sequence[tuple[NamespaceId, Sequence[str]]],
    *,
    host: NamespaceId | None = None,
    hints: Mapping[tuple[NamespaceId, int], NamespaceId] | None = None,
) -> ReadResult:
    """One namespace in full. Only the namespaces its veths point into are touched:
    ``hints`` (from an earlier read) say where each nsid pointed, and are re-checked
    with RTM_GETNSID; the rest are found by asking about the others, host first.
    (IFLA_TARGET_NETNSID would fetch peer links without setns, but makes the kernel
    allocate an nsid for our own namespace: a visible change, so it is not used.)"""

    def read() -> ReadResult:
        with gcpause.paused():
            return _read_one(ns_id, paths, others, host, hints or {})

    return run_on_own_thread(read)


def _read_one(
    ns_id: NamespaceId,
    paths: Sequence[str],
    others: Sequence[tuple[NamespaceId, Sequence[str]]],
    host: NamespaceId | None,
    hints: Mapping[tuple[NamespaceId, int], NamespaceId],
) -> ReadResult:
    result = ReadResult()
    pool = HandlePool()
    other_paths = dict(others)

    def sock_of(i: NamespaceId, ps: Sequence[str]) -> RtSocket:
        return pool.sock(i, ps, keep=(ns_id,))

    try:
        try:
            target_sock = pool.sock(ns_id, paths)
            pool.pin(ns_id)  # its socket is used to the end
            read_at = time.monotonic()  # links (and counters) are dumped first
            dump = rtnl_dump.dump_namespace(target_sock)
        except rtnl_dump.DECODE_ERRORS as err:
            result.reads[ns_id] = NsRead(error=rtnl_dump.decode_error(err))
            return result
        except PermissionError:
            result.reads[ns_id] = NsRead(error="cannot enter it (needs root)")
            return result
        except OSError as err:
            if fdlimit.is_out_of_fds(err):
                result.reads[ns_id] = NsRead(error=NO_FDS)
                result.warnings.append(_out_of_fds_warning(1))
                return result
            gone = err.errno in GONE_ERRNOS
            result.reads[ns_id] = NsRead(error=f"cannot read it ({err.strerror})", gone=gone)
            return result

        wanted: dict[int, list[int]] = {}  # netnsid -> peer (or parent) ifindexes
        for lk in dump.links:
            if lk.kind == "veth" and lk.link_netnsid is not None:
                wanted.setdefault(lk.link_netnsid, []).append(wiring.peer_ifindex(lk))
            ref = wiring.parent_ref(lk)
            if ref is not None and ref[1] is not None:
                wanted.setdefault(ref[1], []).append(ref[0])

        asked: dict[NamespaceId, int | None] = {}

        def nsid_of(other: NamespaceId) -> int | None:
            if other not in asked:
                try:
                    fd = pool.fd(other, other_paths[other], keep=(ns_id,))
                    asked[other] = target_sock.get_nsid(fd)
                except (OSError, KeyError):
                    asked[other] = None
            return asked[other]

        where: dict[int, NamespaceId] = {}
        for nsid in wanted:
            hint = hints.get((ns_id, nsid))
            if hint is not None and hint in other_paths and nsid_of(hint) == nsid:
                where[nsid] = hint
        if len(where) < len(wanted):
            for other_id, _ in sorted(others, key=lambda o: (o[0] != host, o[0])):
                if other_id == ns_id or other_id in asked:
                    continue
                other_nsid = nsid_of(other_id)
                if other_nsid is not None and other_nsid in wanted and other_nsid not in where:
                    where[other_nsid] = other_id
                    if len(where) == len(wanted):
                        break

        dumps: dict[NamespaceId, Dump] = {ns_id: dump}
        for nsid, other_id in where.items():
            result.nsids[(ns_id, nsid)] = other_id
            other_dump = dumps.setdefault(other_id, Dump())
            try:
                other_sock = sock_of(other_id, other_paths[other_id])
            except OSError as err:
                result.warnings.append(
                    f"cannot read namespace {other_id.ino}: {err.strerror or err}"
                )
                continue
            for index in dict.fromkeys(wanted[nsid]):
                try:
                    link = rtnl_dump.get_link(other_sock, index)
                except (OSError, *rtnl_dump.DECODE_ERRORS):
                    continue
                if link is not None:
                    other_dump.links.append(link)

        def lookup(asking: NamespaceId, about: NamespaceId) -> int | None:
            return asked.get(about) if asking == ns_id else None

        peers, peer_warnings = wiring.resolve_peers(dumps, lookup, host=host, only=[ns_id])
        result.warnings.extend(peer_warnings)
        parents, parent_warnings = wiring.resolve_parents(dumps, lookup, host=host, only=[ns_id])
        result.warnings.extend(parent_warnings)
        result.reads[ns_id] = _read_of(
            ns_id,
            dump,
            notes=rtnl_dump.dump_warnings(dump, target_sock),
            peers=peers,
            parents=parents,
            path=pool.path_of(ns_id),
            cookie=pool.cookie_of(ns_id),
            read_at=read_at,
        )
    finally:
        pool.close_all()
    return result
