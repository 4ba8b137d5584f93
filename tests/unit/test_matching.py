"""The one matcher behind `/`, the palette and TARGET: forms, ranks, reasons, order."""

from __future__ import annotations

from dataclasses import replace

import pytest
from matchfixtures import (
    BLUE,
    DIGITS,
    HOST,
    NS2,
    NS10,
    SLEEP,
    WEB,
    WEB_ID,
    WEB_MAC,
    WEB_SPACE,
    cheap,
    iface,
    named,
    snapshot,
    without,
)

from nsexplorer.errors import TargetAmbiguous
from nsexplorer.matching import Kind, Rank, match, may_match_interfaces, shown
from nsexplorer.model import Peer
from nsexplorer.natural import natural_key


def found(query: str, snap: object = None) -> list[tuple[int, Rank, Kind, str]]:
    return [(m.inode, m.rank, m.kind, m.reason) for m in match(snap or snapshot(), query)]  # type: ignore[arg-type]


def test_exact_names_rank_first_and_say_what_matched() -> None:
    assert found("web")[0] == (WEB, Rank.NAME, Kind.CONTAINER_NAME, "container name web")
    assert found("/web")[0][:3] == (WEB, Rank.NAME, Kind.CONTAINER_NAME)
    assert found(WEB_ID)[0][:3] == (WEB, Rank.NAME, Kind.CONTAINER_ID)
    assert found("blue")[0] == (BLUE, Rank.NAME, Kind.NETNS_NAME, "netns name blue")
    assert found("pid 900 (sleep)")[0][:3] == (SLEEP, Rank.NAME, Kind.LABEL)
    assert found("pid:900")[0] == (SLEEP, Rank.NAME, Kind.PID, "process 900")
    assert found("/run/netns/blue")[0][:3] == (BLUE, Rank.NAME, Kind.PATH)
    assert found("/var/run/netns/blue")[0][:3] == (BLUE, Rank.NAME, Kind.PATH)
    assert found(str(WEB))[0] == (WEB, Rank.NAME, Kind.INODE, f"inode {WEB}")


def test_a_trailing_space_is_part_of_the_name() -> None:
    """`'web '` is a legal netns name: it matches exactly, and `web` only starts it."""
    assert found("web ")[0] == (WEB_SPACE, Rank.NAME, Kind.NETNS_NAME, "netns name 'web '")
    ranks = {inode: rank for inode, rank, _, _ in found("web")}
    assert ranks[WEB] == Rank.NAME
    assert ranks[WEB_SPACE] == Rank.PREFIX
    # Exact ranks never fold case; prefixes and substrings do.
    assert found("BLUE")[0][:2] == (BLUE, Rank.PREFIX)


def test_an_address_in_the_form_the_ui_prints() -> None:
    for query in ("10.0.0.5", "10.0.0.5/24"):
        assert found(query) == [
            (BLUE, Rank.FACT, Kind.IP, "ip 10.0.0.5/24 on eth0"),
            (WEB_SPACE, Rank.FACT, Kind.IP, "ip 10.0.0.5/24 on eth0"),
        ]
    # The address with another prefix length is near, never exact.
    assert found("10.0.0.5/16")[0] == (
        BLUE, Rank.PARTIAL, Kind.SUBSTRING, "ip 10.0.0.5/24 on eth0 (not /16)",
    )  # fmt: skip
    assert found("10.0.0.5/32")[0][1] == Rank.PARTIAL
    # The container engine's address counts too, before any interface is read.
    assert found("172.17.0.2", cheap(snapshot())) == [
        (WEB, Rank.FACT, Kind.IP, "ip 172.17.0.2/16 on network bridge of web"),
    ]
    assert found("fe80::1")[0][:3] == (BLUE, Rank.FACT, Kind.IP)
    assert found("fe80::1%eth0")[0][:3] == (BLUE, Rank.FACT, Kind.IP)
    assert all(rank != Rank.FACT for _, rank, _, _ in found("fe80::1%eth9"))


def test_a_cidr_finds_every_namespace_with_an_address_in_it() -> None:
    assert [(i, k) for i, _, k, _ in found("10.0.0.0/24")] == [
        (BLUE, Kind.CIDR),
        (WEB_SPACE, Kind.CIDR),
    ]
    assert found("10.0.0.0/24")[0][3] == "ip 10.0.0.5/24 on eth0 (in 10.0.0.0/24)"
    assert {i for i, r, _, _ in found("172.16.0.0/12") if r == Rank.FACT} == {HOST, WEB}
    assert {i for i, r, _, _ in found("0.0.0.0/0") if r == Rank.FACT} == {
        n.inode for n in snapshot().namespaces
    }
    assert [i for i, r, _, _ in found("fe80::/10") if r == Rank.FACT] == [BLUE]


@pytest.mark.parametrize(
    "mac", [WEB_MAC, WEB_MAC.upper(), "02-42-ac-11-00-02", "0242.ac11.0002", "0242ac110002"]
)
def test_a_mac_in_any_notation(mac: str) -> None:
    assert found(mac)[0] == (WEB, Rank.FACT, Kind.MAC, f"mac {WEB_MAC} on eth0")
    assert [r for _, r, _, _ in found(mac)].count(Rank.FACT) == 1


def test_a_mac_from_the_engine_before_interfaces_are_read() -> None:
    assert found("02-42-ac-11-00-02", cheap(snapshot()))[0] == (
        WEB, Rank.FACT, Kind.MAC, f"mac {WEB_MAC} on network bridge of web",
    )  # fmt: skip


def test_a_veth_finds_both_ends() -> None:
    assert found("veth1234")[:2] == [
        (HOST, Rank.FACT, Kind.INTERFACE, "interface veth1234"),
        (WEB, Rank.FACT, Kind.PEER, "eth0, peer of veth1234 in host"),
    ]
    # Seen from the host's side only (web not read yet) ...
    snap = snapshot()
    half = replace(snap, namespaces=tuple(
        replace(n, detailed=False, interfaces=()) if n.inode == WEB else n for n in snap.namespaces
    ))  # fmt: skip
    assert found("veth1234", half)[1] == (
        WEB, Rank.FACT, Kind.PEER, "eth0, peer of veth1234 in host",
    )  # fmt: skip
    # ... and from web's side only (the host not read yet).
    half = replace(snap, namespaces=tuple(
        replace(n, detailed=False, interfaces=()) if n.inode == HOST else n for n in snap.namespaces
    ))  # fmt: skip
    assert found("veth1234", half) == [
        (WEB, Rank.FACT, Kind.PEER, "eth0, peer of veth1234 in host"),
    ]


def test_an_unresolved_peer_finds_nothing_more() -> None:
    snap = snapshot()
    host = snap.namespaces[0]
    lost = iface(9, "vethlost", "f2:00:00:00:00:01", peer=Peer(None, 77, None))
    snap = replace(snap, namespaces=(replace(host, interfaces=(*host.interfaces, lost)),))
    assert found("vethlost", snap) == [(HOST, Rank.FACT, Kind.INTERFACE, "interface vethlost")]


def test_rank_then_natural_order_of_labels() -> None:
    assert [i for i, r, _, _ in found("ns") if r == Rank.PREFIX] == [NS2, NS10]
    assert natural_key("ns2") < natural_key("ns10") < natural_key("ns10a")
    assert natural_key("x" + "9" * 5000)  # no int() of a 5,000-digit number
    ranks = [r for _, r, _, _ in found("eth0")]
    assert ranks == sorted(ranks)
    # interface eth0 is exact in three namespaces, then "veth0"-like substrings follow
    assert [i for i, r, _, _ in found("eth0") if r == Rank.FACT] == [BLUE, HOST, WEB, WEB_SPACE]


def test_prefix_and_substring() -> None:
    assert found("5e0a")[0] == (
        WEB, Rank.PREFIX, Kind.ID_PREFIX, "id 5e0a1b2c3d4e of container web",
    )  # fmt: skip
    assert found("10.0.2")[0] == (HOST, Rank.PREFIX, Kind.PREFIX, "ip 10.0.2.15/24 on eth0")
    assert found("02:42:ac")[0] == (WEB, Rank.PREFIX, Kind.PREFIX, f"mac {WEB_MAC} on eth0")
    assert found("ker0")[0] == (HOST, Rank.PARTIAL, Kind.SUBSTRING, "interface docker0")
    assert found("img")[0][:2] == (WEB, Rank.PARTIAL)


def test_an_all_digit_name_and_an_inode_both_match_by_name() -> None:
    assert [(i, k) for i, r, k, _ in found(str(BLUE)) if r == Rank.NAME] == [
        (DIGITS, Kind.NETNS_NAME),  # label "3000" sorts before "blue"
        (BLUE, Kind.INODE),
    ]


def test_reasons_are_plain_escaped_text() -> None:
    snap = snapshot()
    host = snap.namespaces[0]
    evil = iface(9, "\x1b]2;x\x07", "f2:00:00:00:00:02")
    snap = replace(snap, namespaces=(replace(host, interfaces=(evil,)),))
    (reason,) = [r for _, _, _, r in found("2;x", snap)]
    assert reason == "interface $'\\x1b]2;x\\x07'"  # pasteable as is
    assert shown("web ") == "'web '"
    assert shown("[@click=app.quit]") == "[@click=app.quit]"
    assert shown("") == "''"


def test_nothing_for_an_empty_query_or_an_absent_thing() -> None:
    assert found("") == []
    assert found("zzzz") == []
    assert match(without(snapshot(), HOST, WEB), "veth1234") == []


@pytest.mark.parametrize(
    ("query", "could"),
    [
        ("eth0", True),
        ("10.0.0.5", True),
        ("10.0.0.0/24", True),
        ("aa-bb-cc-dd-ee-ff", True),
        ("5e0a1b2c3d4e", True),
        ("a-sixteen-chars!", True),  # past a name's 15 bytes, but an altname's 127
        ("x" * 128, False),
        ("pid 900 (sleep)", False),
        ("web ", False),
        ("/run/netns/x", False),
        ("a:b", False),
        ("", False),
        ("..", False),
    ],
)
def test_may_match_interfaces(query: str, could: bool) -> None:
    assert may_match_interfaces(query) is could


def test_a_name_with_invisible_characters_is_found_as_it_is_shown() -> None:
    """The UI shows ESC as \\x1b and a raw byte as \\xff (textsafe.visible), and that is
    what a person can type: the exact shown form is the name, its start a prefix."""
    snap = snapshot()
    host = snap.namespaces[0]
    raw = "ev\x1b]2;x\x07\udcff"
    odd = replace(host, id=replace(host.id, ino=77), names=(raw,), label=raw, is_host=False)
    snap = replace(snap, namespaces=(*snap.namespaces, replace(odd, interfaces=(), containers=())))
    exact = found("ev\\x1b]2;x\\x07\\xff", snap)[0]
    assert exact[:3] == (77, Rank.NAME, Kind.NETNS_NAME)
    assert exact[3] == "netns name $'ev\\x1b]2;x\\x07\\xff'"
    assert found("ev\\x1b]2", snap)[0][:3] == (77, Rank.PREFIX, Kind.PREFIX)
    assert found("\\x07", snap)[0][:2] == (77, Rank.PARTIAL)
    assert found("ev\x1b", snap)[0][:2] == (77, Rank.PREFIX)  # the raw form still works


def test_within_a_rank_own_names_outrank_interface_names() -> None:
    """`/nsxqa-` must find the namespace named nsxqa-..., not the host that holds a
    bridge or veth whose name starts so (the host's label sorts first)."""
    snap = snapshot()
    host = snap.namespaces[0]
    br = iface(20, "nsxqa-br0", "f2:00:00:00:00:20")
    mine = named(4026532999, "nsxqa-a")
    snap = replace(
        snap,
        namespaces=(replace(host, interfaces=(*host.interfaces, br)), *snap.namespaces[1:], mine),
    )
    assert found("nsxqa-", snap) == [
        (4026532999, Rank.PREFIX, Kind.PREFIX, "netns name nsxqa-a"),
        (HOST, Rank.PREFIX, Kind.PREFIX, "interface nsxqa-br0"),
    ]
    assert found("xqa-", snap) == [
        (4026532999, Rank.PARTIAL, Kind.SUBSTRING, "netns name nsxqa-a"),
        (HOST, Rank.PARTIAL, Kind.SUBSTRING, "interface nsxqa-br0"),
    ]
    # A container id prefix is a name of its own too; the ranks themselves stay.
    assert match(snap, "5e0a")[0].own
    assert found("nsxqa-br0", snap)[0][:3] == (HOST, Rank.FACT, Kind.INTERFACE)
    assert [r for _, r, _, _ in found("nsxqa", snap)] == [Rank.PREFIX, Rank.PREFIX]


def test_a_name_typed_as_shown_is_ambiguous_beside_its_look_alike() -> None:
    """QA: netns `a\\x1b` with a real ESC and one named with a backslash, x, 1, b look
    alike in `list`; the text `list` shows for the first, typed back, silently ran in
    the second. Both are answers now (exit 2, each listed with its exact quoting); the
    real name (``$'...'``) designates its own namespace. The filter lists the spelled
    one first: its rows tell them apart (the escape in reverse video)."""
    from nsexplorer.targets import resolve

    snap = snapshot()
    with_esc, literal = named(4026533001, "nsxqa-\x1b[31m"), named(4026533002, "nsxqa-\\x1b[31m")
    snap = replace(snap, namespaces=(*snap.namespaces, with_esc, literal))
    got = found("nsxqa-\\x1b[31m", snap)
    assert [g[:2] for g in got[:2]] == [(4026533002, Rank.NAME), (4026533001, Rank.NAME)]
    with pytest.raises(TargetAmbiguous) as err:
        resolve("nsxqa-\\x1b[31m", snap)
    listed = "\n".join(err.value.candidates)
    assert "\n$'nsxqa-\\x1b[31m' (named, inode 4026533001)" in f"\n{listed}", listed
    assert "\n'nsxqa-\\x1b[31m' (named, inode 4026533002)" in f"\n{listed}", listed
    assert resolve("nsxqa-\x1b[31m", snap).inode == 4026533001


def test_an_altname_finds_its_interface() -> None:
    """QA: `show <altname>` said no namespace matches (systemd's predictable names and
    `ip link property add ... altname` are what logs and rules use)."""
    snap = snapshot()
    long = "enp0s31f6-a-very-long-alternative-name"  # past IFNAMSIZ: altnames go to 127
    spaces = tuple(
        replace(
            n,
            interfaces=tuple(
                replace(i, altnames=(long, "wan0")) if i.name == "eth0" else i for i in n.interfaces
            ),
        )
        if n.inode == WEB
        else n
        for n in snap.namespaces
    )
    snap = replace(snap, namespaces=spaces)
    assert found(long, snap) == [(WEB, Rank.FACT, Kind.INTERFACE, f"altname {long} of eth0")]
    assert found("wan0", snap)[0] == (WEB, Rank.FACT, Kind.INTERFACE, "altname wan0 of eth0")
    assert may_match_interfaces(long)
    assert found("enp0s31f6-a-very", snap)[0][0] == WEB  # a prefix of one, too
