"""`snapshot -o PATH` on real files, device nodes, FIFOs and symlinks (as root).

Before the fix, a temporary file was renamed over whatever PATH was: `-o /dev/null`
turned /dev/null into a root-owned 0600 regular file, a FIFO or a symlink was replaced,
an existing file lost its owner and mode. Each test looks at the file type, owner, mode
and inode afterwards. Everything is made in a directory named nsxh2-*, removed after.
"""

from __future__ import annotations

import grp
import os
import pwd
import select
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from nsexplorer import snapshot_json
from nsexplorer.model import NamespaceId, NetNamespace, Snapshot

pytestmark = [pytest.mark.integration, pytest.mark.root]

NOBODY = pwd.getpwnam("nobody").pw_uid
NOGROUP = grp.getgrnam("nogroup").gr_gid


@pytest.fixture
def work() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="nsxh2-out-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def snap(work: Path) -> Path:
    """A small snapshot to replay (`--from`): the writing is what is tested."""
    namespaces = (
        NetNamespace(NamespaceId(4, 1000), is_host=True, label="host", pids=(2,)),
        NetNamespace(NamespaceId(4, 1001), label="nsxh2-\udcff\x1b]2;x\x07", pids=(7,)),
    )
    path = work / "replay.json"
    path.write_text(snapshot_json.dumps(Snapshot("h", "t", namespaces=namespaces)))
    return path


def nsx(snap: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "nsexplorer", "--from", str(snap), "snapshot", *args],
        capture_output=True,
        timeout=timeout,  # a hang is a failure, not a stuck suite
        check=False,
    )


def expected_document(snap: Path) -> bytes:
    done = nsx(snap)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b'{"schema_version": 1')
    return done.stdout


def leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.startswith(".nsexplorer-")]


def test_dash_is_standard_output(snap: Path) -> None:
    done = nsx(snap, "-o", "-")
    assert done.returncode == 0
    assert done.stdout == expected_document(snap)


def test_a_new_file_is_created_0600(snap: Path, work: Path) -> None:
    out = work / "new.json"
    done = nsx(snap, "-o", str(out))
    assert done.returncode == 0, done.stderr
    st = out.lstat()
    assert stat.S_ISREG(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert (st.st_uid, st.st_nlink) == (os.geteuid(), 1)
    assert out.read_bytes() == expected_document(snap)
    assert leftovers(work) == []


@pytest.mark.parametrize("mode", [0o640, 0o644, 0o4755, 0o2750])
def test_an_existing_file_keeps_its_owner_and_mode(snap: Path, work: Path, mode: int) -> None:
    out = work / "kept.json"
    out.write_text("old content\n")
    os.chown(out, NOBODY, NOGROUP)
    os.chmod(out, mode)
    before = out.lstat()
    done = nsx(snap, "-o", str(out))
    assert done.returncode == 0, done.stderr
    after = out.lstat()
    assert stat.S_ISREG(after.st_mode)
    assert (after.st_uid, after.st_gid) == (NOBODY, NOGROUP)
    assert stat.S_IMODE(after.st_mode) == mode
    assert after.st_ino != before.st_ino  # replaced by a rename: never half-written
    assert out.read_bytes() == expected_document(snap)
    assert leftovers(work) == []


def char_device(work: Path, name: str, minor: int) -> Path:
    """A private node for a memory device (1,3 null; 1,7 full) in ``work``: the same
    driver as /dev/null or /dev/full, but a regression replaces this one, not the
    host's (the first run against the old code did replace /dev/null, /dev/full and
    /dev/stdout of the machine)."""
    node = work / name
    os.mknod(node, stat.S_IFCHR | 0o620, os.makedev(1, minor))
    os.chmod(node, 0o620)  # mknod applies the umask
    return node


def test_a_null_device_stays_the_null_device(snap: Path, work: Path) -> None:
    node = char_device(work, "null", 3)
    before = node.lstat()
    done = nsx(snap, "-o", str(node))
    assert done.returncode == 0, done.stderr
    after = node.lstat()
    assert stat.S_ISCHR(after.st_mode)
    assert (after.st_ino, after.st_rdev, after.st_mode, after.st_uid) == (
        before.st_ino,
        before.st_rdev,
        before.st_mode,
        before.st_uid,
    )
    assert stat.S_IMODE(after.st_mode) == 0o620
    assert leftovers(work) == []


def test_a_full_device_is_an_error_message(snap: Path, work: Path) -> None:
    node = char_device(work, "full", 7)
    done = nsx(snap, "-o", str(node))
    assert done.returncode == 1
    assert b"Traceback" not in done.stderr
    assert f"cannot write '{node}': No space left on device".encode() in done.stderr
    assert stat.S_ISCHR(node.lstat().st_mode)
    assert leftovers(work) == []


def test_a_fifo_is_written_through_to_its_reader(work: Path) -> None:
    """A document larger than the pipe buffer (64 KiB): the writer must wait for the
    reader (O_NONBLOCK, used to detect a missing reader, is cleared before writing)."""
    namespaces = tuple(
        NetNamespace(NamespaceId(4, 1000 + i), is_host=i == 0, label=f"nsxh2-{i}", pids=(i + 2,))
        for i in range(1500)
    )
    big = work / "big.json"
    big.write_text(snapshot_json.dumps(Snapshot("h", "t", namespaces=namespaces)))
    document = expected_document(big)
    assert len(document) > 2 * 65536
    fifo = work / "fifo"
    os.mkfifo(fifo, 0o640)
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # the reader is there first
    chunks: list[bytes] = []
    try:
        with subprocess.Popen(
            [sys.executable, "-m", "nsexplorer", "--from", str(big), "snapshot", "-o", str(fifo)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        ) as proc:
            while True:
                ready, _, _ = select.select([rfd], [], [], 1.0)
                if not ready:
                    if proc.poll() is not None:
                        break  # exited without (or after) writing
                    continue
                try:
                    data = os.read(rfd, 4096)  # small reads: the writer has to wait
                except BlockingIOError:
                    continue
                if not data:
                    break  # the writer closed its end
                chunks.append(data)
            _, stderr = proc.communicate(timeout=60)
    finally:
        os.close(rfd)
    assert proc.returncode == 0, stderr
    assert b"".join(chunks) == document
    st = fifo.lstat()
    assert stat.S_ISFIFO(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o640
    assert leftovers(work) == []


def test_a_fifo_without_reader_is_an_error_not_a_hang(snap: Path, work: Path) -> None:
    fifo = work / "lonely"
    os.mkfifo(fifo, 0o600)
    done = nsx(snap, "-o", str(fifo))
    assert done.returncode == 1
    assert b"is a FIFO with no reader: nothing written" in done.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert leftovers(work) == []


@pytest.mark.parametrize("target", ["file", "null device", "missing"])
def test_a_symlink_is_refused_and_left_alone(snap: Path, work: Path, target: str) -> None:
    """Root writing through a planted link would clobber its target: refused, exit 1."""
    precious = work / "precious"
    precious.write_text("precious\n")
    os.chown(precious, NOBODY, NOGROUP)
    null = char_device(work, "null", 3)
    points_to = {"file": str(precious), "null device": str(null), "missing": str(work / "x")}
    link = work / "link.json"
    os.symlink(points_to[target], link)
    done = nsx(snap, "-o", str(link))
    assert done.returncode == 1
    assert b"Traceback" not in done.stderr
    assert b"is a symbolic link" in done.stderr and b"nothing written" in done.stderr
    assert b"`-o -` for standard output" in done.stderr
    assert link.is_symlink() and os.readlink(link) == points_to[target]
    assert precious.read_text() == "precious\n"
    assert not (work / "x").exists()
    assert leftovers(work) == []


def test_a_stdout_link_is_refused_with_a_pointer_to_dash(snap: Path, work: Path) -> None:
    """/dev/stdout is such a link (to /proc/self/fd/1): refused, and it stays a link."""
    link = work / "stdout"
    os.symlink("/proc/self/fd/1", link)
    done = nsx(snap, "-o", str(link))
    assert done.returncode == 1
    assert b"(to '/proc/self/fd/1')" in done.stderr and b"`-o -`" in done.stderr
    assert done.stdout == b""
    assert os.readlink(link) == "/proc/self/fd/1"


@pytest.mark.parametrize("kind", ["directory", "block device", "socket"])
def test_other_kinds_are_refused(snap: Path, work: Path, kind: str) -> None:
    path = work / "thing"
    if kind == "directory":
        path.mkdir()
    elif kind == "block device":
        os.mknod(path, stat.S_IFBLK | 0o600, os.makedev(7, 250))  # never opened
    else:
        import socket

        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(str(path))
    before = path.lstat()
    done = nsx(snap, "-o", str(path))
    assert done.returncode == 1
    assert f"is a {kind}: nothing written".encode() in done.stderr
    after = path.lstat()
    assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)
    assert leftovers(work) == []
    if kind == "directory":
        assert list(path.iterdir()) == []


def test_an_unwritable_directory_is_a_message(snap: Path) -> None:
    done = nsx(snap, "-o", "/proc/nsxh2-snapshot.json")
    assert done.returncode == 1
    assert b"Traceback" not in done.stderr
    assert b"cannot write '/proc/nsxh2-snapshot.json'" in done.stderr
