"""Who holds a namespace's tun/tap devices (collect/tun_holders.py): fds whose device is
proved to be in another namespace are not holders; unproved ones are listed as such."""

from __future__ import annotations

import pytest

from nsexplorer.collect import tun_holders as th
from nsexplorer.kernel.tun_fds import TunFd, _iff
from nsexplorer.model import Interface, NamespaceId, NetNamespace, Tun, TunHolder

HERE = NamespaceId(4, 100)


def test_holders_are_proved_in_the_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    ns = NetNamespace(
        HERE,
        cookie=9,
        detailed=True,
        interfaces=(
            Interface(1, "lo", "loopback", "up", 65536, ""),
            Interface(2, "tap0", "tap", "up", 1500, "aa", tun=Tun("tap")),
            Interface(3, "tun0", "tun", "up", 1500, "", tun=Tun("tun")),
        ),
    )
    asked: list[object] = []

    def fds(names: object, proc: str) -> list[TunFd]:
        asked.append(names)
        return [
            TunFd(30, 4, "tap0", (4, 100, 9)),
            TunFd(30, 5, "tap0", (4, 100, 9)),  # a second queue of the same process
            TunFd(20, 3, "tap0", (4, 200, 1)),  # a tap0 of another namespace
            TunFd(21, 3, "tap0", (4, 100, 8)),  # the inode reused by a new namespace
            TunFd(10, 6, "tap0", None, "EPERM"),  # not asked: its name matched
        ]

    monkeypatch.setattr(th, "tun_fds", fds)
    monkeypatch.setattr(th, "read_comm", lambda pid, proc: f"p{pid}")
    assert th.tun_holders(ns) == {
        "tap0": (TunHolder(10, "p10", (6,), proved=False), TunHolder(30, "p30", (4, 5))),
        "tun0": (),
    }
    assert asked == [{"tap0", "tun0"}]  # only the devices' names are looked for
    # a namespace without tun/tap devices: no walk over /proc at all
    assert th.tun_holders(NetNamespace(HERE, detailed=True)) == {}
    assert len(asked) == 1


def test_fdinfo_names_the_attached_device() -> None:
    assert _iff(b"pos:\t0\nflags:\t02100002\nmnt_id:\t63\nino:\t104\niff:\tnsxtun0\n") == (
        "nsxtun0"
    )
    assert _iff(b"pos:\t0\nflags:\t02\niff:\t\n") == ""  # open, not attached (no TUNSETIFF)
    assert _iff(b"pos:\t0\n") == ""


def test_any_node_of_the_tun_device_is_a_candidate() -> None:
    """Review: only the path /dev/net/tun was looked at; a container's or chroot's node,
    or one deleted since, names the same device (the fd itself proves it)."""
    from nsexplorer.kernel.tun_fds import _tun_node

    assert _tun_node("/dev/net/tun")
    assert _tun_node("/srv/jail/dev/net/tun")
    assert _tun_node("/dev/net/tun (deleted)")
    assert not _tun_node("socket:[12345]")
    assert not _tun_node("/var/log/tunnel.log")
