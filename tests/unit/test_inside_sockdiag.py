"""sock_diag decoding and the dump loop, on messages built here (no kernel)."""

from __future__ import annotations

import socket
import struct

import pytest

from nsexplorer.collect.inside import sockdiag
from nsexplorer.collect.inside.sockdiag import (
    NLMSGHDR,
    InetSock,
    SockDiag,
    UnixSock,
    parse_inet,
    parse_unix,
)

ANY4 = "0.0.0.0"  # noqa: S104 - an address in test data, nothing binds


def inet_body(
    family: int,
    state: int,
    src: str,
    sport: int,
    *,
    dst: str = ANY4,
    dport: int = 0,
    ifindex: int = 0,
    rq: int = 0,
    wq: int = 0,
    uid: int = 0,
    inode: int = 0,
) -> bytes:
    raw_src = socket.inet_pton(family, src).ljust(16, b"\0")
    raw_dst = socket.inet_pton(family, dst).ljust(16, b"\0")
    return sockdiag.INET_MSG.pack(
        family,
        state,
        0,
        0,
        struct.pack(">H", sport),
        struct.pack(">H", dport),
        raw_src,
        raw_dst,
        ifindex,
        b"\0" * 8,
        0,
        rq,
        wq,
        uid,
        inode,
    )


def attr(atype: int, value: bytes) -> bytes:
    data = struct.pack("=HH", 4 + len(value), atype) + value
    return data + b"\0" * (-len(data) % 4)


def unix_body(stype: int, state: int, inode: int, name: bytes | None, rq: int = 0) -> bytes:
    body = sockdiag.UNIX_MSG.pack(socket.AF_UNIX, stype, state, inode, b"\0" * 8)
    if name is not None:
        body += attr(sockdiag.UNIX_DIAG_NAME, name)
    body += attr(sockdiag.UNIX_DIAG_RQLEN, struct.pack("=II", rq, 128))
    return body


def msg(mtype: int, body: bytes, seq: int = 1, flags: int = 2) -> bytes:
    data = NLMSGHDR.pack(NLMSGHDR.size + len(body), mtype, flags, seq, 0) + body
    return data + b"\0" * (-len(data) % 4)


def test_an_ipv4_listener_decodes() -> None:
    m = msg(
        20, inet_body(socket.AF_INET, 10, "127.0.0.1", 8080, dst=ANY4, dport=0, wq=128, inode=77)
    )
    got = parse_inet(m, 0, len(m))
    assert got == InetSock(socket.AF_INET, 10, "127.0.0.1", 8080, ANY4, 0, 0, 0, 128, 0, 77)


def test_an_ipv6_connection_decodes_with_its_interface() -> None:
    body = inet_body(
        socket.AF_INET6, 1, "fe80::1", 22, dst="fe80::2", dport=50000, ifindex=3, inode=9
    )
    m = msg(20, body)
    got = parse_inet(m, 0, len(m))
    assert got is not None
    assert (got.src, got.sport, got.dst, got.dport, got.ifindex) == (
        "fe80::1",
        22,
        "fe80::2",
        50000,
        3,
    )


def test_a_short_or_foreign_family_message_is_skipped() -> None:
    short = msg(20, b"\x02\x0a")
    assert parse_inet(short, 0, len(short)) is None
    other = msg(
        20, inet_body(socket.AF_INET, 10, "1.2.3.4", 1, dst=ANY4, dport=0)[:0] + b"\x11" * 72
    )
    assert parse_inet(other, 0, len(other)) is None


def test_unix_names_path_abstract_and_unnamed() -> None:
    path = msg(20, unix_body(socket.SOCK_STREAM, 10, 5, b"/run/x.sock\0", rq=2))
    assert parse_unix(path, 0, len(path)) == UnixSock(
        socket.SOCK_STREAM, 10, 5, "/run/x.sock", 2, 128
    )
    abstract = msg(20, unix_body(5, 10, 6, b"\0nsx\x1b]2;t\x07"))
    got = parse_unix(abstract, 0, len(abstract))
    assert got is not None and got.name == "@nsx\x1b]2;t\x07" and got.type == 5
    unnamed = msg(20, unix_body(socket.SOCK_STREAM, 10, 7, None))
    got = parse_unix(unnamed, 0, len(unnamed))
    assert got is not None and got.name == ""


def test_non_utf8_unix_path_keeps_its_bytes() -> None:
    m = msg(20, unix_body(socket.SOCK_STREAM, 10, 8, b"/tmp/\xff\xfe\0"))
    got = parse_unix(m, 0, len(m))
    assert got is not None and got.name.encode("utf-8", "surrogateescape") == b"/tmp/\xff\xfe"


class FakeNetlink:
    """Answers each send() with the next scripted list of (sender pid, datagram)."""

    def __init__(self, script: list[list[tuple[int, bytes]]]) -> None:
        self.script = script
        self.sent: list[bytes] = []
        self.queue: list[tuple[int, bytes]] = []

    def send(self, data: bytes) -> int:
        self.sent.append(data)
        self.queue.extend(self.script.pop(0))
        return len(data)

    def recvmsg_into(
        self, buffers: list[bytearray], ancbufsize: int = 0, flags: int = 0
    ) -> tuple[int, list[object], int, tuple[int, int]]:
        pid, data = self.queue.pop(0)
        buf = buffers[0]
        n = min(len(data), len(buf))
        buf[:n] = data[:n]
        truncated = socket.MSG_TRUNC if len(data) > len(buf) else 0
        return len(data), [], truncated, (pid, 0)

    def close(self) -> None:
        pass


def listener(seq: int, port: int, inode: int, flags: int = 2) -> bytes:
    body = inet_body(socket.AF_INET, 10, "127.0.0.1", port, dst=ANY4, dport=0, inode=inode)
    return msg(20, body, seq, flags)


def done(seq: int, code: int = 0) -> bytes:
    return msg(sockdiag.NLMSG_DONE, struct.pack("=i", code), seq, 2)


def test_dump_takes_only_the_kernels_answers_to_its_request() -> None:
    fake = FakeNetlink(
        [
            [
                (4242, listener(1, 1, 100)),  # forged by a process in the namespace
                (0, listener(7, 2, 200) + listener(1, 3, 300)),  # another request's seq
                (0, listener(1, 4, 400) + done(1)),
            ]
        ]
    )
    diag = SockDiag(fake)  # type: ignore[arg-type]
    got = diag.inet(socket.AF_INET, socket.IPPROTO_TCP, sockdiag.ALL_TCP_STATES)
    assert [s.sport for s in got] == [3, 4]
    assert diag.foreign == 1
    family, proto, _ext, states = struct.unpack_from("=BBBxI", fake.sent[0], NLMSGHDR.size)
    assert (family, proto, states) == (socket.AF_INET, socket.IPPROTO_TCP, (1 << 13) - 2)


def test_an_error_in_done_or_an_error_message_raises() -> None:
    diag = SockDiag(FakeNetlink([[(0, done(1, -2))]]))  # type: ignore[arg-type]
    with pytest.raises(sockdiag.DiagError) as err:
        diag.unix(1 << 10)
    assert err.value.errno == 2
    error = msg(sockdiag.NLMSG_ERROR, struct.pack("=i", -95) + b"\0" * 16, 1)
    diag = SockDiag(FakeNetlink([[(0, error)]]))  # type: ignore[arg-type]
    with pytest.raises(sockdiag.DiagError):
        diag.unix(1 << 10)


def test_an_interrupted_dump_is_taken_again() -> None:
    first = [(0, listener(1, 1, 1, flags=2 | sockdiag.NLM_F_DUMP_INTR) + done(1))]
    second = [(0, listener(2, 2, 2) + done(2))]
    diag = SockDiag(FakeNetlink([first, second]))  # type: ignore[arg-type]
    assert [s.sport for s in diag.inet(socket.AF_INET, socket.IPPROTO_TCP, 1024)] == [2]


def test_a_truncated_datagram_grows_the_buffer_and_the_dump_is_taken_again() -> None:
    many = b"".join(listener(1, p, p) for p in range(1, 1200))  # > 64 KiB in one datagram
    again = b"".join(listener(2, p, p) for p in range(1, 1200)) + done(2)
    fake = FakeNetlink([[(0, many), (0, done(1))], [(0, again)]])
    diag = SockDiag(fake)  # type: ignore[arg-type]
    got = diag.inet(socket.AF_INET, socket.IPPROTO_TCP, 1024)
    assert len(got) == 1199 and len(fake.sent) == 2


def test_a_dump_that_stays_interrupted_fails_instead_of_returning_half() -> None:
    intr = 2 | sockdiag.NLM_F_DUMP_INTR
    script = [[(0, listener(i, 1, 1, flags=intr) + done(i))] for i in range(1, 5)]
    diag = SockDiag(FakeNetlink(script))  # type: ignore[arg-type]
    with pytest.raises(sockdiag.DiagError):
        diag.inet(socket.AF_INET, socket.IPPROTO_TCP, 1024)
