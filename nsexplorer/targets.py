"""Resolving a TARGET string to one namespace of a snapshot.

TARGET is one of (tried in this order of precedence):

- ``pid:N``: the network namespace of process N;
- an inode number (all digits);
- a netns name (``ip netns`` name), a container name (with or without Docker's leading
  ``/``), a full container id, a label;
- a path: matched against bind-mount paths, the paths that reach hidden mounts
  (``/proc/<pid>/root<path>``) and access paths. The caller (the CLI) may also stat the
  path, or ``/proc/N/ns/net`` for ``pid:N``, and pass the result as ``stat_id``: a path
  that names the namespace by inode then matches even if written differently;
- a container id prefix (the only non-exact match, tried when nothing matched exactly).

Pure: no I/O. Nothing is ever created while resolving a target.
"""

from __future__ import annotations

import difflib
import re

from nsexplorer.errors import TargetAmbiguous, TargetNotFound
from nsexplorer.model import NamespaceId, NetNamespace, Snapshot, group_of

_PID = re.compile(r"pid:(\d+)\Z")
_HEX = re.compile(r"[0-9a-f]+\Z")


def describe(ns: NetNamespace) -> str:
    """How a candidate is named in an error message."""
    label = ns.label or (ns.names[0] if ns.names else "")
    where = f"{group_of(ns)}, inode {ns.inode}"
    return f"{label} ({where})" if label else where


def resolve(
    target: str,
    snapshot: Snapshot,
    stat_id: NamespaceId | None = None,
    stat_error: str = "",
) -> NetNamespace:
    """The one namespace ``target`` designates.

    ``stat_error`` is why the caller could not stat a path or pid target (e.g.
    "/proc/1/ns/net: Permission denied"); it is named when nothing matches.
    Raises TargetNotFound (with close candidates) or TargetAmbiguous (with every
    candidate); both exit with status 2.
    """
    target = target.strip()
    if not target:
        raise TargetNotFound("empty target")

    exact = _exact_matches(target, snapshot, stat_id)
    if exact:
        return _one(target, exact)

    prefix = _id_prefix_matches(target, snapshot)
    if prefix:
        return _one(target, prefix)

    stopped = _stopped_note(target, snapshot)
    if stopped:
        raise TargetNotFound(stopped)

    candidates = _close_candidates(target, snapshot)
    hint = f"; close matches: {', '.join(candidates)}" if candidates else ""
    raise TargetNotFound(
        f"no namespace matches {target!r}{hint}{_stat_note(stat_error)}"
        f"{_engine_note(target, snapshot)}",
        candidates=candidates,
    )


def _stopped_note(target: str, snapshot: Snapshot) -> str:
    """A TARGET that names a container which exists but is not running."""
    bare = target.removeprefix("/")
    low = target.lower()
    stopped = [c for e in snapshot.engines for c in e.stopped]
    hits = [c for c in stopped if bare in (c.name, c.id)]
    if not hits and _HEX.match(low):
        hits = [c for c in stopped if c.id.startswith(low)]
    if not hits:
        return ""
    what = ", ".join(f"container {c.name} ({c.id[:12]}) is {c.state}" for c in hits)
    return (
        f"no namespace matches {target!r}: {what}, not running; a container that is not "
        "running has no network namespace (start it first)"
    )


def _stat_note(stat_error: str) -> str:
    return f" (cannot read {stat_error})" if stat_error else ""


def _engine_note(target: str, snapshot: Snapshot) -> str:
    """Why a container name may not have matched: its engine was unavailable."""
    if _PID.match(target) or "/" in target.lstrip("/"):
        return ""
    down = [e for e in snapshot.engines if not e.reachable]
    if not down:
        return ""
    hosts = ", ".join(
        f"{e.engine.capitalize()} engine at {e.host or 'the default socket'}" for e in down
    )
    return f" (the {hosts} was unavailable, so container names and ids cannot be matched)"


def _one(target: str, matches: list[NetNamespace]) -> NetNamespace:
    unique: dict[NamespaceId, NetNamespace] = {}
    for ns in matches:
        unique.setdefault(ns.id, ns)
    if len(unique) == 1:
        return next(iter(unique.values()))
    candidates = tuple(describe(ns) for ns in unique.values())
    raise TargetAmbiguous(
        f"{target!r} matches {len(unique)} namespaces: " + ", ".join(candidates),
        candidates=candidates,
    )


def _exact_matches(
    target: str, snapshot: Snapshot, stat_id: NamespaceId | None
) -> list[NetNamespace]:
    out: list[NetNamespace] = []
    pid_match = _PID.match(target)
    if pid_match:
        # The caller's stat of /proc/N/ns/net is authoritative; the snapshot's pid
        # lists may be older than the process.
        if stat_id is not None:
            out.extend(ns for ns in snapshot.namespaces if ns.id == stat_id)
            if out:
                return out
        pid = int(pid_match.group(1))
        return [ns for ns in snapshot.namespaces if pid in ns.pids]

    if stat_id is not None:
        out.extend(ns for ns in snapshot.namespaces if ns.id == stat_id)
        if out:
            return out

    if target.isdigit():
        inode = int(target)
        out.extend(ns for ns in snapshot.namespaces if ns.inode == inode)
        if out:
            return out

    bare = target[1:] if target.startswith("/") else target
    for ns in snapshot.namespaces:
        if (
            target in ns.names
            or target == ns.label
            or any(target in (c.name, c.id) or bare == c.name for c in ns.containers)
            or target == ns.access_path
            or any(target in (m.path, m.reach_path) for m in ns.bind_mounts)
            or _netns_path_name(target) in ns.names
        ):
            out.append(ns)
    return out


def _netns_path_name(target: str) -> str | None:
    for prefix in ("/var/run/netns/", "/run/netns/"):
        if target.startswith(prefix):
            rest = target[len(prefix) :]
            if rest and "/" not in rest:
                return rest
    return None


def _id_prefix_matches(target: str, snapshot: Snapshot) -> list[NetNamespace]:
    low = target.lower()
    if not _HEX.match(low):
        return []
    return [ns for ns in snapshot.namespaces if any(c.id.startswith(low) for c in ns.containers)]


def _close_candidates(target: str, snapshot: Snapshot, limit: int = 5) -> tuple[str, ...]:
    words: dict[str, NetNamespace] = {}
    for ns in snapshot.namespaces:
        for word in (ns.label, *ns.names, *(c.name for c in ns.containers)):
            if word:
                words.setdefault(word, ns)
    close = difflib.get_close_matches(target, list(words), n=limit, cutoff=0.5)
    seen: set[NamespaceId] = set()
    out: list[str] = []
    for word in close:
        ns = words[word]
        if ns.id not in seen:
            seen.add(ns.id)
            out.append(describe(ns))
    return tuple(out)
