"""TARGETs on the real host, through the real CLI: a netns name with a trailing space, an
all-digit netns name equal to another namespace's inode, an address and a veth.

Everything is made here (prefix nsxh3; the all-digit name is that inode) and removed
after, pass or fail. The veth stays down: no packet is ever sent.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.root]

NSX = [sys.executable, "-m", "nsexplorer"]


@dataclass(frozen=True)
class Made:
    spaced: str  # "nsxh3-web " (with the trailing space)
    plain: str  # "nsxh3-b"
    plain_inode: int
    digits_inode: int  # the namespace named str(plain_inode)
    address: str
    veth: str  # in plain; its peer is in spaced
    peer: str


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


@pytest.fixture
def made() -> Iterator[Made]:
    tag = secrets.token_hex(2)
    spaced, plain = f"nsxh3-{tag}w ", f"nsxh3-{tag}b"
    veth, peer = f"nsxh3-{tag}v0", f"nsxh3-{tag}v1"
    address = f"10.233.{secrets.randbelow(250) + 1}.1"
    names: list[str] = []
    try:
        for name in (spaced, plain):
            ip("netns", "add", name)
            names.append(name)
        plain_inode = os.stat(f"/run/netns/{plain}").st_ino
        ip("netns", "add", str(plain_inode))
        names.append(str(plain_inode))
        ip("-n", plain, "link", "add", veth, "type", "veth", "peer", "name", peer, "netns", spaced)
        ip("-n", plain, "addr", "add", f"{address}/30", "dev", veth)
        yield Made(
            spaced,
            plain,
            plain_inode,
            os.stat(f"/run/netns/{plain_inode}").st_ino,
            address,
            veth,
            peer,
        )
    finally:
        for name in names:
            subprocess.run(["ip", "netns", "delete", name], capture_output=True, check=False)


def nsx(*args: str, audit: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NSX_AUDIT_LOG": str(audit)}
    return subprocess.run(
        [*NSX, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_targets_mean_exactly_what_they_say(made: Made, tmp_path: Path) -> None:
    audit = tmp_path / "audit.log"
    spaced_inode = os.stat(f"/run/netns/{made.spaced}").st_ino

    done = nsx("show", made.spaced, audit=audit)
    assert done.returncode == 0, done.stderr
    assert f"(inode {spaced_inode})" in done.stdout.splitlines()[0]

    # The name without its trailing space is only a suggestion: exit 2, never used.
    trimmed = made.spaced.rstrip()
    done = nsx("show", trimmed, audit=audit)
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert (
        lines[0]
        == f"nsexplorer: no namespace matches {trimmed!r} exactly; did you mean (give it exactly):"
    )
    spaced = f"  {made.spaced!r} (named, inode {spaced_inode}): netns name {made.spaced!r}"
    assert f"{spaced} (starts with it)" in lines
    done = nsx("exec", trimmed, "--", "true", audit=audit)
    assert done.returncode == 2
    assert not audit.exists()  # nothing ran
    done = nsx("exec", made.spaced, "--", "ip", "-br", "link", "show", made.peer, audit=audit)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{made.peer}@")

    # An all-digit netns name that is also an inode: ambiguous, both named.
    digits = str(made.plain_inode)
    done = nsx("show", digits, audit=audit)
    assert done.returncode == 2, done.stdout
    assert done.stderr.splitlines()[1:] == [
        f"  {digits} (named, inode {made.digits_inode}): netns name {digits}",
        f"  {made.plain} (named, inode {digits}): inode {digits}",
    ]
    done = nsx("show", f"/run/netns/{digits}", audit=audit)
    assert done.returncode == 0, done.stderr
    assert f"(inode {made.digits_inode})" in done.stdout.splitlines()[0]

    # An address in the form the UI prints; a veth finds both of its ends.
    done = nsx("show", f"{made.address}/30", audit=audit)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{made.plain}  (inode {made.plain_inode})")
    done = nsx("show", made.veth, audit=audit)
    assert done.returncode == 2
    assert done.stderr.splitlines()[1:] == [
        f"  {made.plain} (named, inode {made.plain_inode}): interface {made.veth}",
        f"  {made.spaced!r} (named, inode {spaced_inode}): "
        f"{made.peer}, peer of {made.veth} in {made.plain}",
    ]

    # Hostile numbers: exit 2 and one message, never a traceback.
    for target in ("9" * 5000, "pid:²", "pid:" + "9" * 5000, "\u0661\u0662"):
        done = nsx("show", target, audit=audit)
        assert done.returncode == 2, target
        assert done.stderr.startswith("nsexplorer: no namespace matches"), done.stderr
        assert "Traceback" not in done.stderr


@pytest.fixture
def look_alikes() -> Iterator[tuple[str, str, int, int]]:
    """netns ``nsxh3-TAG<ESC>`` and ``nsxh3-TAG\\x1b`` (a backslash, x, 1, b): both read
    ``nsxh3-TAG\\x1b`` once escaped."""
    tag = secrets.token_hex(2)
    real, spelled = f"nsxh3-{tag}\x1b", f"nsxh3-{tag}\\x1b"
    made: list[str] = []
    try:
        for name in (real, spelled):
            ip("netns", "add", name)
            made.append(name)
        inodes = [os.stat(f"/run/netns/{name}").st_ino for name in (real, spelled)]
        yield real, spelled, inodes[0], inodes[1]
    finally:
        for name in made:
            subprocess.run(["ip", "netns", "delete", name], capture_output=True, check=False)


def test_look_alike_names_are_told_apart(
    look_alikes: tuple[str, str, int, int], tmp_path: Path
) -> None:
    """QA: `list` printed both alike, and the text it printed for the ESC one, given
    back as TARGET, ran in the other (exit 0). Now `list` quotes them apart, that text
    is ambiguous (exit 2, nothing runs), and the real name reaches its own namespace."""
    real, spelled, real_ino, spelled_ino = look_alikes
    audit = tmp_path / "audit.log"
    listing = nsx("list", audit=audit)
    rows = {int(line.split()[0]): line for line in listing.stdout.splitlines()[1:]}
    assert f"$'{real[:-1]}\\x1b'" in rows[real_ino], rows[real_ino]
    assert f"'{spelled}'" in rows[spelled_ino] and "$'" not in rows[spelled_ino]
    typed = nsx("exec", spelled, "--", "true", audit=audit)
    assert typed.returncode == 2, typed.stderr
    assert "matches 2 namespaces" in typed.stderr and str(real_ino) in typed.stderr
    assert not audit.exists() or str(spelled_ino) not in audit.read_text()
    exact = nsx("exec", real, "--", "readlink", "/proc/self/ns/net", audit=audit)
    assert exact.returncode == 0 and f"net:[{real_ino}]" in exact.stdout, exact.stderr
