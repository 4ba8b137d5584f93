"""The open-file limit: raised at start, restored for children; the handle pool stays
within its budget (fake namespaces and sockets: the bookkeeping, not the kernel)."""

from __future__ import annotations

import errno
import json
import subprocess
import sys
from collections.abc import Sequence
from types import SimpleNamespace

import pytest

from nsexplorer.collect import ns_handles
from nsexplorer.collect.ns_handles import HandlePool
from nsexplorer.kernel import fdlimit
from nsexplorer.model import NamespaceId

PROBE = """
import json, resource, sys
from nsexplorer.kernel import fdlimit
cap = int(sys.argv[1])
got = fdlimit.raise_soft_limit(cap)
print(json.dumps({"got": got, "now": resource.getrlimit(resource.RLIMIT_NOFILE),
                  "prefix": fdlimit.child_prefix(), "again": fdlimit.raise_soft_limit(cap)}))
"""


def probe(limits: str, cap: int = fdlimit.CAP) -> dict[str, list[object]]:
    done = subprocess.run(
        ["prlimit", f"--nofile={limits}", "--", sys.executable, "-c", PROBE, str(cap)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    got: dict[str, list[object]] = json.loads(done.stdout)
    return got


def test_soft_limit_is_raised_to_the_hard_one_and_children_get_the_original() -> None:
    got = probe("100:300")
    assert got["got"] == got["now"] == [300, 300]
    assert got["again"] == [300, 300]
    prefix = got["prefix"]
    assert len(prefix) == 3 and str(prefix[0]).endswith("prlimit")
    assert prefix[1:] == ["--nofile=100:300", "--"]  # the limits before the raise


def test_a_huge_hard_limit_is_capped_and_nothing_changes_when_there_is_no_room() -> None:
    assert probe("100:300", cap=200)["now"] == [200, 300]
    unchanged = probe("300:300")
    assert unchanged["now"] == [300, 300]
    assert unchanged["prefix"] == []  # nothing to restore in children


def test_budget_leaves_room_for_the_rest_of_the_process() -> None:
    limit = fdlimit.soft_limit()
    assert 0 <= fdlimit.budget() < limit - fdlimit.open_count()
    assert fdlimit.is_out_of_fds(OSError(errno.EMFILE, "x"))
    assert fdlimit.is_out_of_fds(OSError(errno.ENFILE, "x"))
    assert not fdlimit.is_out_of_fds(OSError(errno.ENOENT, "x"))


# ---------------------------------------------------------------------- the handle pool


class FakeSock:
    live = 0

    def __init__(self, ns: int) -> None:
        self.ns = ns
        self.closed = False
        FakeSock.live += 1

    def close(self) -> None:
        assert not self.closed
        self.closed = True
        FakeSock.live -= 1


class FakeKernel:
    """Namespaces are /dev/null descriptors; at most ``room`` of them (and sockets) may
    be open at once, as a process limit would allow."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, room: int = 1000) -> None:
        self.room = room
        self.fds: dict[int, int] = {}  # fd -> namespace number
        self.opens: list[int] = []
        monkeypatch.setattr(ns_handles, "open_namespace", self.open_namespace)
        monkeypatch.setattr(ns_handles, "_socket_in", self.socket_in)
        monkeypatch.setattr(ns_handles, "os", SimpleNamespace(close=self.close))
        FakeSock.live = 0

    def in_use(self) -> int:
        return len(self.fds) + FakeSock.live

    def open_namespace(self, ns_id: NamespaceId, paths: Sequence[str]) -> tuple[int, str]:
        if self.in_use() + 1 > self.room:
            raise OSError(errno.EMFILE, "Too many open files")
        fd = 1000 + len(self.opens)
        self.fds[fd] = ns_id.ino
        self.opens.append(ns_id.ino)
        return fd, paths[0]

    def socket_in(self, fd: int) -> FakeSock:
        if self.in_use() + 1 > self.room:
            raise OSError(errno.EMFILE, "Too many open files")
        return FakeSock(self.fds[fd])

    def close(self, fd: int) -> None:
        del self.fds[fd]


def ns(i: int) -> tuple[NamespaceId, list[str]]:
    return NamespaceId(4, 100 + i), [f"/run/netns/n{i}"]


def test_pool_stays_within_capacity_and_reopens_by_the_first_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kernel = FakeKernel(monkeypatch)
    pool = HandlePool(capacity=6, own=NamespaceId(4, 1))
    for i in range(20):
        ident, paths = ns(i)
        sock = pool.sock(ident, paths)
        assert sock.ns == ident.ino  # type: ignore[attr-defined]
        assert kernel.in_use() <= 6
    assert pool.reopened == 0
    # the first ones were closed to make room: asking again reopens them, by their path
    ident, _ = ns(0)
    assert pool.sock(ident, ["/somewhere/else"]).ns == ident.ino  # type: ignore[attr-defined]
    assert pool.reopened == 1
    assert pool.path_of(ident) == "/run/netns/n0"
    pool.close_all()
    assert kernel.in_use() == 0


def test_pinned_and_kept_handles_are_never_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    FakeKernel(monkeypatch)
    pool = HandlePool(capacity=6, own=NamespaceId(4, 1))
    target, tpaths = ns(0)
    sock = pool.sock(target, tpaths)
    pool.pin(target)
    asking, apaths = ns(1)
    asking_sock = pool.sock(asking, apaths)
    for i in range(2, 30):
        ident, paths = ns(i)
        pool.fd(ident, paths, keep=(asking,))
        assert not sock.closed  # type: ignore[attr-defined]
        assert not asking_sock.closed  # type: ignore[attr-defined]


def test_running_out_anyway_closes_a_handle_and_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Other threads use descriptors too: the kernel may say EMFILE before the budget."""
    kernel = FakeKernel(monkeypatch, room=4)
    pool = HandlePool(capacity=100, own=NamespaceId(4, 1))
    for i in range(10):
        ident, paths = ns(i)
        pool.sock(ident, paths)
        assert kernel.in_use() <= 4
    pool.close_all()


def test_no_room_at_all_raises_emfile_for_the_caller_to_report(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    FakeKernel(monkeypatch, room=0)
    pool = HandlePool(capacity=100, own=NamespaceId(4, 1))
    ident, paths = ns(0)
    with pytest.raises(OSError) as info:
        pool.fd(ident, paths)
    assert fdlimit.is_out_of_fds(info.value)


def test_open_namespace_gives_up_at_once_when_out_of_descriptors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tried: list[str] = []

    def fake_open(path: str, expect: NamespaceId | None = None) -> tuple[int, NamespaceId]:
        tried.append(path)
        raise OSError(errno.EMFILE, "Too many open files")

    monkeypatch.setattr(ns_handles.nsfs, "open_verified", fake_open)
    with pytest.raises(OSError) as info:
        ns_handles.open_namespace(NamespaceId(4, 5), ["/a", "/b"])
    assert info.value.errno == errno.EMFILE  # not a "no such file" that reads as gone
    assert tried == ["/a"]
