"""diff_snapshots: every real difference, and nothing that one side simply did not record."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

from nsexplorer import snapshot_json
from nsexplorer.diffing import diff_snapshots, route_text
from nsexplorer.model import (
    Address,
    Container,
    Interface,
    NamespaceId,
    NetNamespace,
    Nexthop,
    Peer,
    Route,
    Rule,
    Snapshot,
)

ETH0 = Interface(
    ifindex=2,
    name="eth0",
    kind="veth",
    state="up",
    mtu=1500,
    mac="02:42:0a:00:00:02",
    addresses=(Address(4, "10.0.0.2", 24, "global"),),
    peer=Peer(4026531833, 9, "veth9"),
    flags=("BROADCAST", "MULTICAST", "UP", "LOWER_UP"),
)
DEFAULT = Route(4, 254, "default", "10.0.0.1", "eth0", "global", "boot")


def ns(ino: int, *, ifaces: tuple[Interface, ...] = (ETH0,), **kw: object) -> NetNamespace:
    base = NetNamespace(
        id=NamespaceId(4, ino),
        label=f"ns{ino}",
        detailed=True,
        interfaces=ifaces,
        routes=(DEFAULT,),
    )
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def snap(*namespaces: NetNamespace) -> Snapshot:
    return Snapshot(hostname="h", collected_at="2026-12-01T00:00:00Z", namespaces=namespaces)


def kinds(a: Snapshot, b: Snapshot) -> list[str]:
    return [c.kind for c in diff_snapshots(a, b)]


def test_identical_snapshots_have_no_changes() -> None:
    assert diff_snapshots(snap(ns(1), ns(2)), snap(ns(1), ns(2))) == ()


def test_namespaces_that_appear_and_go() -> None:
    changes = diff_snapshots(snap(ns(1), ns(2)), snap(ns(1), ns(3)))
    assert [(c.kind, c.namespace_inode) for c in changes] == [
        ("namespace-appeared", 3),
        ("namespace-gone", 2),
    ]


def test_gone_namespace_marked_in_after_counts_as_gone() -> None:
    assert kinds(snap(ns(1)), snap(dataclasses.replace(ns(1), gone=True))) == ["namespace-gone"]


def test_interface_state_mtu_and_flags_changes() -> None:
    down = dataclasses.replace(
        ETH0, state="down", mtu=1400, flags=("BROADCAST", "MULTICAST", "UP", "NO-CARRIER")
    )
    changes = diff_snapshots(snap(ns(1)), snap(ns(1, ifaces=(down,))))
    messages = [c.message for c in changes]
    # the Interfaces column's words: "no carrier", never the kernel's bare "down"
    assert "interface changed eth0: state up -> state no carrier" in messages
    assert "interface changed eth0: mtu 1500 -> mtu 1400" in messages
    assert any(m.startswith("interface changed eth0: flags ") for m in messages)
    assert all(c.namespace_inode == 1 for c in changes)


def test_state_words_tell_admin_down_from_no_carrier() -> None:
    """A veth whose peer went down says lowerlayerdown; the panes say "no carrier", and
    so must the change (the Changes view once said "lowerlayerdown" beside them)."""
    no_carrier = dataclasses.replace(
        ETH0, state="lowerlayerdown", flags=("BROADCAST", "MULTICAST", "UP", "M-DOWN")
    )
    admin_down = dataclasses.replace(ETH0, state="down", flags=("BROADCAST", "MULTICAST"))
    words = [
        c.message
        for other in (no_carrier, admin_down)
        for c in diff_snapshots(snap(ns(1)), snap(ns(1, ifaces=(other,))))
        if c.message.startswith("interface changed eth0: state")
    ]
    assert words == [
        "interface changed eth0: state up -> state no carrier",
        "interface changed eth0: state up -> state admin down",
    ]
    appeared = diff_snapshots(snap(ns(1, ifaces=())), snap(ns(1, ifaces=(no_carrier,))))
    (summary,) = [c.after for c in appeared if c.kind == "interface-appeared"]
    assert summary.startswith("veth no carrier")


def test_a_side_without_flags_compares_operstates() -> None:
    old = dataclasses.replace(ETH0, state="down", flags=())
    assert [c.message for c in diff_snapshots(snap(ns(1, ifaces=(old,))), snap(ns(1)))] == [
        "interface changed eth0: state down -> state up"
    ]


def test_a_change_keeps_its_identity_when_its_words_change() -> None:
    """The Changes view's first-seen time lasts as long as the difference: an mtu that
    changed twice is the same change; two fields of one link are two."""
    first = diff_snapshots(snap(ns(1)), snap(ns(1, ifaces=(dataclasses.replace(ETH0, mtu=1400),))))
    again = diff_snapshots(snap(ns(1)), snap(ns(1, ifaces=(dataclasses.replace(ETH0, mtu=9000),))))
    assert [c.identity for c in first] == [c.identity for c in again]
    assert first != again
    both = diff_snapshots(
        snap(ns(1)), snap(ns(1, ifaces=(dataclasses.replace(ETH0, mtu=9000, mac="02:00"),)))
    )
    assert len({c.identity for c in both}) == 2


def test_queue_length_group_and_broadcast_changes() -> None:
    addr = Address(4, "10.0.0.2", 24, "global", broadcast="10.0.0.255")
    old = dataclasses.replace(ETH0, txqlen=1000, addresses=(addr,))
    new = dataclasses.replace(
        ETH0, txqlen=0, group=7, addresses=(dataclasses.replace(addr, broadcast="10.0.0.77"),)
    )
    messages = [
        c.message for c in diff_snapshots(snap(ns(1, ifaces=(old,))), snap(ns(1, ifaces=(new,))))
    ]
    assert messages == [
        "interface changed eth0: qlen 1000 -> qlen 0",
        "interface changed eth0: group 0 -> group 7",
        "address changed eth0: 10.0.0.2/24 brd 10.0.0.255 -> brd 10.0.0.77",
    ]
    # a snapshot from before they were recorded (no queue length): none is a change
    unrecorded = dataclasses.replace(ETH0, addresses=(dataclasses.replace(addr, broadcast=None),))
    assert diff_snapshots(snap(ns(1, ifaces=(unrecorded,))), snap(ns(1, ifaces=(new,)))) == ()


def test_a_tun_s_owner_and_queues_are_changes() -> None:
    from nsexplorer.model_net import Tun

    old = dataclasses.replace(ETH0, kind="tap", tun=Tun("tap", multi_queue=True, queues=0))
    new = dataclasses.replace(old, tun=Tun("tap", multi_queue=True, queues=1, user=1000))
    (change,) = diff_snapshots(snap(ns(1, ifaces=(old,))), snap(ns(1, ifaces=(new,))))
    assert change.message == (
        "interface changed eth0: tun type tap pi off vnet_hdr off multi_queue numqueues 0"
        " persist off -> tun type tap pi off vnet_hdr off multi_queue numqueues 1 persist off"
        " user 1000"
    )


def test_unrecorded_flags_are_not_a_change() -> None:
    old = dataclasses.replace(ETH0, flags=())
    assert diff_snapshots(snap(ns(1, ifaces=(old,))), snap(ns(1))) == ()


def test_undetailed_side_reports_no_interface_or_route_changes() -> None:
    bare = dataclasses.replace(ns(1), detailed=False, interfaces=(), routes=())
    assert diff_snapshots(snap(bare), snap(ns(1))) == ()


def test_addresses_added_removed_and_flag_change() -> None:
    moved = dataclasses.replace(
        ETH0,
        addresses=(
            Address(4, "10.0.0.3", 24, "global"),
            Address(6, "fd00::2", 64, "global", flags=("dadfailed",)),
        ),
    )
    before = dataclasses.replace(
        ETH0, addresses=(*ETH0.addresses, Address(6, "fd00::2", 64, "global", flags=("tentative",)))
    )
    got = {
        (c.kind, c.before, c.after)
        for c in diff_snapshots(snap(ns(1, ifaces=(before,))), snap(ns(1, ifaces=(moved,))))
    }
    assert ("address-added", "", "10.0.0.3/24") in got
    assert ("address-removed", "10.0.0.2/24", "") in got
    assert ("address-changed", "fd00::2/64 tentative", "dadfailed") in got


def test_interfaces_appear_and_go_by_ifindex() -> None:
    br = Interface(5, "br0", "bridge", "up", 1500, "02:00:00:00:00:05")
    got = kinds(snap(ns(1)), snap(ns(1, ifaces=(ETH0, br))))
    assert got == ["interface-appeared"]
    assert kinds(snap(ns(1, ifaces=(ETH0, br))), snap(ns(1))) == ["interface-gone"]


def test_peer_change_is_reported() -> None:
    other = dataclasses.replace(ETH0, peer=Peer(None, 9, None))
    changes = diff_snapshots(snap(ns(1)), snap(ns(1, ifaces=(other,))))
    assert [c.message for c in changes] == [
        "interface changed eth0: peer veth9 in inode 4026531833 -> peer unresolved ifindex 9"
    ]


def test_a_peer_that_moved_is_said_where_by_name() -> None:
    """QA: `diff` named the peer's namespaces by bare inode only."""
    assert ETH0.peer is not None
    moved = dataclasses.replace(ETH0, peer=dataclasses.replace(ETH0.peer, netns_inode=2))
    before = snap(ns(1), ns(4026531833, ifaces=()), ns(2, ifaces=()))
    after = snap(ns(1, ifaces=(moved,)), ns(4026531833, ifaces=()), ns(2, ifaces=()))
    assert [c.message for c in diff_snapshots(before, after)] == [
        "interface changed eth0: peer veth9 in ns4026531833 (inode 4026531833)"
        " -> peer veth9 in ns2 (inode 2)"
    ]


def test_a_veth_moved_is_one_change_only_when_its_peer_and_mac_prove_it() -> None:
    """veth9 in ns3 moves to ns2 (as ifindex 5): its peer eth0 in ns1, which stayed,
    points at it before and after, so one interface-moved in ns2. With another MAC there
    the device that came is not proved to be the one that went: two rows."""
    veth9 = dataclasses.replace(ETH0, ifindex=9, name="veth9", peer=Peer(1, 2, "eth0"))
    eth0 = dataclasses.replace(ETH0, peer=Peer(3, 9, "veth9"))
    before = snap(ns(1, ifaces=(eth0,)), ns(2, ifaces=()), ns(3, ifaces=(veth9,)))

    def moved(mac: str) -> Snapshot:
        there = dataclasses.replace(veth9, ifindex=5, name="eth1", mac=mac)
        now = dataclasses.replace(eth0, peer=Peer(2, 5, "eth1"))
        return snap(ns(1, ifaces=(now,)), ns(2, ifaces=(there,)), ns(3, ifaces=()))

    changes = diff_snapshots(before, moved(veth9.mac))
    assert [c.kind for c in changes] == ["interface-changed", "interface-moved"]
    move = changes[1]
    assert (move.namespace_inode, move.subject, move.ifindex) == (2, "eth1", 5)
    assert move.message == "interface moved eth1: veth9 in ns3 (inode 3) -> eth1 in ns2 (inode 2)"
    other_mac = [c.kind for c in diff_snapshots(before, moved("02:42:0a:00:00:99"))]
    assert sorted(other_mac) == ["interface-appeared", "interface-changed", "interface-gone"]


def test_routes_and_rules_added_and_removed() -> None:
    ecmp = Route(
        4,
        100,
        "10.9.0.0/16",
        None,
        None,
        "global",
        "static",
        nexthops=(Nexthop("10.0.0.1", "eth0", 1), Nexthop("10.0.0.9", "eth0", 3)),
    )
    rule = Rule(4, 100, 100, "lookup", src="10.0.0.0/24")
    after = dataclasses.replace(ns(1), routes=(ecmp,), rules=(rule,))
    changes = diff_snapshots(snap(ns(1)), snap(after))
    got = [(c.kind, c.subject) for c in changes]
    assert ("route-added", route_text(ecmp)) in got
    assert ("route-removed", route_text(DEFAULT)) in got
    assert ("rule-added", "ipv4 100: from 10.0.0.0/24 lookup 100") in got
    assert "nexthop via 10.0.0.9 dev eth0 weight 3" in route_text(ecmp)


def test_containers_appear_in_a_namespace() -> None:
    c = Container("docker", "a" * 64, "web", "img", "default", 10)
    got = diff_snapshots(snap(ns(1)), snap(dataclasses.replace(ns(1), containers=(c,))))
    assert [(x.kind, x.subject) for x in got] == [("container-appeared", "web")]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nsexplorer", *args], capture_output=True, text=True, check=False
    )


def test_cli_diff_exit_codes_json_and_hostile_label(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    hostile = dataclasses.replace(ns(3, ifaces=()), label="x\x1b]2;pwned\x07[bold]")
    a.write_text(snapshot_json.dumps(snap(ns(1))))
    b.write_text(snapshot_json.dumps(snap(ns(1), hostile)))
    same = _cli("diff", str(a), str(a))
    assert same.returncode == 0, same.stderr
    assert "0 change(s)" in same.stdout
    changed = _cli("diff", str(a), str(b))
    assert changed.returncode == 1
    assert "\x1b" not in changed.stdout and "\x07" not in changed.stdout
    assert "x\\x1b]2;pwned\\x07[bold] (inode 3): namespace appeared" in changed.stdout
    doc = json.loads(_cli("diff", "--json", str(a), str(b)).stdout)
    assert [c["kind"] for c in doc["changes"]] == ["namespace-appeared"]
    assert doc["changes"][0]["namespace_label"] == "x\x1b]2;pwned\x07[bold]"


def test_cli_diff_names_problems_that_appeared_and_cleared(tmp_path: Path) -> None:
    """The diff is the TUI's Changes: a namespace taking another's address is also a
    duplicate-address problem appearing; it clears when the address goes."""
    other = dataclasses.replace(
        ETH0, mac="02:42:0a:00:00:09", addresses=(Address(4, "10.0.0.9", 24, "global"),)
    )
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(snapshot_json.dumps(snap(ns(1), ns(2, ifaces=(other,)))))
    b.write_text(snapshot_json.dumps(snap(ns(1), ns(2))))
    doc = json.loads(_cli("diff", "--json", str(a), str(b)).stdout)
    kinds = [c["kind"] for c in doc["changes"]]
    assert "problem-appeared" in kinds and "problem-cleared" not in kinds
    back = json.loads(_cli("diff", "--json", str(b), str(a)).stdout)
    assert "problem-cleared" in [c["kind"] for c in back["changes"]]
    text = _cli("diff", str(a), str(b)).stdout
    assert "duplicate" in text and "10.0.0.2" in text


def test_cli_diff_unreadable_inputs(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    missing = _cli("diff", str(tmp_path / "nope.json"), str(bad))
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr and "Traceback" not in missing.stderr
    garbage = _cli("diff", str(bad), str(bad))
    assert garbage.returncode == 2
    assert "is not an nsexplorer snapshot" in garbage.stderr


def test_rules_differing_only_in_a_selector_are_different() -> None:
    a = Rule(4, 100, 100, "lookup", src="10.0.0.0/24")
    for changed in (
        dataclasses.replace(a, dport="53"),
        dataclasses.replace(a, invert=True),
        dataclasses.replace(a, suppress_prefixlen=0),
    ):
        got = kinds(snap(dataclasses.replace(ns(1), rules=(a,))),
                    snap(dataclasses.replace(ns(1), rules=(changed,))))  # fmt: skip
        assert sorted(got) == ["rule-added", "rule-removed"], changed


def test_tables_are_named_as_show_and_ip_name_them() -> None:
    """One home for table names (model.table_name): show, the TUI's Inside pane (which
    prints diffing.rule_text) and the diff all say local / main / default."""
    from nsexplorer.cli.show_net import rule_text as show_rule_text
    from nsexplorer.diffing import rule_text
    from nsexplorer.model import table_name

    assert [table_name(t) for t in (255, 254, 253, 100, None)] == [
        "local",
        "main",
        "default",
        "100",
        "-",
    ]
    rules = [
        Rule(4, 0, 255, "lookup"),
        Rule(4, 32766, 254, "lookup"),
        Rule(4, 32767, 253, "lookup"),
    ]
    assert [rule_text(r).split()[-1] for r in rules] == ["local", "main", "default"]
    assert [show_rule_text(r).split()[-1] for r in rules] == ["local", "main", "default"]
    local = Route(4, 255, "10.0.0.1", None, "eth0", "host", "kernel", type="local")
    assert route_text(local).endswith("table local")


def test_two_routes_that_differ_only_by_tos_are_two_routes() -> None:
    from nsexplorer.diffing import route_text
    from nsexplorer.model_net import Route

    plain = Route(4, 254, "10.5.0.0/24", None, "lo", "link", "boot")
    marked = Route(4, 254, "10.5.0.0/24", None, "lo", "link", "boot", tos=0x10)
    assert route_text(plain) != route_text(marked)
    assert route_text(marked) == "ipv4 10.5.0.0/24 tos 0x10 dev lo table main"


def test_rule_words_name_interface_group_0_as_ip_does() -> None:
    from nsexplorer.diffing import rule_words
    from nsexplorer.model_net import Rule

    rule = Rule(4, 100, 100, "lookup", suppress_ifgroup=0)
    assert rule_words(rule) == "100: from all lookup 100 suppress_ifgroup default"
    assert rule_words(Rule(4, 100, 100, "lookup", suppress_ifgroup=5)).endswith("ifgroup 5")


def test_a_port_that_stops_forwarding_and_a_vxlan_retargeted_are_changes() -> None:
    from nsexplorer.model_net import Vxlan

    port = dataclasses.replace(ETH0, master="br0", port_state="forwarding")
    vx = Interface(3, "vx0", "vxlan", "up", 1450, "02:00:00:00:00:03", vxlan=Vxlan(7, "10.9.9.1"))
    before = snap(ns(1, ifaces=(port, vx)))
    after = snap(ns(1, ifaces=(
        dataclasses.replace(port, port_state="disabled"),
        dataclasses.replace(vx, vxlan=Vxlan(7, "10.9.9.2")),
    )))  # fmt: skip
    messages = [c.message for c in diff_snapshots(before, after)]
    assert "interface changed eth0: port state forwarding -> port state disabled" in messages
    assert "interface changed vx0: vxlan id 7 remote 10.9.9.1 -> vxlan id 7 remote 10.9.9.2" in (
        messages
    )
    # a snapshot from before port states were recorded: not a change
    old = snap(ns(1, ifaces=(dataclasses.replace(port, port_state=None), vx)))
    assert diff_snapshots(old, before) == ()


def test_new_link_facts_round_trip_through_json() -> None:
    from nsexplorer.model_net import Vxlan

    port = dataclasses.replace(ETH0, port_state="learning", altnames=("wan0", "enp0s3"))
    vx = Interface(3, "vx0", "vxlan", "up", 1450, "02:00:00:00:00:03",
                   vxlan=Vxlan(7, "ff05::9", "fd00::1", 4789, external=False))  # fmt: skip
    doc = snapshot_json.encode(snap(ns(1, ifaces=(port, vx, ETH0))))
    plain = doc["namespaces"][0]["interfaces"][2]
    assert not {"port_state", "altnames", "vxlan"} & plain.keys()  # only when set
    back = snapshot_json.loads(json.dumps(doc)).namespaces[0].interfaces
    assert back[0].port_state == "learning" and back[0].altnames == ("wan0", "enp0s3")
    assert back[1].vxlan == vx.vxlan and back[2] == ETH0


def test_a_reused_inode_s_old_problems_went_with_it() -> None:
    """QA: a deleted namespace's problems were "cleared" under the namespace that took
    its inode (which never had them). They went with it: only its namespace-gone, and
    the newcomer's own problems are new."""
    from nsexplorer.changes import changes_between

    down = dataclasses.replace(ETH0, state="down", flags=("BROADCAST", "MULTICAST"))
    old = ns(7, ifaces=(down,), cookie=1, label="old")
    newcomer = ns(7, ifaces=(down,), cookie=2, label="new")
    changes = changes_between(snap(old), snap(newcomer))
    kinds = [(c.kind, c.namespace_label) for c in changes]
    assert ("namespace-gone", "old") in kinds and ("namespace-appeared", "new") in kinds
    assert not [k for k in kinds if k[0] == "problem-cleared"]
    appeared = [c for c in changes if c.kind == "problem-appeared"]
    assert appeared and all(c.namespace_label == "new" for c in appeared)
    # the same namespace (same cookie): the same problem is no change at all
    assert changes_between(snap(old), snap(dataclasses.replace(old))) == ()
