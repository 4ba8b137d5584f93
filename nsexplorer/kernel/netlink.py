"""A small rtnetlink client on a plain stdlib socket: framing, the receive loop and its
integrity checks. Around it: rtnl_attrs.py (attribute values), rtnl_decode.py (one
table-driven decoder per message type), rtnl_raw.py (what they produce), rtnl_dump.py
(the dumps one namespace needs), rtnl_names.py (ip's words for the numbers).

Why not pyroute2 for rtnetlink: its generic attribute parser costs ~1.8 ms per namespace
and holds the GIL, and ``IPRoute(netns=...)`` forks (bench/RESULTS.md). A netlink socket
belongs to the network namespace of the thread that created it, so the collector creates
one per namespace on a thread that setns()'d there (see netns_reader.py) and dumps over
it from anywhere. Read-only: only GET requests are ever sent.

What a reply must be before it is believed:
- sent by the kernel: the datagram's source port id is 0 (a process with CAP_NET_ADMIN
  in that namespace can unicast forged replies to our port; those are dropped, counted);
- ours: the sequence number of the request;
- whole: a datagram larger than the receive buffer (MSG_TRUNC) grows the buffer and the
  dump is taken again;
- consistent: a dump the kernel flags NLM_F_DUMP_INTR (a change raced it) is taken again,
  up to ``DUMP_ATTEMPTS`` times, then returned marked interrupted;
- successful: NLMSG_ERROR, or NLMSG_DONE carrying a negative errno, raises.
Malformed framing raises NetlinkDecodeError (a ValueError): the caller turns it into
that namespace's warning.

One receive buffer per thread (``recvmsg_into``), reused by every socket and dump on it;
the decoders parse in place and copy out only what they keep.
"""

from __future__ import annotations

import os
import socket
import struct
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

NETLINK_ROUTE = 0
NLM_F_REQUEST = 0x1
NLM_F_MULTI = 0x2
NLM_F_DUMP_INTR = 0x10
NLM_F_DUMP = 0x300
NLMSG_NOOP = 1
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLMSG_OVERRUN = 4

RTM_NEWLINK = 16
RTM_GETLINK = 18
RTM_NEWADDR = 20
RTM_GETADDR = 22
RTM_NEWROUTE = 24
RTM_GETROUTE = 26
RTM_NEWRULE = 32
RTM_GETRULE = 34
RTM_NEWNSID = 88
RTM_GETNSID = 90
RTM_NEWNEXTHOP = 104
RTM_GETNEXTHOP = 106

NLA_TYPE_MASK = 0x3FFF  # without NLA_F_NESTED / NLA_F_NET_BYTEORDER
MSG_TRUNC = int(socket.MSG_TRUNC)  # a plain int: IntFlag arithmetic costs per datagram

NLMSGHDR = struct.Struct("=IHHII")
RTATTR = struct.Struct("=HH")
U32 = struct.Struct("=I")
I32 = struct.Struct("=i")

Buf = bytes | bytearray
T = TypeVar("T")
# A message decoder: (buffer, message start, message end) -> value, or None to skip it.
Parser = Callable[[Buf, int, int], T | None]
# An attribute table: type -> (key, decoder of (buffer, payload start, payload end)).
AttrTable = Mapping[int, tuple[str, Callable[[Buf, int, int], Any]]]

NETNSA_NSID = 1
NETNSA_FD = 3

DUMP_ATTEMPTS = 4  # one dump plus three retries after NLM_F_DUMP_INTR
RECV_START = 1 << 16  # the kernel sizes dump datagrams to the reader's buffer, <= 32 KiB
RECV_MAX = 1 << 26


class NetlinkError(OSError):
    """The kernel refused a request (NLMSG_ERROR, or an errno in NLMSG_DONE)."""


class NetlinkDecodeError(ValueError):
    """A reply that does not parse: lengths that overrun, fields too short."""


class _Again(Exception):
    """Internal: the dump must be taken again (truncated datagram)."""


class _RecvBuffer(threading.local):
    def __init__(self) -> None:
        self.buf = bytearray(RECV_START)


_RX = _RecvBuffer()


def _grow_receive_buffer(needed: int) -> None:
    size = len(_RX.buf)
    while size < needed:
        size *= 2
    if size > RECV_MAX:
        raise NetlinkDecodeError(f"netlink datagram of {needed} bytes is too large")
    _RX.buf = bytearray(size)


# ---------------------------------------------------------------- framing


def walk(buf: Buf, offset: int, end: int, table: AttrTable) -> dict[str, Any]:
    """The attributes from ``offset`` to ``end`` that ``table`` knows, decoded.
    Attributes it does not know are skipped without being copied."""
    out: dict[str, Any] = {}
    unpack = RTATTR.unpack_from
    get = table.get
    while offset + 4 <= end:
        length, atype = unpack(buf, offset)
        if length < 4 or offset + length > end:
            raise NetlinkDecodeError(
                f"attribute {atype & NLA_TYPE_MASK} (length {length}) overruns its message"
            )
        entry = get(atype & NLA_TYPE_MASK)
        if entry is not None:
            out[entry[0]] = entry[1](buf, offset + 4, offset + length)
        offset += (length + 3) & ~3
    return out


def find(buf: Buf, offset: int, end: int, atype: int) -> tuple[int, int] | None:
    """The payload span of the first attribute of type ``atype`` from ``offset`` to
    ``end``, scanning no further (for one attribute of a long nest that the kernel puts
    first: a bridge port's state among its ~40)."""
    unpack = RTATTR.unpack_from
    while offset + 4 <= end:
        length, found = unpack(buf, offset)
        if length < 4 or offset + length > end:
            raise NetlinkDecodeError(
                f"attribute {found & NLA_TYPE_MASK} (length {length}) overruns"
            )
        if found & NLA_TYPE_MASK == atype:
            return offset + 4, offset + length
        offset += (length + 3) & ~3
    return None


def split_messages(data: Buf) -> list[tuple[int, int, bytes]]:
    """(type, seq, message bytes with header) for each netlink message in ``data``."""
    out: list[tuple[int, int, bytes]] = []
    for start, end in _message_spans(data, len(data)):
        _length, mtype, _flags, seq, _pid = NLMSGHDR.unpack_from(data, start)
        out.append((mtype, seq, bytes(data[start:end])))
    return out


def iter_attrs(buf: Buf, offset: int, end: int | None = None) -> list[tuple[int, bytes]]:
    """(type without NLA_F_ flags, payload) for each rtattr from ``offset`` to ``end``."""
    out: list[tuple[int, bytes]] = []
    stop = len(buf) if end is None else end
    while offset + 4 <= stop:
        length, atype = RTATTR.unpack_from(buf, offset)
        if length < 4 or offset + length > stop:
            raise NetlinkDecodeError(f"attribute {atype} (length {length}) overruns")
        out.append((atype & NLA_TYPE_MASK, bytes(buf[offset + 4 : offset + length])))
        offset += (length + 3) & ~3
    return out


def _message_spans(data: Buf, end: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    offset = 0
    while offset + NLMSGHDR.size <= end:
        (length,) = U32.unpack_from(data, offset)
        if length < NLMSGHDR.size or offset + length > end:
            raise NetlinkDecodeError(f"netlink message (length {length}) overruns its datagram")
        spans.append((offset, offset + length))
        offset += (length + 3) & ~3
    return spans


def attr(atype: int, value: bytes) -> bytes:
    length = RTATTR.size + len(value)
    return RTATTR.pack(length, atype) + value + b"\0" * ((-length) % 4)


def _error_code(buf: Buf, start: int, end: int) -> int:
    if end - start < NLMSGHDR.size + 4:
        raise NetlinkDecodeError("netlink error message without its code")
    code: int = I32.unpack_from(buf, start + NLMSGHDR.size)[0]
    return code


def _raise(code: int) -> None:
    raise NetlinkError(-code, os.strerror(-code))


def _nsid(buf: Buf, a: int, b: int) -> int:
    if b - a < 4:
        raise NetlinkDecodeError("NETNSA_NSID too short")
    value: int = I32.unpack_from(buf, a)[0]
    return value


_NSID: AttrTable = {NETNSA_NSID: ("nsid", _nsid)}


# ---------------------------------------------------------------- socket


class RtSocket:
    """An rtnetlink socket bound to the netns of the thread that created it."""

    def __init__(self, sock: socket.socket | None = None) -> None:
        if sock is None:
            sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
            # Blocking, with no timeout: rtnetlink answers GET requests synchronously
            # inside send(), so the answer is queued before recvmsg() is called.
            try:
                sock.bind((0, 0))
            except BaseException:
                sock.close()
                raise
        self.sock = sock
        self._seq = 0
        # Datagrams dropped because the kernel did not send them (port id != 0).
        self.foreign = 0

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RtSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, msg_type: int, flags: int, payload: bytes) -> int:
        self._seq += 1
        hdr = NLMSGHDR.pack(NLMSGHDR.size + len(payload), msg_type, flags, self._seq, 0)
        self.sock.send(hdr + payload)
        return self._seq

    def _recv(self) -> int:
        """One datagram from the kernel into the thread's buffer; its length."""
        while True:
            buf = _RX.buf
            nbytes, _anc, msg_flags, address = self.sock.recvmsg_into([buf], 0, MSG_TRUNC)
            if address[0] != 0:
                self.foreign += 1
                continue
            if msg_flags & MSG_TRUNC or nbytes > len(buf):
                _grow_receive_buffer(nbytes)
                raise _Again
            return int(nbytes)

    def dump(self, msg_type: int, payload: bytes, parse: Parser[T]) -> tuple[list[T], bool]:
        """Every message of a dump, decoded by ``parse`` (None results dropped), and
        whether the kernel still flagged it interrupted after ``DUMP_ATTEMPTS`` tries."""
        last: list[T] | None = None
        for attempt in range(DUMP_ATTEMPTS):
            try:
                final = attempt == DUMP_ATTEMPTS - 1
                items, interrupted = self._dump_once(msg_type, payload, parse, final)
            except _Again:
                continue
            if not interrupted:
                return items, False
            last = items
        if last is None:
            raise NetlinkDecodeError("netlink dump kept being truncated")
        return last, True

    def _dump_once(
        self, msg_type: int, payload: bytes, parse: Parser[T], final: bool
    ) -> tuple[list[T], bool]:
        """One dump. Once it is flagged interrupted, the rest is only drained (it will be
        taken again), except on the ``final`` attempt, whose data is returned."""
        seq = self._send(msg_type, NLM_F_REQUEST | NLM_F_DUMP, payload)
        items: list[T] = []
        interrupted = False
        truncated = False
        unpack = NLMSGHDR.unpack_from
        while True:
            try:
                end = self._recv()
            except _Again:
                # The rest of that datagram is lost: drain this dump, then take it again.
                truncated = True
                continue
            buf = _RX.buf
            for start, stop in _message_spans(buf, end):
                _length, mtype, flags, mseq, _pid = unpack(buf, start)
                if mseq != seq:
                    continue
                if flags & NLM_F_DUMP_INTR:
                    interrupted = True
                if mtype == NLMSG_DONE:
                    if stop - start >= NLMSGHDR.size + 4:
                        code = _error_code(buf, start, stop)
                        if code < 0:
                            _raise(code)
                    if truncated:
                        raise _Again
                    return items, interrupted
                if mtype == NLMSG_ERROR:
                    code = _error_code(buf, start, stop)
                    if code != 0:
                        _raise(code)
                    continue
                if mtype == NLMSG_OVERRUN:
                    raise NetlinkDecodeError("netlink overrun")
                if mtype == NLMSG_NOOP or truncated or (interrupted and not final):
                    continue
                item = parse(buf, start, stop)
                if item is not None:
                    items.append(item)

    def dump_raw(self, msg_type: int, payload: bytes) -> list[bytes]:
        """Every message of a dump as bytes (header included): for recording fixtures."""
        items, _ = self.dump(msg_type, payload, lambda buf, a, b: bytes(buf[a:b]))
        return items

    def request(self, msg_type: int, payload: bytes) -> bytes:
        """One request, one answer (raw message, copied out of the buffer)."""
        for _attempt in range(DUMP_ATTEMPTS):
            seq = self._send(msg_type, NLM_F_REQUEST, payload)
            try:
                return self._answer(seq)
            except _Again:
                continue
        raise NetlinkDecodeError("netlink answer kept being truncated")

    def get_nsid(self, netns_fd: int) -> int | None:
        """The id THIS namespace uses for the namespace open at ``netns_fd``
        (None: it has none, so no link here points into it)."""
        msg = self.request(RTM_GETNSID, b"\0\0\0\0" + attr(NETNSA_FD, U32.pack(netns_fd)))
        start = NLMSGHDR.size + 4
        nsid = walk(msg, start, len(msg), _NSID).get("nsid") if len(msg) >= start else None
        return None if nsid is None or nsid < 0 else int(nsid)

    def _answer(self, seq: int) -> bytes:
        while True:
            end = self._recv()
            buf = _RX.buf
            for start, stop in _message_spans(buf, end):
                _length, mtype, _flags, mseq, _pid = NLMSGHDR.unpack_from(buf, start)
                if mseq != seq:
                    continue
                if mtype == NLMSG_ERROR:
                    code = _error_code(buf, start, stop)
                    if code != 0:
                        _raise(code)
                    continue
                return bytes(buf[start:stop])
