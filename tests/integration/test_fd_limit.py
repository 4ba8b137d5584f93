"""A low open-file limit: namespaces are read in batches, peers stay exact, and a
namespace that could not be opened for lack of descriptors is a warning, never "gone".

60 named namespaces (prefix nsxh4) with veths to the host and between each other are
read by the real binary under `prlimit --nofile=N:N`, and compared with a run without
the limit.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.root]

NSX = [sys.executable, "-m", "nsexplorer"]
COUNT = 60
HOST_VETHS = 10
PAIR_VETHS = 10


@dataclass
class Farm:
    tag: str
    names: list[str]
    host_ends: list[str]

    def ours(self, ns: dict[str, Any]) -> bool:
        return any(n in self.names for n in ns["names"])


def ip_batch(lines: list[str]) -> None:
    subprocess.run(["ip", "-batch", "-"], input="\n".join(lines) + "\n", text=True,
                   check=True, capture_output=True)  # fmt: skip


@pytest.fixture(scope="module")
def farm() -> Iterator[Farm]:
    tag = secrets.token_hex(2)
    names = [f"nsxh4-f{tag}-{i}" for i in range(COUNT)]
    host_ends = [f"nsxh4{tag}h{i}" for i in range(HOST_VETHS)]
    try:
        ip_batch([f"netns add {n}" for n in names])
        lines = [f"link add {h} type veth peer name eth0 netns {names[i]}"
                 for i, h in enumerate(host_ends)]  # fmt: skip
        for j in range(PAIR_VETHS):
            a, b = names[HOST_VETHS + 2 * j], names[HOST_VETHS + 2 * j + 1]
            lines.append(f"link add nsxh4p{j} netns {a} type veth peer name nsxh4q{j} netns {b}")
        ip_batch(lines)
        yield Farm(tag, names, host_ends)
    finally:
        for h in host_ends:
            subprocess.run(["ip", "link", "del", h], capture_output=True, check=False)
        for n in names:
            subprocess.run(["ip", "netns", "del", n], capture_output=True, check=False)


def nsx(*args: str, limit: int | None = None) -> dict[str, Any]:
    prefix = ["prlimit", f"--nofile={limit}:{limit}", "--"] if limit else []
    done = subprocess.run(
        [*prefix, *NSX, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "DOCKER_HOST": "unix:///nonexistent/nsxh4.sock"},
    )
    assert done.returncode == 0, done.stderr
    got: dict[str, Any] = json.loads(done.stdout)
    return got


def wiring(snapshot: dict[str, Any], farm: Farm) -> dict[str, list[tuple[str, Any]]]:
    """Every farm namespace's interfaces with their peers, and the host's farm veths."""
    out: dict[str, list[tuple[str, Any]]] = {}
    for ns in snapshot["namespaces"]:
        if farm.ours(ns):
            out[ns["names"][0]] = [(i["name"], i["peer"]) for i in ns["interfaces"]]
        elif ns["is_host"]:
            out["host"] = [(i["name"], i["peer"]) for i in ns["interfaces"]
                           if i["name"] in farm.host_ends]  # fmt: skip
    return out


def farm_namespaces(snapshot: dict[str, Any], farm: Farm) -> list[dict[str, Any]]:
    found = [ns for ns in snapshot["namespaces"] if farm.ours(ns)]
    assert sorted(n for ns in found for n in ns["names"]) == sorted(farm.names)
    return found


@pytest.fixture(scope="module")
def unlimited(farm: Farm) -> dict[str, Any]:
    return nsx("snapshot")


def test_snapshot_under_a_low_limit_reads_everything_with_the_same_peers(
    farm: Farm, unlimited: dict[str, Any]
) -> None:
    limited = nsx("snapshot", limit=40)  # far fewer than 2 per namespace
    for ns in farm_namespaces(limited, farm):
        assert not ns["gone"], ns
        assert ns["detailed"], ns
    assert not [w for w in limited["warnings"] if "too many open files" in w]
    expected = wiring(unlimited, farm)
    assert wiring(limited, farm) == expected
    # the wiring is really there: every host veth and every pair has a proven peer
    assert len(expected["host"]) == HOST_VETHS
    assert all(peer["netns_inode"] for _, peer in expected["host"])
    pairs = [p for n, ifs in expected.items() if n != "host" for name, p in ifs if p]
    assert len(pairs) == HOST_VETHS + 2 * PAIR_VETHS
    assert all(p["netns_inode"] and p["name"] for p in pairs)


def test_list_under_a_low_limit_reports_nothing_gone(farm: Farm) -> None:
    listed = nsx("list", "--json", limit=40)
    rows = listed["namespaces"] if isinstance(listed, dict) else listed
    ours = [ns for ns in rows if farm.ours(ns)]
    assert len(ours) == COUNT
    assert not any(ns.get("gone") for ns in ours)


NO_ROOM = """
import json, os, resource, sys
from nsexplorer.collect import netns_reader
from nsexplorer.kernel import fdlimit
from nsexplorer.model import NamespaceId

targets = []
for n in sys.argv[1:]:
    st = os.stat(f"/var/run/netns/{n}")
    targets.append((NamespaceId(st.st_dev, st.st_ino), [f"/var/run/netns/{n}"]))
fdlimit.budget = lambda reserve=32: 10_000  # believe there is room: the kernel says no
soft = fdlimit.open_count() + 1  # one descriptor left: no namespace can be opened
resource.setrlimit(resource.RLIMIT_NOFILE, (soft, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
result = netns_reader.read_namespaces(targets)
one = netns_reader.read_one(targets[0][0], targets[0][1], targets[1:])
print(json.dumps({
    "reads": [[r.error, r.gone, len(r.interfaces)] for r in result.reads.values()],
    "warnings": result.warnings,
    "one": [[r.error, r.gone] for r in one.reads.values()],
    "one_warnings": one.warnings,
    "limit": soft,
}))
"""


def test_out_of_descriptors_is_a_warning_never_gone(farm: Farm) -> None:
    names = farm.names[:5]
    done = subprocess.run([sys.executable, "-c", NO_ROOM, *names], capture_output=True,
                          text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert len(got["reads"]) == len(names)
    for error, gone, _ in got["reads"]:
        assert not gone
        assert "too many open files" in error
    assert got["warnings"] == [
        f"could not open {len(names)} namespace(s): too many open files "
        f"(limit {got['limit']}); they are not gone, only not read"
    ]
    [[error, gone]] = got["one"]
    assert not gone and "too many open files" in error
    assert any("too many open files" in w for w in got["one_warnings"])


def test_commands_get_the_limit_the_person_had(farm: Farm, tmp_path: Path) -> None:
    """nsexplorer raises its own soft limit at start; what it runs gets the original.
    (Every step from nsexplorer to the command is an exec: sh's parent is nsexplorer.)"""
    script = 'ulimit -n; grep "Max open files" /proc/$PPID/limits'
    for target in (f"pid:{os.getpid()}", farm.names[0]):  # the host's own, and entered
        done = subprocess.run(
            ["prlimit", "--nofile=64:4096", "--", *NSX, "exec", target, "--", "sh", "-c", script],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={**os.environ, "NSX_AUDIT_LOG": str(tmp_path / "audit.log")},
        )
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert lines[0] == "64", (target, done.stdout)
        assert lines[1].split()[3:5] == ["4096", "4096"], lines[1]
