"""A small rtnetlink client on a plain stdlib socket: link, address and route dumps and
RTM_GETNSID queries, decoded into the model's terms.

Why not pyroute2 here: its generic attribute parser costs ~1.8 ms per namespace and holds
the GIL, and ``IPRoute(netns=...)`` forks. A netlink socket belongs to the network
namespace of the thread that created it, so the collector creates one per namespace on a
thread that setns()'d there (see netns_reader.py) and dumps over it from anywhere. The
decoders below are pure functions of the bytes the kernel sent, tested on recorded dumps.
Read-only: only GET requests are ever sent.
"""

from __future__ import annotations

import os
import socket
import struct
from dataclasses import dataclass, field

from nsexplorer.model import Address, Counters, Route

NETLINK_ROUTE = 0
NLM_F_REQUEST = 0x1
NLM_F_MULTI = 0x2
NLM_F_DUMP = 0x300
NLMSG_ERROR = 2
NLMSG_DONE = 3

RTM_NEWLINK = 16
RTM_GETLINK = 18
RTM_NEWADDR = 20
RTM_GETADDR = 22
RTM_NEWROUTE = 24
RTM_GETROUTE = 26
RTM_NEWNSID = 88
RTM_GETNSID = 90

IFLA_ADDRESS = 1
IFLA_IFNAME = 3
IFLA_MTU = 4
IFLA_LINK = 5
IFLA_MASTER = 10
IFLA_OPERSTATE = 16
IFLA_LINKINFO = 18
IFLA_IFALIAS = 20
IFLA_STATS64 = 23
IFLA_EXT_MASK = 29
IFLA_LINK_NETNSID = 37
IFLA_INFO_KIND = 1
IFLA_INFO_SLAVE_KIND = 4

IFA_ADDRESS = 1
IFA_LOCAL = 2

RTA_DST = 1
RTA_OIF = 4
RTA_GATEWAY = 5
RTA_PRIORITY = 6
RTA_PREFSRC = 7
RTA_TABLE = 15
RTA_VIA = 18
RTM_F_CLONED = 0x200

NETNSA_NSID = 1
NETNSA_FD = 3

ARPHRD_LOOPBACK = 772
AF_INET = socket.AF_INET
AF_INET6 = socket.AF_INET6

_NLMSGHDR = struct.Struct("=IHHII")
_IFINFOMSG = struct.Struct("=BxHiII")
_IFADDRMSG = struct.Struct("=BBBBI")
_RTMSG = struct.Struct("=BBBBBBBBI")
_RTATTR = struct.Struct("=HH")
_U32 = struct.Struct("=I")
_I32 = struct.Struct("=i")
_STATS64 = struct.Struct("=8Q")

OPERSTATES = ("unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up")
SCOPES = {0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}
PROTOCOLS = {
    0: "unspec",
    1: "redirect",
    2: "kernel",
    3: "boot",
    4: "static",
    8: "gated",
    9: "ra",
    10: "mrt",
    11: "zebra",
    12: "bird",
    13: "dnrouted",
    14: "xorp",
    15: "ntk",
    16: "dhcp",
    18: "keepalived",
    42: "babel",
    99: "openr",
    186: "bgp",
    187: "isis",
    188: "ospf",
    189: "rip",
    192: "eigrp",
}
ROUTE_TYPES = (
    "unspec",
    "unicast",
    "local",
    "broadcast",
    "anycast",
    "multicast",
    "blackhole",
    "unreachable",
    "prohibit",
    "throw",
    "nat",
    "xresolve",
)

RECV_SIZE = 1 << 18


class NetlinkError(OSError):
    pass


@dataclass(slots=True)
class RawLink:
    """One link as the kernel described it, before peers and masters are resolved."""

    index: int
    name: str
    kind: str
    state: str
    mtu: int
    mac: str
    alias: str
    master: int | None  # ifindex in the same namespace
    link: int | None  # IFLA_LINK: the peer's (or parent's) ifindex
    link_netnsid: int | None  # where ``link`` lives, numbered by THIS namespace
    counters: Counters | None
    slave_kind: str = ""
    arphrd: int = 0


@dataclass(slots=True)
class RawAddr:
    index: int
    address: Address


@dataclass(slots=True)
class RawRoute:
    oif: int | None
    route: Route  # ``dev`` filled in later from oif


@dataclass(slots=True)
class Dump:
    links: list[RawLink] = field(default_factory=list)
    addrs: list[RawAddr] = field(default_factory=list)
    routes: list[RawRoute] = field(default_factory=list)


# ---------------------------------------------------------------- socket


class RtSocket:
    """An rtnetlink socket bound to the netns of the thread that created it."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
        # Blocking, with no timeout: rtnetlink answers GET requests synchronously inside
        # send(), so the answer is queued before recv() is called (a Python timeout would
        # only add a poll() per call).
        try:
            self.sock.bind((0, 0))
        except BaseException:
            self.sock.close()
            raise
        self._seq = 0

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RtSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, msg_type: int, flags: int, payload: bytes) -> int:
        self._seq += 1
        hdr = _NLMSGHDR.pack(_NLMSGHDR.size + len(payload), msg_type, flags, self._seq, 0)
        self.sock.send(hdr + payload)
        return self._seq

    def dump(self, msg_type: int, payload: bytes) -> list[bytes]:
        """Every message of a dump, raw (header included), in order."""
        seq = self._send(msg_type, NLM_F_REQUEST | NLM_F_DUMP, payload)
        out: list[bytes] = []
        while True:
            data = self.sock.recv(RECV_SIZE)
            for mtype, mseq, msg in split_messages(data):
                if mseq != seq:
                    continue
                if mtype == NLMSG_DONE:
                    return out
                if mtype == NLMSG_ERROR:
                    _raise_if_error(msg)
                    continue
                out.append(msg)

    def request(self, msg_type: int, payload: bytes) -> bytes:
        """One request, one answer (raw message)."""
        seq = self._send(msg_type, NLM_F_REQUEST, payload)
        while True:
            data = self.sock.recv(RECV_SIZE)
            for mtype, mseq, msg in split_messages(data):
                if mseq != seq:
                    continue
                if mtype == NLMSG_ERROR:
                    _raise_if_error(msg)
                    continue
                return msg

    def dump_all(self) -> tuple[list[bytes], list[bytes], list[bytes]]:
        links = self.dump(RTM_GETLINK, _IFINFOMSG.pack(0, 0, 0, 0, 0))
        addrs = self.dump(RTM_GETADDR, _IFADDRMSG.pack(0, 0, 0, 0, 0))
        routes = self.dump(RTM_GETROUTE, _RTMSG.pack(0, 0, 0, 0, 0, 0, 0, 0, 0))
        return links, addrs, routes

    def get_link(self, index: int) -> bytes:
        """One link by ifindex (raw RTM_NEWLINK message)."""
        return self.request(RTM_GETLINK, _IFINFOMSG.pack(0, 0, index, 0, 0))

    def get_nsid(self, netns_fd: int) -> int | None:
        """The id THIS namespace uses for the namespace open at ``netns_fd``
        (None: it has none, so no link here points into it)."""
        payload = b"\0\0\0\0" + _attr(NETNSA_FD, _U32.pack(netns_fd))
        msg = self.request(RTM_GETNSID, payload)
        for atype, value in iter_attrs(msg, _NLMSGHDR.size + 4):
            if atype == NETNSA_NSID:
                nsid: int = _I32.unpack_from(value)[0]
                return None if nsid < 0 else nsid
        return None


def _attr(atype: int, value: bytes) -> bytes:
    length = _RTATTR.size + len(value)
    pad = (-length) % 4
    return _RTATTR.pack(length, atype) + value + b"\0" * pad


def _raise_if_error(msg: bytes) -> None:
    (code,) = _I32.unpack_from(msg, _NLMSGHDR.size)
    if code != 0:
        raise NetlinkError(-code, os.strerror(-code))


# ---------------------------------------------------------------- framing


def split_messages(data: bytes) -> list[tuple[int, int, bytes]]:
    """(type, seq, message bytes with header) for each netlink message in ``data``."""
    out: list[tuple[int, int, bytes]] = []
    offset = 0
    end = len(data)
    while offset + _NLMSGHDR.size <= end:
        length, mtype, _flags, seq, _pid = _NLMSGHDR.unpack_from(data, offset)
        if length < _NLMSGHDR.size or offset + length > end:
            break
        out.append((mtype, seq, data[offset : offset + length]))
        offset += (length + 3) & ~3
    return out


def iter_attrs(buf: bytes, offset: int, end: int | None = None) -> list[tuple[int, bytes]]:
    """(type without NLA_F_ flags, payload) for each rtattr from ``offset`` to ``end``."""
    out: list[tuple[int, bytes]] = []
    stop = len(buf) if end is None else end
    while offset + 4 <= stop:
        length, atype = _RTATTR.unpack_from(buf, offset)
        if length < 4 or offset + length > stop:
            break
        out.append((atype & 0x3FFF, buf[offset + 4 : offset + length]))
        offset += (length + 3) & ~3
    return out


def _str(value: bytes) -> str:
    nul = value.find(b"\0")
    return os.fsdecode(value if nul < 0 else value[:nul])


def _mac(value: bytes) -> str:
    return ":".join(f"{b:02x}" for b in value)


def _ip(family: int, value: bytes) -> str:
    return socket.inet_ntop(family, value)


# ---------------------------------------------------------------- decoders


_LINK_WANTED = frozenset(
    (
        IFLA_IFNAME,
        IFLA_MTU,
        IFLA_ADDRESS,
        IFLA_MASTER,
        IFLA_LINK,
        IFLA_LINK_NETNSID,
        IFLA_OPERSTATE,
        IFLA_IFALIAS,
        IFLA_STATS64,
        IFLA_LINKINFO,
    )
)


def parse_link(msg: bytes) -> RawLink:
    _fam, arphrd, index, _flags, _change = _IFINFOMSG.unpack_from(msg, _NLMSGHDR.size)
    name = ""
    mtu = 0
    mac = ""
    alias = ""
    master = link = netnsid = None
    state = "unknown"
    kind = slave_kind = ""
    counters = None
    # An inline walk over the attributes: a host link carries ~50 of them and only a few
    # matter; this loop is the collector's hottest code.
    offset = _NLMSGHDR.size + _IFINFOMSG.size
    end = len(msg)
    rtattr = _RTATTR.unpack_from
    while offset + 4 <= end:
        length, atype = rtattr(msg, offset)
        if length < 4 or offset + length > end:
            break
        atype &= 0x3FFF
        if atype in _LINK_WANTED:
            value = msg[offset + 4 : offset + length]
            if atype == IFLA_IFNAME:
                name = _str(value)
            elif atype == IFLA_MTU:
                mtu = _U32.unpack_from(value)[0]
            elif atype == IFLA_ADDRESS:
                mac = _mac(value)
            elif atype == IFLA_MASTER:
                master = _U32.unpack_from(value)[0] or None
            elif atype == IFLA_LINK:
                link = _U32.unpack_from(value)[0]
            elif atype == IFLA_LINK_NETNSID:
                netnsid = _I32.unpack_from(value)[0]
                if netnsid < 0:
                    netnsid = None
            elif atype == IFLA_OPERSTATE:
                code = value[0]
                state = OPERSTATES[code] if code < len(OPERSTATES) else str(code)
            elif atype == IFLA_IFALIAS:
                alias = _str(value)
            elif atype == IFLA_STATS64:
                if len(value) >= _STATS64.size:
                    rxp, txp, rxb, txb, rxe, txe, rxd, txd = _STATS64.unpack_from(value)
                    counters = Counters(
                        rx_bytes=rxb,
                        rx_packets=rxp,
                        rx_errors=rxe,
                        rx_dropped=rxd,
                        tx_bytes=txb,
                        tx_packets=txp,
                        tx_errors=txe,
                        tx_dropped=txd,
                    )
            else:  # IFLA_LINKINFO
                for itype, ivalue in iter_attrs(value, 0):
                    if itype == IFLA_INFO_KIND:
                        kind = _str(ivalue)
                    elif itype == IFLA_INFO_SLAVE_KIND:
                        slave_kind = _str(ivalue)
        offset += (length + 3) & ~3
    if not kind:
        kind = "loopback" if arphrd == ARPHRD_LOOPBACK else "device"
    return RawLink(
        index=index,
        name=name,
        kind=kind,
        state=state,
        mtu=mtu,
        mac=mac,
        alias=alias,
        master=master,
        link=link,
        link_netnsid=netnsid,
        counters=counters,
        slave_kind=slave_kind,
        arphrd=arphrd,
    )


def parse_addr(msg: bytes) -> RawAddr | None:
    family, prefixlen, _flags, scope, index = _IFADDRMSG.unpack_from(msg, _NLMSGHDR.size)
    if family not in (AF_INET, AF_INET6):
        return None
    local = address = None
    for atype, value in iter_attrs(msg, _NLMSGHDR.size + _IFADDRMSG.size):
        if atype == IFA_LOCAL:
            local = value
        elif atype == IFA_ADDRESS:
            address = value
    raw = local if local is not None else address
    if raw is None:
        return None
    return RawAddr(
        index=index,
        address=Address(
            family=4 if family == AF_INET else 6,
            address=_ip(family, raw),
            prefixlen=prefixlen,
            scope=SCOPES.get(scope, str(scope)),
        ),
    )


def parse_route(msg: bytes) -> RawRoute | None:
    (family, dst_len, _src_len, _tos, table, proto, scope, rtype, flags) = _RTMSG.unpack_from(
        msg, _NLMSGHDR.size
    )
    if family not in (AF_INET, AF_INET6) or flags & RTM_F_CLONED:
        return None
    dst = gateway = prefsrc = None
    oif = metric = None
    for atype, value in iter_attrs(msg, _NLMSGHDR.size + _RTMSG.size):
        if atype == RTA_DST:
            dst = _ip(family, value)
        elif atype == RTA_GATEWAY:
            gateway = _ip(family, value)
        elif atype == RTA_VIA and len(value) >= 2:
            via_family = int.from_bytes(value[:2], "little")
            if via_family in (AF_INET, AF_INET6):
                gateway = _ip(via_family, value[2:])
        elif atype == RTA_OIF:
            oif = _U32.unpack_from(value)[0]
        elif atype == RTA_TABLE:
            table = _U32.unpack_from(value)[0]
        elif atype == RTA_PRIORITY:
            metric = _U32.unpack_from(value)[0]
        elif atype == RTA_PREFSRC:
            prefsrc = _ip(family, value)
    if dst is None:
        unspecified = _ip(family, bytes(4 if family == AF_INET else 16))
        dst_text = "default" if dst_len == 0 else f"{unspecified}/{dst_len}"
    else:
        dst_text = f"{dst}/{dst_len}"
    return RawRoute(
        oif=oif,
        route=Route(
            family=4 if family == AF_INET else 6,
            table=table,
            dst=dst_text,
            gateway=gateway,
            dev=None,
            scope=SCOPES.get(scope, str(scope)),
            protocol=PROTOCOLS.get(proto, str(proto)),
            type=ROUTE_TYPES[rtype] if rtype < len(ROUTE_TYPES) else str(rtype),
            prefsrc=prefsrc,
            metric=metric,
        ),
    )


def parse_dump(links: list[bytes], addrs: list[bytes], routes: list[bytes]) -> Dump:
    out = Dump()
    for msg in links:
        if _type_of(msg) == RTM_NEWLINK:
            out.links.append(parse_link(msg))
    for msg in addrs:
        if _type_of(msg) == RTM_NEWADDR:
            a = parse_addr(msg)
            if a is not None:
                out.addrs.append(a)
    for msg in routes:
        if _type_of(msg) == RTM_NEWROUTE:
            r = parse_route(msg)
            if r is not None:
                out.routes.append(r)
    return out


def _type_of(msg: bytes) -> int:
    mtype: int = _NLMSGHDR.unpack_from(msg)[1]
    return mtype
