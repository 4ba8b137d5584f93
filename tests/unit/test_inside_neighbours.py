"""Neighbours and bridge FDB: ip's and bridge's words, their default filters."""

from __future__ import annotations

import socket
from typing import Any

from nsexplorer.collect.inside import neighbours as nb
from nsexplorer.collect.inside.neighbours import RawNeigh
from nsexplorer.model_inside import FdbEntry, Neighbour

NAMES = {2: "eth0", 3: "br0", 5: "veth1", 7: "nsx\x1b]2;x\x07"}


def test_neighbours_as_ip_neigh_shows_them() -> None:
    raw = [
        RawNeigh(socket.AF_INET, 2, 0x02, 0, "10.0.0.2", "02:00:00:00:00:02"),
        RawNeigh(socket.AF_INET, 2, 0x20, 0, "10.0.0.3", None),  # FAILED, no lladdr
        RawNeigh(socket.AF_INET, 3, 0x40, 0, "224.0.0.22", "01:00:5e:00:00:16"),  # NOARP
        RawNeigh(socket.AF_INET, 3, 0x00, 0, "10.0.0.4", None),  # NONE
        RawNeigh(socket.AF_INET6, 2, 0x04, 0x80, "fe80::1", "02:00:00:00:00:01"),  # router
        RawNeigh(socket.AF_INET6, 2, 0x02, 0x08, "fe80::9", None),  # proxy entry
        RawNeigh(socket.AF_INET, 9, 0x80, 0, "10.0.0.5", "02:00:00:00:00:05"),  # PERMANENT
    ]
    got = nb.neighbours(raw, NAMES)
    assert got == (
        Neighbour("10.0.0.2", "02:00:00:00:00:02", "REACHABLE", "eth0", 4),
        Neighbour("10.0.0.3", None, "FAILED", "eth0", 4),
        Neighbour("10.0.0.5", "02:00:00:00:00:05", "PERMANENT", "if9", 4),
        Neighbour("fe80::1", "02:00:00:00:00:01", "STALE", "eth0", 6, ("router",)),
    )


def test_fdb_keeps_bridge_entries_and_drops_each_devices_multicast_list() -> None:
    raw = [
        RawNeigh(socket.AF_BRIDGE, 5, 0x02, 0, None, "aa:bb:cc:00:00:01", master=3),  # learned
        RawNeigh(socket.AF_BRIDGE, 5, 0x80, 0, None, "aa:bb:cc:00:00:02", master=3, vlan=1),
        RawNeigh(socket.AF_BRIDGE, 2, 0x80, 0x02, None, "33:33:00:00:00:01"),  # self mcast
        RawNeigh(socket.AF_BRIDGE, 7, 0x80, 0x02, "192.0.2.9", "00:00:00:00:00:00"),  # vxlan
        RawNeigh(socket.AF_BRIDGE, 5, 0x40, 0x10, None, "aa:bb:cc:00:00:03", master=3),
        RawNeigh(socket.AF_INET, 2, 0x02, 0, "10.0.0.2", "02:00:00:00:00:02"),  # not fdb
    ]
    got = nb.fdb(raw, NAMES)
    assert got == (
        FdbEntry(
            "00:00:00:00:00:00", "nsx\x1b]2;x\x07", None, "permanent", ("self",), None, "192.0.2.9"
        ),
        FdbEntry("aa:bb:cc:00:00:01", "veth1", None, "", (), "br0"),
        FdbEntry("aa:bb:cc:00:00:02", "veth1", 1, "permanent", (), "br0"),
        FdbEntry("aa:bb:cc:00:00:03", "veth1", None, "static", ("extern_learn",), "br0"),
    )


class FakeNdmsg(dict[str, Any]):
    """The two accessors of a pyroute2 ndmsg that from_pyroute2 uses."""

    def __init__(self, attrs: dict[str, Any], **fields: Any) -> None:
        super().__init__(fields)
        self.attrs = attrs

    def get_attr(self, name: str) -> Any:
        return self.attrs.get(name)


def test_from_pyroute2_reads_fields_and_attributes() -> None:
    m = FakeNdmsg(
        {"NDA_LLADDR": "aa:bb:cc:00:00:01", "NDA_MASTER": 3, "NDA_VLAN": 10},
        family=socket.AF_BRIDGE,
        ifindex=5,
        state=2,
        flags=0,
    )
    assert nb.from_pyroute2(m) == RawNeigh(
        socket.AF_BRIDGE, 5, 2, 0, None, "aa:bb:cc:00:00:01", master=3, vlan=10
    )


def test_a_pyroute2_message_gives_the_header_ifindex_and_the_via_apart() -> None:
    """A real pyroute2 ndmsg: ``msg.get("ifindex")`` answers NDA_IFINDEX (the via device)
    before the header's ifindex, which put every vxlan flood entry on its underlay (QA).
    With NDA_LINK_NETNSID the via is another namespace's ifindex: not named here."""
    from pyroute2.netlink.rtnl.ndmsg import ndmsg

    msg = ndmsg()
    msg["family"], msg["ifindex"], msg["state"], msg["flags"] = socket.AF_BRIDGE, 6, 0x80, 0x02
    msg["attrs"] = [("NDA_LLADDR", "00:00:00:00:00:00"), ("NDA_DST", "239.1.1.1"),
                    ("NDA_IFINDEX", 2)]  # fmt: skip
    assert msg.get("ifindex") == 2  # the trap itself
    raw = nb.from_pyroute2(msg)
    assert (raw.ifindex, raw.via, raw.via_elsewhere) == (6, 2, False)
    names = {2: "bp1-p", 6: "vxd"}
    (entry,) = nb.fdb([raw], names)
    assert entry.words() == "00:00:00:00:00:00 dev vxd dst 239.1.1.1 via bp1-p self permanent"
    msg["attrs"] = [*msg["attrs"], ("NDA_LINK_NETNSID", 1)]
    (entry,) = nb.fdb([nb.from_pyroute2(msg)], names)
    assert entry.via == "ifindex 2"
