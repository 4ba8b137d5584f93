"""What changed between two snapshots, the one notion the CLI's ``diff``, the bundle and
the TUI's Changes view share: every difference ``diffing.diff_snapshots`` finds, and the
problems (``nsexplorer.problems``) that appeared or cleared."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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
    # (inode, name) -> ifindex on each side, and the labels: built once, not looked up
    # per problem (a read of 1000 namespaces can have a problem in each)
    then_ifs, now_ifs = _ifindexes(then), _ifindexes(current)
    labels = {ns.inode: ns.label for ns in current.namespaces}
    cookies = {ns.inode: ns.cookie for ns in current.namespaces}

    def key(p: Problem, ifs: Mapping[tuple[int, str], int]) -> tuple[str, int, str]:
        index = ifs.get((p.namespace_inode, p.interface or ""))
        return (p.kind, p.namespace_inode, p.interface or "" if index is None else f"#{index}")

    old = {key(p, then_ifs): p for p in before if p.namespace_inode not in replaced}
    new = {key(p, now_ifs): p for p in after}

    def change(
        kind: str, p: Problem, ifs: Mapping[tuple[int, str], int], was: str, is_: str
    ) -> Change:
        index = ifs.get((p.namespace_inode, p.interface or ""))
        label = labels.get(p.namespace_inode, str(p.namespace_inode))
        cookie = cookies.get(p.namespace_inode)
        subject = p.interface or ""
        return Change(kind, p.namespace_inode, label, subject, was, is_, p.kind, index, cookie)

    out = [
        change("problem-appeared", p, now_ifs, "", f"{p.kind}: {p.message}")
        for k, p in new.items()
        if k not in old
    ]
    live = {ns.inode for ns in current.namespaces if not ns.gone}
    out += [  # a namespace that went is one change (namespace-gone), not one per problem
        change("problem-cleared", p, then_ifs, f"{p.kind}: {p.message}", "")
        for k, p in old.items()
        if k not in new and p.namespace_inode in live
    ]
    return tuple(out)


def _ifindexes(snap: Snapshot) -> dict[tuple[int, str], int]:
    """(namespace inode, interface name) -> ifindex, for every interface of ``snap``."""
    return {(ns.inode, i.name): i.ifindex for ns in snap.namespaces for i in ns.interfaces}
