"""Namespaces the plain /proc scan misses, on real kernel objects this module makes
(prefix nsxh6, removed even when a test fails):

- held only by a thread other than the main one (as Go programs do);
- held only by a socket, after every process left it (but not by another
  nsexplorer's watcher socket);
- bind-mounted only inside a mount namespace no process is in any more;
- bind-mounted where the lowest-numbered process of its mount namespace is chrooted;
- bind-mounted at a path another mount now covers ("covered", not "gone").
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nsexplorer.collect import mountns
from nsexplorer.collect.source import LiveSource
from nsexplorer.kernel import nsfs
from nsexplorer.model import Group, NetNamespace, Snapshot, Source, group_of

pytestmark = [pytest.mark.integration, pytest.mark.root]

NSX = [sys.executable, "-m", "nsexplorer"]

# A process whose second thread unshares a netns; prints "<netns inode> <tid>".
THREAD_HOLDER = r"""
import ctypes, os, sys, threading, time
libc = ctypes.CDLL(None, use_errno=True)
def work():
    assert libc.unshare(0x40000000) == 0
    print(os.stat("/proc/thread-self/ns/net").st_ino, threading.get_native_id(), flush=True)
    time.sleep(300)
threading.Thread(target=work, daemon=True).start()
time.sleep(300)
"""

# Enters the netns at argv[1] just long enough to make a socket, comes back; prints
# "<fd> <socket inode>".
SOCKET_HOLDER = r"""
import ctypes, os, socket, sys, time
libc = ctypes.CDLL(None, use_errno=True)
home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
there = os.open(sys.argv[1], os.O_RDONLY)
assert libc.setns(there, 0x40000000) == 0
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
assert libc.setns(home, 0x40000000) == 0
os.close(there)
print(s.fileno(), os.fstat(s.fileno()).st_ino, flush=True)
time.sleep(300)
"""


# Another nsexplorer's watcher: its netlink socket in the netns at argv[1]; prints
# "<fd> <socket inode>".
WATCHER_HOLDER = r"""
import os, sys, time
from nsexplorer.collect.watch_sockets import netlink_socket_in
s = netlink_socket_in(sys.argv[1])
print(s.fileno(), os.fstat(s.fileno()).st_ino, flush=True)
time.sleep(300)
"""


def by_inode(snap: Snapshot, ino: int) -> NetNamespace:
    ns = snap.by_inode(ino)
    assert ns is not None, f"netns {ino} not found among {[n.label for n in snap.namespaces]}"
    return ns


def nsx(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*NSX, *args], capture_output=True, check=False, timeout=60)


def run(*argv: str) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{argv}: {done.stderr}"
    return done.stdout


def own_mounts() -> bytes:
    with open("/proc/self/mountinfo", "rb") as f:
        return f.read()


@pytest.fixture
def private_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory that is its own private mount (so mount namespaces can be bound
    there), unmounted (with everything under it) at the end."""
    d = Path(f"/run/nsxh6-{secrets.token_hex(3)}")
    d.mkdir()
    try:
        run("mount", "--bind", str(d), str(d))
        run("mount", "--make-private", str(d))
        yield d
    finally:
        # One layer per umount: the bind mount of d, and what tests stacked on it.
        for _ in range(10):
            if f" {d} ".encode() not in own_mounts():
                break
            subprocess.run(["umount", "-l", str(d)], capture_output=True, check=False)
        shutil.rmtree(d, ignore_errors=True)


def test_thread_held_namespace() -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", THREAD_HOLDER], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        ino, tid = (int(x) for x in holder.stdout.readline().split())
        assert ino != os.stat("/proc/thread-self/ns/net").st_ino
        snap = LiveSource().collect()
        ns = by_inode(snap, ino)
        assert ns.sources == (Source.THREAD,) and not ns.pids
        assert [(h.pid, h.tid) for h in ns.thread_holders] == [(holder.pid, tid)]
        assert ns.label.startswith(f"thread {tid} of pid {holder.pid} (python")
        assert group_of(ns) == Group.PROCESSES
        assert ns.access_path == f"/proc/{holder.pid}/task/{tid}/ns/net"
        assert ns.detailed and [i.name for i in ns.interfaces] == ["lo"]
        doc = json.loads(nsx("list", "--json").stdout)
        (row,) = [n for n in doc["namespaces"] if n["inode"] == ino]
        assert row["sources"] == ["thread"]
        assert row["thread_holders"] == [{"pid": holder.pid, "tid": tid}]
        shown = nsx("show", str(ino))
        assert shown.returncode == 0, shown.stderr
        assert f"held by: thread {tid} of pid {holder.pid}".encode() in shown.stdout
    finally:
        holder.kill()
        holder.wait()


def test_socket_held_namespace(nsxt) -> None:  # type: ignore[no-untyped-def]
    name = nsxt.netns()
    ino = os.stat(f"/run/netns/{name}").st_ino
    holder = subprocess.Popen(
        [sys.executable, "-c", SOCKET_HOLDER, f"/run/netns/{name}"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        fd, sock = (int(x) for x in holder.stdout.readline().split())
        run("ip", "netns", "del", name)  # now only the socket holds it
        src = LiveSource()
        # The cheap pass leaves sockets to the full one (cost); the full pass finds it.
        assert src.discover().by_inode(ino) is None
        ns = by_inode(src.collect(), ino)
        assert ns.sources == (Source.SOCKET,)
        assert [(h.pid, h.fd, h.socket_inode) for h in ns.socket_holders] == [
            (holder.pid, fd, sock)
        ]
        assert group_of(ns) == Group.FD_ONLY
        assert ns.label.startswith(f"socket fd {fd} of pid {holder.pid}")
        assert ns.detailed and [i.name for i in ns.interfaces] == ["lo"]
        # nsenter cannot use /proc/PID/fd/N of a socket: never offered as the access path
        assert ns.access_path == ""
        # the holder's socket is untouched: it still works
        assert os.path.exists(f"/proc/{holder.pid}/fd/{fd}")
        doc = json.loads(nsx("snapshot").stdout)
        (row,) = [n for n in doc["namespaces"] if n["inode"] == ino]
        assert row["socket_holders"] == [{"pid": holder.pid, "fd": fd, "socket_inode": sock}]
    finally:
        holder.kill()
        holder.wait()


def test_another_nsexplorers_watcher_socket_is_not_a_holder(nsxt) -> None:  # type: ignore[no-untyped-def]
    """QA: two TUIs each counted the other's watcher socket as a holder, so both kept
    watching, and holding, a namespace every real holder had left: a deleted netns and
    its veths stayed up for as long as both ran."""
    name = nsxt.netns()
    ino = os.stat(f"/run/netns/{name}").st_ino
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, f"/run/netns/{name}"], stdout=subprocess.PIPE, text=True
        )
        for script in (WATCHER_HOLDER, SOCKET_HOLDER)
    ]
    watcher, plain = procs
    try:
        fds = []
        for p in procs:
            assert p.stdout is not None
            fds.append([int(x) for x in p.stdout.readline().split()])
        run("ip", "netns", "del", name)  # now only the two sockets hold it
        ns = by_inode(LiveSource().collect(), ino)
        # the plain socket holds it; the watcher's is not counted
        assert [(h.pid, h.fd, h.socket_inode) for h in ns.socket_holders] == [(plain.pid, *fds[1])]
        plain.kill()
        plain.wait()
        assert os.path.exists(f"/proc/{watcher.pid}/fd/{fds[0][0]}")  # it still holds it
        assert LiveSource().collect().by_inode(ino) is None  # but that is no holder
    finally:
        for p in procs:
            p.kill()
            p.wait()


# Unprivileged: a namespace of its own (user + net), a netlink socket in it marked as a
# watcher's, handed to a process in the host's netns; the namespace is then held by
# that socket alone. Prints the namespace's inode.
UNPRIVILEGED_MARKED_HOLDER = r"""
import ctypes, os, socket, sys, time
libc = ctypes.CDLL(None, use_errno=True)
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
child = os.fork()
if child == 0:
    if libc.unshare(0x10000000 | 0x40000000) != 0:  # CLONE_NEWUSER | CLONE_NEWNET
        os._exit(1)
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, int(sys.argv[1]))
    socket.send_fds(b, [os.stat("/proc/self/ns/net").st_ino.to_bytes(8, "little")], [s.fileno()])
    os._exit(0)
msg, fds, _, _ = socket.recv_fds(a, 8, 1)
os.waitpid(child, 0)
print(int.from_bytes(msg, "little"), flush=True)
time.sleep(300)
"""


@pytest.mark.parametrize(
    "who",
    [
        ["--reuid=65534", "--regid=65534"],  # a user
        ["--ruid=65534", "--euid=0"],  # a setuid-root program a user started (su waiting)
    ],
)
def test_a_watcher_mark_set_by_an_unprivileged_user_does_not_hide_a_namespace(
    who: list[str],
) -> None:
    """Review: anyone may set SO_MARK in a namespace of their own (`unshare -Urn`), so a
    user could mark the socket that holds a namespace and have it dropped from view, and
    then hand it to a setuid-root program. The mark is believed only on a socket held by
    root of our user namespace, real uid included."""
    from nsexplorer.kernel.pidfd import WATCHER_MARK

    python = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
    holder = subprocess.Popen(
        ["setpriv", *who, "--clear-groups", python, "-I", "-c",
         UNPRIVILEGED_MARKED_HOLDER, str(WATCHER_MARK)],
        stdout=subprocess.PIPE, text=True, cwd="/",
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        line = holder.stdout.readline().strip()
        assert line, "the unprivileged holder could not make its namespace"
        ns = by_inode(LiveSource().collect(), int(line))
        assert [h.pid for h in ns.socket_holders] == [holder.pid]
    finally:
        holder.kill()
        holder.wait()


def test_namespace_in_a_mount_namespace_no_process_is_in(private_dir: Path) -> None:
    holder = private_dir / "mnt"
    holder.touch()
    inner = f"/tmp/nsxh6-inner-{secrets.token_hex(3)}"
    script = (
        f"mkdir -p {inner} && mount -t tmpfs nsxh6 {inner} && touch {inner}/ns && "
        f"unshare --net={inner}/ns true && stat -L -c %i {inner}/ns"
    )
    out = run("unshare", f"--mount={holder}", "--propagation", "private", "sh", "-c", script)
    ino = int(out.split()[-1])
    mnt_ino = os.stat(holder).st_ino
    try:
        assert str(ino).encode() not in own_mounts()  # invisible from here
        src = LiveSource()
        # A helper process per such mount namespace is left to the full pass.
        assert src.discover().by_inode(ino) is None
        snap = src.collect()
        ns = by_inode(snap, ino)
        assert ns.sources == (Source.MOUNT_NS,)
        (m,) = ns.bind_mounts
        assert (m.path, m.mount_ns_inode, m.hidden, m.mount_ns_path, m.covered) == (
            f"{inner}/ns",
            mnt_ino,
            True,
            str(holder),
            False,
        )
        assert group_of(ns) == Group.HIDDEN and ns.label == f"{inner}/ns"
        # read through nsexplorer's own pin (no process is in that mount namespace)
        assert ns.detailed and [i.name for i in ns.interfaces] == ["lo"]
        assert ns.access_path == ""  # the pin is nsexplorer's; nothing to paste
        assert len(mountns.PINS) >= 1
        shown = nsx("show", str(ino))
        assert shown.returncode == 0, shown.stderr
        assert b"which no process is in; held by " + str(holder).encode() in shown.stdout
        assert b"lo " in shown.stdout
        # No helper process is left behind in that mount namespace.
        left = [p for p in os.listdir("/proc") if p.isdigit() and _mnt_of(int(p)) == mnt_ino]
        assert left == []
    finally:
        run("umount", str(holder))
        # made on the host's /tmp by the mkdir inside (the tmpfs went with the holder)
        shutil.rmtree(inner, ignore_errors=True)
    # The holder is gone, so is the mount namespace: the next pass no longer finds the
    # netns and drops nsexplorer's pin (which alone kept it alive meanwhile).
    assert _fd_points_to(ino)
    after = src.collect().by_inode(ino)
    assert not _fd_points_to(ino)
    # Gone unless another process on the host holds it (another nsexplorer that read it
    # meanwhile pins it in its own process), and never any more through that mount.
    assert after is None or Source.MOUNT_NS not in after.sources, after.sources


def _mnt_of(pid: int) -> int | None:
    try:
        return nsfs.parse_ns_link(os.readlink(f"/proc/{pid}/ns/mnt"), "mnt")
    except OSError:
        return None


def _fd_points_to(ino: int) -> bool:
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.stat(f"/proc/self/fd/{fd}").st_ino == ino:
                return True
        except OSError:
            continue
    return False


def test_chrooted_lowest_holder_is_not_used_to_reach_a_hidden_mount(tmp_path: Path) -> None:
    """The mount namespace's lowest pid is chrooted: its mountinfo is empty and its
    /proc/PID/root is the chroot. A process whose root is the namespace's is used."""
    jail = tmp_path / "jail"
    (jail / "bin").mkdir(parents=True)
    shutil.copy("/bin/busybox", jail / "bin" / "busybox")
    os.symlink("busybox", jail / "bin" / "sleep")
    d = tmp_path / "h"
    d.mkdir()
    # sh makes the netns mount, starts an unchrooted sleep, then becomes a chrooted one:
    # the chrooted process has the LOWER pid.
    script = (
        f"mount -t tmpfs nsxh6 {d} && touch {d}/ns && unshare --net={d}/ns true || exit 1; "
        f"sleep 300 & echo ready; exec chroot {jail} /bin/sleep 300"
    )
    proc = subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 5
        while os.readlink(f"/proc/{proc.pid}/root") != str(jail):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        mnt = _mnt_of(proc.pid)
        others = sorted(
            int(p) for p in os.listdir("/proc") if p.isdigit() and _mnt_of(int(p)) == mnt
        )
        assert others[0] == proc.pid and len(others) == 2, others  # chrooted one lowest
        snap = LiveSource().collect()
        (ns,) = [n for n in snap.namespaces if any(m.path == f"{d}/ns" for m in n.bind_mounts)]
        (m,) = ns.bind_mounts
        assert m.hidden and m.via_pid == others[1]
        assert ns.access_path == f"/proc/{others[1]}/root{d}/ns"
        assert ns.detailed and [i.name for i in ns.interfaces] == ["lo"]
    finally:
        for pid in _children_in(proc.pid):
            os.kill(pid, 9)
        proc.kill()
        proc.wait()


def _children_in(pid: int) -> list[int]:
    """Pids whose parent is ``pid`` (the sleep the test's sh started)."""
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(p))
    return out


def test_covered_bind_mount_is_covered_not_gone(private_dir: Path) -> None:
    path = private_dir / "ns"
    path.touch()
    run("unshare", f"--net={path}", "true")
    ino = os.stat(path).st_ino
    run("mount", "-t", "tmpfs", "nsxh6", str(private_dir))  # covers the bind mount
    run("mount", "-t", "tmpfs", "nsxh6b", str(private_dir))  # twice (stacked)
    assert not path.exists()
    mine = str(private_dir).encode()
    before = [line for line in own_mounts().splitlines() if mine in line]
    assert len(before) == 4
    src = LiveSource()
    snap = src.collect()
    ns = by_inode(snap, ino)
    (m,) = ns.bind_mounts
    assert m.path == str(path) and m.covered and not m.hidden
    assert not ns.gone and Source.BIND_MOUNT in ns.sources
    # read anyway: a helper in a private copy of our mount namespace detached the
    # covering tmpfs there; our own mount table is unchanged
    assert ns.detailed and [i.name for i in ns.interfaces] == ["lo"]
    assert [line for line in own_mounts().splitlines() if mine in line] == before
    assert ns.access_path == "" and not ns.names
    assert src.detail(ns).detailed  # not NamespaceGone
    shown = nsx("show", str(ino))
    assert shown.returncode == 0, shown.stderr
    assert b"COVERED by another mount" in shown.stdout and b"GONE" not in shown.stdout
    doc = json.loads(nsx("list", "--json").stdout)
    (row,) = [n for n in doc["namespaces"] if n["inode"] == ino]
    assert row["bind_mounts"][0]["covered"] is True and row["gone"] is False
