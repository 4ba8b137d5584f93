"""Leaked namespaces: alive, yet nothing but a leftover mount or a descriptor holds them.

The rule (a responder's, not a purist's): every ``ip netns add`` namespace is "held only
by a bind mount", and that is how `ip netns` users work, so a namespace counts as leaked
only when no process is inside it, no container claims it, and what holds it is

- a bind mount where Docker (``<exec-root>/netns/<12 hex>``) or CNI (``<netns
  dir>/cni-<id>``) keep the namespaces they create, or a mount hidden in another mount
  namespace (Docker's daemon with private mounts), and no mount a person put in sight
  (a plain ``ip netns`` name, a bind mount elsewhere); or
- only file descriptors of processes that are not inside it.

Judged only on snapshots taken as root (others do not see every process and mount).
"""

from __future__ import annotations

import re

from nsexplorer.model import BindMount, NetNamespace
from nsexplorer.problems.base import LEAKED_NETNS, Index, Problem, finding

_ENGINE_NETNS = re.compile(r"/netns/(?:[0-9a-f]{12}|cni-[^/]+)\Z")


def engine_made(path: str) -> bool:
    """A path where Docker or CNI put the namespaces they create."""
    return _ENGINE_NETNS.search(path) is not None


def _mount_text(m: BindMount) -> str:
    if not m.hidden:
        return m.path
    via = f", via pid {m.via_pid}" if m.via_pid is not None else ""
    return f"{m.path} (hidden in mount namespace {m.mount_ns_inode}{via})"


def leaked_namespaces(idx: Index) -> list[Problem]:
    if not idx.root:
        return []
    claimed = {c.sandbox_key for ns in idx.ns.values() for c in ns.containers if c.sandbox_key}
    out: list[Problem] = []
    for ns in idx.ns.values():
        problem = _leaked(ns, claimed)
        if problem is not None:
            out.append(problem)
    return out


def _leaked(ns: NetNamespace, claimed: set[str]) -> Problem | None:
    if ns.is_host or ns.pids or ns.containers:
        return None
    fds = [f"fd {h.fd} of pid {h.pid}" for h in ns.fd_holders]
    if ns.bind_mounts:
        if any(m.path in claimed for m in ns.bind_mounts):
            return None
        if any(not m.hidden and not engine_made(m.path) for m in ns.bind_mounts):
            return None  # someone put it in sight on purpose
        holders = [_mount_text(m) for m in ns.bind_mounts] + fds
        what = "a bind mount" + (" and descriptors" if fds else "")
    elif fds:
        holders, what = fds, "descriptors"
    else:
        return None
    names = ", ".join(i.name for i in ns.interfaces) if ns.detailed else "not read"
    return finding(
        LEAKED_NETNS,
        "warning",
        ns,
        None,
        f"leaked: held only by {what}, no process is inside and no container claims it "
        "(a leftover of a container engine or CNI?)",
        [*(f"held by {h}" for h in holders), f"interfaces: {names or 'none'}"],
        ["ip", "-d", "-br", "link"],
    )
