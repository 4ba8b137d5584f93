"""What runs (Opened.argv): guarded to die with nsexplorer, entering through descriptors;
with --all-namespaces the pid and time namespaces first, nsenter's child guarded again."""

from __future__ import annotations

from nsexplorer.actions.entry import Entry, Kind
from nsexplorer.actions.opened import Opened
from nsexplorer.kernel import children


def test_every_way_starts_with_the_guard() -> None:
    guard = children.guard()
    for way, fds in (
        (Entry(Kind.DIRECT), {}),
        (Entry(Kind.NAMED, ref="blue"), {"net": 7}),
        (Entry(Kind.PATH, ref="/proc/5/ns/net"), {"net": 7}),
    ):
        argv = Opened(way, "/x", fds).argv(["ip", "link"])
        assert argv[: len(guard)] == guard
        assert argv[-2:] == ["ip", "link"]


def test_all_namespaces_enters_pid_and_time_first_and_guards_the_forked_child() -> None:
    fds = {"cgroup": 3, "ipc": 4, "uts": 5, "net": 6, "pid": 7, "mount": 8, "time": 9}
    argv = Opened(Entry(Kind.ALL, pid=42), "/proc/42/ns/net", fds).argv(["sh"])
    outer = children.guard()
    assert argv[: len(outer)] == outer
    rest = argv[len(outer) :]
    assert rest[:4] == ["nsenter", "--pid=/proc/self/fd/7", "--time=/proc/self/fd/9", "--"]
    inner = children.guard(levels=2)
    assert rest[4 : 4 + len(inner)] == inner
    assert rest[4 + len(inner) :] == [
        "nsenter", "--cgroup=/proc/self/fd/3", "--ipc=/proc/self/fd/4", "--uts=/proc/self/fd/5",
        "--net=/proc/self/fd/6", "--mount=/proc/self/fd/8", "--", "sh",
    ]  # fmt: skip


def test_all_namespaces_without_a_pid_namespace_is_one_nsenter() -> None:
    argv = Opened(Entry(Kind.ALL, pid=42), "/p", {"net": 6, "mount": 8}).argv(["sh"])
    rest = argv[len(children.guard()) :]
    assert rest == ["nsenter", "--net=/proc/self/fd/6", "--mount=/proc/self/fd/8", "--", "sh"]
