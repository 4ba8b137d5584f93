"""The lab against the real kernel and the real test Docker daemon.

The CLI cycle test compares the host before `lab up` and after `lab down`; conftest runs
this file before anything builds the session-wide `lab` fixture.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from nsexplorer.lab import LabState, firewall
from nsexplorer.lab import state as labstate

if TYPE_CHECKING:
    from conftest import ReadableNsexplorer, Throwaway  # the fixtures' types only

pytestmark = [pytest.mark.integration, pytest.mark.root]

DOCKER = "/usr/bin/docker"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def sh(*argv: str, check: bool = True) -> str:
    done = subprocess.run(
        argv, capture_output=True, text=True, errors="surrogateescape", check=False, timeout=120
    )
    if check and done.returncode != 0:
        raise AssertionError(f"{argv} exited {done.returncode}: {done.stderr}")
    return done.stdout


def nsx(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nsexplorer", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def nsfs_dev() -> int:
    return os.stat("/proc/thread-self/ns/net").st_dev


def foreign(name: str) -> bool:
    """Objects of other tests and tools (`nsxt...` throwaways, the testbed's `nsxtb0`,
    benches' `nsxb...`): they come and go on their own, even while this test runs."""
    return name.startswith("nsx") and not name.startswith("nsxlab")


def host_view(docker: bool) -> dict[str, list[str]]:
    """What `lab down` must leave exactly as it found it (less others' objects)."""
    links = []
    for line in sh("ip", "-o", "link").splitlines():
        name = line.split(": ", 2)[1].split("@")[0]
        master = re.search(r" master (\S+)", line)
        if foreign(name):
            continue
        if (
            not IN_CI
            and name.startswith(("veth", "br-"))
            and not (master and master[1].startswith("nsxlab"))
        ):
            # outside CI, others' containers come and go on the shared engine; the lab's
            # own containers are compared through `docker ps -a` below
            continue
        # carrier flags and MAC of a bridge follow its ports; the ports are compared
        links.append(line.split(": <")[0] + (f" master {master[1]}" if master else ""))
    netns = [ln for ln in sh("ip", "netns", "list").splitlines() if not foreign(ln.split()[0])]
    mounts = [
        ln
        for ln in Path("/proc/self/mountinfo").read_text().splitlines()
        if not foreign(ln.split()[4].rsplit("/", 1)[-1])
    ]
    view = {"ip -o link": sorted(links), "ip netns list": sorted(netns), "mountinfo": mounts}
    for save in ("iptables-save", "ip6tables-save"):
        view[save] = firewall_view(save)
    if docker:
        ps = sh(DOCKER, "ps", "-a", "--format", "{{.ID}} {{.Names}}").splitlines()
        view["docker ps -a"] = sorted(ln for ln in ps if not foreign(ln.split()[1]))
        nets = sh(DOCKER, "network", "ls", "--format", "{{.Name}}").split()
        view["docker network ls"] = sorted(n for n in nets if not foreign(n))
        images = sh(DOCKER, "images", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}")
        view["docker images"] = sorted(
            ln for ln in images.splitlines() if not foreign(ln.split(" ", 1)[1])
        )
    return view


def firewall_view(save: str) -> list[str]:
    """The ruleset without counters and dates, less others' rules (the testbed's)."""
    if shutil.which(save) is None:
        return []
    done = subprocess.run([save], capture_output=True, text=True, check=False, timeout=60)
    lines = []
    for line in done.stdout.splitlines():
        if line.startswith("#"):
            continue
        comment = re.search(r"--comment (\S+)", line)
        if comment and foreign(comment[1].strip('"')):
            continue
        lines.append(re.sub(r"\[\d+:\d+\]", "[0:0]", line))
    return lines


def forward_rules(tool: str) -> str:
    return sh(tool, "-w", "5", "-S", "FORWARD") if shutil.which(tool) else ""


def netns_inodes_of_ip_netns() -> set[int]:
    inodes = set()
    for name in os.listdir("/run/netns"):
        with contextlib.suppress(OSError):
            inodes.add(os.stat(f"/run/netns/{name}").st_ino)
    return inodes


def lsns_net_inodes() -> set[int]:
    data = json.loads(sh("lsns", "-t", "net", "-J", "-o", "NS"))
    return {int(row["ns"]) for row in data["namespaces"]}


def ping(netns: str, address: str) -> bool:
    done = subprocess.run(
        ["ip", "netns", "exec", netns, "busybox", "ping", "-c", "1", "-W", "2", address],
        capture_output=True,
        check=False,
        timeout=30,
    )
    return done.returncode == 0


# ----------------------------------------------------------------------------- CLI cycle


def test_lab_cli_up_shows_topology_and_down_restores_host(
    lab_lock: None, docker_reachable: bool
) -> None:
    assert nsx("lab", "down").returncode == 0
    before = host_view(docker_reachable)
    # On a Docker host (CI makes one: FORWARD policy DROP, br_netfilter on) the lab must
    # open its own bridges, and only those; on a bare host it adds nothing.
    filtering = firewall.needed()

    up = nsx("lab", "up")
    try:
        assert up.returncode == 0, up.stderr
        assert "lab up" in up.stdout
        state = labstate.load()
        assert state is not None and state.complete
        assert state.firewall == filtering
        for tool in ("iptables", "ip6tables"):
            rules = forward_rules(tool)
            assert ("--comment nsxlab " in rules) == (tool in filtering), (tool, rules)

        netns = sh("ip", "netns", "list")
        for name in ("nsxlab-a", "nsxlab-b", "nsxlab-c", "nsxlab-[x]"):
            assert any(line.split(" ")[0] == name for line in netns.splitlines()), name

        links = sh("ip", "-o", "link")
        for name in ("nsxlab-br0", "nsxlab-a-h", "nsxlab-p-h", "nsxlab-x-h", "nsxlab[@x=1]"):
            assert f" {name}:" in links or f" {name}@" in links, name
        assert "master nsxlab-br0" in links
        alias = Path("/sys/class/net/nsxlab[@x=1]/ifalias").read_text().rstrip("\n")
        assert alias == labstate.HOSTILE_ALIAS

        # the veth joining two non-host namespaces, and the wiring through the bridge
        assert "nsxlab-ab@" in sh("ip", "-n", "nsxlab-a", "-o", "link")
        assert ping("nsxlab-a", "10.215.1.2")
        # across nsxlab-br0: through FORWARD when br_netfilter is on
        assert ping("nsxlab-a", "10.215.0.12")
        assert ping("nsxlab-a", "10.215.0.20")  # the process-only netns
        assert ping("nsxlab-b", "10.215.0.30")  # the hidden netns

        if docker_reachable:
            ps = sh(DOCKER, "ps", "--format", "{{.Names}}").split()
            for name in ("nsxlab-web", "nsxlab-hostnet", "nsxlab-none", "nsxlab-side"):
                assert name in ps
            modes = {
                name: sh(DOCKER, "inspect", "-f", "{{.HostConfig.NetworkMode}}", name).strip()
                for name in ("nsxlab-hostnet", "nsxlab-none", "nsxlab-side", "nsxlab-app")
            }
            assert modes["nsxlab-hostnet"] == "host"
            assert modes["nsxlab-none"] == "none"
            assert modes["nsxlab-side"].startswith("container:")
            assert modes["nsxlab-app"] == "nsxlab-net"
            assert "nsxlab-dnet" in links or "nsxlab-dnet" in sh("ip", "-o", "link")
            # two containers on the lab's Docker network (bridge nsxlab-dnet)
            app2 = state.container("nsxlab-app2").address
            assert app2 is not None
            reach = subprocess.run(
                [DOCKER, "exec", "nsxlab-app", "busybox", "ping", "-c", "1", "-W", "2",
                 app2.split("/")[0]],
                capture_output=True, text=True, check=False, timeout=60,
            )  # fmt: skip
            assert reach.returncode == 0, reach.stdout + reach.stderr

        status = nsx("lab", "status")
        assert status.returncode == 0
        assert "\x1b" not in status.stdout and "\x07" not in status.stdout
        assert "\\x1b]2;pwned\\x07" in status.stdout
    finally:
        down = nsx("lab", "down")
    assert down.returncode == 0, down.stderr
    assert not Path("/run/nsxlab").exists()
    assert nsx("lab", "status").returncode == 3
    after = host_view(docker_reachable)
    for key in before:
        assert after[key] == before[key], key


def test_lab_down_after_crash_removes_everything(lab_lock: None, docker_reachable: bool) -> None:
    """state.json lost (a crash mid-way): down still finds the lab by prefix and mark."""
    before = host_view(docker_reachable)
    up = nsx("lab", "up", "--no-docker")
    assert up.returncode == 0, up.stderr
    state = labstate.load()
    assert state is not None and state.hidden_holder_pid is not None
    holders = (state.hidden_holder_pid, state.process_ns_pid)
    labstate.STATE_FILE.unlink()
    down = nsx("lab", "down")
    assert down.returncode == 0, down.stderr
    for pid in holders:
        assert (
            not Path(f"/proc/{pid}/cmdline").exists()
            or not Path(f"/proc/{pid}/cmdline").read_bytes()
        ), f"lab process {pid} survived down"
    after = host_view(docker_reachable)
    for key in before:
        assert after[key] == before[key], key


def test_lab_up_refuses_when_not_root(
    docker_reachable: bool, readable_nsexplorer: ReadableNsexplorer
) -> None:
    # nobody, plus read access to files so that only the lack of root can stop it
    base = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--inh-caps=+dac_read_search",
        "--ambient-caps=+dac_read_search",
        *readable_nsexplorer.argv,
    ]
    before = host_view(docker_reachable)
    env = readable_nsexplorer.env(os.environ)
    for action in ("up", "down"):
        done = subprocess.run(
            [*base, "lab", action], capture_output=True, text=True, check=False, env=env, timeout=60
        )
        assert done.returncode == 1, done
        assert "needs root" in done.stderr
        assert "Traceback" not in done.stderr
    assert host_view(docker_reachable) == before


def test_lab_size_adds_bench_namespaces(lab_lock: None) -> None:
    up = nsx("lab", "up", "--no-docker", "--size", "25")
    try:
        assert up.returncode == 0, up.stderr
        names = sh("ip", "netns", "list")
        assert "nsxlab-n0001" in names and "nsxlab-n0025" in names
        addr = sh("ip", "-n", "nsxlab-n0025", "-br", "addr")
        assert "10.220.0.26/16" in addr
        assert ping("nsxlab-n0001", "10.220.0.1")
        assert "master nsxlab-bench" in sh("ip", "-o", "link", "show", "nsxlab-b0025")
    finally:
        assert nsx("lab", "down").returncode == 0
    assert "nsxlab" not in sh("ip", "netns", "list")


# ----------------------------------------------------------------------------- a host's firewall


def _in(netns: str, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ip", "netns", "exec", netns, *argv], capture_output=True, text=True, check=False,
        timeout=60,
    )  # fmt: skip


def _saved(netns: str) -> list[str]:
    out = []
    for save in ("iptables-save", "ip6tables-save"):
        done = _in(netns, save)
        out += [re.sub(r"\[\d+:\d+\]", "[0:0]", ln) for ln in done.stdout.splitlines()]
    return [ln for ln in out if not ln.startswith("#")]


def test_lab_firewall_rule_opens_only_lab_bridges_under_forward_drop(nsxt: Throwaway) -> None:
    """Docker's default firewall, made in a throwaway netns (FORWARD policy DROP with
    br_netfilter on): two ports of an nsxlab bridge cannot talk until the lab's rule is
    in, a bridge of another name stays closed, and remove() restores the rules exactly."""
    host = nsxt.netns()  # plays the host: its own iptables, its own br_netfilter sysctls
    if _in(host, "cat", "/proc/sys/net/bridge/bridge-nf-call-iptables").stdout.strip() != "1":
        pytest.skip("br_netfilter is not active in a new netns here (bridge-nf-call-iptables)")
    for tool in ("iptables", "ip6tables"):
        assert _in(host, tool, "-w", "5", "-P", "FORWARD", "DROP").returncode == 0
    ends: dict[str, str] = {}
    for bridge, subnet in (("nsxlab-fw0", "10.251.0"), ("otherfw0", "10.251.1")):
        nsxt.ip("-n", host, "link", "add", bridge, "type", "bridge")
        nsxt.ip("-n", host, "link", "set", bridge, "up")
        for n in (1, 2):
            ns = nsxt.netns()
            port = f"p{bridge[-4:]}{n}"  # port names never match nsxlab+
            nsxt.ip("-n", host, "link", "add", port, "type", "veth", "peer", "name", "eth0",
                    "netns", ns)  # fmt: skip
            nsxt.ip("-n", host, "link", "set", port, "master", bridge, "up")
            nsxt.ip("-n", ns, "addr", "add", f"{subnet}.{n}/24", "dev", "eth0")
            nsxt.ip("-n", ns, "link", "set", "eth0", "up")
            ends[f"{bridge}{n}"] = ns
    before = _saved(host)

    def reaches(bridge: str) -> bool:
        subnet = "10.251.0" if bridge == "nsxlab-fw0" else "10.251.1"
        ping = _in(ends[f"{bridge}1"], "busybox", "ping", "-c", "1", "-W", "1", f"{subnet}.2")
        return ping.returncode == 0

    def lab_firewall(call: str) -> str:
        code = f"from nsexplorer.lab import firewall as f; {call}"
        done = _in(host, sys.executable, "-c", code)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert not reaches("nsxlab-fw0")  # the drop is real: this test can fail
    assert lab_firewall("t = f.needed(); [f.add(x) for x in t]; print(*t)") == "iptables ip6tables"
    assert reaches("nsxlab-fw0")
    assert not reaches("otherfw0")  # nothing but the lab's bridges is opened
    rules = _in(host, "iptables", "-S", "FORWARD").stdout
    assert "-P FORWARD DROP" in rules  # the policy is left alone
    assert lab_firewall("print(len(f.remove().done))") == "2"
    assert not reaches("nsxlab-fw0")
    assert _saved(host) == before


# ----------------------------------------------------------------------------- read-only, image


def test_read_only_refuses_lab_up_and_down(lab_lock: None) -> None:
    up = nsx("lab", "up", "--no-docker")
    assert up.returncode == 0, up.stderr
    try:
        recorded = labstate.STATE_FILE.read_text()
        before = host_view(docker=False)
        for argv in (
            ("--read-only", "lab", "down"),
            ("lab", "down", "--read-only"),
            ("--read-only", "lab", "up"),
            ("lab", "up", "--no-docker", "--read-only"),
        ):
            done = nsx(*argv)
            assert done.returncode == 3, (argv, done)
            assert "read-only mode: refusing to" in done.stderr, done.stderr
            assert "nothing was run or changed" in done.stderr
            assert done.stdout == ""
        assert labstate.STATE_FILE.read_text() == recorded  # same lab, same processes
        assert host_view(docker=False) == before
        status = nsx("--read-only", "lab", "status")
        assert status.returncode == 0 and "lab up" in status.stdout
    finally:
        assert nsx("lab", "down").returncode == 0


def image_ids(name: str) -> list[str]:
    return sh(DOCKER, "images", "-q", name).split()


@pytest.mark.docker
def test_lab_down_removes_the_image_up_imported_and_only_that(
    lab_lock: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nsexplorer import lab as labmod

    name = f"nsxlab-busybox:t{secrets.token_hex(3)}"
    monkeypatch.setattr(labstate, "IMAGE", name)  # an image no engine has yet
    try:
        state = labmod.up(docker=True)
        assert state.imported_image == name
        inspected = json.loads(sh(DOCKER, "image", "inspect", name))[0]
        assert inspected["Config"]["Labels"] == {labstate.IMAGE_LABEL: "1"}
        assert f"image       {name}" in nsx("lab", "status").stdout
        labstate.STATE_FILE.unlink()  # a crash: down finds the image by its label
        report = labmod.down()
        assert f"image {name}" in report.removed, report
        assert image_ids(name) == []

        # the same name, not imported by the lab (no label): up uses it, down keeps it
        sh(DOCKER, "tag", "nsx-busybox:test", name)
        state = labmod.up(docker=True)
        assert state.imported_image is None
        report = labmod.down()
        assert not [r for r in report.removed if r.startswith("image")], report
        assert image_ids(name) == image_ids("nsx-busybox:test")
    finally:
        labmod.down()
        subprocess.run([DOCKER, "rmi", name], capture_output=True, check=False)


def test_lab_down_unmounts_the_netns_dir_its_first_netns_add_mounted(lab_lock: None) -> None:
    """iproute2's first `ip netns add` bind-mounts /run/netns onto itself; when that was
    the lab's, `down` undoes it. Run in a private mount namespace whose /run/netns is
    not a mount point, as on a host where no one has used `ip netns` yet."""
    script = (
        "while mountpoint -q /run/netns; do umount -l /run/netns; done; "
        '"$0" -m nsexplorer lab up --no-docker >/dev/null || exit 10; '
        "mountpoint -q /run/netns || exit 11; "
        '"$0" -m nsexplorer lab down >/dev/null || exit 12; '
        "if mountpoint -q /run/netns; then exit 13; fi"
    )
    done = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, sys.executable],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, (done.returncode, done.stderr)
    assert not Path("/run/nsxlab").exists()


# ----------------------------------------------------------------------------- fixture


def test_lab_fixture_state_matches_the_kernel(lab: LabState) -> None:
    assert lab.complete
    nsfs = nsfs_dev()

    # the process-only netns: a process holds it, no name does
    assert lab.process_ns_path is not None
    pst = os.stat(lab.process_ns_path)
    assert pst.st_ino not in netns_inodes_of_ip_netns()
    assert pst.st_ino in lsns_net_inodes()

    # the hidden netns: an nsfs file only inside its holder's mount namespace
    assert lab.hidden_proc_path is not None
    hst = os.stat(lab.hidden_proc_path)
    assert hst.st_dev == nsfs
    assert hst.st_ino not in netns_inodes_of_ip_netns()
    assert hst.st_ino not in lsns_net_inodes()
    assert not Path(lab.hidden_ns_path).exists()  # from the host: an empty directory
    assert lab.hidden_ns_path.split("/")[-2] not in Path("/proc/self/mountinfo").read_text()
    eth0 = sh("nsenter", f"--net={lab.hidden_proc_path}", "ip", "-br", "addr", "show", "eth0")
    assert "10.215.0.30/24" in eth0

    for link in lab.links:
        if link.netns == "host":
            assert Path(f"/sys/class/net/{link.ifname}").exists(), link.ifname


@pytest.mark.docker
def test_lab_fixture_containers_in_every_mode(lab: LabState) -> None:
    modes = {c.network_mode for c in lab.containers}
    assert {"bridge", "host", "none", "nsxlab-net"} <= modes
    assert any(m.startswith("container:") for m in modes)
    nsfs = nsfs_dev()
    for c in lab.containers:
        inspected = json.loads(sh(DOCKER, "inspect", c.name))[0]
        assert inspected["State"]["Pid"] == c.pid
        assert os.stat(f"/proc/{c.pid}/ns/net").st_dev == nsfs
        key = c.sandbox_key
        if c.network_mode in ("bridge", "none", "nsxlab-net"):
            # Docker's netns files are bind mounts only inside dockerd's private mount ns:
            # from the host each is an empty regular file, and entering it fails.
            st = os.stat(key)
            assert st.st_size == 0 and st.st_dev != nsfs, key
            assert subprocess.run(["nsenter", f"--net={key}", "true"], check=False).returncode
    web, side = lab.container("nsxlab-web"), lab.container("nsxlab-side")
    assert os.stat(f"/proc/{web.pid}/ns/net").st_ino == os.stat(f"/proc/{side.pid}/ns/net").st_ino
    host = lab.container("nsxlab-hostnet")
    assert os.stat(f"/proc/{host.pid}/ns/net").st_ino == os.stat("/proc/thread-self/ns/net").st_ino
