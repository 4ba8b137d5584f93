"""What changed between two snapshots, the one notion the CLI's ``diff``, the bundle and
the TUI's Changes view share: every difference ``diffing.diff_snapshots`` finds, and the
problems (``nsexplorer.problems``) that appeared or cleared."""

from __future__ import annotations

from collections.abc import Sequence

from nsexplorer.diffing import Change, diff_snapshots
from nsexplorer.model import Snapshot, same_namespace
from nsexplorer.problems import Problem, find_problems


def changes_between(
    before: Snapshot, after: Snapshot, before_problems: Sequence[Problem] | None = None
) -> tuple[Change, ...]:
    """``before_problems``: ``find_problems(before)`` when the caller already has it (a
    baseline compared again and again)."""
    if before_problems is None:
        before_problems = find_problems(before)
    problems = problem_changes(before_problems, find_problems(after), before, after)
    return (*diff_snapshots(before, after), *problems)


def _replaced(before: Snapshot, after: Snapshot) -> frozenset[int]:
    """Inodes that name another namespace now: the first was freed and the kernel gave
    its number to a new one (same inode, another cookie)."""
    old = {ns.inode: ns for ns in before.namespaces if not ns.gone}
    return frozenset(
        ns.inode
        for ns in after.namespaces
        if ns.inode in old and not same_namespace(old[ns.inode], ns)
    )


def problem_changes(
    before: Sequence[Problem], after: Sequence[Problem], then: Snapshot, current: Snapshot
) -> tuple[Change, ...]:
    """Problems that appeared or cleared (``then``'s and ``current``'s findings), one per
    kind, namespace and interface: a message that only words the same problem anew is
    not a change, nor is its interface's new name (interfaces are told by ifindex). In a
    namespace under a reused inode, the old one's problems went with it (its
    namespace-gone says so) and every problem of the new one is new."""
    replaced = _replaced(then, current)

    def key(p: Problem, snap: Snapshot) -> tuple[str, int, str]:
        return (p.kind, p.namespace_inode, _interface_key(snap, p))

    old = {key(p, then): p for p in before if p.namespace_inode not in replaced}
    new = {key(p, current): p for p in after}

    def label(p: Problem) -> str:
        ns = current.by_inode(p.namespace_inode)
        return ns.label if ns is not None else str(p.namespace_inode)

    def change(kind: str, p: Problem, snap: Snapshot, before: str, after: str) -> Change:
        index = _ifindex(snap, p)
        return Change(kind, p.namespace_inode, label(p), p.interface or "", before, after,
                      p.kind, index)  # fmt: skip

    out = [
        change("problem-appeared", p, current, "", f"{p.kind}: {p.message}")
        for k, p in new.items()
        if k not in old
    ]
    live = {ns.inode for ns in current.namespaces if not ns.gone}
    out += [  # a namespace that went is one change (namespace-gone), not one per problem
        change("problem-cleared", p, then, f"{p.kind}: {p.message}", "")
        for k, p in old.items()
        if k not in new and p.namespace_inode in live
    ]
    return tuple(out)


def _ifindex(snap: Snapshot, p: Problem) -> int | None:
    """The ifindex of the interface ``p`` names, in its namespace in ``snap``."""
    ns = snap.by_inode(p.namespace_inode)
    if ns is None or p.interface is None:
        return None
    return next((i.ifindex for i in ns.interfaces if i.name == p.interface), None)


def _interface_key(snap: Snapshot, p: Problem) -> str:
    index = _ifindex(snap, p)
    return p.interface or "" if index is None else f"ifindex {index}"
