"""Running a command in a network namespace bind-mounted only inside a mount namespace
that no process is in (kept alive by a bind mount of its nsfs file): nsexplorer enters
through that mount namespace's file (`nsenter --mount=M nsenter --net=P`), shows that
form, and the command sees the interface made in there. Real kernel; everything made
here (prefix ``nsxlm``) is unmounted and removed even on failure.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from nsexplorer.actions import entry, opened
from nsexplorer.actions.runner import NamespaceRunner
from nsexplorer.collect.source import LiveSource
from nsexplorer.errors import NamespaceGone
from nsexplorer.kernel import nsfs

pytestmark = [pytest.mark.integration, pytest.mark.root]

NSX = [sys.executable, "-m", "nsexplorer"]


def run(*argv: str) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, f"{argv}: {done.stderr}"
    return done.stdout


def mounted(path: Path) -> bool:
    with open("/proc/self/mountinfo", "rb") as f:
        return f" {path} ".encode() in f.read()


@dataclass
class Hidden:
    holder: Path  # the bind mount of the mount namespace (its only holder)
    inner: str  # where the netns is mounted inside that mount namespace
    ino: int  # the netns
    bridge: str  # the interface made in it


@pytest.fixture
def hidden() -> Iterator[Hidden]:
    if os.geteuid() != 0:
        pytest.skip("needs root: makes mount and network namespaces")
    tag = secrets.token_hex(2)
    d = Path(f"/run/nsxlm-{tag}")  # its own private mount, so a mount ns can be bound in
    inner = f"/tmp/nsxlm-inner-{tag}"  # made by the process inside; empty out here
    bridge = f"nsxlm{tag}b"
    d.mkdir()
    try:
        run("mount", "--bind", str(d), str(d))
        run("mount", "--make-private", str(d))
        holder = d / "mnt"
        holder.touch()
        script = (
            f"mkdir -p {inner} && mount -t tmpfs nsxlm {inner} && touch {inner}/ns && "
            f"unshare --net={inner}/ns ip link add {bridge} type bridge && "
            f"stat -L -c %i {inner}/ns"
        )
        # unshare --mount=FILE: the new mount namespace is bind-mounted on FILE; the
        # shell then exits, so no process is left in it.
        out = run("unshare", f"--mount={holder}", "--propagation", "private", "sh", "-c", script)
        yield Hidden(holder, inner, int(out.split()[-1]), bridge)
    finally:
        for _ in range(10):  # the holder, then the private bind mount of d
            if not mounted(d) and not mounted(d / "mnt"):
                break
            subprocess.run(["umount", "-l", str(d / "mnt")], capture_output=True, check=False)
            subprocess.run(["umount", "-l", str(d)], capture_output=True, check=False)
        shutil.rmtree(d, ignore_errors=True)
        with_inner = Path(inner)
        if with_inner.is_dir() and not any(with_inner.iterdir()):
            with_inner.rmdir()


def test_exec_in_a_netns_of_a_mount_namespace_no_process_is_in(hidden: Hidden) -> None:
    assert not os.path.exists(f"{hidden.inner}/ns")  # invisible from here
    # Through the CLI, a fresh process: discovery finds it, exec enters it.
    done = subprocess.run(
        [*NSX, "exec", str(hidden.ino), "--", "ip", "-j", "link"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    names = {link["ifname"] for link in json.loads(done.stdout)}
    assert names == {"lo", hidden.bridge}
    # The form shown (what `c` copies, and `show`'s enter: line) is that very way in.
    ns = LiveSource(engines=[], thorough_discover=True).discover().by_inode(hidden.ino)
    assert ns is not None
    way = entry.plan(ns)
    assert way.kind is entry.Kind.MOUNT_NS
    shown = NamespaceRunner(read_only=True).equivalent_command(ns, ["ip", "link"])
    assert shown.startswith(f"nsenter --mount={hidden.holder} -- nsenter --net={hidden.inner}/ns")
    assert shown.endswith(" ip link")
    show = subprocess.run(
        [*NSX, "show", str(hidden.ino)], capture_output=True, text=True, check=False, timeout=120
    )
    assert show.returncode == 0, show.stderr
    (line,) = [x for x in show.stdout.splitlines() if x.strip().startswith("enter:")]
    assert f"nsenter --mount={hidden.holder} -- nsenter --net={hidden.inner}/ns" in line
    # And the pasteable form works as printed, from a shell.
    pasted = entry.wrap(way, ["ip", "-j", "link"])
    out = run(*pasted)
    assert {link["ifname"] for link in json.loads(out)} == {"lo", hidden.bridge}


def test_the_netns_inside_is_verified_by_its_kernel_id(hidden: Hidden, tmp_path: Path) -> None:
    """Opened through a helper in that mount namespace and checked like every way in:
    the inode and the kernel id, on the descriptor the command enters through. A
    namespace read with another kernel id (the inode reused since) is refused."""
    ns = LiveSource(engines=[], thorough_discover=True).discover().by_inode(hidden.ino)
    assert ns is not None and ns.cookie is not None
    assert entry.plan(ns).kind is entry.Kind.MOUNT_NS
    with opened.open_way(ns) as way:
        assert way.way.kind is entry.Kind.MOUNT_NS
        assert way.cookie == ns.cookie
        assert list(way.fds) == ["net"]  # entered through the verified netns itself
        assert nsfs.namespace_cookie(way.fds["net"]) == ns.cookie
        assert os.fstat(way.fds["net"]).st_ino == hidden.ino
    stale = replace(ns, cookie=ns.cookie + 1)
    with pytest.raises(NamespaceGone, match="was replaced since it was read"):
        opened.open_way(stale)
    log = tmp_path / "audit.log"
    with pytest.raises(NamespaceGone, match="nothing ran"):
        NamespaceRunner(audit_log=str(log)).run(stale, ["ip", "link"])
    assert not log.exists() or "ip" not in log.read_text()


def test_it_can_be_named_for_ip_netns(hidden: Hidden) -> None:
    """Named from the descriptor opened through the helper: `ip netns exec NAME` then
    reaches it from the host. The form shown is nsexplorer's own (no path here leads
    there for a bind mount)."""
    name = f"nsxlm-{secrets.token_hex(2)}"
    try:
        done = subprocess.run(
            [*NSX, "name", str(hidden.ino), name],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert f"name {hidden.ino} {name}" in done.stdout + done.stderr
        assert os.stat(f"/run/netns/{name}").st_ino == hidden.ino
        out = run("ip", "netns", "exec", name, "ip", "-j", "link")
        assert {link["ifname"] for link in json.loads(out)} == {"lo", hidden.bridge}
    finally:
        subprocess.run(["ip", "netns", "delete", name], capture_output=True, check=False)
    assert not os.path.exists(f"/run/netns/{name}")
