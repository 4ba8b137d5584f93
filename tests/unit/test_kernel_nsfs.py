"""Opening namespace files safely: nsfs only, no planted symlinks, no FIFO blocking."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nsexplorer.kernel import nsfs


def test_own_namespace_opens_and_is_identified() -> None:
    fd, ident = nsfs.open_verified("/proc/thread-self/ns/net")
    try:
        assert ident == nsfs.own_netns()
        assert ident.dev == nsfs.nsfs_dev()
    finally:
        os.close(fd)
    assert nsfs.stat_namespace(f"/proc/{os.getpid()}/ns/net") == nsfs.own_netns()


def test_regular_file_is_not_a_namespace(tmp_path: Path) -> None:
    stale = tmp_path / "sandbox"
    stale.write_bytes(b"")
    with pytest.raises(nsfs.NotANamespace):
        nsfs.open_verified(str(stale))


def test_fifo_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(nsfs.NotANamespace):
        nsfs.open_verified(str(fifo))


def test_planted_symlink_is_not_followed(tmp_path: Path) -> None:
    link = tmp_path / "ns"
    os.symlink("/proc/thread-self/ns/net", link)
    with pytest.raises(OSError):  # ELOOP from O_NOFOLLOW
        nsfs.open_verified(str(link))


def test_missing_path_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        nsfs.open_verified(str(tmp_path / "nope"))
    assert list(tmp_path.iterdir()) == []


def test_expected_identity_is_checked() -> None:
    own = nsfs.own_netns()
    with pytest.raises(nsfs.NamespaceMismatch):
        nsfs.open_verified("/proc/thread-self/ns/net", expect=type(own)(own.dev, own.ino + 1))


def test_parse_ns_link() -> None:
    assert nsfs.parse_ns_link("net:[4026531840]") == 4026531840
    assert nsfs.parse_ns_link("mnt:[4026531840]") is None
    assert nsfs.parse_ns_link("mnt:[4026531840]", "mnt") == 4026531840
    assert nsfs.parse_ns_link("net:[x]") is None
    assert nsfs.parse_ns_link("/dev/null") is None


def test_read_bounded(tmp_path: Path) -> None:
    f = tmp_path / "big"
    f.write_bytes(b"x" * 1000)
    assert nsfs.read_bounded(str(f), 100) == (b"x" * 100, True)
    assert nsfs.read_bounded(str(f), 5000) == (b"x" * 1000, False)
