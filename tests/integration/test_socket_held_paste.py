"""A namespace held only by a socket: the command nsexplorer prints for it can be pasted
and lands in that namespace (issue 9's socket-held namespaces, issue 10's trustworthy
equivalents).

No path opens such a namespace: `nsenter --net=/proc/PID/fd/N` fails on a socket
(ENXIO), so the equivalent is nsexplorer's own `exec INODE`. Everything is made here
(prefix nsxt, removed even on failure); no packet is sent.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from nsexplorer.actions.runner import NamespaceRunner
from nsexplorer.collect.source import LiveSource
from nsexplorer.model import Source

pytestmark = [pytest.mark.integration, pytest.mark.root]

# Enters the netns at argv[1] just long enough to make a socket, comes back; prints
# "<fd>" and waits.
SOCKET_HOLDER = r"""
import ctypes, os, socket, sys, time
libc = ctypes.CDLL(None, use_errno=True)
home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
there = os.open(sys.argv[1], os.O_RDONLY)
assert libc.setns(there, 0x40000000) == 0
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
assert libc.setns(home, 0x40000000) == 0
os.close(there)
print(s.fileno(), flush=True)
time.sleep(600)
"""
READ_NET = ["readlink", "/proc/self/ns/net"]


@dataclass(frozen=True)
class Held:
    inode: int
    pid: int
    fd: int


@pytest.fixture
def held(nsxt) -> Iterator[Held]:  # type: ignore[no-untyped-def]
    name = nsxt.netns()
    inode = os.stat(f"/run/netns/{name}").st_ino
    holder = subprocess.Popen(
        [sys.executable, "-c", SOCKET_HOLDER, f"/run/netns/{name}"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        fd = int(holder.stdout.readline())
        nsxt.ip("netns", "del", name)  # now only the socket holds it
        yield Held(inode, holder.pid, fd)
    finally:
        holder.kill()
        holder.wait()


def sh(line: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``line`` pasted into a shell."""
    return subprocess.run(
        ["sh", "-c", line], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def printed_equivalent(stderr: str) -> str:
    (line,) = [x for x in stderr.splitlines() if x.startswith("# ")]
    return line[2:]


def test_the_old_path_form_does_not_paste(held: Held) -> None:
    """Why the path form was wrong: nsenter cannot open a socket as a namespace."""
    done = subprocess.run(
        ["nsenter", f"--net=/proc/{held.pid}/fd/{held.fd}", *READ_NET],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0


@pytest.mark.parametrize("how", ["python -m", "on PATH"])
def test_exec_prints_a_command_that_pastes_into_the_same_namespace(held: Held, how: str) -> None:
    env = dict(os.environ)
    if how == "on PATH":
        bindir = os.path.dirname(sys.executable)
        env["PATH"] = f"{bindir}:{env.get('PATH', '')}"
        argv = [os.path.join(bindir, "nsexplorer")]
        prefix = "nsexplorer"
    else:
        argv = [sys.executable, "-m", "nsexplorer"]
        prefix = f"{sys.executable} -m nsexplorer"
    done = subprocess.run(
        [*argv, "exec", str(held.inode), "--", *READ_NET],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"net:[{held.inode}]"
    line = printed_equivalent(done.stderr)
    assert line == f"{prefix} exec {held.inode} -- readlink /proc/self/ns/net"
    pasted = sh(line, env)
    assert pasted.returncode == 0, pasted.stderr
    assert pasted.stdout.strip() == f"net:[{held.inode}]"  # pasted, it lands there too


def test_the_tuis_equivalents_paste_too(held: Held, nsxt, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """What the TUI shows and copies (the runner's equivalent) for `x` and `n`."""
    ns = LiveSource(engines=[]).collect().by_inode(held.inode)
    assert ns is not None and ns.sources == (Source.SOCKET,) and ns.access_path == ""
    runner = NamespaceRunner(audit_log=str(tmp_path / "audit.log"))
    line = runner.equivalent_command(ns, READ_NET)
    assert f"exec {held.inode} -- " in line
    pasted = sh(line)
    assert pasted.returncode == 0, pasted.stderr
    assert pasted.stdout.strip() == f"net:[{held.inode}]"
    # What it runs itself enters the same namespace, through the socket.
    got = runner.run(ns, READ_NET)
    assert got.exit_status == 0 and got.output.strip() == f"net:[{held.inode}]"
    assert list(got.argv) == [*line.split()]  # shown and audited: the paste-able form

    name = f"nsxt{nsxt.tag}p"
    nsxt.namespaces.append(name)  # removed at the end
    naming = runner.name_command(ns, name)
    assert naming.endswith(f"name {held.inode} {name}")
    made = sh(naming)
    assert made.returncode == 0, made.stderr
    assert os.stat(f"/run/netns/{name}").st_ino == held.inode
