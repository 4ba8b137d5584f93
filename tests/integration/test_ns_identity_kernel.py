"""The kernel's unique namespace id, on the real kernel, and the actions that refuse a
namespace whose inode now names another one.

Ground truth for the id: SO_NETNS_COOKIE of a socket created INSIDE the namespace by a
separate process (``ip netns exec NAME python3 -c ...``), a different kernel interface
from the NS_GET_ID ioctl nsexplorer reads (neither `ip netns` nor `lsns` shows an id).
The reuse is made real where the kernel obliges (it usually hands a freed netns inode
to the next namespace within a second): ``nsxid-a`` is read, deleted and created again
until the new one gets the old inode number. The same refusal is also checked on a
namespace given a wrong id, which needs no luck.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from inode_reuse import made_again_under_the_same_inode

from nsexplorer.actions.capture import CaptureRequest
from nsexplorer.actions.runner import NamespaceRunner
from nsexplorer.collect import discovery
from nsexplorer.errors import NamespaceGone
from nsexplorer.kernel import nsfs
from nsexplorer.model import BindMount, NamespaceId, NetNamespace

pytestmark = [pytest.mark.integration, pytest.mark.root]

NETNS = "/var/run/netns"
COOKIE_INSIDE = (
    "import socket, struct; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
    "print(struct.unpack('=Q', s.getsockopt(socket.SOL_SOCKET, 71, 8))[0])"
)


def ident(path: str) -> NamespaceId:
    st = os.stat(path)
    return NamespaceId(st.st_dev, st.st_ino)


def cookie_of(path: str) -> int | None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return nsfs.namespace_cookie(fd)
    finally:
        os.close(fd)


def cookie_inside(name: str) -> int:
    """SO_NETNS_COOKIE, asked by another process from inside the namespace."""
    out = subprocess.run(
        ["ip", "netns", "exec", name, sys.executable, "-c", COOKIE_INSIDE],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout)


def delete(name: str) -> None:
    subprocess.run(["ip", "netns", "delete", name], check=False, capture_output=True)


@pytest.fixture
def name() -> Iterator[str]:
    """A fresh name nsxid-a-*, its namespace (any of them) deleted afterwards."""
    n = f"nsxid-a-{secrets.token_hex(3)}"
    subprocess.run(["ip", "netns", "add", n], check=True)
    try:
        yield n
    finally:
        delete(n)


@pytest.fixture
def runner(tmp_path: Path) -> NamespaceRunner:
    return NamespaceRunner(audit_log=str(tmp_path / "audit.log"))


def audit(runner: NamespaceRunner) -> list[dict[str, object]]:
    path = Path(runner.audit_log_path)
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text().splitlines()]


def read_as_discovery_does(name: str) -> NetNamespace:
    found = discovery.discover(engines=[])
    ino = os.stat(f"{NETNS}/{name}").st_ino
    ns = found.snapshot.by_inode(ino)
    assert ns is not None and name in ns.names
    return ns


def test_the_id_read_is_the_kernels_socket_cookie_and_is_in_discovery_and_list_json(
    name: str,
) -> None:
    path = f"{NETNS}/{name}"
    cookie = cookie_of(path)
    if cookie is None:
        pytest.skip("this kernel has no NS_GET_ID")
    assert cookie == cookie_inside(name)  # the ground truth, from inside
    assert cookie != cookie_of(nsfs.OWN_NETNS)
    assert nsfs.cookie_at(path, ident(path)) == cookie
    ns = read_as_discovery_does(name)
    assert ns.cookie == cookie
    listed = subprocess.run(
        [sys.executable, "-m", "nsexplorer", "list", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [r for r in json.loads(listed.stdout)["namespaces"] if name in r["names"]]
    assert [r["cookie"] for r in rows] == [cookie]
    shown = subprocess.run(
        [sys.executable, "-m", "nsexplorer", "show", name],
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"id:      {cookie}" in shown.stdout


def test_an_action_refuses_a_namespace_whose_id_is_not_the_one_read(
    name: str, runner: NamespaceRunner, tmp_path: Path
) -> None:
    ns = read_as_discovery_does(name)
    if ns.cookie is None:
        pytest.skip("this kernel has no NS_GET_ID")
    other = NetNamespace(id=ns.id, names=ns.names, bind_mounts=ns.bind_mounts, cookie=ns.cookie + 1)
    marker = tmp_path / "ran"
    with pytest.raises(NamespaceGone, match=r"was replaced since it was read.*nothing ran"):
        runner.run(other, ["touch", str(marker)])
    with pytest.raises(NamespaceGone, match="was replaced"):  # before anything is shown
        runner.equivalent_command(other, ["touch", str(marker)])
    with pytest.raises(NamespaceGone, match="was replaced"):
        runner.prepare_shell(other)
    with pytest.raises(NamespaceGone, match="was replaced"):
        runner.run_attached(other, ["touch", str(marker)])
    with pytest.raises(NamespaceGone, match="was replaced"):
        runner.name(other, f"nsxid-n-{secrets.token_hex(3)}")
    pcap = tmp_path / "x.pcap"
    if runner_has_tcpdump():
        with pytest.raises(NamespaceGone, match="was replaced"):
            runner.capture(other, CaptureRequest("any", str(pcap), count=1), on_line=print)
    assert not marker.exists() and not pcap.exists()
    assert audit(runner) == []
    # the one read, with its own id: runs, and the audit says which id was entered
    got = runner.run(ns, ["readlink", "/proc/self/ns/net"])
    assert got.output.strip() == f"net:[{ns.inode}]"
    started, record = audit(runner)
    assert started["netns_cookie"] == record["netns_cookie"] == ns.cookie


def runner_has_tcpdump() -> bool:
    from shutil import which

    return which("tcpdump") is not None


def test_a_name_deleted_and_made_again_under_the_same_inode_is_refused(
    name: str, runner: NamespaceRunner, tmp_path: Path
) -> None:
    """The QA case: the TUI read nsxid-a; it was deleted and made again (a script, a
    restarted container) and the kernel gave the new one the old inode. The path and
    the (dev, ino) check both pass; only the id tells them apart."""
    old = read_as_discovery_does(name)
    if old.cookie is None:
        pytest.skip("this kernel has no NS_GET_ID")
    if why := made_again_under_the_same_inode(name):
        pytest.skip(why)
    new_cookie = cookie_of(f"{NETNS}/{name}")
    assert new_cookie is not None and new_cookie != old.cookie
    assert ident(f"{NETNS}/{name}") == old.id  # what the old check compared: equal
    marker = tmp_path / "ran"
    with pytest.raises(NamespaceGone, match="was replaced since it was read") as err:
        runner.run(old, ["touch", str(marker)])
    assert f"kernel id {new_cookie}, not {old.cookie}" in str(err.value)
    assert not marker.exists() and audit(runner) == []
    # discovery now reads the new one under that inode, with its own id
    assert read_as_discovery_does(name).cookie == new_cookie == cookie_inside(name)


@pytest.fixture
def hidden(tmp_path: Path) -> Iterator[tuple[int, str]]:
    """A netns bind-mounted only inside a private mount namespace (no process in the
    netns): (pid of the process holding that mount namespace, path there)."""
    where = tmp_path / "nsxid-hidden"
    where.mkdir()
    script = (
        'mount -t tmpfs none "$1" && touch "$1/ns" && unshare --net="$1/ns" true '
        "&& echo ready && exec sleep 120"
    )
    proc = subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", str(where)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield proc.pid, f"{where}/ns"
    finally:
        proc.kill()
        proc.wait()


def test_a_hidden_namespace_is_verified_by_id_through_the_other_mount_namespace(
    hidden: tuple[int, str], runner: NamespaceRunner, tmp_path: Path
) -> None:
    """Hidden in another mount namespace, the path does not open from ours; it is
    reached as /proc/<pid>/root<path>, opened and checked (id included) like any other
    path, and entered through that descriptor."""
    pid, path = hidden
    reach = f"/proc/{pid}/root{path}"
    cookie = cookie_of(reach)
    if cookie is None:
        pytest.skip("this kernel has no NS_GET_ID")
    mount = BindMount(path, os.stat(f"/proc/{pid}/ns/mnt").st_ino, hidden=True, via_pid=pid)
    ns = NetNamespace(id=ident(reach), bind_mounts=(mount,), cookie=cookie)
    got = runner.run(ns, ["readlink", "/proc/self/ns/net"])
    assert got.output.strip() == f"net:[{ns.inode}]"
    marker = tmp_path / "ran"
    with pytest.raises(NamespaceGone, match="was replaced"):
        runner.run(
            NetNamespace(id=ns.id, bind_mounts=(mount,), cookie=cookie + 1), ["touch", str(marker)]
        )
    assert not marker.exists()


@pytest.fixture
def sleeper(name: str) -> Iterator[int]:
    """A process inside ``name`` (for --all-namespaces)."""
    proc = subprocess.Popen(["ip", "netns", "exec", name, "sleep", "120"])
    try:
        want = os.stat(f"{NETNS}/{name}").st_ino
        for _ in range(200):
            try:
                if os.stat(f"/proc/{proc.pid}/ns/net").st_ino == want:
                    break
            except OSError:
                pass
            time.sleep(0.01)
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def test_all_namespaces_and_reading_details_check_the_id_too(
    name: str, sleeper: int, runner: NamespaceRunner, tmp_path: Path
) -> None:
    from nsexplorer.collect.source import LiveSource

    ns = read_as_discovery_does(name)
    if ns.cookie is None:
        pytest.skip("this kernel has no NS_GET_ID")
    wrong = NetNamespace(id=ns.id, names=ns.names, pids=(sleeper,), cookie=ns.cookie + 1)
    marker = tmp_path / "ran"
    with pytest.raises(NamespaceGone, match="was replaced"):
        runner.run(wrong, ["touch", str(marker)], all_namespaces=True)
    assert not marker.exists() and audit(runner) == []
    right = NetNamespace(id=ns.id, names=ns.names, pids=(sleeper,), cookie=ns.cookie)
    got = runner.run(right, ["readlink", "/proc/self/ns/net"], all_namespaces=True)
    assert got.output.strip() == f"net:[{ns.inode}]"
    source = LiveSource(engines=[])
    assert source.detail(ns).detailed  # its own id: read
    with pytest.raises(NamespaceGone, match="its inode now belongs to another namespace"):
        source.detail(dataclasses.replace(ns, cookie=ns.cookie + 1))
