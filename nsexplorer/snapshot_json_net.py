"""The namespace's kernel facts in schema 1: interfaces (flags, peer, parent, addresses),
routes (nexthops, tos, source prefix, encap, mtu, flags) and policy rules.

Split from snapshot_json.py along the seam between what netlink says about a namespace
and how the namespace was found. The same rules: contract keys exactly as the README
lists them, every other model field under an additional key, ``decode(encode(x)) == x``.
Lists of words are the model's tuples (json writes them as arrays: no copies for
thousands of routes). A document written before a field existed decodes it to the
model's default (for interface ``flags``, the model reads empty as "not recorded").
Stdlib only, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

from nsexplorer import TYPE_CHECKING, model

if TYPE_CHECKING:
    from typing import Any

    from nsexplorer.model import Address, Interface, Peer, Route, Rule
    from nsexplorer.model_net import Tun, Vxlan

    JSONDict = dict[str, Any]


def _encode_peer(p: Peer | None) -> JSONDict | None:
    if p is None:
        return None
    return {"netns_inode": p.netns_inode, "ifindex": p.ifindex, "name": p.name}


def _decode_peer(p: Mapping[str, Any] | None) -> Peer | None:
    if p is None:
        return None
    return model.Peer(
        netns_inode=opt_int(p.get("netns_inode")),
        ifindex=opt_int(p.get("ifindex")),
        name=opt_str(p.get("name")),
    )


def encode_interface(i: Interface) -> JSONDict:
    counters: JSONDict | None = None
    if i.counters is not None:
        c = i.counters
        counters = {
            "rx_bytes": c.rx_bytes,
            "rx_packets": c.rx_packets,
            "rx_errors": c.rx_errors,
            "rx_dropped": c.rx_dropped,
            "tx_bytes": c.tx_bytes,
            "tx_packets": c.tx_packets,
            "tx_errors": c.tx_errors,
            "tx_dropped": c.tx_dropped,
        }
    return {
        "ifindex": i.ifindex,
        "name": i.name,
        "kind": i.kind,
        "state": i.state,
        "mtu": i.mtu,
        "mac": i.mac or None,  # null: the device has no link-layer address (a tun)
        "master": i.master,
        "alias": i.alias,
        "addresses": [_encode_address(a) for a in i.addresses],
        "peer": _encode_peer(i.peer),
        "counters": counters,
        "master_ifindex": i.master_ifindex,
        "flags": i.flags,
        # "state" is the kernel's operstate, "down" for admin down and for no carrier
        # alike: these two tell them apart (null when flags were not recorded)
        "admin_up": i.admin_up,
        "carrier": i.carrier,
        "parent": _encode_peer(i.parent),
        **({"port_state": i.port_state} if i.port_state is not None else {}),
        **({"altnames": list(i.altnames)} if i.altnames else {}),
        **({"vxlan": _encode_vxlan(i.vxlan)} if i.vxlan is not None else {}),
        **({"tun": _encode_tun(i.tun)} if i.tun is not None else {}),
        **({"txqlen": i.txqlen} if i.txqlen is not None else {}),
        **({"group": i.group} if i.group else {}),
    }


def _encode_address(a: Address) -> JSONDict:
    out: JSONDict = {
        "family": a.family,
        "address": a.address,
        "prefixlen": a.prefixlen,
        "scope": a.scope,
        "flags": a.flags,
        "peer": a.peer,
        "label": a.label,
    }
    # Present only when set: most addresses have no broadcast and live forever.
    if a.broadcast is not None:
        out["broadcast"] = a.broadcast
    if a.valid_lft is not None:
        out["valid_lft"] = a.valid_lft
    if a.preferred_lft is not None:
        out["preferred_lft"] = a.preferred_lft
    return out


def _encode_vxlan(v: Vxlan) -> JSONDict:
    return {"id": v.vni, "remote": v.remote, "local": v.local, "port": v.port,
            "external": v.external}  # fmt: skip


def _decode_vxlan(d: Any) -> Vxlan | None:
    if not isinstance(d, Mapping):
        return None
    from nsexplorer import model_net  # as decode_interface's counters

    return model_net.Vxlan(
        vni=int(d.get("id") or 0),
        remote=opt_str(d.get("remote")),
        local=opt_str(d.get("local")),
        port=opt_int(d.get("port")),
        external=bool(d.get("external")),
    )


def _encode_tun(t: Tun) -> JSONDict:
    # ip -j -d's info_data keys ("user"/"group" as ids: ip writes a name when it has one)
    return {"type": t.type, "pi": t.pi, "vnet_hdr": t.vnet_hdr, "multi_queue": t.multi_queue,
            "numqueues": t.queues, "numdisabled": t.disabled_queues, "persist": t.persist,
            "user": t.user, "group": t.group}  # fmt: skip


def _decode_tun(d: Any) -> Tun | None:
    if not isinstance(d, Mapping):
        return None
    from nsexplorer import model_net  # as decode_interface's counters

    return model_net.Tun(
        type=str(d.get("type") or "unknown"),
        pi=d.get("pi") is True,
        vnet_hdr=d.get("vnet_hdr") is True,
        persist=d.get("persist") is True,
        multi_queue=d.get("multi_queue") is True,
        user=opt_int(d.get("user")),
        group=opt_int(d.get("group")),
        queues=opt_int(d.get("numqueues")),
        disabled_queues=opt_int(d.get("numdisabled")),
    )


def decode_interface(i: Mapping[str, Any]) -> Interface:
    c = i.get("counters")
    counters = None
    if c is not None:
        from nsexplorer import model_net  # here, as model.Counters loads it: not for `list`

        # no read time: a monotonic clock means nothing in another process (no rates)
        names = model_net.COUNTER_NAMES
        counters = model_net.Counters(**{name: int(c.get(name, 0)) for name in names})
    return model.Interface(
        ifindex=int(i["ifindex"]),
        name=str(i["name"]),
        kind=str(i.get("kind", "")),
        state=str(i.get("state", "")),
        mtu=int(i.get("mtu", 0)),
        mac=str(i.get("mac") or ""),
        master=opt_str(i.get("master")),
        alias=str(i.get("alias") or ""),
        addresses=tuple(
            model.Address(
                family=int(a["family"]),
                address=str(a["address"]),
                prefixlen=int(a["prefixlen"]),
                scope=str(a.get("scope", "")),
                flags=_words(a.get("flags")),
                peer=opt_str(a.get("peer")),
                label=str(a.get("label") or ""),
                broadcast=opt_str(a.get("broadcast")),
                valid_lft=opt_int(a.get("valid_lft")),
                preferred_lft=opt_int(a.get("preferred_lft")),
            )
            for a in i.get("addresses", ())
        ),
        peer=_decode_peer(i.get("peer")),
        counters=counters,
        master_ifindex=opt_int(i.get("master_ifindex")),
        flags=_words(i.get("flags")),
        parent=_decode_peer(i.get("parent")),
        port_state=opt_str(i.get("port_state")),
        altnames=_words(i.get("altnames")),
        vxlan=_decode_vxlan(i.get("vxlan")),
        tun=_decode_tun(i.get("tun")),
        txqlen=opt_int(i.get("txqlen")),
        group=int(i.get("group") or 0),
    )


def encode_route(r: Route) -> JSONDict:
    out: JSONDict = {
        "family": r.family,
        "table": r.table,
        "dst": r.dst,
        "gateway": r.gateway,
        "dev": r.dev,
        "scope": r.scope,
        "protocol": r.protocol,
        "type": r.type,
        "prefsrc": r.prefsrc,
        "metric": r.metric,
        "nexthops": [
            {"gateway": h.gateway, "dev": h.dev, "weight": h.weight, "flags": h.flags}
            for h in r.nexthops
        ]
        if r.nexthops
        else [],
        "flags": r.flags,
    }
    # Rarely set, so present only when set (a snapshot has thousands of routes).
    if r.nhid is not None:
        out["nhid"] = r.nhid
    if r.tos:
        out["tos"] = r.tos
    if r.src is not None:
        out["src"] = r.src
    if r.encap is not None:
        out["encap"] = r.encap
    if r.mtu is not None:
        out["mtu"] = r.mtu
    if r.mtu_lock:
        out["mtu_lock"] = True
    if r.more:
        out["more"] = list(r.more)
    if r.expires is not None:
        out["expires"] = r.expires
    return out


def decode_route(r: Mapping[str, Any]) -> Route:
    return model.Route(
        family=int(r["family"]),
        table=int(r["table"]),
        dst=str(r["dst"]),
        gateway=opt_str(r.get("gateway")),
        dev=opt_str(r.get("dev")),
        scope=str(r.get("scope", "")),
        protocol=str(r.get("protocol", "")),
        type=str(r.get("type", "unicast")),
        prefsrc=opt_str(r.get("prefsrc")),
        metric=opt_int(r.get("metric")),
        nexthops=tuple(
            model.Nexthop(
                gateway=opt_str(h.get("gateway")),
                dev=opt_str(h.get("dev")),
                weight=int(h.get("weight", 1)),
                flags=_words(h.get("flags")),
            )
            for h in r.get("nexthops") or ()
        ),
        nhid=opt_int(r.get("nhid")),
        tos=int(r.get("tos") or 0),
        src=opt_str(r.get("src")),
        encap=opt_str(r.get("encap")),
        mtu=opt_int(r.get("mtu")),
        flags=_words(r.get("flags")),
        mtu_lock=r.get("mtu_lock") is True,
        more=_words(r.get("more")),
        expires=opt_int(r.get("expires")),
    )


def encode_rule(r: Rule) -> JSONDict:
    out: JSONDict = {
        "family": r.family,
        "priority": r.priority,
        "table": r.table,
        "src": r.src,
        "dst": r.dst,
        "iif": r.iif,
        "oif": r.oif,
        "fwmark": r.fwmark,
        "action": r.action,
    }
    # The further selectors and modifiers: present only when set.
    if r.invert:
        out["invert"] = True
    if r.tos:
        out["tos"] = r.tos
    for key, value in (
        ("goto", r.goto),
        ("suppress_prefixlen", r.suppress_prefixlen),
        ("suppress_ifgroup", r.suppress_ifgroup),
        ("ipproto", r.ipproto),
        ("sport", r.sport),
        ("dport", r.dport),
        ("uidrange", r.uidrange),
        ("tun_id", r.tun_id),
        ("dscp", r.dscp),
        ("flowlabel", r.flowlabel),
        ("realms", r.realms),
    ):
        if value is not None:
            out[key] = value
    if r.l3mdev:
        out["l3mdev"] = True
    if r.protocol != "unspec":
        out["protocol"] = r.protocol
    for key, flag in (
        ("iif_detached", r.iif_detached),
        ("oif_detached", r.oif_detached),
        ("unresolved", r.unresolved),
    ):
        if flag:
            out[key] = True
    if r.unread:
        out["unread"] = list(r.unread)
    return out


def decode_rule(r: Mapping[str, Any]) -> Rule:
    return model.Rule(
        family=int(r["family"]),
        priority=int(r["priority"]),
        table=opt_int(r.get("table")),
        action=str(r.get("action", "lookup")),
        src=opt_str(r.get("src")),
        dst=opt_str(r.get("dst")),
        iif=opt_str(r.get("iif")),
        oif=opt_str(r.get("oif")),
        fwmark=opt_str(r.get("fwmark")),
        invert=bool(r.get("invert", False)),
        tos=int(r.get("tos") or 0),
        goto=opt_int(r.get("goto")),
        suppress_prefixlen=opt_int(r.get("suppress_prefixlen")),
        suppress_ifgroup=opt_int(r.get("suppress_ifgroup")),
        ipproto=opt_int(r.get("ipproto")),
        sport=opt_str(r.get("sport")),
        dport=opt_str(r.get("dport")),
        uidrange=opt_str(r.get("uidrange")),
        l3mdev=bool(r.get("l3mdev", False)),
        tun_id=opt_int(r.get("tun_id")),
        dscp=opt_str(r.get("dscp")),
        flowlabel=opt_str(r.get("flowlabel")),
        realms=opt_str(r.get("realms")),
        protocol=str(r.get("protocol") or "unspec"),
        iif_detached=bool(r.get("iif_detached", False)),
        oif_detached=bool(r.get("oif_detached", False)),
        unresolved=bool(r.get("unresolved", False)),
        unread=tuple(int(t) for t in r.get("unread") or ()),
    )


def _words(v: Any) -> tuple[str, ...]:
    return tuple(str(w) for w in v or ())


def opt_int(v: Any) -> int | None:
    return None if v is None else int(v)


def opt_str(v: Any) -> str | None:
    return None if v is None else str(v)
