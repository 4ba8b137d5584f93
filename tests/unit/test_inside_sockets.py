"""Sockets: the join to processes over a fake /proc, and the shaping into model values."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from nsexplorer.collect.inside import sockets
from nsexplorer.collect.inside.sockdiag import InetSock, UnixSock
from nsexplorer.collect.inside.sockets import RawSockets
from nsexplorer.kernel import procfs

ANY4 = "0.0.0.0"  # noqa: S104 - an address in test data, nothing binds


def fake_proc(tmp_path: Path, table: dict[int, tuple[str, list[str]]]) -> str:
    """pid -> (comm, fd link targets)."""
    for pid, (comm, targets) in table.items():
        fd_dir = tmp_path / str(pid) / "fd"
        fd_dir.mkdir(parents=True)
        (tmp_path / str(pid) / "comm").write_bytes(comm.encode("utf-8", "surrogateescape") + b"\n")
        for n, target in enumerate(targets):
            os.symlink(target, fd_dir / str(n))
    return str(tmp_path)


def tcp(state: int, sport: int, inode: int, dst: str = ANY4, dport: int = 0) -> InetSock:
    return InetSock(socket.AF_INET, state, "10.0.0.1", sport, dst, dport, 0, 0, 0, 0, inode)


def test_socket_owners_reads_each_fd_table_once(tmp_path: Path) -> None:
    proc = fake_proc(
        tmp_path,
        {
            10: ("nginx", ["socket:[100]", "/dev/null", "socket:[101]", "pipe:[5]"]),
            11: ("nginx", ["socket:[100]", "socket:[100]"]),  # dup'ed: listed once
            12: ("other", ["socket:[999]"]),
        },
    )
    got = procfs.socket_owners({100, 101, 102}, [10, 11, 12, 13], proc)
    assert got == {100: [10, 11], 101: [10]}
    assert procfs.socket_owners(set(), [10], proc) == {}


def test_owners_look_beyond_the_namespace_only_for_sockets_left_without_one(
    tmp_path: Path,
) -> None:
    proc = fake_proc(
        tmp_path,
        {
            10: ("in-ns", ["socket:[100]"]),
            20: ("elsewhere\x1b]2;x\x07", ["socket:[200]", "socket:[100]"]),
        },
    )
    holders, comms = sockets.owners({100, 200}, [10], proc)
    # 100 was found in the namespace, so pid 20 was not asked about it.
    assert holders == {100: (10,), 200: (20,)}
    assert comms == {10: "in-ns", 20: "elsewhere\x1b]2;x\x07"}
    holders, _ = sockets.owners({100}, [10], proc)
    assert holders == {100: (10,)}


def test_build_lists_listeners_first_counts_time_wait_and_names_peers() -> None:
    raw = RawSockets(
        tcp=[
            tcp(1, 80, 2, "10.0.0.9", 40000),  # ESTAB
            tcp(10, 80, 1),  # LISTEN
            tcp(6, 80, 0, "10.0.0.8", 40001),  # TIME-WAIT
            tcp(6, 80, 0, "10.0.0.8", 40002),
            InetSock(socket.AF_INET6, 10, "fe80::1", 22, "::", 0, 3, 0, 128, 0, 5),
        ],
        udp=[InetSock(socket.AF_INET, 7, ANY4, 53, ANY4, 0, 0, 0, 0, 0, 3)],
        unix=[UnixSock(socket.SOCK_STREAM, 10, 4, "/run/a.sock", 1, 128)],
        ifnames={3: "eth0"},
    )
    holders = {1: (10, 11), 2: (11,), 3: (12,), 4: (13,)}
    comms = {10: "nginx", 11: "nginx", 12: "dnsmasq", 13: "sshd"}
    got, time_wait = sockets.build(raw, holders, comms)
    assert time_wait == 2
    rows = [(s.protocol, s.family, s.state, s.local_port, s.remote_address, s.pids) for s in got]
    assert rows == [
        ("tcp", 4, "LISTEN", 80, None, (10, 11)),
        ("tcp", 6, "LISTEN", 22, None, ()),
        ("tcp", 4, "ESTAB", 80, "10.0.0.9", (11,)),
        ("udp", 4, "UNCONN", 53, None, (12,)),
        ("unix", 0, "LISTEN", None, None, (13,)),
    ]
    assert got[0].commands == ("nginx", "nginx")
    assert got[1].interface == "eth0" and got[1].send_q == 128
    assert got[2].remote_port == 40000
    assert got[4].local_address == "/run/a.sock" and got[4].socket_type == "stream"
    assert got[4].recv_q == 1


def test_an_inode_zero_socket_has_no_holder_even_if_a_process_claims_socket_0() -> None:
    raw = RawSockets(tcp=[tcp(3, 80, 0, "10.0.0.7", 5)])  # a request socket (SYN-RECV)
    got, _ = sockets.build(raw, {0: (1,)}, {1: "x"})
    assert got[0].state == "SYN-RECV" and got[0].pids == ()
