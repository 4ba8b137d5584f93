"""NamespaceRunner on Docker containers of the test daemon (scripts/testbed.sh).

The daemon runs in a private mount namespace, so its netns files are hidden from the
host (a 0-byte file at SandboxKey): exactly the seed article's step 6.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from nsexplorer.actions.runner import NamespaceRunner
from nsexplorer.model import BindMount, Container, NamespaceId, NetNamespace

pytestmark = [pytest.mark.integration, pytest.mark.root, pytest.mark.docker]

DOCKER = "/usr/bin/docker"
IMAGE = "nsx-busybox:test"
DAEMON_PIDFILE = "/run/nsx-testbed/docker.pid"


def docker(*args: str) -> str:
    done = subprocess.run([DOCKER, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def nsid(path: str) -> NamespaceId:
    st = os.stat(path)
    return NamespaceId(st.st_dev, st.st_ino)


@dataclass
class Box:
    name: str
    id: str
    pid: int
    key: str
    mode: str
    ip: str

    def container(self, shares_with: str = "") -> Container:
        return Container("docker", self.id, self.name, IMAGE, self.mode, self.pid,
                         sandbox_key=self.key, shares_with=shares_with)  # fmt: skip


def daemon_pid() -> int:
    if os.environ.get("DOCKER_HOST") != "unix:///run/nsx-testbed/docker.sock":
        pytest.skip("these tests need the testbed daemon (scripts/testbed.sh start)")
    return int(Path(DAEMON_PIDFILE).read_text().strip())


@pytest.fixture(scope="module")
def boxes() -> Iterator[dict[str, Box]]:
    tag = secrets.token_hex(2)
    made: list[str] = []
    out: dict[str, Box] = {}
    try:
        for mode, net in (("bridge", []), ("none", ["--network", "none"]),
                          ("host", ["--network", "host"])):  # fmt: skip
            name = f"nsxt-{tag}-{mode}"
            docker("run", "-d", "--name", name, *net, IMAGE, "sleep", "600")
            made.append(name)
        name = f"nsxt-{tag}-shared"
        docker("run", "-d", "--name", name, "--network", f"container:nsxt-{tag}-bridge",
               IMAGE, "sleep", "600")  # fmt: skip
        made.append(name)
        for name in made:
            info = json.loads(docker("inspect", name))[0]
            out[name.rsplit("-", 1)[1]] = Box(
                name,
                info["Id"],
                info["State"]["Pid"],
                info["NetworkSettings"]["SandboxKey"],
                info["HostConfig"]["NetworkMode"],
                info["NetworkSettings"]["IPAddress"],
            )
        yield out
    finally:
        for name in made:
            subprocess.run([DOCKER, "rm", "-f", name], capture_output=True, check=False)


@pytest.fixture
def runner(tmp_path: Path) -> NamespaceRunner:
    return NamespaceRunner(audit_log=str(tmp_path / "audit.log"))


def ns_of(box: Box, *others: Box, hidden_via: int | None = None) -> NetNamespace:
    mounts = ()
    if hidden_via is not None and box.key:
        mounts = (BindMount(box.key, 0, hidden=True, via_pid=hidden_via),)
    containers = (box.container(), *(o.container(shares_with=box.id) for o in others))
    return NetNamespace(
        id=nsid(f"/proc/{box.pid}/ns/net"),
        label=box.name,
        pids=(box.pid, *(o.pid for o in others)),
        containers=containers,
        bind_mounts=mounts,
    )


def test_bridge_container_runs_host_ip_and_sees_its_eth0(
    runner: NamespaceRunner, boxes: dict[str, Box]
) -> None:
    box = boxes["bridge"]
    ns = ns_of(box, hidden_via=daemon_pid())
    links = runner.run(ns, ["ip", "-o", "link"])  # the HOST's iproute2, not busybox
    assert links.exit_status == 0, links
    assert " eth0@if" in links.output
    addrs = runner.run(ns, ["ip", "-o", "-4", "addr", "show", "dev", "eth0"])
    assert f"inet {box.ip}/" in addrs.output
    sysfs = runner.run(ns, ["ls", "/sys/class/net"])
    assert set(sysfs.output.split()) == {"lo", "eth0"}
    # Host tools: the host's /etc/hostname, not the container's.
    host = runner.run(ns, ["cat", "/etc/hostname"]).output.strip()
    assert host == Path("/etc/hostname").read_text().strip()


def test_none_container_has_only_lo(runner: NamespaceRunner, boxes: dict[str, Box]) -> None:
    ns = ns_of(boxes["none"])
    got = runner.run(ns, ["ls", "/sys/class/net"])
    assert got.output.split() == ["lo"], got


def test_host_mode_container_runs_directly_in_the_host_netns(
    runner: NamespaceRunner, boxes: dict[str, Box]
) -> None:
    ns = ns_of(boxes["host"])
    assert ns.id == nsid("/proc/thread-self/ns/net")
    assert runner.equivalent_command(ns, ["ip", "-o", "link"]) == "ip -o link"
    got = runner.run(ns, ["ls", "/sys/class/net"])
    assert set(got.output.split()) == set(os.listdir("/sys/class/net"))


def test_container_mode_shares_the_bridge_containers_namespace(
    runner: NamespaceRunner, boxes: dict[str, Box]
) -> None:
    owner, sharer = boxes["bridge"], boxes["shared"]
    assert sharer.mode == f"container:{owner.id}"
    assert sharer.key == ""  # Docker gives no SandboxKey in this mode
    ns = ns_of(owner, sharer)
    assert nsid(f"/proc/{sharer.pid}/ns/net") == ns.id
    got = runner.run(ns, ["ls", "/sys/class/net"])
    assert set(got.output.split()) == {"lo", "eth0"}
    # --all-namespaces takes the other namespaces from the owning container.
    hostname = runner.run(ns, ["cat", "/etc/hostname"], all_namespaces=True)
    assert hostname.output.strip() == owner.id[:12]


def test_all_namespaces_enter_the_container_named_not_its_neighbour(
    runner: NamespaceRunner, boxes: dict[str, Box]
) -> None:
    """QA: the TUI's ↳ row of a container sharing a namespace (container: mode, host
    mode) must enter that container's namespaces: with via_pid, its own hostname (its
    mount and uts namespaces), never the owner's nor the host's."""
    owner, sharer, host_box = boxes["bridge"], boxes["shared"], boxes["host"]
    for ns, box in ((ns_of(owner, sharer), sharer), (ns_of(host_box), host_box)):
        mnt = os.readlink(f"/proc/{box.pid}/ns/mnt")
        assert mnt != os.readlink("/proc/self/ns/mnt")
        got = runner.run(
            ns,
            ["/bin/busybox", "readlink", "/proc/self/ns/mnt"],
            all_namespaces=True,
            via_pid=box.pid,
        )
        assert got.output.strip() == mnt, (box.name, got)
        assert runner.equivalent_command(ns, ["sh"], True, via_pid=box.pid) == (
            f"nsenter -t {box.pid} -a -- sh"
        )
    owner_mnt = os.readlink(f"/proc/{owner.pid}/ns/mnt")
    assert owner_mnt != os.readlink(f"/proc/{sharer.pid}/ns/mnt")  # two views to tell apart


def test_all_namespaces_gives_the_containers_own_view(
    runner: NamespaceRunner, boxes: dict[str, Box]
) -> None:
    box = boxes["bridge"]
    ns = ns_of(box)
    assert runner.equivalent_command(ns, ["hostname"], all_namespaces=True) == (
        f"nsenter -t {box.pid} -a -- hostname"
    )
    got = runner.run(ns, ["hostname"], all_namespaces=True)  # busybox, inside the container
    assert got.output.strip() == box.id[:12], got
    shell = runner.prepare_shell(ns, all_namespaces=True)
    try:
        done = subprocess.run(shell.argv, input="ls /bin/busybox; exit 4\n", capture_output=True,
                              text=True, check=False, pass_fds=shell.pass_fds)  # fmt: skip
    finally:
        shell.release()
    assert done.returncode == 4
    assert done.stdout.strip() == "/bin/busybox"
    missing = runner.run(ns, ["nsxt-not-in-the-image"], all_namespaces=True)
    assert missing.exit_status == 127
    assert "not found inside the container" in missing.error


def test_namespace_hidden_by_the_private_mount_daemon(
    runner: NamespaceRunner, boxes: dict[str, Box]
) -> None:
    box = boxes["bridge"]
    dockerd = daemon_pid()
    # The premise: from the host the SandboxKey is not a namespace.
    assert os.stat(box.key).st_size == 0
    plain = subprocess.run(["nsenter", f"--net={box.key}", "true"], capture_output=True,
                           check=False)  # fmt: skip
    assert plain.returncode != 0
    # Only the hidden bind mount is known (no process): reached via /proc/<dockerd>/root.
    mount = BindMount(box.key, 0, hidden=True, via_pid=dockerd)
    ns = NetNamespace(id=nsid(f"/proc/{box.pid}/ns/net"), bind_mounts=(mount,))
    cmd = runner.equivalent_command(ns, ["ip", "-o", "link"])
    assert cmd.startswith(f"nsenter --net=/proc/{dockerd}/root{box.key} -- unshare --mount")
    got = runner.run(ns, ["ls", "/sys/class/net"])
    assert set(got.output.split()) == {"lo", "eth0"}, got
    seed = runner.seed_command(ns, ["ip", "-o", "link"])
    assert seed == f"nsenter -t {dockerd} -m nsenter --net={box.key} -- ip -o link"
    done = subprocess.run(["bash", "-c", seed], capture_output=True, text=True, check=True)
    assert " eth0@if" in done.stdout


def test_name_a_container_namespace_for_ip_netns(
    runner: NamespaceRunner, boxes: dict[str, Box]
) -> None:
    box = boxes["bridge"]
    ns = ns_of(box, hidden_via=daemon_pid())
    name = f"nsxt-c-{secrets.token_hex(2)}"
    try:
        runner.name(ns, name)
        done = subprocess.run(["ip", "netns", "exec", name, "ip", "-o", "-4", "addr"],
                              capture_output=True, text=True, check=True)  # fmt: skip
        assert f"inet {box.ip}/" in done.stdout
        runner.unname(name)
        assert not os.path.lexists(f"/var/run/netns/{name}")
    finally:
        if os.path.lexists(f"/var/run/netns/{name}"):
            subprocess.run(["umount", "-l", f"/var/run/netns/{name}"], check=False)
            os.unlink(f"/var/run/netns/{name}")
