"""Schema 1's additive kernel-fact keys: interface flags and parent, address flags, peer
and label, route nexthops and extras, namespace rules. Round trips, exact key names, and
documents written before the keys existed."""

from __future__ import annotations

import json

from nsexplorer import snapshot_json as sj
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
)

# A broadcast that is not the usual one; preferred lifetime over, valid still ticking.
DYING = Address(4, "10.1.4.3", 24, "global", broadcast="10.1.4.77", valid_lft=300, preferred_lft=0)


def snap() -> Snapshot:
    ns = NetNamespace(
        id=NamespaceId(4, 4026532100),
        detailed=True,
        interfaces=(
            Interface(
                3,
                "va",
                "veth",
                "lowerlayerdown",
                1500,
                "7a:3e:db:d2:be:f5",
                flags=("NO-CARRIER", "BROADCAST", "MULTICAST", "UP", "M-DOWN"),
                addresses=(
                    Address(4, "10.2.0.1", 32, "global", peer="10.2.0.2", label="va:x"),
                    Address(6, "fd00::5", 64, "global", flags=("nodad", "noprefixroute")),
                    DYING,
                ),
                peer=Peer(4026532100, 2, "vb"),
                txqlen=5000,
                group=7,
            ),
            Interface(
                8,
                "mvb",
                "macvlan",
                "up",
                1500,
                "aa:bb:cc:dd:ee:ff",
                flags=("BROADCAST", "MULTICAST", "UP", "LOWER_UP"),
                parent=Peer(4026532099, 4, "x0"),
            ),
            Interface(9, "tap0", "tap", "down", 1500, "", parent=Peer(None, 5, None)),
            Interface(
                10,
                "tap1",
                "tap",
                "down",
                1500,
                "",
                tun=Tun(
                    "tap",
                    vnet_hdr=True,
                    persist=True,
                    multi_queue=True,
                    user=1000,
                    group=100,
                    queues=0,
                    disabled_queues=0,
                ),
            ),
            Interface(11, "tun1", "tun", "down", 1500, "", tun=Tun("tun", pi=True)),
        ),
        routes=(
            Route(
                4,
                254,
                "10.21.0.0/16",
                None,
                None,
                "global",
                "boot",
                nexthops=(
                    Nexthop("10.4.0.254", "x0", 1),
                    Nexthop("10.4.0.253", "x0", 3, ("onlink",)),
                ),
                nhid=11,
            ),
            Route(
                4,
                100,
                "10.10.0.0/16",
                "10.4.0.254",
                "x0",
                "global",
                "boot",
                tos=0x10,
                mtu=1400,
                flags=("onlink", "linkdown"),
                encap="ip",
            ),
            Route(6, 254, "fd9::/64", "fd00:1::2", "x0", "global", "boot", src="fd42::/64"),
        ),
        rules=(
            Rule(4, 100, 100, "lookup", src="10.1.0.0/24", iif="va", fwmark="0x10/0xff"),
            Rule(4, 200, None, "goto", dst="10.5.0.0/16", invert=True, tos=0x10, goto=300),
            Rule(
                6, 130, 100, "lookup", uidrange="1000-1999", ipproto=6, sport="1000", dport="80-90"
            ),
            Rule(4, 600, 254, "lookup", suppress_prefixlen=0, l3mdev=True, oif="x0"),
            Rule(
                4,
                700,
                None,
                "goto",
                goto=750,
                iif="gone0",
                iif_detached=True,
                unresolved=True,
                tun_id=77,
                dscp="0x8/0x38",
                realms="2/4",
                protocol="openr",
                unread=(31,),
            ),
        ),
    )
    return Snapshot("h", "2026-12-01T00:00:00Z", (ns,))


def test_round_trip_keeps_every_new_field() -> None:
    s = snap()
    back = sj.loads(sj.dumps(s))
    assert back == s
    # lifetimes are not part of an address's equality (a clock's reading): by hand
    lifetimes = [
        (a.valid_lft, a.preferred_lft) for i in s.namespaces[0].interfaces for a in i.addresses
    ]
    assert [
        (a.valid_lft, a.preferred_lft) for i in back.namespaces[0].interfaces for a in i.addresses
    ] == lifetimes
    assert (300, 0) in lifetimes


def test_key_names() -> None:
    ns = json.loads(sj.dumps(snap()))["namespaces"][0]
    va, mvb = ns["interfaces"][0], ns["interfaces"][1]
    assert va["flags"] == ["NO-CARRIER", "BROADCAST", "MULTICAST", "UP", "M-DOWN"]
    assert (va["admin_up"], va["carrier"]) == (True, False)  # up, no carrier: not "set down"
    tap = next(i for i in ns["interfaces"] if i["name"] == "tap0")
    assert tap["mac"] is None  # no link-layer address: null, not ""
    assert va["parent"] is None
    assert mvb["parent"] == {"netns_inode": 4026532099, "ifindex": 4, "name": "x0"}
    assert va["addresses"][0] == {
        "family": 4,
        "address": "10.2.0.1",
        "prefixlen": 32,
        "scope": "global",
        "flags": [],
        "peer": "10.2.0.2",
        "label": "va:x",
    }
    assert va["addresses"][2]["broadcast"] == "10.1.4.77"
    assert (va["addresses"][2]["valid_lft"], va["addresses"][2]["preferred_lft"]) == (300, 0)
    assert (va["txqlen"], va["group"]) == (5000, 7)
    # Present only when set: no broadcast, forever, not recorded, the default group.
    assert not {"broadcast", "valid_lft", "preferred_lft"} & set(va["addresses"][1])
    assert not {"txqlen", "group"} & set(mvb)
    mp = ns["routes"][0]
    assert mp["nexthops"] == [
        {"gateway": "10.4.0.254", "dev": "x0", "weight": 1, "flags": []},
        {"gateway": "10.4.0.253", "dev": "x0", "weight": 3, "flags": ["onlink"]},
    ]
    assert (mp["nhid"], mp["gateway"], mp["dev"]) == (11, None, None)
    extras = ns["routes"][1]
    assert {k: extras.get(k) for k in ("tos", "src", "encap", "mtu", "flags")} == {
        "tos": 16,
        "src": None,
        "encap": "ip",
        "mtu": 1400,
        "flags": ["onlink", "linkdown"],
    }
    # Rarely set route keys are present only when set; the lists always are.
    plain = ns["routes"][2]
    assert plain["src"] == "fd42::/64" and plain["nexthops"] == [] and plain["flags"] == []
    assert not {"nhid", "tos", "encap", "mtu"} & set(plain)
    assert set(ns["rules"][0]) >= {
        "priority",
        "table",
        "src",
        "dst",
        "iif",
        "oif",
        "fwmark",
        "action",
    }
    assert ns["rules"][0]["fwmark"] == "0x10/0xff" and ns["rules"][1]["table"] is None
    # Further selectors only when set; suppress_prefixlength 0 is set.
    assert set(ns["rules"][0]) == {
        "family",
        "priority",
        "table",
        "src",
        "dst",
        "iif",
        "oif",
        "fwmark",
        "action",
    }
    assert ns["rules"][1]["invert"] is True and ns["rules"][1]["goto"] == 300
    assert ns["rules"][3]["suppress_prefixlen"] == 0 and ns["rules"][3]["l3mdev"] is True
    assert {k: v for k, v in ns["rules"][4].items() if v is not None} == {
        "family": 4,
        "priority": 700,
        "iif": "gone0",
        "action": "goto",
        "goto": 750,
        "tun_id": 77,
        "dscp": "0x8/0x38",
        "realms": "2/4",
        "protocol": "openr",
        "iif_detached": True,
        "unresolved": True,
        "unread": [31],
    }


def test_documents_from_before_the_new_keys_still_decode() -> None:
    doc = json.loads(sj.dumps(snap()))
    ns = doc["namespaces"][0]
    del ns["rules"]
    for i in ns["interfaces"]:
        del i["flags"], i["parent"]
        for a in i["addresses"]:
            del a["flags"], a["peer"], a["label"]
    for r in ns["routes"]:
        for k in ("nexthops", "nhid", "tos", "src", "encap", "mtu", "flags"):
            r.pop(k, None)
    old = sj.decode(doc).namespaces[0]
    assert old.rules == ()
    assert old.interfaces[0].flags == () and old.interfaces[0].admin_up is None
    assert old.interfaces[1].parent is None
    assert old.interfaces[0].addresses[0] == Address(4, "10.2.0.1", 32, "global")
    # written before txqlen, group, broadcast and lifetimes: not recorded, default, forever
    for i in ns["interfaces"]:
        for k in ("txqlen", "group"):
            i.pop(k, None)
        for a in i["addresses"]:
            for k in ("broadcast", "valid_lft", "preferred_lft"):
                a.pop(k, None)
    older = sj.decode(doc).namespaces[0].interfaces[0]
    assert (older.txqlen, older.group, older.group_qlen_words) == (None, 0, "")
    dying = older.addresses[2]
    assert (dying.broadcast, dying.valid_lft, dying.preferred_lft) == (None, None, None)
    assert old.routes[0].nexthops == () and old.routes[1].tos == 0


def test_tun_key_only_when_set_and_read_back() -> None:
    ifaces = json.loads(sj.dumps(snap()))["namespaces"][0]["interfaces"]
    assert "tun" not in ifaces[0] and "tun" not in ifaces[2]
    assert ifaces[3]["tun"] == {
        "type": "tap", "pi": False, "vnet_hdr": True, "multi_queue": True, "numqueues": 0,
        "numdisabled": 0, "persist": True, "user": 1000, "group": 100,
    }  # fmt: skip
    assert ifaces[4]["tun"]["user"] is None and ifaces[4]["tun"]["numqueues"] is None
    back = sj.loads(sj.dumps(snap())).namespaces[0].interfaces
    assert back[3].tun == snap().namespaces[0].interfaces[3].tun
    assert back[3].tun is not None and back[3].tun.held is False
    assert back[4].tun == Tun("tun", pi=True) and back[0].tun is None


def test_documents_from_before_the_tun_key_still_decode() -> None:
    doc = json.loads(sj.dumps(snap()))
    for i in doc["namespaces"][0]["interfaces"]:
        i.pop("tun", None)
    assert all(i.tun is None for i in sj.decode(doc).namespaces[0].interfaces)
