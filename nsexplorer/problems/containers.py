"""Containers whose kernel namespace disagrees with what their engine reports."""

from __future__ import annotations

from nsexplorer.model import Address, Container, ContainerNetwork, Interface, NetNamespace
from nsexplorer.problems.base import (
    CONTAINER_ADDRESS_MISMATCH,
    CONTAINER_LEFT_SANDBOX,
    CONTAINER_NO_DEFAULT_ROUTE,
    Index,
    Problem,
    finding,
    where,
)
from nsexplorer.problems.links import comparable

_NO_ROUTE_TYPES = ("blackhole", "unreachable", "prohibit", "throw")


def _run(path: str) -> str:
    return "/run/" + path.removeprefix("/var/run/") if path.startswith("/var/run/") else path


def container_problems(idx: Index) -> list[Problem]:
    # Where each SandboxKey is mounted (in any mount namespace): the container's sandbox.
    sandbox_of = {_run(m.path): ns for ns in idx.ns.values() for m in ns.bind_mounts}
    # Where each process is: discovery maps a container whose main process left its
    # sandbox by the sandbox, so the process shows up in another namespace's pids.
    netns_of_pid = {pid: ns for ns in idx.ns.values() for pid in ns.pids}
    out: list[Problem] = []
    for ns in idx.ns.values():
        for c in ns.containers:
            # Host mode is the host's namespace; container:<x> mode reports no networks
            # of its own (they are the other container's).
            if ns.is_host or c.shares_with or c.network_mode == "host":
                continue
            sandbox = sandbox_of.get(_run(c.sandbox_key), ns) if c.sandbox_key else ns
            process_ns = netns_of_pid.get(c.pid) if c.pid is not None else None
            if sandbox.inode != ns.inode:  # listed where its process is
                out.append(_left(ns, c, sandbox))
            elif process_ns is not None and process_ns.inode != ns.inode:  # listed by sandbox
                out.append(_left(process_ns, c, ns))
            if sandbox.detailed:  # the engine's view is its sandbox's
                out.extend(_compared(sandbox, c))
    return out


def _left(ns: NetNamespace, c: Container, sandbox: NetNamespace) -> Problem:
    return finding(
        CONTAINER_LEFT_SANDBOX,
        "error",
        ns,
        None,
        f"container {c.name}: its main process (pid {c.pid}) left its sandbox: it is in "
        f"this namespace, while {c.engine}'s networking is in {where(sandbox)} "
        f"(inode {sandbox.inode})",
        [f"{c.engine}: SandboxKey {c.sandbox_key}", f"pid {c.pid}: namespace inode {ns.inode}"],
        ["ip", "addr", "show"],
    )


def _compared(ns: NetNamespace, c: Container) -> list[Problem]:
    addresses: dict[str, tuple[Interface, Address]] = {}
    for iface in ns.interfaces:
        for a in iface.addresses:
            addresses[a.address.lower()] = (iface, a)
    out: list[Problem] = []
    for net in c.networks:
        out.extend(_mismatches(ns, c, net, addresses))
    out.extend(_default_route(ns, c))
    return out


def _kernel_addresses(ns: NetNamespace) -> str:
    shown = [
        f"{i.name} {a.address}/{a.prefixlen}"
        for i in ns.interfaces
        for a in i.addresses
        if comparable(a.family, a.address, a.scope)
    ]
    return "kernel: " + (", ".join(shown) if shown else "no global address")


def _mismatches(
    ns: NetNamespace,
    c: Container,
    net: ContainerNetwork,
    addresses: dict[str, tuple[Interface, Address]],
) -> list[Problem]:
    out: list[Problem] = []
    by_mac = {i.mac.lower(): i for i in ns.interfaces if i.mac} if net.mac else {}
    wanted = [(net.ip_address, net.prefixlen), (net.ipv6_address, 0)]
    for address, prefixlen in wanted:
        if not address:
            continue
        told = f"{address}/{prefixlen}" if prefixlen else address
        engine = f"{c.engine}: {told} on network {net.name}" + (
            f", mac {net.mac}" if net.mac else ""
        )
        held = addresses.get(address.lower())
        iface_name: str | None
        if held is None:
            expected = by_mac.get(net.mac.lower()) if net.mac else None
            iface_name = expected.name if expected is not None else None
            on = f" ({iface_name} has its mac)" if iface_name else ""
            why = f"the kernel has no such address in this namespace{on}"
        else:
            iface, a = held
            iface_name = iface.name
            if prefixlen and a.prefixlen != prefixlen:
                why = f"the kernel has it as {a.address}/{a.prefixlen} on {iface.name}"
            elif net.mac and iface.mac and iface.mac.lower() != net.mac.lower():
                why = f"{iface.name} holds it with mac {iface.mac}"
            else:
                continue
        out.append(
            finding(
                CONTAINER_ADDRESS_MISMATCH,
                "error",
                ns,
                iface_name,
                f"container {c.name}: {c.engine} reports {told} on network {net.name}, but {why}",
                [engine, _kernel_addresses(ns)],
                ["ip", "addr", "show"],
            )
        )
    return out


def _default_route(ns: NetNamespace, c: Container) -> list[Problem]:
    gateways = [n.gateway for n in c.networks if n.gateway and ":" not in n.gateway]
    if not gateways:
        return []
    for r in ns.routes:
        if r.family == 4 and r.dst == "default" and r.type not in _NO_ROUTE_TYPES:
            return []
    nets = ", ".join(f"{n.name} gateway {n.gateway}" for n in c.networks if n.gateway)
    return [
        finding(
            CONTAINER_NO_DEFAULT_ROUTE,
            "error",
            ns,
            None,
            f"container {c.name}: no IPv4 default route in its namespace, although "
            f"{c.engine} gives it a gateway ({', '.join(gateways)})",
            [f"{c.engine}: {nets}", f"kernel: {len(ns.routes)} route(s), no default"],
            ["ip", "-4", "route", "show", "table", "all"],
        )
    ]
