"""tun/tap on a real kernel: a persistent tap nobody holds is up with no carrier, and
`show` says why; held open by a process (TUNSETIFF) it has carrier, and that process is
found with its pid, the device's namespace proved on its fd; moved to another namespace
after it was attached, it is reported there, not where a new device took its name.

Namespaces ``nsxtun-<hex>-<n>``, removed even on failure; the holders are started by the
test (tun_attach.py) and ended by their pid. No packet is ever sent.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from nsexplorer.collect.tun_holders import tun_holders
from nsexplorer.model import Interface, NamespaceId, NetNamespace, Tun

pytestmark = [pytest.mark.integration, pytest.mark.root]

NSX = [sys.executable, "-m", "nsexplorer"]
ATTACH = str(Path(__file__).with_name("tun_attach.py"))
TAP = "nsxtun0"


def ip(*args: str) -> str:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def netns() -> Iterator[Callable[[], str]]:
    """A factory of throwaway namespaces (their devices go with them)."""
    made: list[str] = []
    tag = secrets.token_hex(3)

    def make() -> str:
        name = f"nsxtun-{tag}-{len(made)}"
        ip("netns", "add", name)
        made.append(name)
        return name

    try:
        yield make
    finally:
        for name in made:
            subprocess.run(["ip", "netns", "delete", name], check=False)


@pytest.fixture
def holders() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Starts a process in a namespace that holds a tun/tap open; each is ended (by its
    pid, the process this test started) at the end."""
    started: list[subprocess.Popen[str]] = []

    def hold(netns: str, name: str, *flags: str) -> subprocess.Popen[str]:
        # nsenter execs python (the pid is the holder's); the fd is opened in that netns
        p = subprocess.Popen(
            ["nsenter", f"--net=/run/netns/{netns}", sys.executable, ATTACH, name, *flags],
            stdout=subprocess.PIPE,
            text=True,
        )
        started.append(p)
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        return p

    try:
        yield hold
    finally:
        for p in started:
            p.kill()  # Popen.kill: signals only this child's own pid
            p.wait(timeout=10)


def show(netns: str) -> str:
    done = subprocess.run(
        [*NSX, "show", netns], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def block(text: str, name: str) -> list[str]:
    """`show`'s lines of interface ``name`` (its first line up to the next interface)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"  \d+: {name}  ", line))
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith("      "))
    return lines[start:end]


def tun_json(netns: str) -> dict[str, object]:
    done = subprocess.run(
        [*NSX, "show", "--json", netns], capture_output=True, text=True, timeout=60, check=True
    )
    ifaces = json.loads(done.stdout)["interfaces"]
    found: dict[str, object] = next(i for i in ifaces if i["name"] == TAP)
    return found


def test_carrier_follows_the_process_that_holds_the_tap(netns, holders) -> None:  # type: ignore[no-untyped-def]
    here = netns()
    ip("-n", here, "tuntap", "add", TAP, "mode", "tap", "user", "4242", "group", "4343",
       "multi_queue")  # fmt: skip
    ip("-n", here, "link", "set", TAP, "up")

    lines = block(show(here), TAP)
    assert "tap up, no carrier: no process has it open mtu" in lines[0]
    assert lines[1].startswith("      flags <NO-CARRIER,")
    words = "type tap pi off vnet_hdr off multi_queue numqueues {} numdisabled 0 persist on"
    assert f"      tun {words.format(0)} user 4242 group 4343" in lines
    assert "      held by no process" in lines
    tun = tun_json(here)
    assert tun["flags"][0] == "NO-CARRIER"  # type: ignore[index]
    assert tun["tun"] == {
        "type": "tap", "pi": False, "vnet_hdr": False, "multi_queue": True, "numqueues": 0,
        "numdisabled": 0, "persist": True, "user": 4242, "group": 4343,
    }  # fmt: skip

    holder = holders(here, TAP, "tap", "multi_queue")
    lines = block(show(here), TAP)
    assert re.search(r"  \d+: nsxtun0  tap up mtu", lines[0]), lines
    assert "LOWER_UP" in lines[1]
    assert f"      tun {words.format(1)} user 4242 group 4343" in lines
    comm = Path(f"/proc/{holder.pid}/comm").read_text().strip()
    assert f"      held by {comm} (pid {holder.pid})" in lines  # proved: no "unproved"

    holder.kill()
    holder.wait(timeout=10)
    lines = block(show(here), TAP)
    assert "no carrier: no process has it open" in lines[0]
    assert "      held by no process" in lines


def tun_fd_of(pid: int) -> int:
    fd_dir = Path(f"/proc/{pid}/fd")
    return next(int(p.name) for p in fd_dir.iterdir() if os.readlink(p) == "/dev/net/tun")


def test_a_device_moved_after_it_was_attached_is_held_where_it_is(netns, holders) -> None:  # type: ignore[no-untyped-def]
    """A name is unique only within a namespace: after the held tap moved away and a new
    one took its name, the holder's fdinfo still says that name, but its fd's device is
    proved to be in the other namespace."""
    first, second = netns(), netns()
    ip("-n", first, "tuntap", "add", TAP, "mode", "tap")
    holder = holders(first, TAP, "tap")
    ip("-n", first, "link", "set", TAP, "netns", second)
    ip("-n", first, "tuntap", "add", TAP, "mode", "tap")  # another device, same name
    ip("-n", first, "link", "set", TAP, "up")
    fdinfo = Path(f"/proc/{holder.pid}/fdinfo/{tun_fd_of(holder.pid)}").read_text()
    assert f"iff:\t{TAP}" in fdinfo  # what a guess by name alone would go by

    assert "      held by no process" in block(show(first), TAP)
    assert "no process has it open" in block(show(first), TAP)[0]
    moved = block(show(second), TAP)
    assert any(f"(pid {holder.pid})" in line and "unproved" not in line for line in moved)
    # the collect function itself, as the TUI would call it on a worker
    for where, expected in ((first, ()), (second, (holder.pid,))):
        st = os.stat(f"/run/netns/{where}")
        ns = NetNamespace(
            NamespaceId(st.st_dev, st.st_ino),
            detailed=True,
            interfaces=(Interface(2, TAP, "tap", "up", 1500, "", tun=Tun("tap")),),
        )
        found = tun_holders(ns)[TAP]
        assert tuple(h.pid for h in found) == expected, where
        assert all(h.proved for h in found)
