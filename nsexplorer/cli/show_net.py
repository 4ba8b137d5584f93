"""`show`'s text for what netlink said about a namespace: interface, address, route and
policy-rule lines, in ip's words. Every untrusted string goes through ``visible``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from nsexplorer.diffing import rule_words
from nsexplorer.link_state import Lookup, port_state_words, state_sentence
from nsexplorer.model import (
    Address,
    Interface,
    Peer,
    Route,
    Rule,
    TunHolder,
    describe,
    table_name,
)
from nsexplorer.model_net import holders_words
from nsexplorer.textsafe import visible


def interface_lines(
    i: Interface,
    peer_text: Callable[[Peer], str],
    lookup: Lookup,
    network: str = "",
    holders: Sequence[TunHolder] | None = None,
) -> list[str]:
    """``lookup``: the namespaces by inode, to say why a veth has no carrier (its peer
    admin down, and where); ``network``: the Docker network whose bridge this is ("" when
    none); ``holders``: the processes that have a tun/tap open (None: not looked for)."""
    v = visible
    state = state_sentence(i, lookup, lambda ns: v(describe(ns)))
    master = f" master {v(i.master)}" if i.master else ""
    if port := port_state_words(i):
        master += f" ({port})"
    if network:
        master += f" docker network {v(network)}"
    alias = f" alias {v(i.alias)}" if i.alias else ""
    out = [
        f"  {i.ifindex}: {v(i.name)}  {i.kind} {state} mtu {i.mtu} {i.mac or '-'}{master}{alias}"
    ]
    # ip's first line's order: the flags, then "group 7 qlen 500" when not the defaults
    flags = f"flags <{','.join(i.flags)}>" if i.flags else ""
    if line := " ".join(w for w in (flags, i.group_qlen_words) if w):
        out.append(f"      {line}")
    out.extend(f"      altname {v(name)}" for name in i.altnames)
    if i.parent is not None:
        out.append(f"      parent: {peer_text(i.parent)}")
    if i.vxlan is not None:
        out.append(f"      vxlan {i.vxlan.words()}")
    if i.tun is not None:
        out.append(f"      tun {i.tun.words()}")
        if holders is not None:
            out.append(f"      {v(holders_words(holders))}")
    for a in i.addresses:
        out.append(f"      {address_text(a, i.name)}")
        if a.lifetime_words:  # on the next line, as ip prints it
            out.append(f"         {a.lifetime_words}")
    return out


def address_text(a: Address, ifname: str = "") -> str:
    family = "inet6" if a.family == 6 else "inet"
    flags = "".join(f" {f}" for f in a.flags)
    label = f" label {visible(a.label)}" if a.label and a.label != ifname else ""
    brd = f" brd {a.unusual_broadcast}" if a.unusual_broadcast else ""
    return f"{family} {a.cidr}{brd} scope {a.scope}{flags}{label}"


def route_lines(r: Route) -> list[str]:
    v = visible
    typ = "" if r.type == "unicast" else f"{r.type} "
    nhid = f" nhid {r.nhid}" if r.nhid is not None else ""
    encap = f" encap {r.encap}" if r.encap else ""
    via = f" via {r.gateway}" if r.gateway else ""
    dev = f" dev {v(r.dev)}" if r.dev else ""
    prefsrc = f" src {r.prefsrc}" if r.prefsrc else ""
    metric = f" metric {r.metric}" if r.metric is not None else ""
    mtu = f" {r.mtu_words}" if r.mtu_words else ""
    mtu += f" {visible(r.more_words)}" if r.more or r.expires is not None else ""
    flags = "".join(f" {f}" for f in r.flags)
    # IPv6 routes have no scope of their own (the kernel sends "global" for all; ip
    # prints none): only IPv4's says something
    scope = f" scope {r.scope}" if r.family == 4 else ""
    out = [
        f"  {table_name(r.table):>6}  {typ}{r.selector_words}{nhid}{encap}{via}{dev} "
        f"proto {r.protocol}{scope}{prefsrc}{metric}{mtu}{flags}"
    ]
    for h in r.nexthops:
        hop_via = f" via {h.gateway}" if h.gateway else ""
        hop_dev = f" dev {v(h.dev)}" if h.dev else ""
        hop_flags = "".join(f" {f}" for f in h.flags)
        out.append(f"          nexthop{hop_via}{hop_dev} weight {h.weight}{hop_flags}")
    return out


def rule_text(r: Rule) -> str:
    return f"  {'inet6' if r.family == 6 else 'inet '} {visible(rule_words(r))}"


def rule_lines(rules: Iterable[Rule]) -> list[str]:
    return [rule_text(r) for r in rules]
