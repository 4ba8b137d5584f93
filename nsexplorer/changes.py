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
    problems = problem_changes(
        before_problems, find_problems(after), after, _replaced(before, after)
    )
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
    before: Sequence[Problem],
    after: Sequence[Problem],
    current: Snapshot,
    replaced: frozenset[int] = frozenset(),
) -> tuple[Change, ...]:
    """Problems that appeared or cleared (one per kind, namespace and interface: a
    message that only words the same problem differently is not a change). In a
    namespace under a ``replaced`` inode, the old one's problems went with it (its
    namespace-gone says so) and every problem of the new one is new."""

    def key(p: Problem) -> tuple[str, int, str]:
        return (p.kind, p.namespace_inode, p.interface or "")

    old = {key(p): p for p in before if p.namespace_inode not in replaced}
    new = {key(p): p for p in after}

    def label(p: Problem) -> str:
        ns = current.by_inode(p.namespace_inode)
        return ns.label if ns is not None else str(p.namespace_inode)

    out = [
        Change("problem-appeared", p.namespace_inode, label(p), p.interface or "", "", text, p.kind)
        for k, p in new.items()
        if k not in old and (text := f"{p.kind}: {p.message}")
    ]
    live = {ns.inode for ns in current.namespaces if not ns.gone}
    out += [  # a namespace that went is one change (namespace-gone), not one per problem
        Change("problem-cleared", p.namespace_inode, label(p), p.interface or "", text, "", p.kind)
        for k, p in old.items()
        if k not in new and p.namespace_inode in live and (text := f"{p.kind}: {p.message}")
    ]
    return tuple(out)
