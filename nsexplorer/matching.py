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

import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from functools import lru_cache, partial

from nsexplorer.model import Interface, NamespaceId, NetNamespace, Snapshot
from nsexplorer.textsafe import visible

INODE_LIMIT = 2**64
# Enough digits for any pid (the kernel's ceiling is 2**22) and any inode (2**64 - 1).
_INODE = re.compile(r"[0-9]{1,20}", re.ASCII)
_PID = re.compile(r"pid:([0-9]{1,10})", re.ASCII)
_HEX = re.compile(r"[0-9a-f]+", re.ASCII | re.IGNORECASE)
_MAC_SEP = re.compile(r"[0-9a-f]{2}([:-])(?:[0-9a-f]{2}\1){4}[0-9a-f]{2}", re.ASCII | re.I)
_MAC_DOT = re.compile(r"[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}", re.ASCII | re.I)
_MAC_PART = re.compile(r"[0-9a-f]{1,2}(?:[:-][0-9a-f]{0,2})+|[0-9a-f]{4}\.[0-9a-f.]*", re.A | re.I)
_DIGITS = re.compile(r"([0-9]{1,18})", re.ASCII)
_IP_CHARS = re.compile(r"[0-9a-f:.%/]+", re.ASCII | re.IGNORECASE)
# The kernel's dev_valid_name: 1-15 bytes, not "." or "..", no "/", ":" or whitespace.
_IFNAME_BAD = re.compile(r"[/:\s\x00]", re.ASCII)
_QUERY_LIMIT = 4096  # longer than any name, path or address: nothing exact can match


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

    @property
    def inode(self) -> int:
        return self.id.ino


def match(namespaces: Snapshot | Iterable[NetNamespace], query: str) -> list[Match]:
    """Every namespace ``query`` designates, best first: by rank, then by the natural
    order of labels (``ns2`` before ``ns10``), then by inode. An empty query matches
    nothing."""
    spaces = tuple(namespaces.namespaces if isinstance(namespaces, Snapshot) else namespaces)
    if not query:
        return []
    q = _Query.parse(query)
    ctx = _Context.of(spaces, q)
    out: list[tuple[Match, NetNamespace]] = []
    for ns in spaces:
        found = _best(ns, q, ctx)
        if found is not None:
            out.append((found, ns))
    out.sort(key=lambda pair: (pair[0].rank, natural_key(pair[1].label), pair[1].inode))
    return [m for m, _ in out]


def natural_key(text: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key that orders digit runs by value: ``ns2`` before ``ns10``."""
    parts = _DIGITS.split(text)
    return tuple(
        (0, int(p), "") if i % 2 else (1, 0, p.casefold()) for i, p in enumerate(parts) if p
    )


def shown(text: str) -> str:
    """``text`` as a message shows it: bare when plain, else quoted with every invisible
    or surrounding space made visible (``'web '``, ``'\\x1b[31m'``)."""
    if text and text == text.strip() and text.isprintable():
        return visible(text)
    return visible(repr(text))


def may_match_interfaces(query: str) -> bool:
    """Could ``query`` be an IP, CIDR, MAC or interface name (facts known only once the
    namespaces were read over netlink)?"""
    q = _Query.parse(query)
    return q.ip is not None or q.network is not None or bool(q.mac) or q.ifname


def _valid_ifname(name: str) -> bool:
    if name in ("", ".", "..") or _IFNAME_BAD.search(name):
        return False
    try:  # raw bytes kept by os.fsdecode count one each; other surrogates are no name
        return len(name.encode("utf-8", "surrogateescape")) <= 15
    except UnicodeEncodeError:
        return False


# --- the query, parsed once ------------------------------------------------------------

IPAddr = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNet = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class _Query:
    raw: str
    fold: str
    inode: int | None = None
    pid: int | None = None
    ip: IPAddr | None = None  # an address, alone or with a prefix length
    zone: str = ""  # fe80::1%eth0
    prefixlen: int | None = None  # given with the address (10.0.0.5/24)
    network: IPNet | None = None  # a CIDR: 10.0.0.0/24 (no host bits)
    mac: str = ""  # 12 lower-case hex digits
    mac_part: str = ""  # hex digits of a partial MAC ("02:42:ac")
    hex_id: str = ""  # lower-case hex: a container id prefix
    ifname: bool = False  # could be an interface name
    long: bool = False

    @staticmethod
    def parse(query: str) -> _Query:
        if len(query) > _QUERY_LIMIT:
            return _Query(query, query.casefold(), long=True)
        inode = int(query) if _INODE.fullmatch(query) else None
        if inode is not None and inode >= INODE_LIMIT:
            inode = None
        pid_m = _PID.fullmatch(query)
        ip, zone, plen, net = _parse_ip(query)
        return _Query(
            raw=query,
            fold=query.casefold(),
            inode=inode,
            pid=int(pid_m.group(1)) if pid_m else None,
            ip=ip,
            zone=zone,
            prefixlen=plen,
            network=net,
            mac=_parse_mac(query),
            mac_part=_hex_of(query) if _MAC_PART.fullmatch(query) else "",
            hex_id=query.lower() if _HEX.fullmatch(query) else "",
            ifname=_valid_ifname(query),
        )


def _parse_ip(query: str) -> tuple[IPAddr | None, str, int | None, IPNet | None]:
    """(address, zone, prefix length, None) or (None, "", None, network) or nothing."""
    if not _IP_CHARS.fullmatch(query.split("%", 1)[0]) or not any(c in query for c in ".:"):
        return None, "", None, None
    addr_text, _, plen_text = query.partition("/")
    addr_text, _, zone = addr_text.partition("%")
    try:
        ip = ipaddress.ip_address(addr_text)
    except ValueError:
        return None, "", None, None
    if not plen_text:
        return ip, zone, None, None
    if zone or not plen_text.isascii() or not plen_text.isdigit() or len(plen_text) > 3:
        return None, "", None, None
    try:
        net = ipaddress.ip_network(f"{addr_text}/{plen_text}", strict=False)
    except ValueError:
        return None, "", None, None
    if net.network_address == ip and net.prefixlen < net.max_prefixlen:
        return None, "", None, net
    # Host bits set (10.0.0.5/24), or one address (10.0.0.5/32): an address as printed.
    return ip, "", net.prefixlen, None


def _parse_mac(query: str) -> str:
    if _MAC_SEP.fullmatch(query) or _MAC_DOT.fullmatch(query):
        return _hex_of(query)
    if len(query) == 12 and _HEX.fullmatch(query):
        return query.lower()
    return ""


def _hex_of(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch not in ":-.")


@lru_cache(maxsize=65536)
def _ip(text: str) -> IPAddr | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


# --- one namespace -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Context:
    by_inode: dict[int, NetNamespace]
    # For an interface-name query: namespace inode -> (the namespace holding an interface
    # of that name, the interface), for each such veth whose peer is in that namespace.
    peer_ends: dict[int, list[tuple[NetNamespace, Interface]]]

    @staticmethod
    def of(spaces: tuple[NetNamespace, ...], q: _Query) -> _Context:
        peer_ends: dict[int, list[tuple[NetNamespace, Interface]]] = {}
        if q.ifname:
            for ns in spaces:
                for iface in ns.interfaces:
                    peer = iface.peer
                    if iface.name == q.raw and peer is not None and peer.netns_inode is not None:
                        peer_ends.setdefault(peer.netns_inode, []).append((ns, iface))
        return _Context({ns.inode: ns for ns in spaces}, peer_ends)


def _best(ns: NetNamespace, q: _Query, ctx: _Context) -> Match | None:
    for found in (_name(ns, q), _fact(ns, q, ctx), _prefix(ns, q), _partial(ns, q)):
        if found is not None:
            return found
    return None


def _m(ns: NetNamespace, rank: Rank, kind: Kind, reason: str) -> Match:
    return Match(ns.id, rank, kind, reason)


def _name(ns: NetNamespace, q: _Query) -> Match | None:
    t = q.raw
    if q.long:
        return None
    n = Rank.NAME
    if t in ns.names:
        return _m(ns, n, Kind.NETNS_NAME, f"netns name {shown(t)}")
    bare = t[1:] if t.startswith("/") else None
    for c in ns.containers:
        if c.name in (t, bare):
            return _m(ns, n, Kind.CONTAINER_NAME, f"container name {shown(c.name)}")
        if t == c.id or (q.hex_id == c.id and q.hex_id):
            return _m(ns, n, Kind.CONTAINER_ID, f"id of container {shown(c.name)}")
    if t == ns.label:
        return _m(ns, n, Kind.LABEL, f"label {shown(t)}")
    if q.inode is not None and q.inode == ns.inode:
        return _m(ns, n, Kind.INODE, f"inode {ns.inode}")
    if q.pid is not None and (q.pid in ns.pids or any(c.pid == q.pid for c in ns.containers)):
        return _m(ns, n, Kind.PID, f"process {q.pid}")
    if "/" in t and t in _paths(ns):
        return _m(ns, n, Kind.PATH, f"path {shown(t)}")
    return None


def _paths(ns: NetNamespace) -> Iterator[str]:
    if ns.access_path:
        yield ns.access_path
    for m in ns.bind_mounts:
        yield m.path
        yield m.reach_path
    for name in ns.names:
        yield f"/run/netns/{name}"
        yield f"/var/run/netns/{name}"


def _fact(ns: NetNamespace, q: _Query, ctx: _Context) -> Match | None:
    f = Rank.FACT
    if q.ip is not None or q.network is not None:
        for addr, plen, dev, where in _addresses(ns):
            ip = _ip(addr)
            if ip is None:
                continue
            if q.network is not None and ip.version == q.network.version and ip in q.network:
                return _m(ns, f, Kind.CIDR, f"ip {addr}/{plen} on {where()} (in {q.network})")
            if ip == q.ip and q.prefixlen in (None, plen) and q.zone in ("", dev):
                return _m(ns, f, Kind.IP, f"ip {addr}/{plen} on {where()}")
    if q.mac:
        for mac, where in _macs(ns):
            if _hex_of(mac) == q.mac:
                return _m(ns, f, Kind.MAC, f"mac {shown(mac)} on {where()}")
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


Where = Callable[[], str]


def _addresses(ns: NetNamespace) -> Iterator[tuple[str, int, str, Where]]:
    """(address, prefix length, interface name, where) from netlink, then from the
    container engine. ``where`` is made only for a match: most words never match."""
    for iface in ns.interfaces:
        for a in iface.addresses:
            yield a.address, a.prefixlen, iface.name, partial(shown, iface.name)
    for c in ns.containers:
        for net in c.networks:
            where = partial(_on_network, c.name, net.name)
            if net.ip_address:
                yield net.ip_address, net.prefixlen, "", where
            if net.ipv6_address:
                addr, _, plen = net.ipv6_address.partition("/")
                bits = int(plen) if plen.isascii() and plen.isdigit() and len(plen) < 4 else 128
                yield addr, bits, "", where


def _on_network(container: str, network: str) -> str:
    return f"network {shown(network)} of {shown(container)}"


def _macs(ns: NetNamespace) -> Iterator[tuple[str, Where]]:
    for iface in ns.interfaces:
        if iface.mac:
            yield iface.mac, partial(shown, iface.name)
    for c in ns.containers:
        for net in c.networks:
            if net.mac:
                yield net.mac, partial(_on_network, c.name, net.name)


# (text, how to say why it matched): the reason is made only for a match.
Word = tuple[str, Callable[[], str]]


def _said(what: str, text: str, where: Where | None = None) -> Callable[[], str]:
    def say() -> str:
        return f"{what} {shown(text)} on {where()}" if where else f"{what} {shown(text)}"

    return say


def _words(ns: NetNamespace) -> Iterator[Word]:
    """What prefixes and substrings are matched against, most telling first."""
    for name in ns.names:
        yield name, _said("netns name", name)
    for c in ns.containers:
        yield c.name, _said("container name", c.name)
    if ns.label:
        yield ns.label, _said("label", ns.label)
    for iface in ns.interfaces:
        yield iface.name, _said("interface", iface.name)
    for addr, plen, _, where in _addresses(ns):
        text = f"{addr}/{plen}"
        yield text, _said("ip", text, where)
    for mac, where in _macs(ns):
        yield mac, _said("mac", mac, where)
    yield str(ns.inode), _said("inode", str(ns.inode))
    for path in _paths(ns):
        yield path, _said("path", path)


def _extra_words(ns: NetNamespace) -> Iterator[Word]:
    """Only for substrings: facts nobody types the start of."""
    for c in ns.containers:
        of = f" of container {shown(c.name)}"
        yield c.id, _said("id", c.short_id + of)
        yield c.image, _said("image", c.image + of)
        if c.compose_project:
            yield c.compose_project, _said("compose project", c.compose_project + of)
        for net in c.networks:
            yield net.name, partial(_on_network, c.name, net.name)
    for iface in ns.interfaces:
        if iface.alias:
            yield iface.alias, _said(f"alias of {shown(iface.name)}:", iface.alias)
    for pid in ns.pids[:50]:
        yield str(pid), _said("process", str(pid))


def _prefix(ns: NetNamespace, q: _Query) -> Match | None:
    p = Rank.PREFIX
    if q.hex_id:
        for c in ns.containers:
            if c.id.startswith(q.hex_id):
                return _m(ns, p, Kind.ID_PREFIX, f"id {c.short_id} of container {shown(c.name)}")
    if q.long:
        return None
    for text, say in _words(ns):
        if text.casefold().startswith(q.fold):
            return _m(ns, p, Kind.PREFIX, say())
    if q.mac_part:
        for mac, where in _macs(ns):
            if _hex_of(mac).startswith(q.mac_part):
                return _m(ns, p, Kind.PREFIX, f"mac {shown(mac)} on {where()}")
    return None


def _partial(ns: NetNamespace, q: _Query) -> Match | None:
    a = Rank.PARTIAL
    if q.ip is not None and q.prefixlen is not None:
        # The address itself with another prefix length: near, never exact.
        for addr, plen, _, where in _addresses(ns):
            if _ip(addr) == q.ip:
                reason = f"ip {addr}/{plen} on {where()} (not /{q.prefixlen})"
                return _m(ns, a, Kind.SUBSTRING, reason)
    if q.long:
        return None
    for text, say in (*_words(ns), *_extra_words(ns)):
        if q.fold in text.casefold():
            return _m(ns, a, Kind.SUBSTRING, say())
    return None
