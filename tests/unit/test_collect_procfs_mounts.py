"""The /proc scan and mountinfo parsing, on fake /proc trees under tmp_path."""

from __future__ import annotations

import os
from pathlib import Path

from nsexplorer.collect import mounts, procfs


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
    found = mounts.parse_mountinfo(MOUNTINFO)
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
