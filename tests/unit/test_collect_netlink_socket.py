"""The rtnetlink receive loop and per-namespace errors, on recorded replies replayed by a
fake kernel (fakekernel.py): interrupted dumps, errors in NLMSG_DONE, truncation,
forged senders, the one reusable buffer, and a namespace whose reply does not decode.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakekernel import FakeKernel, message

from nsexplorer.collect import netlink, netns_reader, ns_handles, rtnl_dump
from nsexplorer.collect.netlink import NetlinkDecodeError, NetlinkError, RtSocket
from nsexplorer.collect.rtnl_decode import parse_link
from nsexplorer.model import NamespaceId, Peer

RICH = Path(__file__).parent / "fixtures" / "netlink_rich.json"
TYPES = {
    "links": netlink.RTM_GETLINK,
    "addrs": netlink.RTM_GETADDR,
    "routes": netlink.RTM_GETROUTE,
    "rules": netlink.RTM_GETRULE,
    "nexthops": netlink.RTM_GETNEXTHOP,
}


def replies(ns: str) -> dict[int, list[bytes]]:
    doc: dict[str, Any] = json.loads(RICH.read_text())
    return {t: [bytes.fromhex(x) for x in doc[ns][k]] for k, t in TYPES.items()}


def kernel(ns: str = "nsxrecA", **kw: Any) -> FakeKernel:
    return FakeKernel(replies(ns), **kw)


def sock_on(fake: FakeKernel) -> RtSocket:
    return RtSocket(sock=fake)  # type: ignore[arg-type]


def test_a_whole_namespace_through_the_real_loop() -> None:
    fake = kernel()
    dump = rtnl_dump.dump_namespace(sock_on(fake))
    assert len(dump.links) == 9 and len(dump.rules) == 12
    assert dump.interrupted == [] and dump.warnings == []
    # Routes use nexthop objects there: they were dumped too.
    assert netlink.RTM_GETNEXTHOP in {t for t, _ in fake.requests}
    assert set(dump.nexthops) == {1, 2, 3, 11}


def test_no_nexthop_dump_where_no_route_uses_nexthop_objects() -> None:
    doc: dict[str, Any] = json.loads((RICH.parent / "netlink_two_netns.json").read_text())
    recorded = {
        TYPES[k]: [bytes.fromhex(x) for x in doc["nsxtfixA"][k]]
        for k in ("links", "addrs", "routes")
    }
    fake = FakeKernel(recorded)
    dump = rtnl_dump.dump_namespace(sock_on(fake))
    assert [t for t, _ in fake.requests] == [18, 22, 26, 34]  # links, addrs, routes, rules
    assert dump.links and dump.routes and dump.rules == []


def test_an_interrupted_dump_is_taken_again() -> None:
    fake = kernel()
    fake.intr = lambda t, n: t == netlink.RTM_GETLINK and n == 1
    dump = rtnl_dump.dump_namespace(sock_on(fake))
    assert [t for t, _ in fake.requests].count(netlink.RTM_GETLINK) == 2
    assert dump.interrupted == [] and len(dump.links) == 9


def test_a_dump_interrupted_every_time_is_returned_marked() -> None:
    fake = kernel()
    fake.intr = lambda t, n: t == netlink.RTM_GETROUTE
    dump = rtnl_dump.dump_namespace(sock_on(fake))
    assert [t for t, _ in fake.requests].count(netlink.RTM_GETROUTE) == netlink.DUMP_ATTEMPTS
    assert dump.interrupted == ["routes"]
    assert len(dump.routes) == 34  # the last attempt's data, not an empty list


def test_an_error_in_nlmsg_done_raises() -> None:
    fake = kernel()
    fake.done_errno = lambda t, n: errno.EPERM if t == netlink.RTM_GETADDR else 0
    with pytest.raises(NetlinkError) as info:
        rtnl_dump.dump_namespace(sock_on(fake))
    assert info.value.errno == errno.EPERM


def test_nlmsg_error_raises_but_missing_rules_or_nexthops_only_warn() -> None:
    fake = kernel()
    fake.error_errno = lambda t, n: errno.EINVAL if t == netlink.RTM_GETLINK else 0
    with pytest.raises(NetlinkError):
        rtnl_dump.dump_namespace(sock_on(fake))
    fake = kernel("nsxrecB")
    fake.error_errno = lambda t, n: errno.EOPNOTSUPP if t in (34, 106) else 0
    dump = rtnl_dump.dump_namespace(sock_on(fake))
    assert dump.rules == [] and dump.nexthops == {}
    assert len(dump.warnings) == 2 and "policy rules could not be read" in dump.warnings[0]


def test_a_truncated_datagram_grows_the_buffer_and_retakes_the_dump() -> None:
    fake = kernel()
    size = len(netlink._RX.buf)
    fake.oversize = lambda t, n: size if t == netlink.RTM_GETLINK and n == 1 else 0
    dump = rtnl_dump.dump_namespace(sock_on(fake))
    assert len(netlink._RX.buf) > size
    assert [t for t, _ in fake.requests].count(netlink.RTM_GETLINK) == 2
    assert len(dump.links) == 9


def test_forged_replies_from_another_process_are_dropped() -> None:
    fake = kernel()
    sock = sock_on(fake)
    # A process with CAP_NET_ADMIN in that namespace guesses our next sequence number
    # and sends a fake link and an early NLMSG_DONE to our port.
    forged_link = replies("nsxrecA")[netlink.RTM_GETLINK][2]
    fake.forge(netlink.RTM_NEWLINK, 1, forged_link[16:])
    fake.forge(netlink.NLMSG_DONE, 1, struct.pack("=i", 0))
    links, interrupted = sock.dump(netlink.RTM_GETLINK, b"\0" * 16, parse_link)
    assert not interrupted and sock.foreign == 2
    assert len(links) == 9  # the whole real dump, nothing forged, not cut short


def test_messages_of_other_sequence_numbers_are_ignored() -> None:
    fake = kernel()
    sock = sock_on(fake)
    fake.queue.append((message(netlink.RTM_NEWLINK, 99, b"\0" * 16), (0, 0)))
    links, _ = sock.dump(netlink.RTM_GETLINK, b"\0" * 16, parse_link)
    assert len(links) == 9


def test_one_receive_buffer_per_thread_for_every_socket() -> None:
    buf = netlink._RX.buf
    for ns in ("nsxrecA", "nsxrecB"):
        rtnl_dump.dump_namespace(sock_on(kernel(ns)))
    assert netlink._RX.buf is buf
    other = netns_reader.run_on_own_thread(lambda: netlink._RX.buf)
    assert other is not buf  # each thread has its own


def test_nsid_queries() -> None:
    assert sock_on(kernel(nsid=3)).get_nsid(0) == 3
    assert sock_on(kernel(nsid=None)).get_nsid(0) is None


# ---------------------------------------------------------------- one namespace's bad reply


def _corrupt(msgs: list[bytes]) -> list[bytes]:
    bad = bytearray(msgs[2])
    struct.pack_into("=H", bad, 32, len(bad))  # an attribute that overruns its message
    return [*msgs[:2], bytes(bad), *msgs[3:]]


@pytest.fixture
def fake_namespaces(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, FakeKernel]]:
    """netns_reader over fake kernels: namespace 1001 replays nsxrecA, 1002 nsxrecB with
    one corrupted link message."""
    good = kernel("nsxrecA")
    bad_replies = replies("nsxrecB")
    bad_replies[netlink.RTM_GETLINK] = _corrupt(bad_replies[netlink.RTM_GETLINK])
    bad = FakeKernel(bad_replies)
    by_fd: dict[int, FakeKernel] = {}
    current: list[FakeKernel] = []

    def open_namespace(ns_id: NamespaceId, paths: Any) -> tuple[int, str]:
        fd = os.open("/dev/null", os.O_RDONLY)
        by_fd[fd] = good if ns_id.ino == 1001 else bad
        return fd, f"/fake/{ns_id.ino}"

    @contextlib.contextmanager
    def entered(fd: int) -> Iterator[None]:
        current.append(by_fd[fd])
        yield

    # The descriptor pool (ns_handles) opens namespaces and makes their sockets.
    monkeypatch.setattr(ns_handles, "open_namespace", open_namespace)
    monkeypatch.setattr(ns_handles.nsfs, "entered", entered)
    monkeypatch.setattr(ns_handles.nsfs, "own_netns", lambda: NamespaceId(4, 1))
    monkeypatch.setattr(ns_handles, "RtSocket", lambda: RtSocket(sock=current.pop()))
    yield {"good": good, "bad": bad}


def test_a_reply_that_does_not_decode_is_that_namespace_s_warning(
    fake_namespaces: dict[str, FakeKernel],
) -> None:
    a, b = NamespaceId(4, 1001), NamespaceId(4, 1002)
    result = netns_reader.read_namespaces([(a, ["/x"]), (b, ["/y"])])
    assert result.reads[b].error.startswith("netlink reply could not be decoded")
    assert result.reads[b].interfaces == ()
    assert any("namespace 1002" in w and "decoded" in w for w in result.warnings)
    good = result.reads[a]
    assert good.error == "" and len(good.interfaces) == 9 and len(good.rules) == 12
    x0 = next(i for i in good.interfaces if i.name == "x0")
    # Its peer is in the namespace that failed: known namespace, unknown name.
    assert x0.peer == Peer(1002, 2, None)


def test_decode_errors_are_value_errors() -> None:
    assert issubclass(NetlinkDecodeError, ValueError)
    assert NetlinkDecodeError in rtnl_dump.DECODE_ERRORS
