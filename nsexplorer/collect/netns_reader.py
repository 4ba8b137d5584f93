"""Reading many namespaces over netlink without forking.

All work runs on a short-lived thread this module owns: for each namespace it opens a
verified fd, setns()'s the thread into it just long enough to create an rtnetlink
socket, and returns home (in a ``finally``). The socket stays bound to that namespace, so
the dumps and the RTM_GETNSID queries for peer resolution go over it afterwards.
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import struct
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from nsexplorer.collect import netlink, nsfs, rtnl_dump, wiring
from nsexplorer.collect.netlink import NetlinkDecodeError, RtSocket
from nsexplorer.collect.rtnl_decode import Dump
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


# What a reply that does not decode raises (a kernel bug, or forged bytes): that
# namespace's error, never the whole collection's.
DECODE_ERRORS = (NetlinkDecodeError, struct.error, ValueError, IndexError, UnicodeError)


def _decode_error(err: Exception) -> str:
    return f"netlink reply could not be decoded ({type(err).__name__}: {err})"


def _dump_warnings(dump: Dump, sock: RtSocket) -> tuple[str, ...]:
    out = list(dump.warnings)
    if dump.interrupted:
        out.append(
            f"netlink dump of {', '.join(dump.interrupted)} interrupted by changes "
            f"{netlink.DUMP_ATTEMPTS} times in a row: shown as last read, may be inconsistent"
        )
    if sock.foreign:
        out.append(
            f"ignored {sock.foreign} netlink message(s) not sent by the kernel (a process "
            "in this namespace sent them to nsexplorer's socket)"
        )
    return tuple(out)


def _read_of(
    ns_id: NamespaceId,
    dump: Dump,
    *,
    sock: RtSocket | None,
    peers: dict[tuple[NamespaceId, int], Peer],
    parents: dict[tuple[NamespaceId, int], Peer],
    path: str,
) -> NsRead:
    return NsRead(
        interfaces=wiring.build_interfaces(ns_id, dump, peers, parents),
        routes=wiring.build_routes(dump),
        rules=tuple(dump.rules),
        path=path,
        warnings=_dump_warnings(dump, sock) if sock is not None else tuple(dump.warnings),
    )


@dataclass(slots=True)
class _Handle:
    id: NamespaceId
    fd: int
    path: str
    sock: RtSocket | None = None
    dump: Dump | None = None


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


def open_namespace(ns_id: NamespaceId, paths: Sequence[str]) -> tuple[int, str]:
    """The first path that opens *this* namespace; raises the most telling error."""
    last: OSError = FileNotFoundError(errno.ENOENT, "no path reaches it")
    for path in paths:
        try:
            fd, _ = nsfs.open_verified(path, expect=ns_id)
        except nsfs.NamespaceMismatch as err:
            last = err
            continue
        except PermissionError as err:
            last = err
            continue
        except OSError as err:
            if not isinstance(last, PermissionError):
                last = err
            continue
        return fd, path
    raise last


def _raise_fd_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))


def read_namespaces(
    targets: Sequence[tuple[NamespaceId, Sequence[str]]],
    *,
    host: NamespaceId | None = None,
) -> ReadResult:
    """Interfaces (with exact peers) and routes of every target namespace."""
    _raise_fd_limit(2 * len(targets) + 256)
    return run_on_own_thread(lambda: _read_all(targets, host))


def _read_all(
    targets: Sequence[tuple[NamespaceId, Sequence[str]]], host: NamespaceId | None
) -> ReadResult:
    result = ReadResult()
    own = nsfs.own_netns()
    handles: dict[NamespaceId, _Handle] = {}
    denied = 0
    try:
        for ns_id, paths in targets:
            try:
                fd, path = open_namespace(ns_id, paths)
            except PermissionError:
                denied += 1
                result.reads[ns_id] = NsRead(error="cannot open it (needs root)")
                continue
            except OSError as err:
                result.reads[ns_id] = NsRead(error=f"gone ({err.strerror})", gone=True)
                continue
            h = _Handle(ns_id, fd, path)
            handles[ns_id] = h
            try:
                if ns_id == own:
                    h.sock = RtSocket()
                else:
                    with nsfs.entered(fd):
                        h.sock = RtSocket()
                h.dump = rtnl_dump.dump_namespace(h.sock)
            except DECODE_ERRORS as err:
                result.reads[ns_id] = NsRead(error=_decode_error(err), path=path)
                result.warnings.append(f"namespace {ns_id.ino}: {_decode_error(err)}")
            except PermissionError:
                denied += 1
                result.reads[ns_id] = NsRead(error="cannot enter it (needs root)", path=path)
            except OSError as err:
                result.reads[ns_id] = NsRead(
                    error=f"netlink failed: {err.strerror or err}", path=path
                )
        if denied:
            result.warnings.append(
                f"{denied} namespace(s) could not be read over netlink: entering a network "
                "namespace needs root (CAP_SYS_ADMIN)"
            )
        dumps = {i: h.dump for i, h in handles.items() if h.dump is not None}
        cache: dict[tuple[NamespaceId, NamespaceId], int | None] = {}
        peers, peer_warnings = wiring.resolve_peers(
            dumps,
            _nsid_lookup(handles, result.warnings, cache),
            host=host,
            unread=[i for i, h in handles.items() if h.dump is None],
        )
        for (asking, about), nsid in cache.items():
            if nsid is not None:
                result.nsids[(asking, nsid)] = about
        result.warnings.extend(peer_warnings)
        parents, parent_warnings = wiring.resolve_parents(
            dumps,
            _nsid_lookup(handles, result.warnings, cache),
            host=host,
            unread=[i for i, h in handles.items() if h.dump is None],
        )
        result.warnings.extend(parent_warnings)
        for ns_id, dump in dumps.items():
            h = handles[ns_id]
            result.reads[ns_id] = _read_of(
                ns_id, dump, sock=h.sock, peers=peers, parents=parents, path=h.path
            )
    finally:
        _close_all(handles)
    return result


def _close_all(handles: dict[NamespaceId, _Handle]) -> None:
    for h in handles.values():
        if h.sock is not None:
            h.sock.close()
        os.close(h.fd)


def _nsid_lookup(
    handles: dict[NamespaceId, _Handle],
    warnings: list[str],
    cache: dict[tuple[NamespaceId, NamespaceId], int | None],
) -> wiring.NsidLookup:
    def lookup(asking: NamespaceId, about: NamespaceId) -> int | None:
        key = (asking, about)
        if key not in cache:
            a = handles.get(asking)
            b = handles.get(about)
            value: int | None = None
            if a is not None and b is not None and a.sock is not None:
                try:
                    value = a.sock.get_nsid(b.fd)
                except OSError as err:
                    warnings.append(
                        f"RTM_GETNSID in namespace {asking.ino} failed: {err.strerror or err}"
                    )
            cache[key] = value
        return cache[key]

    return lookup


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
    return run_on_own_thread(lambda: _read_one(ns_id, paths, others, host, hints or {}))


def _read_one(
    ns_id: NamespaceId,
    paths: Sequence[str],
    others: Sequence[tuple[NamespaceId, Sequence[str]]],
    host: NamespaceId | None,
    hints: Mapping[tuple[NamespaceId, int], NamespaceId],
) -> ReadResult:
    result = ReadResult()
    own = nsfs.own_netns()
    handles: dict[NamespaceId, _Handle] = {}
    other_paths = dict(others)

    def handle(i: NamespaceId, ps: Sequence[str]) -> _Handle:
        h = handles.get(i)
        if h is None:
            fd, path = open_namespace(i, ps)
            h = handles[i] = _Handle(i, fd, path)
        return h

    def sock_of(i: NamespaceId, ps: Sequence[str]) -> RtSocket:
        h = handle(i, ps)
        if h.sock is None:
            if i == own:
                h.sock = RtSocket()
            else:
                with nsfs.entered(h.fd):
                    h.sock = RtSocket()
        return h.sock

    try:
        try:
            target_sock = sock_of(ns_id, paths)
            dump = rtnl_dump.dump_namespace(target_sock)
        except DECODE_ERRORS as err:
            result.reads[ns_id] = NsRead(error=_decode_error(err))
            return result
        except PermissionError:
            result.reads[ns_id] = NsRead(error="cannot enter it (needs root)")
            return result
        except OSError as err:
            gone = err.errno in (errno.ENOENT, errno.ESRCH, errno.ESTALE, errno.EINVAL)
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
                    asked[other] = target_sock.get_nsid(handle(other, other_paths[other]).fd)
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
                except (OSError, *DECODE_ERRORS):
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
            ns_id, dump, sock=target_sock, peers=peers, parents=parents, path=handles[ns_id].path
        )
    finally:
        _close_all(handles)
    return result
