"""The cheap pass end to end on a fake /proc tree: dedup by inode, sources, labels,
groups, access paths, and the warnings that say what needs root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nsexplorer.collect import discovery, engine
from nsexplorer.model import Group, group_of


def proc_entry(
    proc: Path,
    pid: int,
    net: int,
    mnt: int,
    comm: str,
    *,
    fds: dict[int, str] | None = None,
    mountinfo: bytes | None = None,
) -> None:
    d = proc / str(pid)
    (d / "ns").mkdir(parents=True)
    os.symlink(f"net:[{net}]", d / "ns" / "net")
    os.symlink(f"mnt:[{mnt}]", d / "ns" / "mnt")
    (d / "fd").mkdir()
    for fd, target in (fds or {}).items():
        os.symlink(target, d / "fd" / str(fd))
    (d / "comm").write_text(comm + "\n")
    if mountinfo is not None:
        (d / "mountinfo").write_bytes(mountinfo)


@pytest.fixture
def fake_proc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(engine, "engines", lambda timeout=3.0: [])
    proc = tmp_path / "proc"
    (proc / "thread-self").mkdir(parents=True)
    (proc / "thread-self" / "mountinfo").write_bytes(
        b"600 29 0:4 net:[300] /run/netns/blue rw - nsfs nsfs rw\n"
    )
    proc_entry(proc, 2, 100, 10, "kthreadd")
    proc_entry(proc, 40, 100, 10, "bash", fds={3: "net:[500]", 4: "/dev/null"})
    proc_entry(proc, 900, 200, 10, "nginx\x1b[31m")
    proc_entry(proc, 901, 200, 10, "nginx")
    proc_entry(
        proc,
        50,
        100,
        11,
        "dockerd",
        mountinfo=(
            b"600 29 0:4 net:[300] /run/netns/blue rw - nsfs nsfs rw\n"
            b"700 29 0:4 net:[400] /run/docker/netns/abc rw - nsfs nsfs rw\n"
        ),
    )
    return proc


def test_cheap_pass_on_a_fake_proc(fake_proc: Path) -> None:
    found = discovery.discover(proc=str(fake_proc))
    snap = found.snapshot
    by_ino = {ns.inode: ns for ns in snap.namespaces}
    assert set(by_ino) == {100, 200, 300, 400, 500}
    host = by_ino[100]
    assert host.is_host and host.label == "host" and group_of(host) == Group.HOST
    assert host.pids == (2, 40, 50)
    assert host.access_path == f"{fake_proc}/2/ns/net"
    procs = by_ino[200]
    assert procs.label == "pid 900 (nginx\x1b[31m)"  # escaped only when printed
    assert group_of(procs) == Group.PROCESSES
    named = by_ino[300]
    assert named.names == ("blue",) and named.label == "blue"
    assert named.access_path == "/run/netns/blue"
    assert [m.hidden for m in named.bind_mounts] == [False]  # same mount seen twice: once
    hidden = by_ino[400]
    assert group_of(hidden) == Group.HIDDEN
    assert hidden.bind_mounts[0].via_pid == 50
    assert hidden.access_path == "/proc/50/root/run/docker/netns/abc"
    fd_only = by_ino[500]
    assert group_of(fd_only) == Group.FD_ONLY
    assert fd_only.label == "fd 3 of pid 40 (bash)"
    assert fd_only.access_path == f"{fake_proc}/40/fd/3"
    # Sidebar order: host, named, hidden, then the rest.
    assert snap.namespaces[0].is_host
    assert [str(s) for s in host.sources] == ["host", "process"]
    assert snap.engines == ()
    assert found.paths[fd_only.id] == [f"{fake_proc}/40/fd/3"]


def test_unreadable_processes_are_reported(
    fake_proc: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.readlink

    def readlink(path: str, *a: object, **k: object) -> str:
        if str(path).startswith(f"{fake_proc}/901/"):
            raise PermissionError(13, "denied")
        return real(path)

    monkeypatch.setattr(os, "readlink", readlink)
    snap = discovery.discover(proc=str(fake_proc)).snapshot
    assert any("1 of 5 processes" in w and "needs root" in w for w in snap.warnings)
