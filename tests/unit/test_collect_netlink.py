"""The rtnetlink decoders and peer resolution, on dumps recorded from a real kernel.

Fixture (tests/unit/fixtures/netlink_two_netns.json): netns A and B, a veth pair eth0/eth0
between them with EQUAL ifindexes (2 and 2), eth0 in A enslaved to bridge ``br[@x=1]``
(alias with an escape sequence and markup), a same-namespace veth pair in A whose one end
has a non-UTF-8 name (b"v\\xffx"), addresses v4/v6, routes in main, local and table 100.
Each namespace numbers the other as nsid 0.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest

from nsexplorer.collect import netlink, wiring
from nsexplorer.collect.netlink import Dump, RawLink
from nsexplorer.model import NamespaceId, Peer

FIXTURE = Path(__file__).parent / "fixtures" / "netlink_two_netns.json"
A = NamespaceId(4, 1001)
B = NamespaceId(4, 1002)


def load() -> dict[str, object]:
    return json.loads(FIXTURE.read_text())


def raw(doc: dict[str, object], ns: str, kind: str) -> list[bytes]:
    return [bytes.fromhex(x) for x in doc[ns][kind]]  # type: ignore[index]


def dumps() -> dict[NamespaceId, Dump]:
    doc = load()
    return {
        A: netlink.parse_dump(*(raw(doc, "nsxtfixA", k) for k in ("links", "addrs", "routes"))),
        B: netlink.parse_dump(*(raw(doc, "nsxtfixB", k) for k in ("links", "addrs", "routes"))),
    }


def test_links_decoded() -> None:
    links = {lk.index: lk for lk in dumps()[A].links}
    assert links[1].kind == "loopback" and links[1].mtu == 65536
    eth0 = links[2]
    assert (eth0.name, eth0.kind, eth0.state, eth0.master, eth0.link_netnsid) == (
        "eth0",
        "veth",
        "up",
        3,
        0,
    )
    assert eth0.slave_kind == "bridge"
    assert eth0.mac == "42:a8:5f:16:67:d2"
    assert eth0.counters is not None and eth0.counters.tx_packets == 3
    br = links[3]
    assert br.name == "br[@x=1]" and br.kind == "bridge"
    assert br.alias == "\x1b]2;pwned\x07[bold]x[/]"
    odd = links[5]
    assert os.fsencode(odd.name) == b"v\xffx"
    assert odd.link == 4 and odd.link_netnsid is None


def test_addresses_and_routes_decoded() -> None:
    d = dumps()
    addrs = {(a.index, a.address.address, a.address.prefixlen, a.address.scope) for a in d[A].addrs}
    assert (3, "10.9.0.1", 24, "global") in addrs
    assert (3, "fd00:9::1", 64, "global") in addrs
    assert (1, "::1", 128, "host") in addrs
    routes = wiring.build_routes(d[B])
    by = {(r.table, r.dst): r for r in routes}
    assert by[(254, "default")].gateway == "10.9.0.1"
    assert by[(254, "default")].dev == "eth0"
    assert by[(100, "10.50.0.0/16")].gateway == "10.9.0.1"
    assert by[(255, "10.9.0.2/32")].type == "local"
    assert by[(254, "10.9.0.0/24")].prefsrc == "10.9.0.2"
    assert by[(254, "10.9.0.0/24")].protocol == "kernel"
    assert by[(254, "10.9.0.0/24")].scope == "link"
    assert {r.family for r in routes} == {4, 6}


def nsids(table: dict[tuple[NamespaceId, NamespaceId], int]) -> wiring.NsidLookup:
    return lambda asking, about: table.get((asking, about))


def test_peers_across_namespaces_with_equal_ifindexes() -> None:
    d = dumps()
    peers, warnings = wiring.resolve_peers(d, nsids({(A, B): 0, (B, A): 0}))
    assert warnings == []
    assert peers[(A, 2)] == Peer(B.ino, 2, "eth0")
    assert peers[(B, 2)] == Peer(A.ino, 2, "eth0")
    # Same-namespace pair.
    assert peers[(A, 4)] == Peer(A.ino, 5, os.fsdecode(b"v\xffx"))
    assert peers[(A, 5)] == Peer(A.ino, 4, "vpeer")


def _strip_ifla_link(msg: bytes) -> bytes:
    """The same RTM_NEWLINK without IFLA_LINK, as older kernels send when both ends of a
    veth have the same ifindex."""
    body = bytearray()
    hdr_len = 16 + 16
    for atype, value in netlink.iter_attrs(msg, hdr_len):
        if atype == netlink.IFLA_LINK:
            continue
        length = 4 + len(value)
        body += struct.pack("=HH", length, atype) + value + b"\0" * ((-length) % 4)
    head = bytearray(msg[:hdr_len])
    struct.pack_into("=I", head, 0, hdr_len + len(body))
    return bytes(head + body)


def test_omitted_ifla_link_means_same_ifindex() -> None:
    doc = load()
    links_a = [_strip_ifla_link(m) for m in raw(doc, "nsxtfixA", "links")]
    links_b = [_strip_ifla_link(m) for m in raw(doc, "nsxtfixB", "links")]
    d = {A: netlink.parse_dump(links_a, [], []), B: netlink.parse_dump(links_b, [], [])}
    eth0 = next(lk for lk in d[A].links if lk.index == 2)
    assert eth0.link is None and eth0.link_netnsid == 0
    peers, warnings = wiring.resolve_peers(d, nsids({(A, B): 0, (B, A): 0}))
    assert peers[(A, 2)] == Peer(B.ino, 2, "eth0")
    assert peers[(B, 2)] == Peer(A.ino, 2, "eth0")
    assert not [w for w in warnings if "eth0" in w]


def veth(index: int, link: int | None, nsid: int | None, name: str = "v") -> RawLink:
    return RawLink(index, name, "veth", "up", 1500, "", "", None, link, nsid, None)


def test_ifindex_alone_never_decides_the_peer() -> None:
    # Two namespaces both have a veth 7 pointing back at host veth 10: only the nsid
    # the kernel confirms picks the right one.
    host, x, y = NamespaceId(4, 1), NamespaceId(4, 2), NamespaceId(4, 3)
    d = {
        host: Dump(links=[veth(10, 7, 5, "h10")]),
        x: Dump(links=[veth(7, 10, 0, "in-x")]),
        y: Dump(links=[veth(7, 10, 0, "in-y")]),
    }
    peers, _ = wiring.resolve_peers(d, nsids({(host, x): 4, (host, y): 5}), host=host)
    assert peers[(host, 10)] == Peer(y.ino, 7, "in-y")


def test_unresolvable_peer_is_reported_not_guessed() -> None:
    host, x = NamespaceId(4, 1), NamespaceId(4, 2)
    d = {host: Dump(links=[veth(10, 7, 3, "h10")]), x: Dump(links=[veth(7, 10, 0, "in-x")])}
    # The kernel says x is not nsid 3 as seen from the host: x's veth is someone else's.
    peers, warnings = wiring.resolve_peers(d, nsids({(host, x): 9}), host=host)
    assert peers[(host, 10)] == Peer(None, 7, None)
    assert not peers[(host, 10)].resolved
    assert any("h10" in w and "could not be read" in w for w in warnings)


def test_peer_in_an_unreadable_namespace_gets_its_namespace_but_no_name() -> None:
    # Not root: x is known (its fd opens, RTM_GETNSID answers) but its links are not.
    host, x, y = NamespaceId(4, 1), NamespaceId(4, 2), NamespaceId(4, 3)
    d = {host: Dump(links=[veth(10, 7, 3, "h10"), veth(11, 7, 8, "h11")])}
    peers, warnings = wiring.resolve_peers(
        d, nsids({(host, x): 3, (host, y): 4}), host=host, unread=[x, y]
    )
    assert peers[(host, 10)] == Peer(x.ino, 7, None)
    assert peers[(host, 11)] == Peer(None, 7, None)  # nsid 8 names neither
    assert len(warnings) == 1 and warnings[0].startswith("2 veth peer(s)")


def test_interfaces_carry_master_names_and_addresses() -> None:
    d = dumps()
    peers, _ = wiring.resolve_peers(d, nsids({(A, B): 0, (B, A): 0}))
    ifaces = {i.ifindex: i for i in wiring.build_interfaces(A, d[A], peers)}
    assert ifaces[2].master == "br[@x=1]" and ifaces[2].master_ifindex == 3
    assert [a.address for a in ifaces[3].addresses if a.family == 4] == ["10.9.0.1"]
    assert ifaces[3].peer is None  # bridges have no peer
    assert ifaces[2].peer == Peer(B.ino, 2, "eth0")


def test_framing_is_defensive() -> None:
    assert netlink.split_messages(b"") == []
    assert netlink.split_messages(b"\x05\x00\x00\x00" + b"\0" * 12) == []  # length < header
    assert netlink.iter_attrs(b"\x02\x00\x01\x00", 0) == []  # attr length < 4
    truncated = struct.pack("=HH", 40, 3) + b"abc"
    assert netlink.iter_attrs(truncated, 0) == []


@pytest.mark.parametrize("nested_flag", [0, 0x8000])
def test_attribute_type_flags_are_masked(nested_flag: int) -> None:
    attr = struct.pack("=HH", 8, 18 | nested_flag) + b"abcd"
    assert netlink.iter_attrs(attr, 0) == [(18, b"abcd")]
