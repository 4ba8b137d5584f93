"""Inside a container's namespace with the test Docker daemon: its published ports, and
its sockets named by the container's process.

The daemon runs with --iptables=false, so it writes no DNAT rule anywhere: the rules half
is tested on throwaway nat tables (test_inside_kernel.py). The image (nsxh9-busybox:test,
imported from busybox-static) and the container are made here and removed at the end.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from nsexplorer.collect.source import LiveSource
from nsexplorer.model import NetNamespace, PublishedPort, Snapshot

pytestmark = [pytest.mark.integration, pytest.mark.root, pytest.mark.docker]

IMAGE = "nsxh9-busybox:test"
DOCKER = "/usr/bin/docker" if os.path.exists("/usr/bin/docker") else "docker"


def docker(*args: str, check: bool = True) -> str:
    done = subprocess.run([DOCKER, *args], capture_output=True, text=True, check=False, timeout=120)
    if check and done.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    busybox = shutil.which("busybox")
    if busybox is None:
        pytest.skip("busybox (busybox-static) is not installed")
    made = IMAGE not in docker("images", "--format", "{{.Repository}}:{{.Tag}}").splitlines()
    if made:
        root = tmp_path_factory.mktemp("rootfs")
        (root / "bin").mkdir()
        shutil.copy(busybox, root / "bin" / "busybox")
        for tool in ("sh", "sleep", "nc", "true"):
            os.symlink("busybox", root / "bin" / tool)
        tar = root.parent / "rootfs.tar"
        with tarfile.open(tar, "w") as t:
            t.add(root, arcname=".")
        with open(tar, "rb") as f:
            subprocess.run([DOCKER, "import", "-", IMAGE], stdin=f, check=True,
                           capture_output=True, timeout=120)  # fmt: skip
    try:
        yield IMAGE
    finally:
        if made:
            docker("rmi", "-f", IMAGE, check=False)


def by_container(snap: Snapshot, name: str) -> NetNamespace:
    (ns,) = [n for n in snap.namespaces if any(c.name == name for c in n.containers)]
    return ns


def test_a_containers_published_ports_and_its_listener(image: str, tmp_path: Path) -> None:
    name = f"nsxh9-{secrets.token_hex(3)}"
    docker("run", "-d", "--name", name, "-p", "127.0.0.1:18089:80", "-p", "18090:81/udp",
           image, "nc", "-ll", "-p", "80", "-e", "true")  # fmt: skip
    try:
        pid = int(docker("inspect", "-f", "{{.State.Pid}}", name))
        source = LiveSource()
        ns = by_container(source.discover(), name)
        facts = source.inside(ns, ["sockets", "nat"])
        assert facts.has("nat"), facts.unavailable
        assert set(facts.published) >= {
            PublishedPort("80/tcp", "127.0.0.1", "18089"),
            PublishedPort("81/udp", "0.0.0.0", "18090"),  # noqa: S104 - what Docker reports
        }
        (listener,) = [s for s in facts.sockets if s.local_port == 80 and s.state == "LISTEN"]
        assert listener.pids == (pid,) and listener.commands == ("nc",)
    finally:
        docker("rm", "-f", name, check=False)
