"""The sidebar filter: which namespaces a query finds, best first, and why.

``find`` is the only entry point (the shared matcher of issue 10 item 5 will replace its
body). Ranks, best first:

0. the namespace's own name: label, `ip netns` name, container name, container id
   (or its 12-hex short form);
1. an exact fact: an IP address with or without its prefix length, a CIDR holding one of
   its addresses, a MAC in any notation, an interface name;
2. a prefix of any of those;
3. a substring of anything the namespace shows (image, alias, path, pid...).

Every word of a query must match; a namespace ranks by its worst word.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from nsexplorer.model import NetNamespace, ns_label
from nsexplorer.ui import render

NAME, FACT, PREFIX, SUBSTRING = range(4)
_MAC_SEPARATORS = re.compile(r"[:\-.]")
_HEX12 = re.compile(r"[0-9a-f]{12}\Z")


@dataclass(frozen=True, slots=True)
class Match:
    """One namespace a query found: ``rank`` as above, ``reason`` what matched when it
    was not the namespace's own label ("" then)."""

    inode: int
    rank: int
    reason: str


def find(namespaces: Sequence[NetNamespace], query: str) -> list[Match]:
    """The namespaces ``query`` finds, in the order given (an empty query finds all)."""
    words = query.lower().split()
    found: list[Match] = []
    for ns in namespaces:
        if not words:
            found.append(Match(ns.inode, NAME, ""))
            continue
        hits = [_best(ns, word) for word in words]
        if all(hit is not None for hit in hits):
            ranked = [h for h in hits if h is not None]
            worst = max(rank for rank, _ in ranked)
            reason = next((why for rank, why in sorted(ranked) if why), "")
            found.append(Match(ns.inode, worst, reason))
    return found


def best(matches: Sequence[Match]) -> Match | None:
    """The match to highlight: the lowest rank, the first such in display order."""
    return min(matches, key=lambda m: m.rank, default=None)


# --- one word against one namespace --------------------------------------------------


def _best(ns: NetNamespace, word: str) -> tuple[int, str] | None:
    """The best hit of ``word``: the lowest rank and, within a rank, the row's own label
    ("" : no reason shown), then one of its other names, then any other fact (a row
    whose name starts with the word is not said to match by an interface)."""
    top: tuple[int, int, str] | None = None
    for rank, why in _hits(ns, word):
        hit = (rank, 0 if not why else 1 if why.startswith("name ") else 2, why)
        if top is None or hit[:2] < top[:2]:
            top = hit
            if hit[:2] == (NAME, 0):
                break
    return (top[0], top[2]) if top is not None else None


def _hits(ns: NetNamespace, word: str) -> Iterator[tuple[int, str]]:
    label = ns_label(ns)
    names = [label, ns.label, *ns.names]
    for c in ns.containers:
        names.append(c.name)
    for name in names:
        low = name.lower()
        if low and word == low:
            yield NAME, "" if name == label else f"name {name}"
    for c in ns.containers:
        if word == c.id.lower() or (_HEX12.match(word) and c.id.lower().startswith(word)):
            yield NAME, f"container id {c.short_id}"
    yield from _fact_hits(ns, word)
    for name in names:
        if name and name.lower().startswith(word):
            yield PREFIX, "" if name == label else f"name {name}"
    for c in ns.containers:
        if len(word) >= 3 and c.id.lower().startswith(word):
            yield PREFIX, f"container id {c.short_id}"
    if word in render.search_blob(ns) or word in _addresses_blob(ns):
        yield SUBSTRING, _substring_reason(ns, word)


def _fact_hits(ns: NetNamespace, word: str) -> Iterator[tuple[int, str]]:
    net = _network(word)
    mac = _mac(word)
    for iface in ns.interfaces:
        name = iface.name.lower()
        if word == name:
            yield FACT, f"interface {iface.name}"
        elif name.startswith(word):
            yield PREFIX, f"interface {iface.name}"
        if mac is not None and _mac(iface.mac) == mac:
            yield FACT, f"mac {iface.mac} on {iface.name}"
        for a in iface.addresses:
            shown = f"{a.address}/{a.prefixlen}"
            if word in (a.address.lower(), shown.lower()):
                yield FACT, f"ip {shown} on {iface.name}"
            elif net is not None and _in_network(a.address, net):
                yield FACT, f"ip {shown} in {net.with_prefixlen}"
    for c in ns.containers:
        for cn in c.networks:
            if cn.ip_address and word in (cn.ip_address, f"{cn.ip_address}/{cn.prefixlen}"):
                yield FACT, f"ip {cn.ip_address}/{cn.prefixlen} ({cn.name})"
            if mac is not None and cn.mac and _mac(cn.mac) == mac:
                yield FACT, f"mac {cn.mac} ({cn.name})"


def _substring_reason(ns: NetNamespace, word: str) -> str:
    label = ns_label(ns)
    if word in label.lower():
        return ""
    for iface in ns.interfaces:
        if word in iface.name.lower():
            return f"interface {iface.name}"
        for a in iface.addresses:
            if word in f"{a.address}/{a.prefixlen}".lower():
                return f"ip {a.address}/{a.prefixlen} on {iface.name}"
        if word in iface.mac.lower():
            return f"mac {iface.mac} on {iface.name}"
        if word in iface.alias.lower():
            return f"alias of {iface.name}"
    for c in ns.containers:
        for field, value in (("container", c.name), ("image", c.image), ("id", c.id)):
            if word in value.lower():
                return f"{field} {value if field != 'id' else c.short_id}"
    return "matches"


def _addresses_blob(ns: NetNamespace) -> str:
    return " ".join(
        f"{a.address}/{a.prefixlen}".lower() for iface in ns.interfaces for a in iface.addresses
    )


def _mac(text: str) -> str | None:
    """A MAC address in any notation (aa:bb.., AA-BB-.., aabb.ccdd.eeff) as 12 hex digits."""
    bare = _MAC_SEPARATORS.sub("", text.lower())
    if not _HEX12.match(bare) or text.isdigit():
        return None
    return bare


def _network(word: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """A CIDR that is a network (host bits zero), e.g. 10.0.0.0/24; not 10.0.0.5/24."""
    if "/" not in word:
        return None
    try:
        return ipaddress.ip_network(word, strict=True)
    except ValueError:
        return None


def _in_network(address: str, net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    try:
        return ipaddress.ip_address(address) in net
    except ValueError:
        return False
