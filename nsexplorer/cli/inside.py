"""`show`'s text for what is inside a namespace: sockets, neighbours, bridge FDB, NAT,
conntrack. Every string that came from the system (process names, unix socket paths,
device and chain names, rule text) is passed through ``visible``."""

from __future__ import annotations

from nsexplorer.model import PublishedPort
from nsexplorer.model_inside import (
    INSIDE_PARTS,
    DnatRule,
    FdbEntry,
    InsideFacts,
    Neighbour,
    SocketInfo,
)
from nsexplorer.textsafe import visible

MAX_PIDS_SHOWN = 4
TITLES = {
    "sockets": "Sockets",
    "neighbours": "Neighbours",
    "fdb": "Bridge FDB",
    "nat": "NAT",
    "conntrack": "Conntrack",
}


def endpoint(address: str | None, port: int | None, family: int, dev: str | None = None) -> str:
    """ss's way: 10.0.0.1:80, [::1]:53, [fe80::1]%eth0:546; "*" for no peer."""
    if address is None:
        return "*"
    if port is None:
        return visible(address) or "(unnamed)"
    host = f"[{address}]" if family == 6 else address
    scope = f"%{visible(dev)}" if dev else ""
    return f"{host}{scope}:{port}"


def holders(s: SocketInfo) -> str:
    if not s.pids:
        return "-"
    shown = [
        f"{pid} {visible(cmd) or '?'}"
        for pid, cmd in zip(s.pids[:MAX_PIDS_SHOWN], s.commands[:MAX_PIDS_SHOWN], strict=False)
    ]
    more = f" +{len(s.pids) - MAX_PIDS_SHOWN} more" if len(s.pids) > MAX_PIDS_SHOWN else ""
    return ("pid " if len(s.pids) == 1 else "pids ") + ", ".join(shown) + more


def _socket_rows(sockets: tuple[SocketInfo, ...]) -> list[str]:
    rows: list[tuple[str, str, str, str, str]] = []
    for s in sockets:
        local = endpoint(s.local_address, s.local_port, s.family, s.interface)
        if s.protocol == "unix" and s.socket_type:
            local += f" ({s.socket_type})"
        peer = endpoint(s.remote_address, s.remote_port, s.family)
        proto = f"{s.protocol}{'6' if s.family == 6 else ''}"
        rows.append((proto, s.state, local, peer, holders(s)))
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return [
        "  " + "  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4]
        for r in rows
    ]


def _neighbour(n: Neighbour) -> str:
    ll = f" lladdr {n.lladdr}" if n.lladdr else ""
    flags = "".join(f" {f}" for f in n.flags)
    return f"  {n.address} dev {visible(n.dev)}{ll}{flags} {n.state}".rstrip()


def _fdb(e: FdbEntry) -> str:
    return f"  {visible(e.words())}"


def _published(p: PublishedPort) -> str:
    return f"  published: {visible(p.container_port)} on {visible(p.host_ip) or '*'}:{p.host_port}"


def _dnat(r: DnatRule, inode: int, host_label: str) -> str:
    where = "here" if r.netns_inode == inode else host_label
    match = " ".join(
        x
        for x in (
            f"in {visible(r.in_interface)}" if r.in_interface else "",
            f"to {visible(r.dst)}" if r.dst else "",
            visible(r.protocol),
            f"dport {visible(r.dport)}" if r.dport else "",
        )
        if x
    )
    to = f"[{r.to_address}]" if r.family == 6 and r.to_port else r.to_address
    port = f":{visible(r.to_port)}" if r.to_port else ""
    return (
        f"  dnat ({where}, {r.tool} {visible(r.table)} chain {visible(r.chain)}): "
        f"{match or 'any'} -> {visible(to)}{port}"
    )


def format_inside(facts: InsideFacts, host_label: str = "host") -> list[str]:
    """Lines for ``show``: one section per part, or why it was not read."""
    reasons = {part: why for part, why in facts.unavailable}
    if len(reasons) == len(INSIDE_PARTS) and len(set(reasons.values())) == 1:
        return ["", f"Inside: {visible(next(iter(reasons.values())))}"]
    out: list[str] = []
    for part in INSIDE_PARTS:
        why = reasons.get(part)
        if why == "not asked for":
            continue
        out.append("")
        if why is not None:
            out.append(f"{TITLES[part]}: {visible(why)}")
            continue
        if part == "sockets":
            tw = f" ({facts.time_wait} in TIME-WAIT, not listed)" if facts.time_wait else ""
            out.append(f"Sockets: {len(facts.sockets)}{tw}")
            out.extend(_socket_rows(facts.sockets))
        elif part == "neighbours":
            out.append(f"Neighbours: {len(facts.neighbours)}")
            out.extend(_neighbour(n) for n in facts.neighbours)
        elif part == "fdb":
            out.append(f"Bridge FDB: {len(facts.fdb)}")
            out.extend(_fdb(e) for e in facts.fdb)
        elif part == "nat":
            published = f", {len(facts.published)} published ports" if facts.published else ""
            out.append(f"NAT: {len(facts.dnat)} DNAT rules{published}")
            out.extend(_published(p) for p in facts.published)
            out.extend(_dnat(r, facts.namespace_inode, host_label) for r in facts.dnat)
        elif part == "conntrack":
            out.append(f"Conntrack: {facts.conntrack_count} entries")
    return out
