"""From raw netlink dumps to model interfaces and routes, with exact veth peers.

A veth's IFLA_LINK is the peer's ifindex *in the peer's namespace*, and
IFLA_LINK_NETNSID is that namespace's id *as numbered by the veth's own namespace*.
Ifindexes are per namespace, so ``@ifN`` alone proves nothing. A peer is accepted only
when the kernel confirms, with RTM_GETNSID over the veth's own namespace's socket, that
the candidate namespace carries that id. The kernel omits IFLA_LINK when both ends have
the same ifindex; then the peer's ifindex is the veth's own.

Pure: the nsid lookup is passed in, so this is tested without a kernel.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from nsexplorer.collect.netlink import Dump, RawLink
from nsexplorer.model import Address, Interface, NamespaceId, Peer, Route

# (namespace asking, namespace asked about) -> the id the first uses for the second
NsidLookup = Callable[[NamespaceId, NamespaceId], int | None]


def peer_ifindex(link: RawLink) -> int:
    """The peer's ifindex: IFLA_LINK, or our own when the kernel left it out."""
    return link.link if link.link is not None else link.index


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
    unread_list = [n for n in unread if n not in dumps]
    # asking namespace -> {nsid: unread namespace}, built on first need (one query each).
    reverse: dict[NamespaceId, dict[int, NamespaceId]] = {}

    def unread_with(asking: NamespaceId, nsid: int) -> NamespaceId | None:
        if asking not in reverse:
            table: dict[int, NamespaceId] = {}
            for other in unread_list:
                if other != asking:
                    got = nsid_of(asking, other)
                    if got is not None:
                        table.setdefault(got, other)
            reverse[asking] = table
        return reverse[asking].get(nsid)

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
            elsewhere = unread_with(ns_id, lk.link_netnsid) if unread_list else None
            peers[(ns_id, lk.index)] = Peer(
                elsewhere.ino if elsewhere is not None else None, want, None
            )
            unresolved.append(f"{lk.name!r} in namespace {ns_id.ino}")
    if unresolved:
        shown = ", ".join(unresolved[:3]) + (" ..." if len(unresolved) > 3 else "")
        warnings.append(
            f"{len(unresolved)} veth peer(s) are in namespaces whose interfaces could not be "
            f"read, so their names are unknown: {shown}"
        )
    return peers, warnings


def build_interfaces(
    ns_id: NamespaceId, dump: Dump, peers: Mapping[tuple[NamespaceId, int], Peer]
) -> tuple[Interface, ...]:
    names = {lk.index: lk.name for lk in dump.links}
    addrs: dict[int, list[Address]] = {}
    for a in dump.addrs:
        addrs.setdefault(a.index, []).append(a.address)
    out: list[Interface] = []
    for lk in sorted(dump.links, key=lambda x: x.index):
        out.append(
            Interface(
                ifindex=lk.index,
                name=lk.name,
                kind=lk.kind,
                state=lk.state,
                mtu=lk.mtu,
                mac=lk.mac,
                master=names.get(lk.master) if lk.master is not None else None,
                alias=lk.alias,
                addresses=tuple(addrs.get(lk.index, ())),
                peer=peers.get((ns_id, lk.index)) if lk.kind == "veth" else None,
                counters=lk.counters,
                master_ifindex=lk.master,
            )
        )
    return tuple(out)


def build_routes(dump: Dump) -> tuple[Route, ...]:
    names = {lk.index: lk.name for lk in dump.links}
    out: list[Route] = []
    for r in dump.routes:
        route = r.route
        if r.oif is not None:
            route = Route(
                family=route.family,
                table=route.table,
                dst=route.dst,
                gateway=route.gateway,
                dev=names.get(r.oif, str(r.oif)),
                scope=route.scope,
                protocol=route.protocol,
                type=route.type,
                prefsrc=route.prefsrc,
                metric=route.metric,
            )
        out.append(route)
    return tuple(out)
