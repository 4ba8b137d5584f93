"""The test Docker daemon (scripts/testbed.sh): isolated, safe, idempotent."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Throwaway  # the fixture's type only

pytestmark = [pytest.mark.integration, pytest.mark.root]

REPO = Path(__file__).resolve().parents[2]
TESTBED = REPO / "scripts" / "testbed.sh"
SOCK = "/run/nsx-testbed/docker.sock"
PIDFILE = Path("/run/nsx-testbed/docker.pid")
DOCKER = "/usr/bin/docker"
ENV = {**os.environ, "DOCKER_HOST": f"unix://{SOCK}"}


def run_testbed(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(TESTBED), *args], capture_output=True, text=True, check=False, timeout=180
    )


def docker(*args: str) -> str:
    done = subprocess.run(
        [DOCKER, *args], capture_output=True, text=True, check=False, env=ENV, timeout=120
    )
    assert done.returncode == 0, f"docker {args}: {done.stderr}"
    return done.stdout


def daemon_pid() -> int:
    return int(PIDFILE.read_text().strip())


def test_env_prints_docker_host() -> None:
    done = run_testbed("env")
    assert done.returncode == 0
    assert done.stdout.strip() == f"export DOCKER_HOST=unix://{SOCK}"


def test_start_twice_is_fine_and_keeps_the_daemon() -> None:
    first = run_testbed("start")
    assert first.returncode == 0, first.stderr
    pid = daemon_pid()
    second = run_testbed("start")
    assert second.returncode == 0, second.stderr
    assert "already running" in second.stdout
    assert daemon_pid() == pid
    status = run_testbed("status")
    assert status.returncode == 0 and "running" in status.stdout


def test_daemon_is_isolated_and_safe() -> None:
    assert run_testbed("start").returncode == 0
    pid = daemon_pid()
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    args = [a.decode() for a in argv if a]
    for flag in (
        "--iptables=false",
        "--ip-forward=false",
        "--ip-masq=false",
        "--userland-proxy=false",
    ):
        assert flag in args
    assert not any(a.startswith("--bridge=none") for a in args)
    # the flags that make dockerd delete the host's docker0 (see testbed.sh), never
    assert not any(a.startswith(("--default-address-pool", "--live-restore")) for a in args)
    assert guard(*args).returncode == 0
    config = args[args.index("--config-file") + 1]
    assert guard_config(config).returncode == 0, Path(config).read_text()
    assert args[args.index("-b") + 1] == "nsxtb0"
    assert args[args.index("--storage-driver") + 1] == "vfs"
    assert args[args.index("--containerd-namespace") + 1] == "nsx-testbed"
    # its own private mount namespace, the host's network namespace
    assert os.stat(f"/proc/{pid}/ns/mnt").st_ino != os.stat("/proc/thread-self/ns/mnt").st_ino
    assert os.stat(f"/proc/{pid}/ns/net").st_ino == os.stat("/proc/thread-self/ns/net").st_ino
    assert (
        "10.213.0.1/24"
        in subprocess.run(
            ["ip", "-o", "addr", "show", "dev", "nsxtb0"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert "nsx-busybox:test" in docker("images", "--format", "{{.Repository}}:{{.Tag}}")


def test_container_netns_is_hidden_from_the_host() -> None:
    assert run_testbed("start").returncode == 0
    name = f"nsxt-tb-{secrets.token_hex(3)}"
    docker("run", "-d", "--name", name, "nsx-busybox:test", "sleep", "300")
    try:
        info = json.loads(docker("inspect", name))[0]
        key = info["NetworkSettings"]["SandboxKey"]
        assert key.startswith("/run/nsx-testbed/exec/netns/")
        nsfs = os.stat("/proc/thread-self/ns/net").st_dev
        st = os.stat(key)
        assert st.st_size == 0 and st.st_dev != nsfs  # a 0-byte file from the host
        assert key not in Path("/proc/self/mountinfo").read_text()
        assert subprocess.run(["nsenter", f"--net={key}", "true"], check=False).returncode != 0
        # ... but the real namespace through dockerd's root, and the container's pid
        via_root = os.stat(f"/proc/{daemon_pid()}/root{key}")
        assert via_root.st_dev == nsfs
        assert via_root.st_ino == os.stat(f"/proc/{info['State']['Pid']}/ns/net").st_ino
    finally:
        docker("rm", "-f", name)


def test_start_after_a_crash_recovers() -> None:
    """SIGKILL dockerd with a container running; `start` must clean up and come back."""
    if os.environ.get("NSX_TESTBED_DISRUPT") != "1":
        pytest.skip(
            "kills the shared test daemon; runs when NSX_TESTBED_DISRUPT=1 "
            "(set by scripts/test.sh when it owns the testbed, and by .ci/run)"
        )
    assert run_testbed("start").returncode == 0
    name = f"nsxt-tb-{secrets.token_hex(3)}"
    docker("run", "-d", "--name", name, "nsx-busybox:test", "sleep", "300")
    ctr_pid = json.loads(docker("inspect", name))[0]["State"]["Pid"]
    old = daemon_pid()
    os.kill(old, 9)
    restarted = run_testbed("start")
    assert restarted.returncode == 0, restarted.stderr
    assert daemon_pid() != old
    assert run_testbed("status").returncode == 0
    # the crashed run's container process is gone and the engine forgot the container
    cmdline = Path(f"/proc/{ctr_pid}/cmdline")
    assert not cmdline.exists() or not cmdline.read_bytes()
    assert name not in docker("ps", "-a", "--format", "{{.Names}}")


# ----------------------------------------------------------------------------- docker0


def sourced(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run bash with testbed.sh sourced (its functions and settings, no command)."""
    return subprocess.run(
        ["bash", "-c", f'source "$1"; shift; set +e; {script}', "bash", str(TESTBED), *args],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


def guard(*args: str) -> subprocess.CompletedProcess[str]:
    return sourced('guard_dockerd_args "$@"', *args)


def guard_config(path: str) -> subprocess.CompletedProcess[str]:
    return sourced('guard_dockerd_config "$1"', path)


def the_testbed_argv() -> list[str]:
    done = sourced('dockerd_args a; printf "%s\\n" "${a[@]}"')
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_guard_refuses_every_way_to_delete_docker0(tmp_path: Path) -> None:
    args = the_testbed_argv()
    assert guard(*args).returncode == 0
    assert "--default-address-pool" not in " ".join(args)
    for extra in (
        ["--default-address-pool", "base=10.99.0.0/16,size=24"],
        ["--default-address-pool=base=10.99.0.0/16,size=24"],
        ["--bridge=none"],
        ["--bridge", "none"],
        ["-b", "none"],
        ["-bnone"],
        ["-b=none"],
        ["-b", "docker0"],  # and no bridge but its own
        ["--live-restore"],
    ):
        done = guard(*args, *extra)
        assert done.returncode == 1, extra
        assert "testbed: guard:" in done.stderr
    at = args.index("--config-file")
    no_config = args[:at] + args[at + 2 :]
    assert guard(*no_config).returncode == 1  # dockerd would read /etc/docker/daemon.json
    for text in (
        '{"default-address-pools": [{"base": "10.99.0.0/16", "size": 24}]}',
        '{"bridge": "none"}',
        '{"live-restore": true}',
    ):
        (tmp_path / "daemon.json").write_text(text)
        assert guard_config(str(tmp_path / "daemon.json")).returncode == 1, text
    (tmp_path / "daemon.json").write_text('{"deprecated-key-path": "/x/key.json"}')
    assert guard_config(str(tmp_path / "daemon.json")).returncode == 0


PROOF = r"""
T=$1
STATE_DIR=$T/s SOCK=$T/s/docker.sock DOCKER_HOST_URL=unix://$T/s/docker.sock
EXEC_ROOT=$T/x PIDFILE=$T/s/docker.pid LOG=$T/s/dockerd.log CONFIG=$T/s/daemon.json
DATA_ROOT=$T/d CTR_NS=$2 CGROUP_PARENT=$2
mkdir -p "$STATE_DIR" "$EXEC_ROOT" "$DATA_ROOT" "$T/cg"
write_config
# this netns's own sysfs (so /sys/class/net is its links), with the host's cgroups
mount --rbind /sys/fs/cgroup "$T/cg" && mount -t sysfs sysfs /sys &&
    mount --rbind "$T/cg" /sys/fs/cgroup || exit 19
ip link add "$BRIDGE" type bridge && ip addr add 10.213.0.1/24 dev "$BRIDGE" &&
    ip link set "$BRIDGE" up || exit 20
ip link add docker0 type bridge && ip link set docker0 up || exit 21
docker0() { ip -o link show dev docker0 2>/dev/null | cut -d: -f1 | grep . || echo gone; }
daemon() {  # start dockerd with the testbed's own argv (+ "$@"), report docker0, stop it
    local argv i pid
    dockerd_args argv
    "$DOCKERD" "${argv[@]}" "$@" </dev/null >>"$LOG" 2>&1 &
    pid=$!
    for i in $(seq 1 600); do
        responding && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    responding || { tail -n 20 "$LOG" >&2; kill -KILL "$pid"; echo failed; return; }
    docker0
    kill -TERM "$pid"
    wait "$pid"
}
echo "before $(docker0)"
echo "first $(daemon)"
echo "again $(daemon)"
echo "pool $(daemon --default-address-pool base=10.99.0.0/16,size=24)"
"""


def test_docker0_survives_testbed_starts_with_a_stale_bridge_network(nsxt: Throwaway) -> None:
    """moby's removeDefaultBridgeInterface, seen on the real dockerd, in a throwaway netns
    that has its own docker0: the testbed's command line, started twice (the second time
    its data root holds the stale "bridge" network), keeps docker0; the same plus
    --default-address-pool deletes it (so this test can tell the difference)."""
    netns = nsxt.netns()
    tag = f"nsxt-d0-{secrets.token_hex(3)}"
    tmp = tempfile.mkdtemp(prefix=f"{tag}-", dir="/tmp")  # short: unix socket paths
    try:
        done = subprocess.run(
            ["nsenter", f"--net=/run/netns/{netns}", "unshare", "--mount", "--propagation",
             "private", "bash", "-c", f'source "$1"; shift; set +e; {PROOF}', "bash",
             str(TESTBED), tmp, tag],
            capture_output=True, text=True, check=False, timeout=600,
        )  # fmt: skip
        seen = dict(line.split(" ", 1) for line in done.stdout.splitlines())
        assert seen.get("before", "gone") != "gone", (done.stdout, done.stderr)
        assert seen["first"] == seen["before"], (done.stdout, done.stderr)
        assert seen["again"] == seen["before"], (done.stdout, done.stderr)
        assert seen["pool"] == "gone", (done.stdout, done.stderr)
    finally:
        _kill_processes_mentioning(tmp)
        shutil.rmtree(tmp, ignore_errors=True)
        for cg in Path("/sys/fs/cgroup").glob(f"*/{tag}"):
            cg.rmdir()


def _kill_processes_mentioning(text: str) -> None:
    """SIGKILL this test's own daemons (their command lines name its temp dir)."""
    needle = text.encode()
    for _ in range(50):
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if needle in (entry / "cmdline").read_bytes():
                        pids.append(int(entry.name))
                except OSError:
                    continue
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)


# ----------------------------------------------------------------------------- firewall


def test_containers_on_nsxtb0_reach_each_other() -> None:
    """On a Docker host (FORWARD DROP, br_netfilter) only the testbed's own accept rule
    lets two of its containers talk; where the host does not filter, none is added."""
    assert run_testbed("start").returncode == 0
    filtering = sourced(
        "for t in iptables:bridge-nf-call-iptables ip6tables:bridge-nf-call-ip6tables; do"
        ' firewall_needed "${t%%:*}" "${t#*:}" && echo "${t%%:*}"; done'
    ).stdout.split()
    for tool in ("iptables", "ip6tables"):
        if shutil.which(tool):
            rules = subprocess.run(
                [tool, "-w", "5", "-S", "FORWARD"], capture_output=True, text=True, check=True
            ).stdout
            has = "-i nsxtb0 -o nsxtb0 -m comment --comment nsx-testbed -j ACCEPT" in rules
            assert has == (tool in filtering), (tool, rules)
    names = [f"nsxt-tb-{secrets.token_hex(3)}" for _ in range(2)]
    try:
        for name in names:
            docker("run", "-d", "--name", name, "nsx-busybox:test", "sleep", "300")
        peer = docker("inspect", "-f", "{{.NetworkSettings.IPAddress}}", names[1]).strip()
        assert peer.startswith("10.213.0.")
        ping = subprocess.run(
            [DOCKER, "exec", names[0], "ping", "-c", "1", "-W", "2", peer],
            capture_output=True, text=True, check=False, env=ENV, timeout=60,
        )  # fmt: skip
        assert ping.returncode == 0, ping.stdout + ping.stderr
    finally:
        subprocess.run([DOCKER, "rm", "-f", *names], capture_output=True, check=False, env=ENV)
