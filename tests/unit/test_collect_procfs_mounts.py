"""The /proc scan and mountinfo parsing, on fake /proc trees under tmp_path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nsexplorer.collect import mounts
from nsexplorer.kernel import mountinfo, procfs


def fake_process(
    proc: Path, pid: int, net: int, mnt: int, fds: dict[int, str] | None = None
) -> Path:
    d = proc / str(pid)
    (d / "ns").mkdir(parents=True)
    os.symlink(f"net:[{net}]", d / "ns" / "net")
    os.symlink(f"mnt:[{mnt}]", d / "ns" / "mnt")
    (d / "fd").mkdir()
    for fd, target in (fds or {}).items():
        os.symlink(target, d / "fd" / str(fd))
    (d / "comm").write_bytes(b"sleep\xff\n")
    return d


def test_scan_groups_by_namespace_and_finds_fd_holders(tmp_path: Path) -> None:
    fake_process(tmp_path, 2, 100, 10)
    fake_process(tmp_path, 30, 100, 10, {0: "/dev/null", 3: "socket:[55]", 5: "net:[300]"})
    fake_process(tmp_path, 31, 200, 11, {4: "net:[200]", 6: "mnt:[10]"})
    (tmp_path / "77").mkdir()  # a process that ended mid-scan: no ns/ directory
    (tmp_path / "self").mkdir()
    scan = procfs.scan(str(tmp_path))
    assert scan.net_pids == {100: [2, 30], 200: [31]}
    assert scan.mnt_pids == {10: [2, 30], 11: [31]}
    assert scan.fd_holders == {300: [(30, 5)], 200: [(31, 4)]}
    assert scan.pid_net[31] == 200
    assert scan.scanned == 4
    assert procfs.read_comm(30, str(tmp_path)) == os.fsdecode(b"sleep\xff")
    assert procfs.read_comm(77, str(tmp_path)) == ""


def test_scan_without_fds(tmp_path: Path) -> None:
    fake_process(tmp_path, 30, 100, 10, {5: "net:[300]"})
    assert procfs.scan(str(tmp_path), fds=False).fd_holders == {}


MOUNTINFO = (
    b"22 27 0:21 / /proc rw,relatime - proc proc rw\n"
    b"600 29 0:4 net:[4026532255] /run/netns/blue rw - nsfs nsfs rw\n"
    b"601 29 0:4 net:[4026532256] /run/netns/with\\040space rw shared:5 - nsfs nsfs rw\n"
    b"602 29 0:4 mnt:[4026532257] /run/mnt-ns rw - nsfs nsfs rw\n"
    b"603 29 0:4 net:[4026532258] /run/x rw - tmpfs nsfs rw\n"
    b"604 29 0:4 net:[4026532259] /tmp/nsxt\\134\\011t\xff rw - nsfs nsfs rw\n"
)


def test_parse_mountinfo_keeps_only_net_nsfs_and_unescapes() -> None:
    found = mountinfo.parse_mountinfo(MOUNTINFO)
    assert [(m.mount_point, m.netns_inode) for m in found] == [
        ("/run/netns/blue", 4026532255),
        ("/run/netns/with space", 4026532256),
        (os.fsdecode(b"/tmp/nsxt\\\tt\xff"), 4026532259),
    ]


def test_hidden_mounts_are_those_missing_from_our_own_table(tmp_path: Path) -> None:
    (tmp_path / "thread-self").mkdir()
    (tmp_path / "thread-self" / "mountinfo").write_bytes(
        b"600 29 0:4 net:[500] /run/netns/blue rw - nsfs nsfs rw\n"
    )
    fake_process(tmp_path, 40, 100, 11)
    (tmp_path / "40" / "mountinfo").write_bytes(
        b"600 29 0:4 net:[500] /run/netns/blue rw - nsfs nsfs rw\n"
        b"700 29 0:4 net:[600] /run/docker/netns/abc rw - nsfs nsfs rw\n"
    )
    result = mounts.scan_mounts({10: [1], 11: [40, 41]}, own_mnt=10, proc=str(tmp_path))
    assert result.warnings == []
    (blue,) = result.mounts[500]
    assert (blue.path, blue.hidden, blue.mount_ns_inode, blue.via_pid) == (
        "/run/netns/blue",
        False,
        10,
        None,
    )
    (hidden,) = result.mounts[600]
    assert (hidden.hidden, hidden.mount_ns_inode, hidden.via_pid) == (True, 11, 40)
    assert hidden.reach_path == "/proc/40/root/run/docker/netns/abc"


def test_unreadable_mount_namespace_tries_next_process(tmp_path: Path) -> None:
    (tmp_path / "thread-self").mkdir()
    (tmp_path / "thread-self" / "mountinfo").write_bytes(b"")
    fake_process(tmp_path, 41, 100, 11)
    (tmp_path / "41" / "mountinfo").write_bytes(b"700 29 0:4 net:[600] /run/h rw - nsfs nsfs rw\n")
    # pid 40 vanished: its mountinfo does not exist; 41 is used instead.
    result = mounts.scan_mounts({11: [40, 41]}, own_mnt=10, proc=str(tmp_path))
    assert result.mounts[600][0].via_pid == 41


# --- threads, sockets, mount-namespace fds ---------------------------------------------


def fake_threads(proc: Path, pid: int, nets: dict[int, int]) -> None:
    """/proc/PID/task/TID/ns/net for each tid; the task dir's link count is 2 + threads,
    as the kernel reports it, only on a real /proc: here os.stat is patched."""
    for tid, net in nets.items():
        d = proc / str(pid) / "task" / str(tid) / "ns"
        d.mkdir(parents=True)
        os.symlink(f"net:[{net}]", d / "net")


def test_threads_in_another_netns_than_their_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_process(tmp_path, 30, 100, 10)
    fake_threads(tmp_path, 30, {30: 100, 31: 100, 32: 700, 33: 701})
    fake_process(tmp_path, 40, 100, 10)
    fake_threads(tmp_path, 40, {40: 100})
    fake_process(tmp_path, 50, 100, 10)
    fake_threads(tmp_path, 50, {50: 100, 51: 702})
    real_stat = os.stat
    looked: list[str] = []

    def stat(path: str, *a: object, **k: object) -> os.stat_result:
        st = real_stat(path)
        if str(path).endswith("/task"):
            looked.append(str(path))
            n = len(os.listdir(path))
            if str(path).endswith("/50/task"):
                n = 1  # what the kernel says: only the listing would show 51
            return os.stat_result((st.st_mode, st.st_ino, st.st_dev, 2 + n, *st[4:]))
        return st

    monkeypatch.setattr(os, "stat", stat)
    scan = procfs.scan(str(tmp_path))
    assert scan.thread_holders == {700: [(30, 32)], 701: [(30, 33)]}
    assert scan.net_pids == {100: [30, 40, 50]}
    assert len(looked) == 3
    assert procfs.scan(str(tmp_path), threads=False).thread_holders == {}


def test_a_process_whose_main_thread_ended_still_shows_its_threads(tmp_path: Path) -> None:
    d = tmp_path / "60"
    d.mkdir()  # no ns/ (the leader is a zombie), but its other threads live on
    fake_threads(tmp_path, 60, {61: 800})
    scan = procfs.scan(str(tmp_path))
    assert scan.thread_holders == {800: [(60, 61)]}
    assert scan.net_pids == {}


def test_sockets_in_another_netns_are_holders(tmp_path: Path) -> None:
    fake_process(tmp_path, 30, 100, 10, {3: "socket:[55]", 4: "socket:[56]", 5: "socket:[57]"})
    fake_process(tmp_path, 31, 100, 10, {3: "socket:[55]"})  # forked: the same socket
    answers = {55: 900, 56: 100, 57: None}
    asked: list[tuple[int, int, int]] = []

    def resolve(pid: int, fd: int, sock: int) -> int | None:
        asked.append((pid, fd, sock))
        return answers[sock]

    scan = procfs.scan(str(tmp_path), sockets=resolve)
    # in its own process's netns (56): not a holder; unanswerable (57): counted
    assert scan.socket_holders == {900: [(30, 3, 55), (31, 3, 55)]}
    assert scan.sockets_failed == 1
    assert procfs.scan(str(tmp_path)).socket_holders == {}  # only when asked to


def test_mount_namespace_fds_are_collected(tmp_path: Path) -> None:
    fake_process(tmp_path, 31, 200, 11, {4: "net:[200]", 6: "mnt:[10]", 7: "mnt:[12]"})
    scan = procfs.scan(str(tmp_path))
    assert scan.mnt_fd_holders == {10: [(31, 6)], 12: [(31, 7)]}
    assert scan.fd_holders == {200: [(31, 4)]}


# --- mount tables: namespaces of both kinds, chroots, covered mounts -------------------


def test_parse_nsfs_sees_mount_namespace_mounts_too() -> None:
    found = mountinfo.parse_nsfs(MOUNTINFO)
    assert [(m.kind, m.mount_point, m.netns_inode) for m in found if m.kind == "mnt"] == [
        ("mnt", "/run/mnt-ns", 4026532257)
    ]


def test_mount_namespace_bind_mounts_are_reported_with_a_reach_path(tmp_path: Path) -> None:
    (tmp_path / "thread-self").mkdir()
    (tmp_path / "thread-self" / "mountinfo").write_bytes(
        b"602 29 0:4 mnt:[77] /run/keep-mnt rw - nsfs nsfs rw\n"
    )
    fake_process(tmp_path, 40, 100, 11)
    (tmp_path / "40" / "mountinfo").write_bytes(
        b"700 29 0:4 mnt:[78] /run/inner-mnt rw - nsfs nsfs rw\n"
    )
    result = mounts.scan_mounts({11: [40]}, own_mnt=10, proc=str(tmp_path))
    assert result.mnt_mounts == {77: ["/run/keep-mnt"], 78: [f"{tmp_path}/40/root/run/inner-mnt"]}
    assert result.mounts == {}


def test_a_chrooted_lowest_pid_is_passed_over(tmp_path: Path) -> None:
    (tmp_path / "thread-self").mkdir()
    (tmp_path / "thread-self" / "mountinfo").write_bytes(b"")
    jail = tmp_path / "jail" / "inner"
    jail.mkdir(parents=True)
    for pid, root, table in (
        (40, jail, b""),  # chrooted: sees nothing of the namespace's mounts
        (41, Path("/"), b"700 29 0:4 net:[600] /run/h rw - nsfs nsfs rw\n"),
    ):
        fake_process(tmp_path, pid, 100, 11)
        os.symlink(root, tmp_path / str(pid) / "root")
        (tmp_path / str(pid) / "mountinfo").write_bytes(table)
    assert mounts.root_is_namespace_root(40, str(tmp_path)) is False
    assert mounts.root_is_namespace_root(41, str(tmp_path)) is True
    result = mounts.scan_mounts({11: [40, 41]}, own_mnt=10, proc=str(tmp_path))
    assert result.mounts[600][0].via_pid == 41
    # Only chrooted processes: the first readable one is still used.
    result = mounts.scan_mounts({11: [40]}, own_mnt=10, proc=str(tmp_path))
    assert result.mounts == {}


def test_mark_covered_compares_what_the_path_opens(tmp_path: Path) -> None:
    from nsexplorer.collect import nsfs
    from nsexplorer.model import BindMount

    dev = nsfs.nsfs_dev()
    scan = mounts.MountScan(
        {
            500: [BindMount("/run/netns/ok", 10, False)],
            501: [BindMount("/run/netns/over", 10, False)],
            502: [BindMount("/run/x/ns", 11, True, via_pid=40)],
            503: [BindMount("/run/netns/denied", 10, False)],
        },
        [],
    )
    seen: dict[str, tuple[int, int] | OSError] = {
        "/run/netns/ok": (dev, 500),
        "/run/netns/over": (dev, 999),  # another namespace mounted over it
        "/proc/40/root/run/x/ns": FileNotFoundError(2, "covered by a tmpfs"),
        "/run/netns/denied": PermissionError(13, "not root"),
    }

    def lstat(path: str) -> os.stat_result:
        got = seen[path]
        if isinstance(got, OSError):
            raise got
        return os.stat_result((0o100444, got[1], got[0], 1, 0, 0, 0, 0, 0, 0))

    mounts.mark_covered(scan, "/proc", lstat)
    covered = {ino: ms[0].covered for ino, ms in scan.mounts.items()}
    assert covered == {500: False, 501: True, 502: True, 503: False}


TREE = (
    b"27 1 254:0 / / rw - ext4 /dev/vda rw\n"
    b"127 27 254:0 /run/c /run/c rw - ext4 /dev/vda rw\n"
    b"128 127 0:4 net:[500] /run/c/ns rw - nsfs nsfs rw\n"
    b"130 127 0:4 net:[501] /run/c/other rw - nsfs nsfs rw\n"
    b"129 127 0:48 / /run/c rw - tmpfs t rw\n"
    b"131 129 0:49 / /run/c rw - tmpfs t2 rw\n"
    b"132 128 0:4 net:[502] /run/c/ns rw - nsfs nsfs rw\n"
    b"140 27 0:50 / /srv rw - tmpfs s rw\n"
)


def test_parse_tree_and_covering_mounts() -> None:
    entries = mountinfo.parse_tree(TREE)
    assert [(e.id, e.parent, e.mount_point, e.fstype) for e in entries][:3] == [
        (27, 1, "/", "ext4"),
        (127, 27, "/run/c", "ext4"),
        (128, 127, "/run/c/ns", "nsfs"),
    ]
    # 500 is covered by the tmpfs on its parent directory (detached first: /run/c/ns is
    # unreachable under it) and by 502 stacked on it; /srv and the sibling mount are not
    # in the way; no ancestor of it (127, 27) is ever listed.
    assert mounts.covering_mounts(entries, "/run/c/ns", 500) == ["/run/c", "/run/c/ns"]
    assert mounts.covering_mounts(entries, "/run/c/ns", 502) == ["/run/c"]
    assert mounts.covering_mounts(entries, "/srv/x", 999) == []
