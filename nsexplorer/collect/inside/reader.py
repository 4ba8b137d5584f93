"""Reading the inside of one namespace on a thread of our own.

The thread opens a verified fd, setns()'s into the namespace, creates every socket it
needs there (sock_diag, pyroute2's IPRoute and Conntrack, and the child processes of
iptables-save and nft, which inherit the thread's namespace), uses and closes them on the
same thread, and comes back (nsfs.entered restores it in a ``finally``). Then, for NAT,
the same in the host namespace, where Docker's DNAT rules are. The join of sockets to
processes (/proc) and Docker's published ports need no namespace and run after.

One part failing is that part's reason in ``unavailable``, never the whole read.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from typing import TypeVar

from nsexplorer.collect.inside import conntrack, nat, neighbours, sockets
from nsexplorer.collect.inside.sockdiag import SockDiag
from nsexplorer.collect.netns_reader import run_on_own_thread
from nsexplorer.collect.ns_handles import GONE_ERRNOS, open_namespace
from nsexplorer.errors import NamespaceGone
from nsexplorer.kernel import nsfs
from nsexplorer.model import NamespaceId, PublishedPort
from nsexplorer.model_inside import INSIDE_PARTS, DnatRule, InsideFacts, SocketInfo

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Target:
    """The namespace to read, and what the NAT part needs to know about it."""

    id: NamespaceId
    paths: Sequence[str]
    label: str = ""
    # Its addresses (kernel and engine): the host's DNAT rules leading to one are shown.
    addresses: Sequence[str] = ()
    container_ids: Sequence[str] = ()
    published: tuple[PublishedPort, ...] = ()  # its containers' ports, as the engine said
    # Its processes as discovery saw them: searched first for the sockets' holders.
    pids: Sequence[int] = ()


@dataclass(frozen=True, slots=True)
class Host:
    """The host namespace (where Docker's DNAT rules are) and the engine to ask."""

    id: NamespaceId | None
    paths: Sequence[str] = ()


@dataclass(slots=True)
class _Found:
    raw_sockets: sockets.RawSockets | None = None
    neigh: list[neighbours.RawNeigh] = field(default_factory=list)
    bridge: list[neighbours.RawNeigh] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)
    conntrack: int | None = None
    dnat: list[DnatRule] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def read(
    target: Target,
    host: Host,
    parts: Collection[str] | None = None,
    *,
    proc: str = "/proc",
) -> InsideFacts:
    """The inside of ``target``; raises NamespaceGone if it vanished."""
    wanted = set(INSIDE_PARTS if parts is None else parts)
    unknown = wanted - set(INSIDE_PARTS)
    if unknown:
        raise ValueError(f"unknown parts: {', '.join(sorted(unknown))}")
    found = run_on_own_thread(lambda: _on_thread(target, host, wanted), name="nsx-inside")
    facts = _assemble(target, wanted, found, proc)
    if "nat" in wanted and "nat" not in found.unavailable and target.container_ids:
        facts = replace(facts, published=target.published)
    return facts


def _on_thread(target: Target, host: Host, wanted: set[str]) -> _Found:
    found = _Found()
    if wanted & {"neighbours", "fdb"} or ("conntrack" in wanted and conntrack.ctnetlink_present()):
        try:
            import pyroute2  # noqa: F401 - imported here, on the worker, before setns
        except ImportError:
            for part in ("neighbours", "fdb"):
                found.unavailable[part] = "pyroute2 is not installed"
    try:
        fd, _path = open_namespace(target.id, target.paths)
    except PermissionError:
        for part in wanted:
            found.unavailable[part] = "cannot open the namespace (needs root)"
        return found
    except OSError as err:
        if err.errno not in GONE_ERRNOS:  # out of descriptors, say: not gone
            for part in wanted:
                found.unavailable[part] = f"cannot open the namespace ({err.strerror or err})"
            return found
        raise NamespaceGone(
            f"namespace {target.label or target.id.ino} is gone ({err.strerror or err})"
        ) from err
    try:
        try:
            with _inside(target.id, fd):
                _read_parts(target, wanted, found)
        except PermissionError:
            for part in wanted:
                found.unavailable.setdefault(part, "cannot enter the namespace (needs root)")
    finally:
        os.close(fd)
    if "nat" in wanted and "nat" not in found.unavailable and host.id not in (None, target.id):
        _host_rules(target, host, found)
    return found


def _inside(ns_id: NamespaceId, fd: int) -> AbstractContextManager[None]:
    """Enter the namespace unless this thread is in it already."""
    return nullcontext() if ns_id == nsfs.own_netns() else nsfs.entered(fd)


def _part(found: _Found, part: str, fn: Callable[[], T]) -> T | None:
    try:
        return fn()
    except OSError as err:
        found.unavailable[part] = f"not read: {err.strerror or err}"
    except Exception as err:  # pyroute2 raises its own exception types
        found.unavailable[part] = f"not read: {type(err).__name__}: {err}"
    return None


def _read_parts(target: Target, wanted: set[str], found: _Found) -> None:
    if "sockets" in wanted:
        found.raw_sockets = _part(found, "sockets", _dump_sockets)
    if wanted & {"neighbours", "fdb"} and "neighbours" not in found.unavailable:
        got = _part(found, "neighbours", _dump_neighbours)
        if got is None:
            found.unavailable.setdefault("fdb", found.unavailable.get("neighbours", "not read"))
        else:
            found.neigh, found.bridge, found.names = got
    if "conntrack" in wanted:
        value = _part(found, "conntrack", conntrack.count)
        if value is not None:
            count, why = value
            if why:
                found.unavailable["conntrack"] = why
            found.conntrack = count
    if "nat" in wanted:
        got_rules = _part(found, "nat", lambda: nat.read_rules(target.id.ino))
        if got_rules is not None:
            rules, warnings, why = got_rules
            if why:
                found.unavailable["nat"] = why
            found.dnat.extend(rules)
            found.warnings.extend(warnings)


def _dump_sockets() -> sockets.RawSockets:
    with SockDiag() as diag:
        return sockets.dump(diag)


def _dump_neighbours() -> tuple[
    list[neighbours.RawNeigh], list[neighbours.RawNeigh], dict[int, str]
]:
    from pyroute2 import IPRoute

    ipr = IPRoute(ext_ack=True)
    try:
        neigh, bridge = neighbours.read(ipr)
    finally:
        ipr.close()
    return neigh, bridge, dict(socket.if_nameindex())


def _host_rules(target: Target, host: Host, found: _Found) -> None:
    """The host's DNAT rules that lead to one of the target's addresses. If they cannot
    be read the NAT part is unknown (not "no rules"), and says why."""
    if host.id is None:
        return
    try:
        fd, _ = open_namespace(host.id, host.paths)
    except OSError as err:
        found.unavailable["nat"] = f"the host's NAT rules not read: {err.strerror or err}"
        return
    try:
        with _inside(host.id, fd):
            rules, warnings, why = nat.read_rules(host.id.ino)
    except OSError as err:
        found.unavailable["nat"] = f"the host's NAT rules not read: {err.strerror or err}"
        return
    finally:
        os.close(fd)
    if why:
        found.unavailable["nat"] = f"the host's NAT rules not read: {why}"
        return
    found.warnings.extend(f"host: {w}" for w in warnings)
    found.dnat.extend(nat.leading_to(rules, target.addresses))


def _assemble(target: Target, wanted: set[str], found: _Found, proc: str) -> InsideFacts:
    unavailable = dict(found.unavailable)
    for part in INSIDE_PARTS:
        if part not in wanted:
            unavailable[part] = "not asked for"
    socks: tuple[SocketInfo, ...] = ()
    time_wait = 0
    warnings = list(found.warnings)
    raw = found.raw_sockets
    if raw is not None:
        inodes = {s.inode for s in (*raw.tcp, *raw.udp) if s.inode}
        inodes.update(u.inode for u in raw.unix if u.inode)
        holders, comms = sockets.owners(inodes, list(target.pids), proc)
        socks, time_wait = sockets.build(raw, holders, comms)
        warnings.extend(raw.warnings)
    return InsideFacts(
        namespace_inode=target.id.ino,
        read_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        sockets=socks,
        time_wait=time_wait,
        neighbours=neighbours.neighbours(found.neigh, found.names)
        if "neighbours" not in unavailable
        else (),
        fdb=neighbours.fdb(found.bridge, found.names) if "fdb" not in unavailable else (),
        dnat=tuple(found.dnat) if "nat" not in unavailable else (),
        conntrack_count=found.conntrack,
        unavailable=tuple((p, unavailable[p]) for p in INSIDE_PARTS if p in unavailable),
        warnings=tuple(warnings),
    )
