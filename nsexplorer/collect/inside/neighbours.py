"""The "neighbours" and "fdb" parts: ARP/NDP entries as `ip neigh` shows them, and the
bridge forwarding database as `bridge fdb` does, read with pyroute2's IPRoute.

pyroute2 is imported by the caller on the worker thread (never on the `list` path or
before the TUI's first frame); the IPRoute object is created, used and closed on that
thread while it is inside the namespace. Measured on a namespace with a bridge: about 2 ms
for the neighbours and 10 ms for the FDB; the volumes are small next to sockets, so the
library's generic parser is good enough here. The conversions below take plain values
(tested without pyroute2).
"""

from __future__ import annotations

import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nsexplorer.model_inside import FdbEntry, Neighbour

if TYPE_CHECKING:
    from typing import Any

NUD_NOARP = 0x40
NUD_PERMANENT = 0x80
NUD_REACHABLE = 0x02
NUD_STALE = 0x04
# ip's words for NUD_* bits, in ip's order
NUD_NAMES = (
    (0x01, "INCOMPLETE"),
    (0x02, "REACHABLE"),
    (0x04, "STALE"),
    (0x08, "DELAY"),
    (0x10, "PROBE"),
    (0x20, "FAILED"),
    (0x40, "NOARP"),
    (0x80, "PERMANENT"),
)
NTF_SELF = 0x02
NTF_MASTER = 0x04
NTF_PROXY = 0x08
NTF_EXT_LEARNED = 0x10
NTF_OFFLOADED = 0x20
NTF_STICKY = 0x40
NTF_ROUTER = 0x80
NEIGH_FLAGS = (
    (NTF_ROUTER, "router"),
    (NTF_EXT_LEARNED, "extern_learn"),
    (NTF_OFFLOADED, "offload"),
)
FDB_FLAGS = (
    (NTF_SELF, "self"),
    (NTF_ROUTER, "router"),
    (NTF_EXT_LEARNED, "extern_learn"),
    (NTF_OFFLOADED, "offload"),
    (NTF_MASTER, "master"),
    (NTF_STICKY, "sticky"),
)


@dataclass(frozen=True, slots=True)
class RawNeigh:
    """One RTM_NEWNEIGH, reduced to what is shown."""

    family: int
    ifindex: int
    state: int
    flags: int
    dst: str | None = None  # NDA_DST
    lladdr: str | None = None  # NDA_LLADDR
    master: int | None = None  # NDA_MASTER
    vlan: int | None = None  # NDA_VLAN
    via: int | None = None  # NDA_IFINDEX: the device a vxlan remote is reached through
    via_elsewhere: bool = False  # NDA_LINK_NETNSID: ``via`` is an ifindex of another netns


def from_pyroute2(msg: Any) -> RawNeigh:
    """A pyroute2 ndmsg as plain values (the only place that knows its shape). The
    header fields are read by subscript: ``msg.get("ifindex")`` answers NDA_IFINDEX
    (a vxlan entry's ``via`` device) before the header's own ifindex."""
    master = msg.get_attr("NDA_MASTER")
    vlan = msg.get_attr("NDA_VLAN")
    dst = msg.get_attr("NDA_DST")
    lladdr = msg.get_attr("NDA_LLADDR")
    via = msg.get_attr("NDA_IFINDEX")
    elsewhere = msg.get_attr("NDA_LINK_NETNSID") is not None
    return RawNeigh(
        family=int(msg["family"] or 0),
        ifindex=int(msg["ifindex"] or 0),
        state=int(msg["state"] or 0),
        flags=int(msg["flags"] or 0),
        dst=str(dst) if dst is not None else None,
        lladdr=str(lladdr) if lladdr is not None else None,
        master=int(master) if master is not None else None,
        vlan=int(vlan) if vlan is not None else None,
        via=int(via) if via is not None else None,
        via_elsewhere=elsewhere,
    )


def _words(value: int, table: Iterable[tuple[int, str]]) -> tuple[str, ...]:
    return tuple(word for bit, word in table if value & bit)


def _name(ifindex: int, names: Mapping[int, str]) -> str:
    return names.get(ifindex) or f"if{ifindex}"


def neighbours(raw: Iterable[RawNeigh], names: Mapping[int, str]) -> tuple[Neighbour, ...]:
    """ARP and NDP entries as `ip neigh` lists them: NOARP-only and NONE entries and
    proxy entries are left out, as ip does by default."""
    out: list[Neighbour] = []
    for n in raw:
        if n.family not in (socket.AF_INET, socket.AF_INET6) or n.dst is None:
            continue
        if not n.state & ~NUD_NOARP or n.flags & NTF_PROXY:
            continue
        out.append(
            Neighbour(
                address=n.dst,
                lladdr=n.lladdr,
                state=" ".join(_words(n.state, NUD_NAMES)),
                dev=_name(n.ifindex, names),
                family=4 if n.family == socket.AF_INET else 6,
                flags=_words(n.flags, NEIGH_FLAGS),
            )
        )
    out.sort(key=lambda e: (e.family, e.dev, e.address))
    return tuple(out)


def _fdb_state(state: int) -> str:
    # bridge(8)'s words; a learned entry (NUD_REACHABLE) has none
    if state & NUD_PERMANENT:
        return "permanent"
    if state & NUD_NOARP:
        return "static"
    if state & NUD_STALE:
        return "stale"
    if state & NUD_REACHABLE or state == 0:
        return ""
    return f"{state:#x}"


def _multicast(mac: str) -> bool:
    try:
        return bool(int(mac[:2], 16) & 1)
    except ValueError:
        return False


def _via(n: RawNeigh, names: Mapping[int, str]) -> str | None:
    if not n.via:
        return None
    # an ifindex of another namespace (NDA_LINK_NETNSID): not a name here (bridge fdb
    # prints "via ifindex N" too)
    return f"ifindex {n.via}" if n.via_elsewhere else _name(n.via, names)


def fdb(raw: Iterable[RawNeigh], names: Mapping[int, str]) -> tuple[FdbEntry, ...]:
    """Bridge FDB entries. The multicast addresses every device lists for itself
    (`33:33:00:00:00:01 dev eth0 self permanent`) are left out: they say nothing about
    where a station is. Everything else `bridge fdb` shows is kept (learned and
    permanent entries of bridge ports, vxlan remotes)."""
    out: list[FdbEntry] = []
    for n in raw:
        if n.family != socket.AF_BRIDGE or n.lladdr is None:
            continue
        if n.master is None and n.flags & NTF_SELF and _multicast(n.lladdr):
            continue
        out.append(
            FdbEntry(
                mac=n.lladdr,
                dev=_name(n.ifindex, names),
                vlan=n.vlan,
                state=_fdb_state(n.state),
                flags=_words(n.flags, FDB_FLAGS),
                master=_name(n.master, names) if n.master else None,
                dst=n.dst,
                via=_via(n, names),
            )
        )
    out.sort(key=lambda e: (e.master or "", e.dev, e.mac, e.vlan or 0))
    return tuple(out)


def read(ipr: Any) -> tuple[list[RawNeigh], list[RawNeigh]]:
    """(neighbours, fdb) over a pyroute2 IPRoute that lives in the namespace."""
    neigh = [from_pyroute2(m) for m in ipr.get_neighbours()]
    bridge = [from_pyroute2(m) for m in ipr.get_neighbours(family=socket.AF_BRIDGE)]
    return neigh, bridge
