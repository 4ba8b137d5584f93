"""The "sockets" part: TCP and UDP (IPv4 and IPv6) and UNIX listeners of a namespace,
with the processes that hold each one.

TCP: every state but TIME-WAIT, which is counted (such sockets have no owner and can
number in the thousands). UDP: every socket (UNCONN, or ESTAB when connected). UNIX:
listeners only (stream and seqpacket).

Owners are found through the socket inodes in /proc/PID/fd: first among the processes
discovery saw in the namespace, then, for sockets none of them holds, among all the
others (a process started since, one that moved to another namespace, or one that
received the socket over a unix socket). A socket that a process of the namespace holds
is not searched for elsewhere: on a host with many descriptors that full pass costs
several times the whole read (measured: 13,500 fds, 70-80 ms).
"""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass, field

from nsexplorer.collect.inside import sockdiag
from nsexplorer.collect.inside.sockdiag import InetSock, SockDiag, UnixSock
from nsexplorer.kernel import procfs
from nsexplorer.model_inside import SocketInfo

ALL_UDP_STATES = (1 << 12) - 2
_PROTO_RANK = {"tcp": 0, "udp": 1, "unix": 2}
_QUIET = frozenset({"LISTEN", "UNCONN"})


@dataclass(slots=True)
class RawSockets:
    """What sock_diag said, before the join to processes."""

    tcp: list[InetSock] = field(default_factory=list)
    udp: list[InetSock] = field(default_factory=list)
    unix: list[UnixSock] = field(default_factory=list)
    ifnames: dict[int, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def dump(diag: SockDiag) -> RawSockets:
    """Every socket of the namespace ``diag`` was created in. Call on the thread that is
    in that namespace if interface names are wanted (if_nameindex asks the thread's)."""
    raw = RawSockets()
    for family, name in ((socket.AF_INET, "IPv4"), (socket.AF_INET6, "IPv6")):
        for proto, states, into in (
            (socket.IPPROTO_TCP, sockdiag.ALL_TCP_STATES, raw.tcp),
            (socket.IPPROTO_UDP, ALL_UDP_STATES, raw.udp),
        ):
            try:
                into.extend(diag.inet(family, proto, states))
            except OSError as err:
                label = "TCP" if proto == socket.IPPROTO_TCP else "UDP"
                raw.warnings.append(f"{name} {label} sockets not read: {err.strerror or err}")
    try:
        raw.unix.extend(diag.unix(1 << sockdiag.TCP_LISTEN))
    except OSError as err:
        raw.warnings.append(f"UNIX sockets not read: {err.strerror or err}")
    if any(s.ifindex for s in (*raw.tcp, *raw.udp)):
        with contextlib.suppress(OSError):
            raw.ifnames = dict(socket.if_nameindex())
    return raw


def owners(
    inodes: set[int], likely: list[int], proc: str = "/proc"
) -> tuple[dict[int, tuple[int, ...]], dict[int, str]]:
    """(socket inode -> holder pids, pid -> comm) for ``inodes``.

    ``likely``: the processes of the namespace as discovery saw them (a stale pid costs
    nothing: inodes are unique, so it cannot hold one of these). Only when some socket
    is still without a holder are all the other processes asked.
    """
    found = procfs.socket_owners(inodes, likely, proc)
    missing = inodes - found.keys()
    if missing:
        seen = set(likely)
        others = [p for p in procfs.all_pids(proc) if p not in seen]
        for ino, pids in procfs.socket_owners(missing, others, proc).items():
            found.setdefault(ino, []).extend(pids)
    holders = {ino: tuple(sorted(set(pids))) for ino, pids in found.items()}
    every = {pid for pids in holders.values() for pid in pids}
    comms = {pid: procfs.read_comm(pid, proc) for pid in every}
    return holders, comms


def build(
    raw: RawSockets,
    holders: dict[int, tuple[int, ...]],
    comms: dict[int, str],
) -> tuple[tuple[SocketInfo, ...], int]:
    """(sockets, TIME-WAIT count) in display order: TCP, UDP, UNIX; listeners first."""
    out: list[SocketInfo] = []
    time_wait = 0
    named: dict[tuple[int, ...], tuple[str, ...]] = {(): ()}  # pids -> their commands
    for pids in holders.values():
        if pids not in named:
            named[pids] = tuple(comms.get(p, "") for p in pids)
    for proto, socks in (("tcp", raw.tcp), ("udp", raw.udp)):
        for s in socks:
            if proto == "tcp" and s.state == sockdiag.TCP_TIME_WAIT:
                time_wait += 1
                continue
            out.append(_inet(proto, s, holders, named, raw.ifnames))
    for u in raw.unix:
        pids = holders.get(u.inode, ()) if u.inode else ()
        out.append(
            SocketInfo(
                protocol="unix",
                state=sockdiag.STATE_NAMES.get(u.state, str(u.state)),
                local_address=u.name,
                local_port=None,
                remote_address=None,
                remote_port=None,
                pids=pids,
                commands=named[pids],
                family=0,
                inode=u.inode,
                recv_q=u.rqueue,
                send_q=u.wqueue,
                socket_type=sockdiag.UNIX_TYPES.get(u.type, str(u.type)),
            )
        )
    out.sort(key=_order)
    return tuple(out), time_wait


def _inet(
    proto: str,
    s: InetSock,
    holders: dict[int, tuple[int, ...]],
    named: dict[tuple[int, ...], tuple[str, ...]],
    ifnames: dict[int, str],
) -> SocketInfo:
    state = sockdiag.STATE_NAMES.get(s.state, str(s.state))
    peerless = state in _QUIET or (s.dport == 0 and s.dst in ("0.0.0.0", "::"))  # noqa: S104
    pids = holders.get(s.inode, ()) if s.inode else ()
    return SocketInfo(
        protocol=proto,
        state=state,
        local_address=s.src,
        local_port=s.sport,
        remote_address=None if peerless else s.dst,
        remote_port=None if peerless else s.dport,
        pids=pids,
        commands=named[pids],
        family=4 if s.family == socket.AF_INET else 6,
        inode=s.inode,
        uid=s.uid,
        recv_q=s.rqueue,
        send_q=s.wqueue,
        interface=(ifnames.get(s.ifindex) or f"if{s.ifindex}") if s.ifindex else None,
    )


def _order(s: SocketInfo) -> tuple[int, int, int, int, str, str, int]:
    return (
        _PROTO_RANK.get(s.protocol, 3),
        0 if s.state in _QUIET else 1,
        s.family,
        s.local_port or 0,
        s.local_address,
        s.remote_address or "",
        s.remote_port or 0,
    )
