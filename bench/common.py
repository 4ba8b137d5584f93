"""What the benchmarks share: a description of the machine, and N throwaway named
namespaces, each with eth0 on one host bridge and an address, built with two `ip -batch`
runs (not five processes per namespace) and removed by prefix, also after a crash."""

from __future__ import annotations

import os
import platform
import subprocess
from concurrent.futures import ThreadPoolExecutor


def machine() -> str:
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.node()}: {os.cpu_count()} CPUs ({cpu}), {mem:.0f} GiB RAM, "
        f"kernel {platform.release()}, Python {platform.python_version()}"
    )


def sh(cmd: list[str], stdin: str | None = None) -> None:
    subprocess.run(cmd, input=stdin, text=True, check=True, capture_output=True)


def names(prefix: str, n: int) -> list[str]:
    return [f"{prefix}-n{i:04d}" for i in range(1, n + 1)]


def build(prefix: str, bridge: str, net16: str, n: int) -> None:
    """``net16`` is the first two octets of the /16 (e.g. "10.230"); .0.1 is the bridge."""
    remove(prefix, bridge)
    lines = [
        f"link add name {bridge} type bridge",
        f"addr add {net16}.0.1/16 dev {bridge}",
        f"link set {bridge} up",
    ]
    lines += [f"netns add {ns}" for ns in names(prefix, n)]
    for i, ns in enumerate(names(prefix, n), start=1):
        lines.append(
            f"link add {prefix}-h{i:04d} master {bridge} up type veth peer name eth0 netns {ns}"
        )
    sh(["ip", "-batch", "-"], "\n".join(lines) + "\n")

    def configure(item: tuple[int, str]) -> None:
        i, ns = item
        k = i + 1
        sh(
            ["nsenter", f"--net=/run/netns/{ns}", "ip", "-batch", "-"],
            f"link set lo up\naddr add {net16}.{k // 256}.{k % 256}/16 dev eth0\n"
            "link set eth0 up\n",
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(configure, enumerate(names(prefix, n), start=1)))


def remove(prefix: str, bridge: str) -> None:
    subprocess.run(["ip", "link", "del", bridge], capture_output=True, check=False)
    try:
        existing = [x for x in os.listdir("/run/netns") if x.startswith(f"{prefix}-n")]
    except FileNotFoundError:
        existing = []
    if existing:
        # Deleting the netns deletes its eth0 and, with it, the host end of the veth.
        subprocess.run(
            ["ip", "-batch", "-"],
            input="".join(f"netns del {x}\n" for x in existing),
            text=True,
            capture_output=True,
            check=False,
        )
