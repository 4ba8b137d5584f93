"""From raw netlink dumps to model interfaces and routes, with exact veth peers.

A veth's IFLA_LINK is the peer's ifindex *in the peer's namespace*, and
IFLA_LINK_NETNSID is that namespace's id *as numbered by the veth's own namespace*.
Ifindexes are per namespace, so ``@ifN`` alone proves nothing. A peer is accepted only
when the kernel confirms, with RTM_GETNSID over the veth's own namespace's socket, that
the candidate namespace carries that id. The kernel omits IFLA_LINK when both ends have
the same ifindex; then the peer's ifindex is the veth's own.

The parent of a stacked device (macvlan, macvtap, ipvlan, vlan: IFLA_LINK; vxlan:
IFLA_VXLAN_LINK) obeys the same rules: with IFLA_LINK_NETNSID it lives in another
namespace, accepted only when RTM_GETNSID confirms that namespace carries that id.

Pure: the nsid lookup is passed in, so this is tested without a kernel.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace

from nsexplorer.kernel import rtnl_names
from nsexplorer.kernel.rtnl_decode import STACKED_KINDS
from nsexplorer.kernel.rtnl_raw import Dump, RawLink, RawNexthop
from nsexplorer.model import Address, Interface, NamespaceId, Nexthop, Peer, Route

# (namespace asking, namespace asked about) -> the id the first uses for the second
NsidLookup = Callable[[NamespaceId, NamespaceId], int | None]


def peer_ifindex(link: RawLink) -> int:
    """The peer's ifindex: IFLA_LINK, or our own when the kernel left it out."""
    return link.link if link.link is not None else link.index


def parent_ref(link: RawLink) -> tuple[int, int | None] | None:
    """(ifindex, netnsid) of the device ``link`` is stacked on, or None. netnsid None:
    the same namespace. A veth's IFLA_LINK is its peer, not a parent."""
    if link.kind == "veth":
        return None
    if link.lower is not None:
        return link.lower, link.link_netnsid
    if link.link:
        return link.link, link.link_netnsid
    if link.link is None and link.link_netnsid is not None and link.kind in STACKED_KINDS:
        return link.index, link.link_netnsid  # omitted: equal to our own ifindex
    return None


class _Unread:
    """Namespaces known (RTM_GETNSID answers about them) but not dumped: asking
    namespace -> {nsid: unread namespace}, built on first need, one query each."""

    def __init__(
        self, dumps: Mapping[NamespaceId, Dump], nsid_of: NsidLookup, unread: Iterable[NamespaceId]
    ) -> None:
        self._nsid_of = nsid_of
        self._unread = [n for n in unread if n not in dumps]
        self._tables: dict[NamespaceId, dict[int, NamespaceId]] = {}

    def with_nsid(self, asking: NamespaceId, nsid: int) -> NamespaceId | None:
        if not self._unread:
            return None
        if asking not in self._tables:
            table: dict[int, NamespaceId] = {}
            for other in self._unread:
                if other != asking:
                    got = self._nsid_of(asking, other)
                    if got is not None:
                        table.setdefault(got, other)
            self._tables[asking] = table
        return self._tables[asking].get(nsid)


def _points_back(candidate: RawLink, link: RawLink) -> bool:
    return (
        candidate.kind == "veth"
        and candidate.index == peer_ifindex(link)
        and candidate.link_netnsid is not None
        and peer_ifindex(candidate) == link.index
    )


def resolve_peers(
    dumps: Mapping[NamespaceId, Dump],
    nsid_of: NsidLookup,
    *,
    host: NamespaceId | None = None,
    only: Iterable[NamespaceId] | None = None,
    unread: Iterable[NamespaceId] = (),
) -> tuple[dict[tuple[NamespaceId, int], Peer], list[str]]:
    """Peers of every veth in ``only`` (default: all dumped namespaces).

    ``unread``: namespaces that are known (and can be asked about with RTM_GETNSID) but
    whose links could not be dumped (not root). A veth pointing into one of them gets
    an exact ``Peer(netns_inode, ifindex, name=None)``: the namespace is certain, the
    name is not known.
    """
    peers: dict[tuple[NamespaceId, int], Peer] = {}
    warnings: list[str] = []
    unresolved: list[str] = []
    elsewhere_of = _Unread(dumps, nsid_of, unread)

    # (ifindex, peer ifindex) -> [(namespace, link)] of veths pointing into another
    # namespace: the candidates for a veth's peer are those with the mirrored pair.
    by_pair: dict[tuple[int, int], list[tuple[NamespaceId, RawLink]]] = {}
    for ns_id, dump in dumps.items():
        for lk in dump.links:
            if lk.kind == "veth" and lk.link_netnsid is not None:
                by_pair.setdefault((lk.index, peer_ifindex(lk)), []).append((ns_id, lk))

    targets = list(dumps) if only is None else [n for n in only if n in dumps]
    for ns_id in targets:
        local = {lk.index: lk for lk in dumps[ns_id].links}
        for lk in dumps[ns_id].links:
            if lk.kind != "veth":
                continue
            if lk.link_netnsid is None:
                # Peer in the same namespace: IFLA_LINK is a local ifindex.
                other = local.get(lk.link) if lk.link is not None else None
                if other is not None and other.index != lk.index:
                    peers[(ns_id, lk.index)] = Peer(ns_id.ino, other.index, other.name)
                else:
                    peers[(ns_id, lk.index)] = Peer(None, lk.link, None)
                    warnings.append(f"veth {lk.name!r} in namespace {ns_id.ino}: peer not found")
                continue
            want = peer_ifindex(lk)
            candidates = [
                (other_ns, other)
                for other_ns, other in by_pair.get((want, lk.index), ())
                if other_ns != ns_id and _points_back(other, lk)
            ]
            # The host first: most veths have their other end there.
            candidates.sort(key=lambda c: (c[0] != host, c[0]))
            found: tuple[NamespaceId, RawLink] | None = None
            for other_ns, other in candidates:
                if nsid_of(ns_id, other_ns) == lk.link_netnsid:
                    found = (other_ns, other)
                    break
            if found is not None:
                peers[(ns_id, lk.index)] = Peer(found[0].ino, found[1].index, found[1].name)
                continue
            elsewhere = elsewhere_of.with_nsid(ns_id, lk.link_netnsid)
            peers[(ns_id, lk.index)] = Peer(
                elsewhere.ino if elsewhere is not None else None, want, None
            )
            unresolved.append(f"{lk.name!r} in namespace {ns_id.ino}")
    if unresolved:
        shown = ", ".join(unresolved[:3]) + (" ..." if len(unresolved) > 3 else "")
        warnings.append(
            f"{len(unresolved)} veth peer(s) are in namespaces whose interfaces could not be "
            "read (gone during the read, or unreadable), so the peers' names are unknown; "
            f"the veths: {shown}"
        )
    return peers, warnings


def resolve_parents(
    dumps: Mapping[NamespaceId, Dump],
    nsid_of: NsidLookup,
    *,
    host: NamespaceId | None = None,
    only: Iterable[NamespaceId] | None = None,
    unread: Iterable[NamespaceId] = (),
) -> tuple[dict[tuple[NamespaceId, int], Peer], list[str]]:
    """The lower device of every stacked device in ``only`` (default: all dumped
    namespaces), as exact as peers: a namespace is named only once RTM_GETNSID over the
    device's own namespace confirms the id; else ``Peer(None, ifindex, None)``."""
    parents: dict[tuple[NamespaceId, int], Peer] = {}
    unresolved: list[str] = []
    elsewhere_of = _Unread(dumps, nsid_of, unread)
    order = sorted(dumps, key=lambda n: (n != host, n))
    by_index: dict[NamespaceId, dict[int, RawLink]] = {}

    def links_of(ns: NamespaceId) -> dict[int, RawLink]:
        table = by_index.get(ns)
        if table is None:
            table = by_index[ns] = {lk.index: lk for lk in dumps[ns].links}
        return table

    targets = list(dumps) if only is None else [n for n in only if n in dumps]
    for ns_id in targets:
        for lk in dumps[ns_id].links:
            ref = parent_ref(lk)
            if ref is None:
                continue
            ifindex, netnsid = ref
            if netnsid is None:
                lower = links_of(ns_id).get(ifindex)
                if lower is None:
                    unresolved.append(f"{lk.name!r} in namespace {ns_id.ino}")
                parents[(ns_id, lk.index)] = Peer(
                    ns_id.ino if lower is not None else None,
                    ifindex,
                    lower.name if lower is not None else None,
                )
                continue
            found: Peer | None = None
            for other in order:
                if other == ns_id:
                    continue
                lower = links_of(other).get(ifindex)
                if lower is not None and nsid_of(ns_id, other) == netnsid:
                    found = Peer(other.ino, ifindex, lower.name)
                    break
            if found is None:
                elsewhere = elsewhere_of.with_nsid(ns_id, netnsid)
                found = Peer(elsewhere.ino if elsewhere is not None else None, ifindex, None)
                unresolved.append(f"{lk.name!r} in namespace {ns_id.ino}")
            parents[(ns_id, lk.index)] = found
    warnings: list[str] = []
    if unresolved:
        shown = ", ".join(unresolved[:3]) + (" ..." if len(unresolved) > 3 else "")
        warnings.append(
            f"{len(unresolved)} stacked device(s) have a lower device that could not be "
            f"read, so its name is unknown: {shown}"
        )
    return parents, warnings


def build_interfaces(
    ns_id: NamespaceId,
    dump: Dump,
    peers: Mapping[tuple[NamespaceId, int], Peer],
    parents: Mapping[tuple[NamespaceId, int], Peer] | None = None,
    read_at: float | None = None,
) -> tuple[Interface, ...]:
    """``read_at``: time.monotonic() when ``dump``'s links were read, stamped on each
    interface's counters (rates divide by the gap between two reads)."""
    local = {lk.index: lk for lk in dump.links}
    addrs: dict[int, list[Address]] = {}
    for a in dump.addrs:
        addrs.setdefault(a.ifindex, []).append(a.address)
    out: list[Interface] = []
    for lk in sorted(dump.links, key=lambda x: x.index):
        master = local.get(lk.master) if lk.master is not None else None
        # ip's M-DOWN: stacked on (or paired with) a same-namespace device that is down.
        below = local.get(lk.link) if lk.link and lk.link_netnsid is None else None
        lower_down = below is not None and not below.flags & rtnl_names.IFF_UP
        out.append(
            Interface(
                ifindex=lk.index,
                name=lk.name,
                kind=lk.kind,
                state=lk.state,
                mtu=lk.mtu,
                mac=lk.mac,
                master=master.name if master is not None else None,
                alias=lk.alias,
                addresses=tuple(addrs.get(lk.index, ())),
                peer=peers.get((ns_id, lk.index)) if lk.kind == "veth" else None,
                counters=(
                    replace(lk.counters, read_at=read_at)
                    if lk.counters is not None and read_at is not None
                    else lk.counters
                ),
                master_ifindex=lk.master,
                flags=rtnl_names.link_flags(lk.flags, lower_down),
                parent=parents.get((ns_id, lk.index)) if parents is not None else None,
                port_state=(
                    rtnl_names.bridge_port_state(lk.port_state)
                    if lk.port_state is not None
                    else None
                ),
                altnames=lk.altnames,
                vxlan=lk.vxlan,
                tun=lk.tun,
                txqlen=lk.txqlen,
                group=lk.group,
            )
        )
    return tuple(out)


def build_routes(dump: Dump) -> tuple[Route, ...]:
    """Routes with devices named, and the paths of multipath routes and of routes
    through nexthop objects as ``nexthops`` (such routes have no gateway/dev of their
    own when the kernel does not repeat them)."""
    names = {lk.index: lk.name for lk in dump.links}

    def dev(oif: int | None) -> str | None:
        return None if oif is None else names.get(oif, str(oif))

    out: list[Route] = []
    for r in dump.routes:
        if r.hops:
            nexthops = tuple(Nexthop(h.gateway, dev(h.oif), h.weight, h.flags) for h in r.hops)
        elif r.nhid is not None:
            nexthops = _object_paths(r.nhid, dump.nexthops, dev)
        else:
            nexthops = ()
        out.append(
            Route(
                r.family,
                r.table,
                r.dst,
                r.gateway,
                dev(r.oif),
                r.scope,
                r.protocol,
                r.type,
                r.prefsrc,
                r.metric,
                nexthops,
                r.nhid,
                r.tos,
                r.src,
                r.encap,
                r.mtu,
                r.flags,
                r.mtu_lock,
                r.more,
                r.expires,
            )
        )
    return tuple(out)


def _object_paths(
    nhid: int, objects: Mapping[int, RawNexthop], dev: Callable[[int | None], str | None]
) -> tuple[Nexthop, ...]:
    nh = objects.get(nhid)
    if nh is None or nh.blackhole:
        return ()
    if not nh.group:
        return (Nexthop(nh.gateway, dev(nh.oif), 1, nh.flags),)
    paths: list[Nexthop] = []
    for member_id, weight in nh.group:
        m = objects.get(member_id)
        if m is not None and not m.blackhole:
            paths.append(Nexthop(m.gateway, dev(m.oif), weight, m.flags))
    return tuple(paths)
