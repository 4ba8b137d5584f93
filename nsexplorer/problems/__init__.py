"""What is wrong in a snapshot: findings a responder acts on, as plain values.

Pure (stdlib, no I/O). :func:`find_problems` looks at one snapshot;
:func:`counters_growing` compares two (the TUI calls it between refreshes). Each
:class:`Problem` names the namespace (inode) and interface it belongs to, says what is
wrong in one line, lists the facts that prove it, and gives the command a responder would
paste to look closer (names shell-quoted).

A snapshot that lacks a fact never raises an alarm: no state findings for interfaces
whose flags were not recorded (older snapshots), no interface findings for a namespace
that was not read, nothing about peers or holders unless the snapshot was taken as root.
The README ("nsexplorer problems") gives the rule behind each kind.
"""

from __future__ import annotations

from collections.abc import Iterable

from nsexplorer.model import Snapshot
from nsexplorer.problems.base import (
    BRIDGE_DOWN,
    BRIDGE_NO_PORTS,
    BRIDGE_PORT_DOWN,
    CONTAINER_ADDRESS_MISMATCH,
    CONTAINER_LEFT_SANDBOX,
    CONTAINER_NO_DEFAULT_ROUTE,
    COUNTERS_GROWING,
    DAD_FAILED,
    DUPLICATE_IP,
    DUPLICATE_MAC,
    KINDS,
    LEAKED_NETNS,
    MTU_MISMATCH,
    PEER_UNREACHABLE,
    PEER_UNRESOLVED,
    RANK,
    SEVERITIES,
    TUN_NOT_HELD,
    VETH_ADMIN_DOWN,
    VETH_NO_CARRIER,
    Index,
    Problem,
    command_in,
    sort_problems,
    where,
)
from nsexplorer.problems.containers import container_problems
from nsexplorer.problems.counters import counters_growing
from nsexplorer.problems.holders import leaked_namespaces
from nsexplorer.problems.links import duplicate_ips, duplicate_macs, interface_problems

__all__ = [
    "BRIDGE_DOWN",
    "BRIDGE_NO_PORTS",
    "BRIDGE_PORT_DOWN",
    "CONTAINER_ADDRESS_MISMATCH",
    "CONTAINER_LEFT_SANDBOX",
    "CONTAINER_NO_DEFAULT_ROUTE",
    "COUNTERS_GROWING",
    "DAD_FAILED",
    "DUPLICATE_IP",
    "DUPLICATE_MAC",
    "KINDS",
    "LEAKED_NETNS",
    "MTU_MISMATCH",
    "PEER_UNREACHABLE",
    "PEER_UNRESOLVED",
    "SEVERITIES",
    "TUN_NOT_HELD",
    "VETH_ADMIN_DOWN",
    "VETH_NO_CARRIER",
    "Problem",
    "by_namespace",
    "command_in",
    "counters_growing",
    "find_problems",
    "to_dict",
    "where",
    "worst",
]


def find_problems(snapshot: Snapshot) -> tuple[Problem, ...]:
    """Every finding of ``snapshot``: most severe first, then in the snapshot's
    namespace order, then by kind and interface. Linear in the number of interfaces."""
    idx = Index(snapshot)
    found = interface_problems(idx)
    found += duplicate_ips(idx)
    found += duplicate_macs(idx)
    found += leaked_namespaces(idx)
    found += container_problems(idx)
    return sort_problems(found, idx.order)


def to_dict(problem: Problem) -> dict[str, object]:
    """The JSON shape: exactly the keys kind, severity, namespace_inode, interface,
    message, evidence (a list) and next."""
    return {
        "kind": problem.kind,
        "severity": problem.severity,
        "namespace_inode": problem.namespace_inode,
        "interface": problem.interface,
        "message": problem.message,
        "evidence": list(problem.evidence),
        "next": problem.next,
    }


def by_namespace(problems: Iterable[Problem]) -> dict[int, tuple[Problem, ...]]:
    """Findings grouped by namespace inode (per-row badges), their order kept."""
    out: dict[int, list[Problem]] = {}
    for p in problems:
        out.setdefault(p.namespace_inode, []).append(p)
    return {ino: tuple(ps) for ino, ps in out.items()}


def worst(problems: Iterable[Problem]) -> str | None:
    """The most severe severity among ``problems`` (a header badge); None if none."""
    ranks = [RANK[p.severity] for p in problems]
    return SEVERITIES[min(ranks)] if ranks else None
