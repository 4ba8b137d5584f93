"""`show`'s text for interfaces, addresses, routes and rules (cli/show_net.py)."""

from __future__ import annotations

from dataclasses import replace

from nsexplorer.cli.discovery import format_namespace
from nsexplorer.cli.show_net import address_text, route_lines, rule_text
from nsexplorer.model import (
    Address,
    Interface,
    NamespaceId,
    NetNamespace,
    Nexthop,
    Peer,
    Route,
    Rule,
    Snapshot,
    Tun,
    TunHolder,
)


def test_address_words() -> None:
    a = Address(4, "10.2.0.1", 32, "global", peer="10.2.0.2", label="va:\x1bx")
    assert address_text(a, "va") == "inet 10.2.0.1 peer 10.2.0.2/32 scope global label va:\\x1bx"
    b = Address(6, "fd00::5", 64, "global", flags=("dadfailed", "tentative"))
    assert address_text(b, "va") == "inet6 fd00::5/64 scope global dadfailed tentative"
    assert address_text(Address(4, "10.0.0.1", 24, "global", label="va"), "va").endswith("global")


def test_broadcast_only_when_not_the_usual_one() -> None:
    """`brd X` when the broadcast is set and is not the prefix's all-ones host part."""
    odd = Address(4, "10.1.4.3", 24, "global", broadcast="10.1.4.77")
    assert address_text(odd) == "inet 10.1.4.3/24 brd 10.1.4.77 scope global"
    usual = Address(4, "10.1.3.3", 24, "global", broadcast="10.1.3.255")
    assert address_text(usual) == "inet 10.1.3.3/24 scope global"
    assert Address(4, "10.9.0.1", 30, "global", broadcast="10.9.0.3").unusual_broadcast is None
    assert Address(4, "10.9.0.1", 16, "global", broadcast="10.9.0.3").unusual_broadcast
    assert address_text(Address(4, "10.1.2.3", 24, "global")) == "inet 10.1.2.3/24 scope global"


def test_lifetimes_group_and_qlen_only_when_not_the_defaults() -> None:
    i = Interface(
        3,
        "a",
        "veth",
        "up",
        1500,
        "aa",
        flags=("BROADCAST", "UP"),
        txqlen=5000,
        group=7,
        addresses=(
            Address(4, "10.1.4.3", 24, "global", ("dynamic",), valid_lft=300, preferred_lft=0),
            Address(4, "10.1.5.3", 24, "global", ("dynamic",), preferred_lft=100),
            Address(4, "10.1.2.3", 24, "global"),
        ),
    )
    lines = format_namespace(
        NetNamespace(NamespaceId(4, 5), detailed=True, interfaces=(i,))
    ).splitlines()
    start = lines.index("      flags <BROADCAST,UP> group 7 qlen 5000")
    assert lines[start + 1 : start + 6] == [
        "      inet 10.1.4.3/24 scope global dynamic",
        "         valid_lft 300sec preferred_lft 0sec",
        "      inet 10.1.5.3/24 scope global dynamic",
        "         valid_lft forever preferred_lft 100sec",
        "      inet 10.1.2.3/24 scope global",
    ]
    usual = replace(i, txqlen=1000, group=0, flags=())
    assert usual.group_qlen_words == ""
    assert replace(usual, txqlen=0).group_qlen_words == "qlen 0"
    text = format_namespace(NetNamespace(NamespaceId(4, 5), detailed=True, interfaces=(usual,)))
    assert "  3: a  veth" in text and " group 0" not in text and "qlen" not in text
    assert "valid_lft forever preferred_lft forever" not in text


def test_multipath_route_lists_its_paths() -> None:
    r = Route(
        4,
        254,
        "10.21.0.0/16",
        None,
        None,
        "global",
        "boot",
        nhid=11,
        nexthops=(Nexthop("10.4.0.254", "x\x1b0", 1), Nexthop("10.4.0.253", "x0", 3, ("dead",))),
    )
    assert route_lines(r) == [
        "    main  10.21.0.0/16 nhid 11 proto boot scope global",
        "          nexthop via 10.4.0.254 dev x\\x1b0 weight 1",
        "          nexthop via 10.4.0.253 dev x0 weight 3 dead",
    ]
    extras = Route(
        4,
        100,
        "10.10.0.0/16",
        "10.4.0.254",
        "x0",
        "global",
        "boot",
        tos=0x10,
        mtu=1400,
        flags=("onlink",),
        metric=7,
    )
    assert route_lines(extras) == [
        "     100  10.10.0.0/16 tos 0x10 via 10.4.0.254 dev x0 proto boot scope global "
        "metric 7 mtu 1400 onlink"
    ]


def test_rules_read_like_ip_rule() -> None:
    assert rule_text(Rule(4, 100, 100, "lookup", src="10.1.0.0/24", fwmark="0x10/0xff")) == (
        "  inet  100: from 10.1.0.0/24 fwmark 0x10/0xff lookup 100"
    )
    assert rule_text(Rule(4, 200, None, "goto", dst="10.5.0.0/16", invert=True, goto=300)) == (
        "  inet  200: not from all to 10.5.0.0/16 goto 300"
    )
    assert rule_text(Rule(6, 500, None, "prohibit", iif="v\x07")) == (
        "  inet6 500: from all iif v\\x07 prohibit"
    )
    assert rule_text(Rule(4, 600, 254, "lookup", suppress_prefixlen=0)) == (
        "  inet  600: from all lookup main suppress_prefixlength 0"
    )


def test_show_has_flags_parent_and_a_rules_section() -> None:
    lower = NetNamespace(NamespaceId(4, 7), label="lower", detailed=True)
    ns = NetNamespace(
        NamespaceId(4, 8),
        label="ns",
        detailed=True,
        interfaces=(
            Interface(
                8,
                "mvb",
                "macvlan",
                "up",
                1500,
                "aa",
                flags=("BROADCAST", "MULTICAST", "UP", "LOWER_UP"),
                parent=Peer(7, 4, "x0"),
            ),
        ),
        rules=(Rule(4, 0, 255, "lookup"),),
    )
    text = format_namespace(ns, Snapshot("h", "t", (lower, ns)))
    assert "  8: mvb  macvlan up mtu 1500 aa" in text
    assert "      flags <BROADCAST,MULTICAST,UP,LOWER_UP>" in text
    assert "      parent: x0 (ifindex 4) in lower (inode 7)" in text
    assert "Rules:\n  inet  0: from all lookup local\n" in text


def test_show_names_why_a_veth_has_no_carrier() -> None:
    """The end whose peer was set down says so, and where that peer is."""
    up = ("NO-CARRIER", "BROADCAST", "MULTICAST", "UP")
    there = NetNamespace(
        NamespaceId(4, 9),
        label="web\x1b",
        detailed=True,
        interfaces=(Interface(2, "eth0", "veth", "down", 1500, "bb", flags=("BROADCAST",)),),
    )
    ns = NetNamespace(
        NamespaceId(4, 8),
        label="host",
        detailed=True,
        interfaces=(
            Interface(5, "v0", "veth", "down", 1500, "aa", flags=up, peer=Peer(9, 2, "eth0")),
        ),
    )
    text = format_namespace(ns, Snapshot("h", "t", (there, ns)))
    assert "  5: v0  veth up, no carrier: peer admin down in web\\x1b (inode 9) mtu" in text


def test_an_ipv6_route_has_no_scope_word() -> None:
    """The kernel sends RT_SCOPE_UNIVERSE for every IPv6 route and ip prints no scope:
    `show` said "scope global" even on fe80::/64 and local ::1 (QA)."""
    r = Route(6, 254, "fe80::/64", None, "eth0", "global", "kernel", metric=256)
    assert route_lines(r) == ["    main  fe80::/64 dev eth0 proto kernel metric 256"]


def test_show_has_a_tun_line_and_who_holds_it() -> None:
    no_carrier = ("NO-CARRIER", "BROADCAST", "MULTICAST", "UP")
    up = ("BROADCAST", "MULTICAST", "UP", "LOWER_UP")
    tun = Tun("tap", vnet_hdr=True, persist=True, user=1000, group=100)
    ns = NetNamespace(
        NamespaceId(4, 8),
        label="vpn",
        detailed=True,
        interfaces=(
            Interface(5, "tap0", "tap", "down", 1500, "aa", flags=no_carrier, tun=tun),
            Interface(6, "tap1", "tap", "up", 1500, "bb", flags=up, tun=tun),
        ),
    )
    words = "tun type tap pi off vnet_hdr on persist on user 1000 group 100"
    # recorded: nobody was asked, no holder line
    text = format_namespace(ns, Snapshot("h", "t", (ns,)))
    assert f"      {words}\n" in text and "held by" not in text
    holders = {
        "tap0": (),
        "tap1": (TunHolder(1234, "openvpn", (3,)), TunHolder(77, "x\x1b", (4, 5), proved=False)),
    }
    text = format_namespace(ns, Snapshot("h", "t", (ns,)), tun_holders=holders)
    assert "  5: tap0  tap up, no carrier: no process has it open mtu 1500 aa\n" in text
    assert f"      {words}\n      held by no process\n" in text
    assert f"      {words}\n      held by openvpn (pid 1234), x\\x1b (pid 77, unproved)\n" in text
