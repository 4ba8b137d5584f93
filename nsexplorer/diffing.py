"""What changed between two snapshots: namespaces, interfaces, addresses, routes, rules.

Pure functions over the model (no I/O), used by `nsexplorer diff A B` and by the TUI's
change tracking against its baseline. A fact that one side did not record (a namespace
not read over netlink, flags absent from an older snapshot) is never reported as a
change: a responder must be able to trust that every line is a real difference.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from nsexplorer.link_state import state_words
from nsexplorer.model import (
    Address,
    Interface,
    NetNamespace,
    Route,
    Rule,
    Snapshot,
    describe,
    same_namespace,
    table_name,
)

# (kind, namespace inode, its cookie, what it is about, the field or the words)
ChangeIdentity = tuple[str, int, int | None, str, str]


@dataclass(frozen=True, slots=True)
class Change:
    kind: str  # e.g. "namespace-appeared", "interface-changed", "route-removed"
    namespace_inode: int
    namespace_label: str
    subject: str  # interface name, route or rule text; "" for the namespace itself
    before: str
    after: str
    # What the difference is about when its words can change while it lasts (the field
    # of an interface-changed, an address, a problem's kind); "" when the words are it.
    topic: str = ""
    ifindex: int | None = None  # the interface it is about, which a rename keeps
    # The namespace's kernel id (model.NetNamespace.cookie): an inode, and so the
    # ifindexes under it, can name a new namespace once the old one was freed.
    namespace_cookie: int | None = None

    @property
    def identity(self) -> ChangeIdentity:
        """Which difference this is: the same from read to read while it lasts, even
        when its words change (a peer that moved on again, a problem worded anew, the
        interface renamed), and never one of another namespace under the same inode."""
        about = self.subject if self.ifindex is None else f"ifindex {self.ifindex}"
        what = self.topic or f"{self.before}\0{self.after}"
        return (self.kind, self.namespace_inode, self.namespace_cookie, about, what)

    @property
    def message(self) -> str:
        what = self.kind.replace("-", " ")
        subject = f" {self.subject}" if self.subject else ""
        if self.before and self.after:
            return f"{what}{subject}: {self.before} -> {self.after}"
        detail = self.after or self.before
        return f"{what}{subject}" + (f" ({detail})" if detail else "")


def change_json(c: Change) -> dict[str, object]:
    return {
        "kind": c.kind,
        "namespace_inode": c.namespace_inode,
        "namespace_label": c.namespace_label,
        "subject": c.subject,
        "before": c.before,
        "after": c.after,
        "message": c.message,
    }


def diff_snapshots(before: Snapshot, after: Snapshot) -> tuple[Change, ...]:
    """Every difference from ``before`` to ``after``, namespace by namespace.

    One inode on both sides with two kernel ids (cookies) is two namespaces: the first
    was freed and the kernel gave its inode number to a new one. That is a namespace
    gone and one appeared, never "unchanged" nor a diff of one against the other.
    """
    old = {ns.inode: ns for ns in before.namespaces if not ns.gone}
    new = {ns.inode: ns for ns in after.namespaces if not ns.gone}
    same = {i for i in old.keys() & new.keys() if same_namespace(old[i], new[i])}
    out: list[Change] = []
    for inode, ns in new.items():
        if inode not in same:
            out.append(_ns_change("namespace-appeared", ns, "", _holders(ns, inode in old)))
    for inode, ns in old.items():
        if inode not in same:
            out.append(_ns_change("namespace-gone", ns, _holders(ns), ""))
    for inode in sorted(same):
        out.extend(diff_namespace(old[inode], new[inode], old, new))
    return tuple(_moves_joined(out, old, new, same))


def _moves_joined(
    changes: list[Change],
    old: Mapping[int, NetNamespace],
    new: Mapping[int, NetNamespace],
    same: Iterable[int],
) -> list[Change]:
    """A veth moved to another namespace is one interface-moved, in the namespace it is
    in now, instead of an interface gone there and one appeared here. Only where the
    kernel proves it: a veth's peer is fixed for life, so when the other end (the same
    interface, in a namespace on both sides) pointed at the one that went and points at
    the one that came, with the same MAC, the two are one device. Anything else (a NIC,
    a macvlan) moved stays two rows: nothing ties the two ends of the move together."""
    gone = {(c.namespace_inode, c.ifindex): n for n, c in enumerate(changes)
            if c.kind == "interface-gone"}  # fmt: skip
    came = {(c.namespace_inode, c.ifindex): n for n, c in enumerate(changes)
            if c.kind == "interface-appeared"}  # fmt: skip
    if not gone or not came:
        return changes
    moved: dict[int, Change] = {}  # the appeared row's place -> the move
    dropped: set[int] = set()
    for inode in same:
        for end in old[inode].interfaces:
            was = end.peer  # (the cheap test first: a host can have 1000 veths)
            at_gone = gone.get((was.netns_inode or 0, was.ifindex)) if was else None
            now_end = new[inode].interface(end.ifindex) if at_gone is not None else None
            if was is None or now_end is None or (now := now_end.peer) is None:
                continue
            at_came = came.get((now.netns_inode or 0, now.ifindex))
            if at_gone is None or at_came is None or was.netns_inode == now.netns_inode:
                continue
            src, dst = old[was.netns_inode or 0], new[now.netns_inode or 0]
            a, b = src.interface(was.ifindex or 0), dst.interface(now.ifindex or 0)
            if a is None or b is None or (a.kind, a.mac) != (b.kind, b.mac) or not a.mac:
                continue
            before, after = f"{a.name} in {describe(src)}", f"{b.name} in {describe(dst)}"
            moved[at_came] = _if_change("interface-moved", dst, b, before, after, topic="link")
            dropped.add(at_gone)
    return [moved.get(n, c) for n, c in enumerate(changes) if n not in dropped]


def diff_namespace(
    a: NetNamespace,
    b: NetNamespace,
    where_a: Mapping[int, NetNamespace] | None = None,
    where_b: Mapping[int, NetNamespace] | None = None,
) -> list[Change]:
    """What changed in one namespace; ``where_a``/``where_b`` (inode -> namespace, on
    each side) name the namespace a veth's peer is in."""
    out: list[Change] = []
    names_a = {c.name for c in a.containers}
    names_b = {c.name for c in b.containers}
    out.extend(_ns_change("container-appeared", b, "", "", n) for n in sorted(names_b - names_a))
    out.extend(_ns_change("container-gone", b, "", "", n) for n in sorted(names_a - names_b))
    if not (a.detailed and b.detailed):
        return out  # interfaces and routes were not read on both sides
    ifs_a = {i.ifindex: i for i in a.interfaces}
    ifs_b = {i.ifindex: i for i in b.interfaces}
    for index, iface in ifs_b.items():
        if index not in ifs_a:
            out.append(
                _if_change("interface-appeared", b, iface, "", _iface_summary(iface), topic="link")
            )
    for index, iface in ifs_a.items():
        if index not in ifs_b:
            gone = _if_change("interface-gone", b, iface, _iface_summary(iface), "", topic="link")
            out.append(gone)
    for index in sorted(ifs_a.keys() & ifs_b.keys()):
        out.extend(_diff_interface(b, ifs_a[index], ifs_b[index], where_a or {}, where_b or {}))
    # A renamed interface (same ifindex) is one change, said once: its routes, which
    # name it, are compared under the new name instead of all "removed" and "added".
    renamed = {
        ifs_a[i].name: ifs_b[i].name
        for i in ifs_a.keys() & ifs_b.keys()
        if ifs_a[i].name != ifs_b[i].name
    }
    routes_a = [_under_new_names(r, renamed) for r in a.routes] if renamed else a.routes
    out.extend(_diff_keyed(b, "route", map(route_text, routes_a), map(route_text, b.routes)))
    out.extend(_diff_keyed(b, "rule", map(rule_text, a.rules), map(rule_text, b.rules)))
    return out


def _under_new_names(r: Route, renamed: Mapping[str, str]) -> Route:
    hops = tuple(replace(h, dev=renamed.get(h.dev or "", h.dev)) for h in r.nexthops)
    return replace(r, dev=renamed.get(r.dev or "", r.dev), nexthops=hops)


def _diff_interface(
    ns: NetNamespace,
    a: Interface,
    b: Interface,
    where_a: Mapping[int, NetNamespace],
    where_b: Mapping[int, NetNamespace],
) -> list[Change]:
    out: list[Change] = []
    fields: list[tuple[str, str, str]] = [
        ("name", a.name, b.name),
        # the words the panes show, when both sides recorded flags (else the operstate)
        (
            "state",
            *((state_words(a), state_words(b)) if a.flags and b.flags else (a.state, b.state)),
        ),
        ("mtu", str(a.mtu), str(b.mtu)),
        ("mac", a.mac, b.mac),
        ("master", a.master or "none", b.master or "none"),
        ("kind", a.kind, b.kind),
    ]
    if _peer_key(a) != _peer_key(b):  # the peer moved: said with where it is, by name
        fields.append(("peer", _peer_text(a, where_a), _peer_text(b, where_b)))
    if a.flags and b.flags:  # flags unknown on one side: not a change
        fields.append(("flags", ",".join(a.flags), ",".join(b.flags)))
    if a.port_state and b.port_state:  # (a snapshot from before they were recorded: none)
        fields.append(("port state", a.port_state, b.port_state))
    if a.vxlan is not None and b.vxlan is not None:
        fields.append(("vxlan", a.vxlan.words(), b.vxlan.words()))
    if a.tun is not None and b.tun is not None:  # its owner, flags, attached queues
        fields.append(("tun", a.tun.words(), b.tun.words()))
    # The kernel always sends a queue length: without one, a snapshot from before the
    # queue length, device group and broadcast were recorded (none of them a change).
    recorded = a.txqlen is not None and b.txqlen is not None
    if recorded:
        fields.append(("qlen", str(a.txqlen), str(b.txqlen)))
        fields.append(("group", str(a.group), str(b.group)))
    for field, old, new in fields:
        if old != new:
            before, after = f"{field} {old}", f"{field} {new}"
            out.append(_if_change("interface-changed", ns, b, before, after, topic=field))
    addrs_a = {_addr_key(x): x for x in a.addresses}
    addrs_b = {_addr_key(x): x for x in b.addresses}
    for key in sorted(addrs_b.keys() - addrs_a.keys()):
        out.append(_if_change("address-added", ns, b, "", key, topic=key))
    for key in sorted(addrs_a.keys() - addrs_b.keys()):
        out.append(_if_change("address-removed", ns, b, key, "", topic=key))
    for key in sorted(addrs_a.keys() & addrs_b.keys()):
        fa, fb = addrs_a[key].flags, addrs_b[key].flags
        if fa != fb and fa and fb:
            before = f"{key} {' '.join(fa)}"
            out.append(_if_change("address-changed", ns, b, before, " ".join(fb), topic=key))
        ba, bb = addrs_a[key].broadcast, addrs_b[key].broadcast
        if recorded and ba != bb:
            before, after = f"{key} brd {ba or 'none'}", f"brd {bb or 'none'}"
            out.append(_if_change("address-changed", ns, b, before, after, topic=f"{key} brd"))
    return out


def _diff_keyed(ns: NetNamespace, what: str, a: Iterable[str], b: Iterable[str]) -> list[Change]:
    old, new = set(a), set(b)
    added = [_ns_change(f"{what}-added", ns, "", "", t) for t in sorted(new - old)]
    gone = [_ns_change(f"{what}-removed", ns, "", "", t) for t in sorted(old - new)]
    return added + gone


def route_text(r: Route) -> str:
    """One line, in `ip route`'s order, that identifies the route (family included)."""
    parts = [r.selector_words]  # with tos: routes that differ only there are two routes
    if r.gateway:
        parts.append(f"via {r.gateway}")
    if r.dev:
        parts.append(f"dev {r.dev}")
    for hop in r.nexthops:
        hop_parts = ["nexthop"]
        if hop.gateway:
            hop_parts.append(f"via {hop.gateway}")
        if hop.dev:
            hop_parts.append(f"dev {hop.dev}")
        hop_parts.append(f"weight {hop.weight}")
        parts.append(" ".join(hop_parts))
    if r.nhid is not None:
        parts.append(f"nhid {r.nhid}")
    if r.type != "unicast":
        parts.insert(0, r.type)
    parts.append(f"table {table_name(r.table)}")
    if r.metric is not None:
        parts.append(f"metric {r.metric}")
    return f"ipv{r.family} " + " ".join(parts)


def rule_text(r: Rule) -> str:
    """The rule's identity: its family and every word `ip rule` shows (two rules that
    differ in any selector are different rules)."""
    return f"ipv{r.family} {rule_words(r)}"


def rule_words(r: Rule) -> str:
    """A rule in `ip rule`'s words and order: "100: not from all to 10.0.0.0/8 fwmark
    0x1 lookup 100 suppress_prefixlength 0". Names as given: the caller escapes."""
    parts = [f"{r.priority}:"]
    if r.invert:
        parts.append("not")
    parts.append(f"from {r.src or 'all'}")
    optional = (
        ("to", r.dst),
        ("tos", f"{r.tos:#04x}" if r.tos else None),
        ("fwmark", r.fwmark),
        ("iif", _detached(r.iif, r.iif_detached)),
        ("oif", _detached(r.oif, r.oif_detached)),
        ("uidrange", r.uidrange),
        ("ipproto", r.ipproto_word),
        ("sport", r.sport),
        ("dport", r.dport),
        ("tun_id", None if r.tun_id is None else str(r.tun_id)),
        ("dscp", r.dscp),
        ("flowlabel", r.flowlabel),
    )
    parts.extend(f"{word} {value}" for word, value in optional if value)
    parts.extend(f"[attribute {t} not read]" for t in r.unread)
    if r.l3mdev:
        parts.append("lookup [l3mdev-table]")
    if r.table is not None:
        parts.append(f"lookup {table_name(r.table)}")
        if r.suppress_prefixlen is not None:
            parts.append(f"suppress_prefixlength {r.suppress_prefixlen}")
        if r.suppress_ifgroup is not None:  # group 0 is "default" (/etc/iproute2/group)
            group = "default" if r.suppress_ifgroup == 0 else str(r.suppress_ifgroup)
            parts.append(f"suppress_ifgroup {group}")
    if r.realms is not None:
        parts.append(f"realms {r.realms}")
    if r.action == "goto":
        parts.append(f"goto {r.goto if r.goto is not None else 'none'}")
        if r.unresolved:
            parts.append("[unresolved]")
    elif r.action != "lookup":
        parts.append(r.action)
    if r.protocol not in ("unspec", "kernel"):  # as ip: who made it, when not the usual
        parts.append(f"proto {r.protocol}")
    return " ".join(parts)


def _detached(dev: str | None, detached: bool) -> str | None:
    return f"{dev} [detached]" if dev is not None and detached else dev


def _addr_key(a: Address) -> str:
    return f"{a.address}/{a.prefixlen}"


def _peer_key(i: Interface) -> tuple[object, ...]:
    p = i.peer
    return () if p is None else (p.resolved, p.ifindex, p.name, p.netns_inode)


def _peer_text(i: Interface, where: Mapping[int, NetNamespace]) -> str:
    if i.peer is None:
        return "none"
    if not i.peer.resolved:
        return f"unresolved ifindex {i.peer.ifindex}"
    inode = i.peer.netns_inode
    other = where.get(inode) if inode is not None else None
    return f"{i.peer.name} in {describe(other) if other is not None else f'inode {inode}'}"


def _iface_summary(i: Interface) -> str:
    addrs = " ".join(_addr_key(a) for a in i.addresses)
    return " ".join(x for x in (i.kind, state_words(i), addrs) if x)


def _holders(ns: NetNamespace, reused: bool = False) -> str:
    text = ns.label or str(ns.inode)
    return f"{text}; a new namespace under a reused inode" if reused else text


def _ns_change(kind: str, ns: NetNamespace, before: str, after: str, subject: str = "") -> Change:
    """A change of ``ns`` itself (``subject`` ""), or of a container, route or rule in it."""
    topic = "" if subject else "namespace"
    return Change(kind, ns.inode, ns.label, subject, before, after, topic,
                  namespace_cookie=ns.cookie)  # fmt: skip


def _if_change(
    kind: str, ns: NetNamespace, i: Interface, before: str, after: str, *, topic: str
) -> Change:
    return Change(kind, ns.inode, ns.label, i.name, before, after, topic, i.ifindex, ns.cookie)
