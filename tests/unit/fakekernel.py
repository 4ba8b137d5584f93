"""A stand-in for an rtnetlink socket that replays recorded replies, for the receive loop.

``FakeKernel(replies)`` answers each request like the kernel would: the recorded
messages for that request type, re-sequenced to the request's number, packed a few per
datagram, then NLMSG_DONE. Hooks let a test make it misbehave as a kernel (or a forger)
can: flag dumps NLM_F_DUMP_INTR, put an errno in NLMSG_DONE, answer NLMSG_ERROR, send a
datagram larger than the reader's buffer, or queue datagrams from another sender.
"""

from __future__ import annotations

import socket
import struct
from collections import deque
from collections.abc import Callable

from nsexplorer.collect import netlink

HDR = struct.Struct("=IHHII")

# (datagram bytes, sender (port id, groups))
Datagram = tuple[bytes, tuple[int, int]]


def message(mtype: int, seq: int, body: bytes, flags: int = netlink.NLM_F_MULTI) -> bytes:
    msg = HDR.pack(HDR.size + len(body), mtype, flags, seq, 4242) + body
    return msg + b"\0" * ((-len(msg)) % 4)


def resequence(msg: bytes, seq: int, extra_flags: int = 0) -> bytes:
    out = bytearray(msg)
    length, mtype, flags, _seq, pid = HDR.unpack_from(out)
    HDR.pack_into(out, 0, length, mtype, flags | extra_flags, seq, pid)
    return bytes(out) + b"\0" * ((-len(out)) % 4)


class FakeKernel:
    def __init__(
        self,
        replies: dict[int, list[bytes]],
        *,
        per_datagram: int = 4,
        nsid: int | None = 0,
    ) -> None:
        self.replies = replies
        self.per_datagram = per_datagram
        self.nsid = nsid
        self.queue: deque[Datagram] = deque()
        self.requests: list[tuple[int, int]] = []  # (type, seq)
        # Hooks: called with (request type, attempt number for that type).
        self.intr: Callable[[int, int], bool] = lambda t, n: False
        self.done_errno: Callable[[int, int], int] = lambda t, n: 0
        self.error_errno: Callable[[int, int], int] = lambda t, n: 0
        self.oversize: Callable[[int, int], int] = lambda t, n: 0  # bytes of padding
        self.closed = False
        self._attempts: dict[int, int] = {}

    # --- the socket API RtSocket uses ------------------------------------------

    def send(self, data: bytes) -> int:
        _len, mtype, flags, seq, _pid = HDR.unpack_from(data)
        self.requests.append((mtype, seq))
        attempt = self._attempts[mtype] = self._attempts.get(mtype, 0) + 1
        if mtype == netlink.RTM_GETNSID:
            value = -1 if self.nsid is None else self.nsid
            body = b"\0\0\0\0" + netlink.attr(netlink.NETNSA_NSID, struct.pack("=i", value))
            self.queue.append((message(netlink.RTM_NEWNSID, seq, body, 0), (0, 0)))
            return len(data)
        err = self.error_errno(mtype, attempt)
        if err:
            body = struct.pack("=i", -err) + data[:16]
            self.queue.append((message(netlink.NLMSG_ERROR, seq, body, 0), (0, 0)))
            return len(data)
        intr = netlink.NLM_F_DUMP_INTR if self.intr(mtype, attempt) else 0
        msgs = [resequence(m, seq, intr) for m in self.replies.get(mtype, [])]
        if not flags & netlink.NLM_F_DUMP:
            msgs = msgs[:1]
            self.queue.append((b"".join(msgs), (0, 0)))
            return len(data)
        pad = self.oversize(mtype, attempt)
        for i in range(0, len(msgs), self.per_datagram):
            chunk = b"".join(msgs[i : i + self.per_datagram])
            if pad and i == 0:
                chunk += message(netlink.NLMSG_NOOP, seq, b"\0" * pad)
            self.queue.append((chunk, (0, 0)))
        done = struct.pack("=i", -self.done_errno(mtype, attempt))
        self.queue.append(
            (message(netlink.NLMSG_DONE, seq, done, netlink.NLM_F_MULTI | intr), (0, 0))
        )
        return len(data)

    def recvmsg_into(
        self, buffers: list[bytearray], bufsize: int = 0, flags: int = 0
    ) -> tuple[int, list[object], int, tuple[int, int]]:
        data, sender = self.queue.popleft()
        buf = buffers[0]
        n = min(len(buf), len(data))
        buf[:n] = data[:n]
        msg_flags = socket.MSG_TRUNC if len(data) > len(buf) else 0
        returned = len(data) if flags & socket.MSG_TRUNC else n
        return returned, [], msg_flags, sender

    def close(self) -> None:
        self.closed = True

    # --- misbehaving ----------------------------------------------------------

    def forge(self, mtype: int, seq: int, body: bytes, sender: int = 31337) -> None:
        """Queue a datagram from a process (port id != 0), as a forger would."""
        self.queue.append((message(mtype, seq, body), (sender, 0)))
