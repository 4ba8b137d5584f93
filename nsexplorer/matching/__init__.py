"""One matcher for the sidebar filter, the command palette and the CLI's TARGET.

``match(namespaces, query)`` answers, for every namespace the query designates, how
strongly (``Rank``), by what (``Kind``) and why, in words a row can show (``reason``).
The query is taken exactly as given: no strip, no case folding for exact ranks (callers
that want a trimmed filter trim it themselves).

Ranks, strongest first:

- ``NAME``: an exact netns name, container name (with or without Docker's leading ``/``)
  or full id, label, inode (ASCII digits below 2**64), ``pid:N`` or path;
- ``FACT``: an exact IP address (with or without its prefix length, as ``ip addr`` and
  the UI print it), every address inside a CIDR (``10.0.0.0/24``), a MAC in any notation
  (``aa:bb:..``, ``aa-bb-..``, ``aabb.ccdd.eeff``, ``aabbccddeeff``, any case), an
  interface name; a veth found by name finds the namespace at its other end too;
- ``PREFIX``: a container id prefix; the start of a name, label, interface name,
  address, MAC, path or inode (case-insensitive);
- ``PARTIAL``: text anywhere in those, or in images, networks, aliases (case-insensitive).

Interface facts exist only for namespaces already read over netlink (``detailed``); the
others can match by name, container and engine-reported addresses only.

Pure: no I/O. Every ``reason`` is plain text already passed through textsafe.visible:
render it as text, never as markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from nsexplorer.matching.query import Query, hex_of, ip_of
from nsexplorer.model import Interface, NamespaceId, NetNamespace, Snapshot
from nsexplorer.natural import natural_key
from nsexplorer.shellquote import shown as shown  # re-exported: reasons name things so
from nsexplorer.textsafe import visible


class Rank(IntEnum):
    NAME = 0
    FACT = 1
    PREFIX = 2
    PARTIAL = 3


class Kind(StrEnum):
    """What matched. The CLI uses only NAME and FACT kinds, and ID_PREFIX."""

    NETNS_NAME = "netns name"
    CONTAINER_NAME = "container name"
    CONTAINER_ID = "container id"
    LABEL = "label"
    INODE = "inode"
    PID = "pid"
    PATH = "path"
    IP = "ip"
    CIDR = "cidr"
    MAC = "mac"
    INTERFACE = "interface"
    PEER = "peer"
    ID_PREFIX = "container id prefix"
    PREFIX = "prefix"
    SUBSTRING = "substring"


@dataclass(frozen=True, slots=True)
class Match:
    """Why one namespace matches: its strongest reason only."""

    id: NamespaceId
    rank: Rank
    kind: Kind
    reason: str  # e.g. "ip 10.0.0.5/24 on eth0", "eth0, peer of veth12 in host"
    # On the namespace's own names (netns name, container name or id, label), not on a
    # fact inside it (an interface, address, MAC...): the stronger within a rank.
    own: bool = False
    # Matched the escaped form of a name with invisible characters (``\x1b`` typed for
    # an ESC): weaker than a name that is exactly the text typed, backslash and all.
    escaped: bool = False
    # The id of the container whose name or id matched: one of several sharing the
    # namespace has its own row (the TUI highlights that one).
    container: str | None = None

    @property
    def inode(self) -> int:
        return self.id.ino


def match(namespaces: Snapshot | Iterable[NetNamespace], query: str) -> list[Match]:
    """Every namespace ``query`` designates, best first: by rank, a match on the
    namespace's own names before one on a fact inside it (see ``strength``), the
    namespace that holds a named interface before the one at the other end of its
    veth, then by the natural order of labels (``ns2`` before ``ns10``), then by inode.
    An empty query matches nothing."""
    spaces = tuple(namespaces.namespaces if isinstance(namespaces, Snapshot) else namespaces)
    if not query:
        return []
    q = Query.parse(query)
    ctx = _Context.of(spaces, q)
    out: list[tuple[Match, NetNamespace]] = []
    for ns in spaces:
        found = _best(ns, q, ctx)
        if found is not None:
            out.append((found, ns))
    out.sort(key=lambda pair: (*strength(pair[0]), natural_key(pair[1].label), pair[1].inode))
    return [m for m, _ in out]


def strength(m: Match) -> tuple[Rank, bool, bool, bool]:
    """How strongly a match designates its namespace (smaller is stronger): its rank,
    then a match on the namespace's own names before one on an interface (or another
    fact) inside it, so ``web`` finds the netns ``web1`` before the host that holds
    ``web1-veth``; then the namespace holding a named interface before the other end
    of its veth. Within the names, one that is the text exactly before one whose
    escaped form is (a netns named ``a\x1b`` with a backslash before one with an ESC).
    Matches of equal strength are equally good answers (``match`` lists them in the
    natural order of labels; the sidebar highlights the first one it lists)."""
    return (m.rank, m.escaped, not m.own, m.kind == Kind.PEER)


def may_match_interfaces(query: str) -> bool:
    """Could ``query`` be an IP, CIDR, MAC or interface name (facts known only once the
    namespaces were read over netlink)?"""
    q = Query.parse(query)
    return q.ip is not None or q.network is not None or bool(q.mac) or q.altname


# --- one namespace -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Context:
    by_inode: dict[int, NetNamespace]
    # For an interface-name query: namespace inode -> (the namespace holding an interface
    # of that name, the interface), for each such veth whose peer is in that namespace.
    peer_ends: dict[int, list[tuple[NetNamespace, Interface]]]

    @staticmethod
    def of(spaces: tuple[NetNamespace, ...], q: Query) -> _Context:
        peer_ends: dict[int, list[tuple[NetNamespace, Interface]]] = {}
        if q.ifname:
            for ns in spaces:
                for iface in ns.interfaces:
                    peer = iface.peer
                    if iface.name == q.raw and peer is not None and peer.netns_inode is not None:
                        peer_ends.setdefault(peer.netns_inode, []).append((ns, iface))
        return _Context({ns.inode: ns for ns in spaces}, peer_ends)


def _best(ns: NetNamespace, q: Query, ctx: _Context) -> Match | None:
    return _name(ns, q) or _fact(ns, q, ctx) or _near(ns, q)


def _m(
    ns: NetNamespace,
    rank: Rank,
    kind: Kind,
    reason: str,
    *,
    own: bool = False,
    container: str | None = None,
) -> Match:
    return Match(ns.id, rank, kind, reason, own or rank == Rank.NAME, container=container)


def _name(ns: NetNamespace, q: Query) -> Match | None:
    t = q.raw
    if q.long:
        return None
    n = Rank.NAME
    if t in ns.names:
        return _m(ns, n, Kind.NETNS_NAME, f"netns name {shown(t)}")
    bare = t[1:] if t.startswith("/") else None
    for c in ns.containers:
        if c.name in (t, bare):
            reason = f"container name {shown(c.name)}"
            return _m(ns, n, Kind.CONTAINER_NAME, reason, container=c.id)
        if t == c.id or (q.hex_id == c.id and q.hex_id):
            reason = f"id of container {shown(c.name)}"
            return _m(ns, n, Kind.CONTAINER_ID, reason, container=c.id)
    if t == ns.label:
        return _m(ns, n, Kind.LABEL, f"label {shown(t)}")
    if q.inode is not None and q.inode == ns.inode:
        return _m(ns, n, Kind.INODE, f"inode {ns.inode}")
    if q.pid is not None and (q.pid in ns.pids or any(c.pid == q.pid for c in ns.containers)):
        return _m(ns, n, Kind.PID, f"process {q.pid}")
    if "/" in t and t in _paths(ns):
        return _m(ns, n, Kind.PATH, f"path {shown(t)}")
    if "\\" in t:  # a name with invisible characters, typed as it is shown (\x1b, \xff)
        for kind, name in _names(ns):
            if not name.isprintable() and visible(name) == t:
                return Match(ns.id, n, kind, f"{kind} {shown(name)}", True, escaped=True)
    return None


def _names(ns: NetNamespace) -> Iterator[tuple[Kind, str]]:
    for name in ns.names:
        yield Kind.NETNS_NAME, name
    for c in ns.containers:
        yield Kind.CONTAINER_NAME, c.name
    if ns.label:
        yield Kind.LABEL, ns.label


def _paths(ns: NetNamespace) -> Iterator[str]:
    if ns.access_path:
        yield ns.access_path
    for m in ns.bind_mounts:
        yield m.path
        yield m.reach_path
    for name in ns.names:
        yield f"/run/netns/{name}"
        yield f"/var/run/netns/{name}"


def _fact(ns: NetNamespace, q: Query, ctx: _Context) -> Match | None:
    f = Rank.FACT
    if q.ip is not None or q.network is not None:
        for addr, plen, where in _addresses(ns):
            ip = ip_of(addr)
            if ip is None:
                continue
            if q.network is not None and ip.version == q.network.version and ip in q.network:
                reason = f"ip {addr}/{plen} on {_where(where)} (in {q.network})"
                return _m(ns, f, Kind.CIDR, reason)
            zone_ok = not q.zone or (len(where) == 1 and where[0] == q.zone)
            if ip == q.ip and q.prefixlen in (None, plen) and zone_ok:
                return _m(ns, f, Kind.IP, f"ip {addr}/{plen} on {_where(where)}")
    if q.mac:
        for mac, where in _macs(ns):
            if hex_of(mac) == q.mac:
                return _m(ns, f, Kind.MAC, f"mac {shown(mac)} on {_where(where)}")
    if q.altname:
        for iface in ns.interfaces:
            if q.raw in iface.altnames:
                reason = f"altname {shown(q.raw)} of {shown(iface.name)}"
                return _m(ns, f, Kind.INTERFACE, reason)
    if not q.ifname:
        return None
    for iface in ns.interfaces:
        if iface.name == q.raw:
            return _m(ns, f, Kind.INTERFACE, f"interface {shown(iface.name)}")
    # The other end of a veth the query names, seen from either side.
    for iface in ns.interfaces:
        peer = iface.peer
        if peer is not None and peer.name == q.raw and peer.netns_inode not in (None, ns.inode):
            reason = _peer_reason(iface.name, q.raw, peer.netns_inode, ctx)
            return _m(ns, f, Kind.PEER, reason)
    for other, iface in ctx.peer_ends.get(ns.inode, ()):
        if other.inode != ns.inode and iface.peer is not None:
            return _m(ns, f, Kind.PEER, _peer_reason(iface.peer.name, q.raw, other.inode, ctx))
    return None


def _peer_reason(mine: str | None, theirs: str, inode: int | None, ctx: _Context) -> str:
    other = ctx.by_inode.get(inode) if inode is not None else None
    where = shown(other.label) if other is not None and other.label else f"inode {inode}"
    head = f"{shown(mine)}, peer" if mine else "peer"
    return f"{head} of {shown(theirs)} in {where}"


# Where a fact is, formatted only for a match (most words never match):
# () nowhere in particular, (ifname,) an interface, (container, network) an engine network.
Where = tuple[str, ...]


def _where(where: Where) -> str:
    if len(where) == 2:
        return f"network {shown(where[1])} of {shown(where[0])}"
    return shown(where[0]) if where else ""


def _addresses(ns: NetNamespace) -> Iterator[tuple[str, int, Where]]:
    """(address, prefix length, where) from netlink, then from the container engine."""
    for iface in ns.interfaces:
        for a in iface.addresses:
            yield a.address, a.prefixlen, (iface.name,)
    for c in ns.containers:
        for net in c.networks:
            if net.ip_address:
                yield net.ip_address, net.prefixlen, (c.name, net.name)
            if net.ipv6_address:
                addr, _, plen = net.ipv6_address.partition("/")
                bits = int(plen) if plen.isascii() and plen.isdigit() and len(plen) < 4 else 128
                yield addr, bits, (c.name, net.name)


def _macs(ns: NetNamespace) -> Iterator[tuple[str, Where]]:
    for iface in ns.interfaces:
        if iface.mac:
            yield iface.mac, (iface.name,)
    for c in ns.containers:
        for net in c.networks:
            if net.mac:
                yield net.mac, (c.name, net.name)


# (text, what it is, where): the reason is made only for a match.
Word = tuple[str, str, Where]

# The words that are the namespace's own names (see Match.own).
_OWN = frozenset({"netns name", "container name", "label", "id"})


def _said(word: Word) -> str:
    text, what, where = word
    if what == "id":
        return f"id {text[:12]} of container {shown(where[0])}"
    if what in ("image", "compose project", "network"):
        return f"{what} {shown(text)} of {shown(where[0])}"
    if what in ("alias", "altname"):
        return f"{what} {shown(text)} of {shown(where[0])}"
    return f"{what} {shown(text)} on {_where(where)}" if where else f"{what} {shown(text)}"


def _words(ns: NetNamespace) -> Iterator[Word]:
    """What prefixes and substrings are matched against, most telling first."""
    for name in ns.names:
        yield name, "netns name", ()
    for c in ns.containers:
        yield c.name, "container name", ()
    if ns.label:
        yield ns.label, "label", ()
    for iface in ns.interfaces:
        yield iface.name, "interface", ()
        for alt in iface.altnames:
            yield alt, "altname", (iface.name,)
    for addr, plen, where in _addresses(ns):
        yield f"{addr}/{plen}", "ip", where
    for mac, where in _macs(ns):
        yield mac, "mac", where
    yield str(ns.inode), "inode", ()
    for path in _paths(ns):
        yield path, "path", ()


def _extra_words(ns: NetNamespace) -> Iterator[Word]:
    """Only for substrings: facts nobody types the start of."""
    for c in ns.containers:
        yield c.id, "id", (c.name,)
        yield c.image, "image", (c.name,)
        if c.compose_project:
            yield c.compose_project, "compose project", (c.name,)
        for net in c.networks:
            yield net.name, "network", (c.name,)
    for iface in ns.interfaces:
        if iface.alias:
            yield iface.alias, "alias", (iface.name,)
    for pid in ns.pids[:50]:
        yield str(pid), "process", ()


def _both(text: str) -> str:
    """``text`` folded, and as it is shown when that differs (NUL between: no query
    holds one, so no match spans the two)."""
    folded = text.casefold()
    return folded if text.isprintable() else f"{folded}\0{visible(text).casefold()}"


def _near(ns: NetNamespace, q: Query) -> Match | None:
    """A prefix (id prefixes first), else a substring; one pass over the words."""
    if q.hex_id:
        for c in ns.containers:
            if c.id.startswith(q.hex_id):
                reason = f"id {c.short_id} of container {shown(c.name)}"
                return _m(ns, Rank.PREFIX, Kind.ID_PREFIX, reason, own=True, container=c.id)
    if q.long:
        return None
    fold = q.fold
    inside: Word | None = None
    for word in _words(ns):
        text = _both(word[0])  # also as it is shown: \x1b, \xff can be typed
        if text.startswith(fold) or f"\0{fold}" in text:
            return _m(ns, Rank.PREFIX, Kind.PREFIX, _said(word), own=word[1] in _OWN)
        if inside is None and fold in text:
            inside = word
    if q.mac_part:
        for mac, where in _macs(ns):
            if hex_of(mac).startswith(q.mac_part):
                return _m(ns, Rank.PREFIX, Kind.PREFIX, f"mac {shown(mac)} on {_where(where)}")
    if q.ip is not None and q.prefixlen is not None:
        # The address itself with another prefix length: near, never exact.
        for addr, plen, where in _addresses(ns):
            if ip_of(addr) == q.ip:
                reason = f"ip {addr}/{plen} on {_where(where)} (not /{q.prefixlen})"
                return _m(ns, Rank.PARTIAL, Kind.SUBSTRING, reason)
    if inside is None:
        inside = next((w for w in _extra_words(ns) if fold in _both(w[0])), None)
    if inside is None:
        return None
    return _m(ns, Rank.PARTIAL, Kind.SUBSTRING, _said(inside), own=inside[1] in _OWN)
