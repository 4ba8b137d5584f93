"""`nsexplorer capture`: the host's tcpdump inside a namespace, a pcap that reads back."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.root]

NSX = [sys.executable, "-m", "nsexplorer"]
BUSYBOX = shutil.which("busybox") or "/bin/busybox"


def nsx(*args: str, tmp: Path, **kw: Any) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NSX_AUDIT_LOG": str(tmp / "audit.log"), **kw.pop("env", {})}
    return subprocess.run(
        [*NSX, *args], capture_output=True, text=True, env=env, timeout=60, check=False, **kw
    )


def ping_later(netns: list[str], address: str, delay: float = 1.5) -> threading.Thread:
    def go() -> None:
        time.sleep(delay)
        subprocess.run(
            [*netns, BUSYBOX, "ping", "-c", "3", "-W", "1", address],
            check=False,
            capture_output=True,
        )

    t = threading.Thread(target=go, daemon=True)
    t.start()
    return t


def read_back(pcap: Path) -> str:
    done = subprocess.run(
        ["tcpdump", "-n", "-r", str(pcap)], capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.fixture
def pair(nsxt: Any) -> tuple[str, str, str, str]:
    a, b = nsxt.netns(), nsxt.netns()
    end_a, _ = nsxt.veth(a, b, address_a="10.232.0.1/24", address_b="10.232.0.2/24")
    return a, b, end_a, "10.232.0.1"


def test_capture_sees_a_ping_between_two_namespaces(
    pair: tuple[str, str, str, str], tmp_path: Path
) -> None:
    a, b, end_a, addr_a = pair
    pcap = tmp_path / "ping.pcap"
    pinger = ping_later(["ip", "netns", "exec", b], addr_a)
    done = nsx("capture", a, "-i", end_a, "-c", "4", "-w", str(pcap), "icmp", tmp=tmp_path)
    pinger.join()
    assert done.returncode == 0, done.stderr
    assert f"# ip netns exec {a} tcpdump" in done.stderr  # the paste-able command
    assert f"-w {pcap}" in done.stderr and "stopped by count" in done.stderr
    assert "ICMP echo request" in done.stdout  # streamed, decoded
    back = read_back(pcap)
    assert back.count("ICMP echo") == 4
    assert '"action": "capture"' in (tmp_path / "audit.log").read_text()


def test_capture_in_a_hidden_namespace_stops_at_its_time_bound(lab: Any, tmp_path: Path) -> None:
    pcap = tmp_path / "hidden.pcap"
    assert lab.hidden_proc_path is not None
    started = time.monotonic()
    done = nsx("capture", lab.hidden_proc_path, "--seconds", "2", "-w", str(pcap), tmp=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "stopped by time limit" in done.stderr
    assert f"nsenter --net={lab.hidden_proc_path}" in done.stderr
    assert time.monotonic() - started < 30  # it did stop by itself (generous: noisy machine)
    read_back(pcap)  # a valid pcap, even if empty


def test_capture_refusals_run_nothing(pair: tuple[str, str, str, str], tmp_path: Path) -> None:
    a, _b, _end, _ = pair
    existing = tmp_path / "keep.pcap"
    existing.write_text("evidence")
    gone_if = nsx("capture", a, "-i", "nsxnope0", "-w", str(tmp_path / "x.pcap"), tmp=tmp_path)
    assert gone_if.returncode == 1 and "no interface 'nsxnope0'" in gone_if.stderr
    assert not (tmp_path / "x.pcap").exists()
    kept = nsx("capture", a, "-w", str(existing), tmp=tmp_path)
    assert kept.returncode == 1 and "never overwrites" in kept.stderr
    assert existing.read_text() == "evidence"
    ro = nsx("--read-only", "capture", a, tmp=tmp_path)
    assert ro.returncode == 3 and "read-only" in ro.stderr
    no_tool = nsx("capture", a, tmp=tmp_path, env={"PATH": str(tmp_path)})
    assert no_tool.returncode == 1 and "tcpdump is not installed" in no_tool.stderr
    assert "tcpdump -n" not in ro.stderr + no_tool.stderr  # no "equivalent command" printed
