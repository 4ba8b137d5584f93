"""Leaked namespaces: alive, yet nothing but a leftover mount or a descriptor holds them.

The rule (a responder's, not a purist's): every ``ip netns add`` namespace is "held only
by a bind mount", and that is how `ip netns` users work, so a namespace counts as leaked
only when no process is inside it, no container claims it, and what holds it is

- a bind mount where Docker (``<exec-root>/netns/<12 hex>``) or CNI (``<netns
  dir>/cni-<id>``) keep the namespaces they create, or a mount hidden in another mount
  namespace (Docker's daemon with private mounts), and no mount a person put in sight
  (a plain ``ip netns`` name, a bind mount elsewhere); or
- only file descriptors of processes that are not inside it.

"No container claims it" is only known for an engine that answered: a Docker-style path
is judged only when it lies in the netns directory of a reachable engine (where its
containers' SandboxKeys are, or /run/docker/netns for the default socket). A container
whose main process left its sandbox still claims it, and an engine that did not answer
(or another daemon than the one asked) may own namespaces nsexplorer cannot attribute.

Judged only on snapshots taken as root (others do not see every process and mount).
"""

from __future__ import annotations

import re

from nsexplorer.model import BindMount, NetNamespace
from nsexplorer.problems.base import LEAKED_NETNS, Index, Problem, finding

_ENGINE_NETNS = re.compile(r"/netns/(?:[0-9a-f]{12}|cni-[^/]+)\Z")
_DOCKER_NETNS = re.compile(r"/netns/[0-9a-f]{12}\Z")
_DEFAULT_SOCKETS = ("unix:///var/run/docker.sock", "unix:///run/docker.sock")
_DEFAULT_NETNS_DIR = "/run/docker/netns"


def engine_made(path: str) -> bool:
    """A path where Docker or CNI put the namespaces they create."""
    return _ENGINE_NETNS.search(path) is not None


def _dir(path: str) -> str:
    parent = path.rsplit("/", 1)[0]
    return "/run/" + parent.removeprefix("/var/run/") if parent.startswith("/var/run/") else parent


def _engine_dirs(idx: Index) -> set[str]:
    """The netns directories of the engines that answered."""
    reachable = [e for e in idx.snapshot.engines if e.reachable]
    dirs = {
        _dir(c.sandbox_key)
        for ns in idx.ns.values()
        for c in ns.containers
        if c.sandbox_key and _DOCKER_NETNS.search(c.sandbox_key)
    }
    if any(e.host in _DEFAULT_SOCKETS for e in reachable):
        dirs.add(_DEFAULT_NETNS_DIR)
    return dirs if reachable else set()


def _mount_text(m: BindMount) -> str:
    if not m.hidden:
        return m.path
    via = f", via pid {m.via_pid}" if m.via_pid is not None else ""
    return f"{m.path} (hidden in mount namespace {m.mount_ns_inode}{via})"


def leaked_namespaces(idx: Index) -> list[Problem]:
    if not idx.root:
        return []
    claimed = {c.sandbox_key for ns in idx.ns.values() for c in ns.containers if c.sandbox_key}
    dirs = _engine_dirs(idx)
    out: list[Problem] = []
    for ns in idx.ns.values():
        problem = _leaked(ns, claimed, dirs)
        if problem is not None:
            out.append(problem)
    return out


def _leaked(ns: NetNamespace, claimed: set[str], engine_dirs: set[str]) -> Problem | None:
    if ns.is_host or ns.pids or ns.containers:
        return None
    fds = [f"fd {h.fd} of pid {h.pid}" for h in ns.fd_holders]
    if ns.bind_mounts:
        if any(m.path in claimed for m in ns.bind_mounts):
            return None
        if any(not m.hidden and not engine_made(m.path) for m in ns.bind_mounts):
            return None  # someone put it in sight on purpose
        if any(
            _DOCKER_NETNS.search(m.path) and _dir(m.path) not in engine_dirs for m in ns.bind_mounts
        ):
            return None  # an engine's that did not answer (or was not asked) may claim it
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
