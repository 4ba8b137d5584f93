"""Findings about wiring: veth ends and peers, bridges and their ports, addresses."""

from __future__ import annotations

from nsexplorer.model import Interface, NetNamespace
from nsexplorer.problems.base import (
    BRIDGE_DOWN,
    BRIDGE_NO_PORTS,
    BRIDGE_PORT_DOWN,
    BRIDGE_PORT_NOT_FORWARDING,
    DAD_FAILED,
    DUPLICATE_IP,
    DUPLICATE_MAC,
    MTU_MISMATCH,
    PEER_UNREACHABLE,
    PEER_UNRESOLVED,
    TUN_NOT_HELD,
    VETH_ADMIN_DOWN,
    VETH_NO_CARRIER,
    Index,
    Problem,
    command_in,
    finding,
    link_cmd,
    state_of,
    where,
)

_ZERO_MAC = "00:00:00:00:00:00"


def interface_problems(idx: Index) -> list[Problem]:
    """Per-interface findings of every namespace that was read."""
    out: list[Problem] = []
    for ns in idx.detailed:
        for iface in ns.interfaces:
            if iface.kind == "veth":
                out.extend(_veth_state(idx, ns, iface))
                out.extend(_veth_peer(idx, ns, iface))
            elif iface.kind == "bridge":
                ports = idx.ports.get((ns.inode, iface.ifindex), [])
                out.extend(_bridge(idx, ns, iface, ports))
            elif iface.tun is not None:
                out.extend(_tun_not_held(ns, iface))
            for a in iface.addresses:
                if a.dad_failed:
                    out.append(
                        finding(
                            DAD_FAILED,
                            "error",
                            ns,
                            iface.name,
                            f"duplicate address detection failed for {a.address}/"
                            f"{a.prefixlen}: another node on the link has it, so it is "
                            "not used here",
                            [f"{iface.name}: {a.address}/{a.prefixlen} {' '.join(a.flags)}"],
                            ["ip", "addr", "show", "dev", iface.name],
                        )
                    )
    return out


def _tun_not_held(ns: NetNamespace, iface: Interface) -> list[Problem]:
    """A tun/tap set up that no process holds open: the kernel gives it no carrier, so
    whatever it is for (a VM's NIC, a VPN) is gone. A bridge's port is said by the
    bridge's finding instead."""
    tun = iface.tun
    if tun is None or not iface.admin_up or iface.carrier is not False or iface.master:
        return []
    if tun.held:  # a holder that switched the carrier off itself (TUNSETCARRIER)
        return []
    return [
        finding(
            TUN_NOT_HELD,
            "warning",
            ns,
            iface.name,
            f"{iface.kind} is up but no process has it open: it has no carrier, so nothing "
            "passes (the VM, VPN or program that held it has gone?)",
            [state_of(iface), f"{iface.name}: tun {tun.words()}"],
            link_cmd(iface.name),
        )
    ]


def _port_note(iface: Interface) -> str:
    return f" (port of bridge {iface.master})" if iface.master else ""


def _veth_state(idx: Index, ns: NetNamespace, iface: Interface) -> list[Problem]:
    """Admin down on the end that is; "no carrier: peer admin down" on the other."""
    peer = idx.peer_of(iface)
    if iface.admin_up is False:
        tail = ""
        if peer is not None:
            state = "is admin down too" if peer[1].admin_up is False else "has no carrier"
            tail = f"; its peer {peer[1].name} in {where(peer[0])} {state}"
        return [
            finding(
                VETH_ADMIN_DOWN,
                "error",
                ns,
                iface.name,
                f"admin down{_port_note(iface)}{tail}",
                [state_of(iface)],
                link_cmd(iface.name),
            )
        ]
    if not (iface.admin_up and iface.carrier is False):
        return []
    if peer is not None and peer[1].admin_up is False:
        pns, piface = peer
        why = f"peer {piface.name} admin down in {where(pns)}"
        evidence: tuple[str, ...] = (state_of(iface), state_of(piface, pns))
        look = command_in(pns, link_cmd(piface.name))
    else:
        if peer is None:
            why = "peer's state unknown"
        elif not peer[1].flags:
            why = f"peer {peer[1].name} in {where(peer[0])}, state not recorded"
        else:
            why = f"peer {peer[1].name} in {where(peer[0])} is up"
        evidence = (state_of(iface),)
        look = command_in(ns, link_cmd(iface.name))
    # the port note right after the words about this end, never after the peer's (it
    # read as if the peer were the bridge's port)
    message = f"no carrier{_port_note(iface)}: {why}"
    return [Problem(VETH_NO_CARRIER, "error", ns.inode, iface.name, message, evidence, look)]


def _veth_peer(idx: Index, ns: NetNamespace, iface: Interface) -> list[Problem]:
    out: list[Problem] = []
    p = iface.peer
    if p is not None and idx.root:
        at = f"ifindex {p.ifindex}" if p.ifindex is not None else "an unknown ifindex"
        if p.netns_inode is None:
            out.append(
                finding(
                    PEER_UNRESOLVED,
                    "warning",
                    ns,
                    iface.name,
                    f"peer cannot be resolved: {at} in a namespace that nothing "
                    "nsexplorer can reach holds (no process, descriptor or bind mount it "
                    "can see; a socket or another mount namespace may)",
                    [f"{iface.name}: peer {at}, namespace unknown"],
                    link_cmd(iface.name),
                )
            )
        elif p.netns_inode not in idx.ns:
            out.append(
                finding(
                    PEER_UNREACHABLE,
                    "warning",
                    ns,
                    iface.name,
                    f"peer leads into namespace inode {p.netns_inode}, which nothing "
                    "reachable holds any more",
                    [f"{iface.name}: peer {at} in namespace inode {p.netns_inode}"],
                    link_cmd(iface.name),
                )
            )
    peer = idx.peer_of(iface)
    if peer is not None and peer[1].mtu != iface.mtu:
        pns, piface = peer
        out.append(
            finding(
                MTU_MISMATCH,
                "warning",
                ns,
                iface.name,
                f"mtu {iface.mtu}, but its peer {piface.name} in {where(pns)} has mtu "
                f"{piface.mtu}: larger frames are dropped",
                [
                    f"{iface.name}: mtu {iface.mtu}",
                    f"{piface.name} in {where(pns)}: mtu {piface.mtu}",
                ],
                link_cmd(iface.name),
            )
        )
    return out


def _bridge(idx: Index, ns: NetNamespace, br: Interface, ports: list[Interface]) -> list[Problem]:
    out = _port_mtus(ns, br, ports)  # a fact with or without recorded flags
    if br.admin_up is False:
        if ports:  # an idle, switched-off bridge is inert: only one with ports matters
            out.append(
                finding(
                    BRIDGE_DOWN,
                    "error",
                    ns,
                    br.name,
                    f"bridge admin down with {len(ports)} port(s): nothing crosses it",
                    [state_of(br), f"ports: {', '.join(p.name for p in ports)}"],
                    link_cmd(br.name),
                )
            )
        return out
    if br.admin_up is None:
        return out
    if not ports:
        # Docker's, libvirt's and CNI's bridges wait for guests with their gateway
        # address set: an empty bridge with an address is normal, one without is not.
        used = any(a.scope not in ("host", "link") for a in br.addresses)
        if not used and br.name not in idx.engine_bridges:
            out.append(
                finding(
                    BRIDGE_NO_PORTS,
                    "info",
                    ns,
                    br.name,
                    "bridge is up but has no ports and no address: nothing uses it",
                    [state_of(br)],
                    ["ip", "link", "show", "master", br.name],
                )
            )
        return out
    out.extend(_not_forwarding(ns, br, ports))
    for port in ports:
        # A veth port is reported by its veth finding (admin down, or no carrier with
        # the peer's state), so the cause is said once.
        if port.kind == "veth" or port.admin_up is None:
            continue
        if port.admin_up is False:
            why = "admin down"
        elif port.carrier is False:
            why = "up but has no carrier"
        else:
            continue
        out.append(
            finding(
                BRIDGE_PORT_DOWN,
                "warning",
                ns,
                port.name,
                f"port of bridge {br.name} is {why}: what is behind it is cut off",
                [state_of(port)],
                link_cmd(port.name),
            )
        )
    return out


# STP states a port passes through (or sits in, blocking, to break a loop): worth
# knowing; "disabled" on a port that is up with carrier was set by hand.
_STP_STATES = ("listening", "learning", "blocking")


def _not_forwarding(ns: NetNamespace, br: Interface, ports: list[Interface]) -> list[Problem]:
    """Ports up with carrier whose STP state drops every frame: every other fact about
    them says "up", and the bridge loses its carrier when none forwards."""
    out: list[Problem] = []
    for port in ports:
        state = port.port_not_forwarding
        if state is None or not (port.admin_up and port.carrier):
            continue
        out.append(
            finding(
                BRIDGE_PORT_NOT_FORWARDING,
                "info" if state in _STP_STATES else "warning",
                ns,
                port.name,
                f"port of bridge {br.name} is up with carrier but {state}: no frame crosses it",
                [state_of(port), f"bridge link: {port.name} state {state}"],
                ["bridge", "link", "show", "dev", port.name],
            )
        )
    return out


def _port_mtus(ns: NetNamespace, br: Interface, ports: list[Interface]) -> list[Problem]:
    mtus = sorted({p.mtu for p in ports})
    if len(mtus) < 2:
        return []
    return [
        finding(
            MTU_MISMATCH,
            "warning",
            ns,
            br.name,
            f"ports of bridge {br.name} disagree on mtu ({', '.join(map(str, mtus))}): "
            "larger frames are dropped between them",
            [f"{p.name}: mtu {p.mtu}" for p in ports],
            ["ip", "link", "show", "master", br.name],
        )
    ]


def comparable(family: int, address: str, scope: str) -> bool:
    """A global unicast address: not loopback, not link-local."""
    if scope in ("host", "link"):
        return False
    if family == 4:
        return not address.startswith(("127.", "169.254.", "0."))
    return scope == "global" and address != "::1" and not address.lower().startswith("fe8")


def duplicate_ips(idx: Index) -> list[Problem]:
    """The same global address in two namespaces: an error on one link layer (a bridge,
    a veth pair), else a warning (isolated namespaces may reuse addresses on purpose)."""
    holders: dict[tuple[int, str], list[tuple[NetNamespace, Interface]]] = {}
    for ns in idx.detailed:
        for iface in ns.interfaces:
            for a in iface.addresses:
                if comparable(a.family, a.address, a.scope):
                    holders.setdefault((a.family, a.address.lower()), []).append((ns, iface))
    out: list[Problem] = []
    for (_family, addr), hs in holders.items():
        if len({ns.inode for ns, _ in hs}) < 2:
            continue
        domains = [idx.domain_of(ns.inode, i) for ns, i in hs]
        evidence = [f"{i.name} in {where(ns)} (inode {ns.inode})" for ns, i in hs]
        for n, (ns, iface) in enumerate(hs):
            shown = ", ".join(f"{oi.name} in {where(o)}" for o, oi in hs if o.inode != ns.inode)
            mine = domains[n]
            shared = mine is not None and any(
                d is not None and d[0] == mine[0] and hs[m][0].inode != ns.inode
                for m, d in enumerate(domains)
            )
            if shared and mine is not None:
                severity = "error"
                message = f"{addr} is also on {shown}, on the same {mine[1]}"
            else:
                severity, message = "warning", f"{addr} is also on {shown}"
            out.append(
                finding(
                    DUPLICATE_IP,
                    severity,
                    ns,
                    iface.name,
                    message,
                    evidence,
                    ["ip", "addr", "show", "dev", iface.name],
                )
            )
    return out


def duplicate_macs(idx: Index) -> list[Problem]:
    """Two stations behind one bridge with the same MAC, or a station with the MAC of
    the bridge or one of its ports (the bridge then keeps its frames for itself).

    The bridge's own MAC equal to a port's is normal (Linux takes the lowest port's).
    """
    out: list[Problem] = []
    for (ino, bidx), ports in idx.ports.items():
        ns = idx.ns[ino]
        br = idx.iface[(ino, bidx)]
        local = {p.mac.lower(): p.name for p in ports if p.mac}
        local.setdefault(br.mac.lower(), br.name)
        stations: dict[str, list[str]] = {}
        for port in ports:
            peer = idx.peer_of(port)
            if peer is None or not peer[1].mac or peer[1].mac == _ZERO_MAC:
                continue
            stations.setdefault(peer[1].mac.lower(), []).append(
                f"{peer[1].name} in {where(peer[0])} (behind port {port.name})"
            )
        for mac, behind in stations.items():
            users = [*behind, f"{local[mac]} (this bridge's own)"] if mac in local else behind
            if len(users) < 2:
                continue
            out.append(
                finding(
                    DUPLICATE_MAC,
                    "error",
                    ns,
                    br.name,
                    f"MAC {mac} is used {len(users)} times on bridge {br.name}: its "
                    "frames reach only one of them",
                    users,
                    ["bridge", "fdb", "show", "br", br.name],
                )
            )
    return out
