"""Identity is (inode, kernel id): the kernel reuses a freed namespace's inode number, so
the same inode with another id (cookie) is another namespace, in diffs, in the snapshot
JSON and in what the UI keeps; an unknown id (old snapshots, old kernels) falls back to
(dev, ino)."""

from __future__ import annotations

import dataclasses
import errno
import fcntl
import json
import os

import pytest

from nsexplorer import snapshot_json as sj
from nsexplorer.diffing import diff_snapshots
from nsexplorer.kernel import nsfs
from nsexplorer.model import Interface, NamespaceId, NetNamespace, Snapshot, same_namespace
from nsexplorer.ui.inventory import Inventory

ETH0 = Interface(ifindex=2, name="eth0", kind="veth", state="up", mtu=1500, mac="02:00:00:00:00:02")
INODE = 4026533129


def ns(cookie: int | None, label: str = "nsxid-a", **kw: object) -> NetNamespace:
    base = NetNamespace(
        id=NamespaceId(4, INODE), label=label, cookie=cookie, detailed=True, interfaces=(ETH0,)
    )
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def snap(*namespaces: NetNamespace) -> Snapshot:
    return Snapshot(hostname="h", collected_at="2026-12-02T00:00:00Z", namespaces=namespaces)


def test_same_inode_other_cookie_is_another_namespace() -> None:
    assert same_namespace(ns(11), ns(11))
    assert not same_namespace(ns(11), ns(12))
    assert same_namespace(ns(None), ns(12))  # unknown on one side: (dev, ino) is all
    assert not same_namespace(ns(11), dataclasses.replace(ns(11), id=NamespaceId(4, 1)))
    assert ns(11).identity == (INODE, 11)


def test_a_namespace_replaced_under_its_inode_is_gone_and_appeared_not_unchanged() -> None:
    a, b = ns(11), ns(12, label="nsxid-b")
    changes = diff_snapshots(snap(a), snap(b))
    assert [c.kind for c in changes] == ["namespace-appeared", "namespace-gone"]
    assert all(c.namespace_inode == INODE for c in changes)
    assert "reused inode" in changes[0].after and changes[1].before == "nsxid-a"
    # the very same namespace, or one side without an id: a diff of its contents
    assert diff_snapshots(snap(a), snap(ns(11))) == ()
    assert diff_snapshots(snap(ns(None)), snap(b)) == ()


def test_the_cookie_round_trips_and_old_snapshots_without_it_still_load() -> None:
    doc = sj.encode(snap(ns(11)))
    assert doc["namespaces"][0]["cookie"] == 11
    assert sj.loads(sj.dumps(snap(ns(11)))).namespaces[0].cookie == 11
    unknown = sj.encode(snap(ns(None)))["namespaces"][0]
    assert "cookie" in unknown and unknown["cookie"] is None
    old = {"schema_version": 1, "hostname": "h", "collected_at": "t", "namespaces": [{"inode": 5}]}
    assert sj.loads(json.dumps(old)).namespaces[0].cookie is None


def test_the_newcomer_takes_the_selected_row_with_nothing_of_the_old_one() -> None:
    """Held back while the old row stayed selected, a restarted container was hidden
    (QA); the newcomer takes the row at once, reported once, none of the old facts."""
    inv = Inventory()
    inv.apply(snap(ns(11)), selected=INODE, now=0.0)
    inv.remember_processes(INODE, ())
    newcomer = ns(12, label="nsxid-b", detailed=False, interfaces=())
    inv.apply(snap(newcomer), selected=INODE, now=1.0)
    shown = inv.get(INODE)
    assert shown is not None and shown.cookie == 12 and not shown.gone
    assert shown.interfaces == () and not shown.detailed and shown.label == "nsxid-b"
    assert INODE not in inv.processes  # the old one's processes are not the newcomer's
    assert list(inv.replaced_now) == [INODE]
    assert inv.replaced_now[INODE].label == "nsxid-a"  # what was shown there
    assert inv.was_replaced(inv.replaced_now[INODE]) and not inv.was_replaced(shown)
    inv.apply(snap(newcomer), selected=INODE, now=1.5)
    assert inv.replaced_now == {}  # not reported again


def test_the_inventory_never_copies_interfaces_onto_a_newcomer_not_selected() -> None:
    inv = Inventory()
    inv.apply(snap(ns(11)), selected=None, now=0.0)
    inv.apply(snap(ns(12, detailed=False, interfaces=())), selected=None, now=1.0)
    shown = inv.get(INODE)
    assert shown is not None and shown.cookie == 12 and shown.interfaces == ()


def test_the_kernel_reader_says_none_where_the_kernel_has_no_id_and_dev_ino_decide(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    own = nsfs.own_netns()
    fd, _ = nsfs.open_verified(nsfs.OWN_NETNS, expect=own)
    try:
        real = nsfs.namespace_cookie(fd)
    finally:
        os.close(fd)
    if real is not None:  # this kernel has NS_GET_ID: a wrong id is refused
        with pytest.raises(nsfs.NamespaceReplaced):
            nsfs.open_verified(nsfs.OWN_NETNS, expect=own, cookie=real + 1)
        os.close(nsfs.open_verified(nsfs.OWN_NETNS, expect=own, cookie=real)[0])

    def no_such_ioctl(*args: object) -> int:
        raise OSError(errno.ENOTTY, "Inappropriate ioctl for device")

    monkeypatch.setattr(fcntl, "ioctl", no_such_ioctl)
    fd, _ = nsfs.open_verified(nsfs.OWN_NETNS, expect=own, cookie=12345)  # (dev, ino) only
    try:
        assert nsfs.namespace_cookie(fd) is None
    finally:
        os.close(fd)
    with pytest.raises(nsfs.NamespaceMismatch):  # and (dev, ino) still decide
        nsfs.open_verified(nsfs.OWN_NETNS, expect=NamespaceId(own.dev, own.ino + 1), cookie=1)


def test_a_read_of_another_namespace_under_the_inode_is_not_merged_in() -> None:
    from nsexplorer.collect.netns_reader import NsRead
    from nsexplorer.collect.source import merge

    shown = ns(11, detailed=False, interfaces=())
    other = NsRead(interfaces=(ETH0,), path="/run/netns/nsxid-a", cookie=12)
    merged = merge(shown, other)
    assert merged.gone and merged.interfaces == () and merged.cookie == 11
    assert any("another namespace" in w for w in merged.warnings)
    same = merge(shown, dataclasses.replace(other, cookie=11))
    assert same.detailed and same.interfaces == (ETH0,) and not same.gone
    unknown = merge(shown, dataclasses.replace(other, cookie=None))  # no ids: (dev, ino)
    assert unknown.detailed and not unknown.gone
