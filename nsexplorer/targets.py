"""Resolving a TARGET string to one namespace of a snapshot.

A TARGET means exactly what it says: it is never trimmed or case-folded (only hex ids
and MACs are read in any case). It is matched by nsexplorer.matching, whose ranks decide:

1. a netns name, container name (``/name`` too) or full id, label, inode (ASCII digits,
   below 2**64), ``pid:N`` (ASCII digits, 1..pid_max) or path (bind mounts, the
   ``/proc/<pid>/root<path>`` that reaches a hidden one, access paths,
   ``/run/netns/NAME``). The caller (the CLI) may also stat the path, or
   ``/proc/N/ns/net`` for ``pid:N``, and pass the result as ``stat_id``: that identity is
   authoritative for a path or pid, however the path is written;
2. an IP address (with or without its prefix length), a CIDR (every namespace with an
   address in it), a MAC in any notation, an interface name (a veth also finds the
   namespace of its peer). Used only when every namespace's interfaces were read:
   otherwise the unread ones might hold the same address;
3. a container id prefix.

The strongest rank that matches decides; if it matches more than one namespace the
TARGET is ambiguous (TargetAmbiguous, every candidate named). A name, label, interface or
address that only starts with or contains the TARGET is never used: TargetNotFound, with
those as suggestions. Both exit with status 2; nothing else is ever raised.

Pure: no I/O. Nothing is ever created while resolving a target.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from nsexplorer import matching
from nsexplorer.errors import TargetAmbiguous, TargetNotFound
from nsexplorer.matching import Kind, Match, Rank, shown
from nsexplorer.model import NamespaceId, NetNamespace, Snapshot, group_of
from nsexplorer.shellquote import quote
from nsexplorer.textsafe import counted, visible

# The kernel's ceiling for /proc/sys/kernel/pid_max on 64-bit (PID_MAX_LIMIT).
PID_MAX_LIMIT = 4194304
_PID = re.compile(r"pid:([0-9]{1,10})", re.ASCII)
_SUGGESTIONS = 8


def describe(ns: NetNamespace) -> str:
    """How a candidate is named in an error message (escaped, quoted when needed)."""
    label = ns.label or (ns.names[0] if ns.names else "")
    where = f"{group_of(ns)}, inode {ns.inode}"
    return f"{shown(label)} ({where})" if label else where


def pid_of(target: str) -> int | None:
    """N for a well-formed ``pid:N`` (ASCII digits, bounded length), else None."""
    found = _PID.fullmatch(target)
    return int(found.group(1)) if found else None


def needs_details(target: str, snapshot: Snapshot, stat_id: NamespaceId | None = None) -> bool:
    """Whether ``target`` can be decided only once every namespace's interfaces are read:
    no name-rank match, it could be an IP, MAC or interface name, and some namespace of
    ``snapshot`` (the cheap pass) has not been read yet."""
    if not target or all(ns.detailed or ns.gone for ns in snapshot.namespaces):
        return False
    if stat_id is not None and any(ns.id == stat_id for ns in snapshot.namespaces):
        return False
    # A name match alone does not settle it when the TARGET could also be an address,
    # MAC or interface name: another namespace may hold that fact (see resolve).
    return matching.may_match_interfaces(target)


def resolve(
    target: str,
    snapshot: Snapshot,
    stat_id: NamespaceId | None = None,
    stat_error: str = "",
    pid_max: int = PID_MAX_LIMIT,
) -> NetNamespace:
    """The one namespace ``target`` designates.

    ``stat_error`` is why the caller could not stat a path or pid target (e.g.
    "/proc/1/ns/net: Permission denied"); it is named when nothing matches.
    Raises TargetNotFound (with suggestions) or TargetAmbiguous (with every candidate).
    """
    if not target:
        raise TargetNotFound("empty TARGET: give a name, container id, path, pid:N or inode")
    by_id = {ns.id: ns for ns in snapshot.namespaces}
    found = _with_stat(target, matching.match(snapshot, target), stat_id, by_id)
    best = found[0].rank if found else None
    top = [m for m in found if m.rank == best]
    if best == Rank.NAME:
        # A name typed as the screen shows another one (``a\\x1b`` for a name holding an
        # ESC) is as good an answer as a name spelled so: both are listed (exit 2).
        # A name that is also an address, MAC or interface name of ANOTHER namespace
        # (a container named 10.0.0.5, a netns named eth0) must not silently win: the
        # person may mean either, and acting on the wrong one is the worst outcome.
        named = {m.id for m in top}
        facts = [m for m in found if m.rank == Rank.FACT and m.id not in named]
        return _one(target, [*top, *facts], by_id)
    if best == Rank.FACT:
        return _one_read(target, top, snapshot, by_id)
    if best == Rank.PREFIX and any(m.kind == Kind.ID_PREFIX for m in top):
        # A container id prefix is a TARGET; a name that only starts so is not, so
        # both at once are ambiguous.
        return _one(target, top, by_id)

    stopped = _stopped_note(target, snapshot)
    if stopped:
        raise TargetNotFound(stopped)
    notes = (
        _number_note(target, pid_max)
        + _stat_note(stat_error)
        + _unread_note(target, snapshot)
        + _engine_note(target, snapshot)
    )
    suggestions = _suggestions(target, found, snapshot, by_id)
    # "exactly": the suggestions may start with or contain the TARGET, and say so.
    exactly = " exactly" if suggestions else ""
    hint = "; did you mean (give it exactly):" if suggestions else ""
    raise TargetNotFound(
        f"no namespace matches {_said(target)}{exactly}{notes}{hint}", candidates=suggestions
    )


def _said(target: str, limit: int = 80) -> str:
    """The TARGET as messages quote it: escaped, and cut if very long."""
    if len(target) <= limit:
        return _quoted(target)
    return f"{_quoted(target[:limit])}... ({len(target)} characters)"


def _quoted(text: str) -> str:
    """Always in quotes, in the form a shell takes back exactly ($'...' for escapes)."""
    q = quote(text)
    return q if q.startswith(("'", "$'")) else f"'{q}'"


def _with_stat(
    target: str,
    found: list[Match],
    stat_id: NamespaceId | None,
    by_id: dict[NamespaceId, NetNamespace],
) -> list[Match]:
    """The caller's stat of the path (or of /proc/N/ns/net) is authoritative: the
    snapshot's paths and pid lists may be older than the file or the process."""
    if stat_id is None or stat_id not in by_id:
        return found
    is_pid = pid_of(target) is not None
    kept = [m for m in found if m.kind not in (Kind.PATH, Kind.PID) or m.id == stat_id]
    if not any(m.id == stat_id and m.rank == Rank.NAME for m in kept):
        kept = [m for m in kept if m.id != stat_id]
        kind, what = (Kind.PID, "process") if is_pid else (Kind.PATH, "path")
        shown_target = str(pid_of(target)) if is_pid else shown(target)
        kept.insert(0, Match(stat_id, Rank.NAME, kind, f"{what} {shown_target}"))
    return sorted(kept, key=lambda m: m.rank)  # stable: the matcher's order within a rank


def _line(m: Match, by_id: dict[NamespaceId, NetNamespace]) -> str:
    return f"{describe(by_id[m.id])}: {m.reason}"


def _one(target: str, top: Sequence[Match], by_id: dict[NamespaceId, NetNamespace]) -> NetNamespace:
    if len(top) == 1:
        return by_id[top[0].id]
    kinds = {m.kind for m in top}
    hint = ""
    if Kind.INODE in kinds and Kind.NETNS_NAME in kinds:
        hint = " (an all-digit netns name is also an inode: write /run/netns/NAME for the name)"
    elif {m.rank for m in top} == {Rank.NAME, Rank.FACT}:
        hint = " (a name that is also an address, MAC or interface name elsewhere)"
    raise TargetAmbiguous(
        f"{_said(target)} matches {len(top)} namespaces{hint}; name one of them exactly:",
        candidates=tuple(_line(m, by_id) for m in top),
    )


def _one_read(
    target: str,
    top: Sequence[Match],
    snapshot: Snapshot,
    by_id: dict[NamespaceId, NetNamespace],
) -> NetNamespace:
    """An address, MAC or interface name designates one namespace only if no unread one
    could hold it too."""
    ids = {m.id for m in top}
    unread = [ns for ns in snapshot.namespaces if not (ns.detailed or ns.gone or ns.id in ids)]
    if not unread or len(top) > 1:
        return _one(target, top, by_id)
    lines = (_line(top[0], by_id), *(f"{describe(ns)}: interfaces not read" for ns in unread))
    raise TargetAmbiguous(
        f"{_said(target)} matches {describe(by_id[top[0].id])}, but the interfaces of "
        f"{len(unread)} other namespaces could not be read, so it may be there too; "
        "name the namespace instead:",
        candidates=lines,
    )


def _number_note(target: str, pid_max: int) -> str:
    """Why something that looks like a number was not read as one."""
    if target.startswith("pid:"):
        pid = pid_of(target)
        if pid is None:
            return " (pid:N takes a process id in ASCII digits 0-9)"
        if not 1 <= pid <= pid_max:
            return f" (process ids are 1 to {pid_max})"
        return ""
    if target.isascii() and target.isdigit():
        return " (an inode is below 2**64)" if len(target) > 20 or int(target) >= 2**64 else ""
    if target.isdigit():  # also true for "²" and Arabic-Indic digits
        return " (only ASCII digits 0-9 are read as a number)"
    return ""


def _stat_note(stat_error: str) -> str:
    return f" (cannot read {visible(stat_error)})" if stat_error else ""


def _unread_note(target: str, snapshot: Snapshot) -> str:
    unread = sum(1 for ns in snapshot.namespaces if not (ns.detailed or ns.gone))
    if not unread or not matching.may_match_interfaces(target):
        return ""
    return (
        f" (the interfaces of {counted(unread, 'namespace')} could not be read, so addresses, MACs "
        "and interface names there cannot match)"
    )


def _stopped_note(target: str, snapshot: Snapshot) -> str:
    """A TARGET that names a container which exists but is not running."""
    bare = target.removeprefix("/")
    stopped = [c for e in snapshot.engines for c in e.stopped]
    hits = [c for c in stopped if bare in (c.name, c.id)]
    if not hits and re.fullmatch(r"[0-9a-f]+", target.lower(), re.ASCII):
        hits = [c for c in stopped if c.id.startswith(target.lower())]
    if not hits:
        return ""
    what = ", ".join(f"container {shown(c.name)} ({c.id[:12]}) is {c.state}" for c in hits)
    return (
        f"no namespace matches {_said(target)}: {what}, not running; a container that is "
        "not running has no network namespace (start it first)"
    )


def _engine_note(target: str, snapshot: Snapshot) -> str:
    """Why a container name may not have matched: its engine was unavailable."""
    if target.startswith("pid:") or "/" in target.lstrip("/"):
        return ""
    down = [e for e in snapshot.engines if not e.reachable]
    if not down:
        return ""
    hosts = ", ".join(
        f"{e.engine.capitalize()} engine at {visible(e.host) or 'the default socket'}" for e in down
    )
    return f" (the {hosts} was unavailable, so container names and ids cannot be matched)"


def _suggestions(
    target: str,
    found: Sequence[Match],
    snapshot: Snapshot,
    by_id: dict[NamespaceId, NetNamespace],
) -> tuple[str, ...]:
    """Near matches, never used: what the TARGET names without its surrounding spaces,
    then prefixes, substrings and close spellings."""
    out: dict[NamespaceId, str] = {}
    stripped = target.strip()
    if stripped and stripped != target:
        for m in matching.match(snapshot, stripped)[:_SUGGESTIONS]:
            if m.rank <= Rank.FACT:
                out[m.id] = f"{_line(m, by_id)} (without the spaces around it)"
    near = [m for m in found if m.id not in out]
    for m in near[: max(0, _SUGGESTIONS - len(out))]:
        out[m.id] = f"{_line(m, by_id)}{_how_near(target, m, by_id[m.id])}"
    words: dict[str, tuple[NetNamespace, str]] = {}
    for ns in snapshot.namespaces:
        for what, word in (
            *(("netns name", n) for n in ns.names),
            *(("container name", c.name) for c in ns.containers),
            ("label", ns.label),
        ):
            if word:
                words.setdefault(word, (ns, what))
    if len(target) <= 256:
        for word in difflib.get_close_matches(target, list(words), n=_SUGGESTIONS, cutoff=0.6):
            ns, what = words[word]
            if len(out) < _SUGGESTIONS and ns.id not in out:
                out[ns.id] = f"{describe(ns)}: {what} {shown(word)} is close"
    more = sum(1 for m in near if m.id not in out)
    if more:
        others = "1 more namespace" if more == 1 else f"{more} more namespaces"
        return (*out.values(), f"... and {others} near it")
    return tuple(out.values())


def _how_near(target: str, m: Match, ns: NetNamespace) -> str:
    """How a prefix or substring match differs from the TARGET, so a suggestion never
    reads as a match that was refused."""
    if m.rank == Rank.PARTIAL and m.reason.endswith(")"):
        return ""  # "ip 10.0.0.5/24 on eth0 (not /16)" says it already
    words = (*ns.names, *(c.name for c in ns.containers), ns.label)
    words += tuple(i.name for i in ns.interfaces)
    if any(w != target and w.casefold() == target.casefold() for w in words):
        return " (the same but for case)"
    return " (starts with it)" if m.rank == Rank.PREFIX else " (contains it)"
