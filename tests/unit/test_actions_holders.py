"""The unname safety check: counting what else keeps a namespace alive (fake /proc)."""

from __future__ import annotations

from pathlib import Path

from nsexplorer.actions.holders import _nsfs_mounts, count_holders

INO = 4026532500
NAME = "/run/netns/blue"


def fake_proc(  # noqa: PLR0917
    root: Path, pid: int, net: int, mnt: int, mountinfo: str, fds: dict[str, str]
) -> None:
    d = root / str(pid)
    (d / "ns").mkdir(parents=True)
    (d / "ns" / "net").symlink_to(f"net:[{net}]")
    (d / "ns" / "mnt").symlink_to(f"mnt:[{mnt}]")
    (d / "fd").mkdir()
    for fd, target in fds.items():
        (d / "fd" / fd).symlink_to(target)
    (d / "mountinfo").write_text(mountinfo)


def line(point: str, ino: int = INO) -> str:
    return f"91 90 0:4 net:[{ino}] {point} rw - nsfs nsfs rw\n"


def test_mountinfo_parsing_unescapes_mount_points(tmp_path: Path) -> None:
    text = line("/tmp/with\\040space") + line("/other", ino=1) + "22 1 0:21 / /sys rw - sysfs\n"
    (tmp_path / "mountinfo").write_text(text)
    assert _nsfs_mounts(str(tmp_path), INO) == ["/tmp/with space"]


def test_only_the_name_itself_means_no_holder(tmp_path: Path) -> None:
    fake_proc(tmp_path, 10, 1, 100, line(NAME), {"0": "/dev/null"})
    fake_proc(tmp_path, 11, 1, 200, line(NAME), {})  # a propagated copy elsewhere
    assert count_holders(INO, (NAME,), proc=str(tmp_path)) == 0


def test_a_process_in_it_holds_it(tmp_path: Path) -> None:
    fake_proc(tmp_path, 10, 1, 100, line(NAME), {})
    fake_proc(tmp_path, 11, INO, 100, "", {})
    assert count_holders(INO, (NAME,), proc=str(tmp_path)) == 1


def test_an_open_fd_holds_it(tmp_path: Path) -> None:
    fake_proc(tmp_path, 10, 1, 100, line(NAME), {"5": f"net:[{INO}]"})
    assert count_holders(INO, (NAME,), proc=str(tmp_path)) == 1


def test_a_hidden_bind_mount_in_another_mount_namespace_holds_it(tmp_path: Path) -> None:
    fake_proc(tmp_path, 10, 1, 100, line(NAME), {})
    fake_proc(tmp_path, 11, 1, 200, line("/run/docker/netns/abc"), {})
    assert count_holders(INO, (NAME,), proc=str(tmp_path)) == 1


def test_unreadable_proc_assumes_held(tmp_path: Path) -> None:
    assert count_holders(INO, (NAME,), proc=str(tmp_path / "missing")) == 1


def test_an_fd_opened_through_a_path_holds_it(tmp_path: Path) -> None:
    """An fd opened as /run/netns/x reads back as that path (or "/" once unmounted),
    not net:[ino]: unname then claimed 'nothing but the name keeps it alive'."""
    held = tmp_path / "the-namespace-file"
    held.write_text("")
    st = held.stat()
    fake_proc(tmp_path / "proc", 10, 1, 100, line(NAME, ino=st.st_ino), {"3": str(held)})
    proc = str(tmp_path / "proc")
    assert count_holders(st.st_ino, (NAME,), proc=proc, dev=st.st_dev) == 1
    # Same inode number on another device is not it.
    assert count_holders(st.st_ino, (NAME,), proc=proc, dev=st.st_dev + 1) == 0
