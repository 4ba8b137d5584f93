"""The test Docker daemon (scripts/testbed.sh): isolated, safe, idempotent."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from pathlib import Path

import pytest

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
