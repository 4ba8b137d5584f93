"""scripts/ci-host-guard.sh: CI's before/after check of a host's Docker can fail.

Each damage it must catch is done to objects this test makes: a bridge named docker0 and
a ruleset inside a throwaway netns (never the host's), and a container of its own on
the test daemon.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Throwaway  # the fixture's type only

pytestmark = [pytest.mark.integration, pytest.mark.root]

GUARD = Path(__file__).resolve().parents[2] / "scripts" / "ci-host-guard.sh"
DOCKER = "/usr/bin/docker"


def guard(
    action: str, where: Path, env: dict[str, str], netns: str | None = None
) -> subprocess.CompletedProcess[str]:
    argv = ["bash", str(GUARD), action, str(where)]
    if netns is not None:
        argv = ["ip", "netns", "exec", netns, *argv]
    return subprocess.run(
        argv, capture_output=True, text=True, check=False, timeout=300, env={**os.environ, **env}
    )


def test_guard_sees_a_recreated_docker0_a_new_rule_and_a_sysctl(
    nsxt: Throwaway, tmp_path: Path
) -> None:
    ns = nsxt.netns()
    nsxt.ip("-n", ns, "link", "add", "docker0", "type", "bridge")
    nsxt.ip("-n", ns, "addr", "add", "10.252.0.1/24", "dev", "docker0")
    nsxt.ip("-n", ns, "link", "set", "docker0", "up")
    env = {"NSXCI_CHECKS": "bridge iptables sysctl links"}

    assert guard("snapshot", tmp_path, env, ns).returncode == 0
    ok = guard("verify", tmp_path, env, ns)
    assert ok.returncode == 0, ok.stderr
    assert "the host is as it was" in ok.stdout

    rule = ["INPUT", "-s", "10.9.9.9/32", "-m", "comment", "--comment", "nsxt", "-j", "ACCEPT"]
    nsxt.ip("netns", "exec", ns, "iptables", "-A", *rule)
    changed = guard("verify", tmp_path, env, ns)
    assert changed.returncode == 1
    assert "THE HOST CHANGED: iptables" in changed.stderr
    assert "+-A INPUT -s 10.9.9.9/32" in changed.stderr
    nsxt.ip("netns", "exec", ns, "iptables", "-D", *rule)
    assert guard("verify", tmp_path, env, ns).returncode == 0

    # net.ipv4.ip_forward is per netns: this one is the throwaway's
    nsxt.ip("netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=1")
    changed = guard("verify", tmp_path, env, ns)
    assert changed.returncode == 1 and "sysctl" in changed.stderr, changed.stderr
    nsxt.ip("netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=0")
    assert guard("verify", tmp_path, env, ns).returncode == 0

    # what the testbed once did to the host: docker0 deleted; a new one is not the same
    nsxt.ip("-n", ns, "link", "del", "docker0")
    nsxt.ip("-n", ns, "link", "add", "docker0", "type", "bridge")
    nsxt.ip("-n", ns, "addr", "add", "10.252.0.1/24", "dev", "docker0")
    nsxt.ip("-n", ns, "link", "set", "docker0", "up")
    changed = guard("verify", tmp_path, env, ns)
    assert changed.returncode == 1
    assert "THE HOST CHANGED: bridge links" in changed.stderr, changed.stderr


@pytest.mark.docker
def test_guard_sees_a_container_cut_from_its_bridge(tmp_path: Path) -> None:
    name = f"nsxt-guard-{secrets.token_hex(3)}"
    env = {
        "NSXCI_DOCKER_HOST": os.environ["DOCKER_HOST"],
        "NSXCI_SENTINEL": name,
        "NSXCI_BRIDGE": "nsxtb0",
        "NSXCI_CHECKS": "container",
    }
    subprocess.run(
        [DOCKER, "run", "-d", "--name", name, "nsx-busybox:test", "sleep", "300"],
        capture_output=True, check=True, timeout=120,
    )  # fmt: skip
    try:
        snap = guard("snapshot", tmp_path, env)
        assert snap.returncode == 0, snap.stderr
        recorded = (tmp_path / "before" / "container").read_text()
        assert "answers a ping: yes" in recorded
        assert " master=nsxtb0 " in recorded  # its veth, found from eth0's iflink
        assert guard("verify", tmp_path, env).returncode == 0

        subprocess.run(
            [DOCKER, "network", "disconnect", "bridge", name], capture_output=True, check=True
        )
        changed = guard("verify", tmp_path, env)
        assert changed.returncode == 1
        assert "THE HOST CHANGED: container" in changed.stderr
        assert "+answers a ping: NO" in changed.stderr
    finally:
        subprocess.run([DOCKER, "rm", "-f", name], capture_output=True, check=False)


def test_guard_refuses_to_guard_a_sentinel_that_does_not_answer(tmp_path: Path) -> None:
    env = {
        "NSXCI_DOCKER_HOST": "unix:///nonexistent/nsxt.sock",
        "NSXCI_SENTINEL": "nsxt-none",
        "NSXCI_CHECKS": "container",
    }
    done = guard("snapshot", tmp_path, env)
    assert done.returncode == 1
    assert "does not answer" in done.stderr
