"""The sidebar filter's reason: the best one (the row's own name before an interface)."""

from __future__ import annotations

from nsexplorer.matching import Rank, match
from nsexplorer.model import Interface, NamespaceId, NetNamespace
from nsexplorer.ui import render


def named(ino: int, name: str, *ifnames: str) -> NetNamespace:
    ifaces = tuple(
        Interface(n, ifname, "veth", "up", 1500, f"02:00:00:00:00:0{n}")
        for n, ifname in enumerate(ifnames, 1)
    )
    return NetNamespace(NamespaceId(4, ino), label=name, names=(name,), interfaces=ifaces)


def test_a_row_whose_name_matches_is_not_said_to_match_by_an_interface() -> None:
    """QA: typing a prefix of a namespace's name gave 'interface nsxlab-ab' as the reason
    for the row nsxlab-ab (its veth has the same name)."""
    ab = named(1, "nsxlab-ab", "nsxlab-ab", "lo")
    host = named(2, "host", "nsxlab-ab-h")
    got = {m.inode: m for m in match([ab, host], "nsxlab-a")}
    assert got[1].rank == Rank.PREFIX and got[1].reason == "netns name nsxlab-ab"
    assert got[2].reason == "interface nsxlab-ab-h"  # the host: only its interface matches


def test_an_exact_name_shows_no_reason_an_other_name_does() -> None:
    ns = named(1, "nsxt-main", "nsxt-yy0")
    ns = NetNamespace(
        ns.id, label="nsxt-main", names=("nsxt-main", "nsxt-yy"), interfaces=ns.interfaces
    )
    (exact,) = match([ns], "nsxt-main")
    assert render.match_reason(exact) == ""
    (other,) = match([ns], "nsxt-y")
    assert other.rank == Rank.PREFIX and other.reason == "netns name nsxt-yy"
