"""`nsexplorer diff` on two real snapshots around real changes made between them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.root]

NSX = [sys.executable, "-m", "nsexplorer"]


def snapshot(path: Path) -> None:
    done = subprocess.run(
        [*NSX, "snapshot", "-o", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_changes_between_two_real_snapshots(nsxt: Any, tmp_path: Path) -> None:
    ns_a = nsxt.netns()
    a_end, _ = nsxt.veth(ns_a, None, address_a="10.219.0.1/24")
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    snapshot(before)
    nsxt.ip("-n", ns_a, "link", "set", a_end, "down")
    nsxt.ip("-n", ns_a, "addr", "add", "10.219.0.9/24", "dev", a_end)
    nsxt.ip("-n", ns_a, "route", "add", "blackhole", "10.220.0.0/16")
    ns_b = nsxt.netns()
    snapshot(after)

    done = subprocess.run(
        [*NSX, "diff", "--json", str(before), str(after)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    changes = json.loads(done.stdout)["changes"]
    inode_a = json.loads(before.read_text())
    by_name = {n: ns["inode"] for ns in inode_a["namespaces"] for n in ns["names"]}
    mine = [c for c in changes if c["namespace_inode"] == by_name[ns_a]]
    got = {(c["kind"], c["subject"]) for c in mine}
    assert ("address-added", a_end) in got
    assert ("interface-changed", a_end) in got
    assert any(k == "route-added" and "blackhole 10.220.0.0/16" in s for k, s in got)
    appeared = [c for c in changes if c["kind"] == "namespace-appeared"]
    assert any(c["namespace_label"] == ns_b for c in appeared), appeared
    text = subprocess.run(
        [*NSX, "diff", str(before), str(after)], capture_output=True, text=True, check=False
    ).stdout
    assert f"{ns_a} (inode {by_name[ns_a]}): address added {a_end} (10.219.0.9/24)" in text


def test_a_renamed_interface_is_one_change_not_its_routes_removed_and_added(
    nsxt: Any, tmp_path: Path
) -> None:
    """QA: after `ip link set X name Y` every route through it was reported removed and
    added again. The kernel keeps those routes (same ifindex); only the name changed."""
    ns = nsxt.netns()
    end, _ = nsxt.veth(ns, None, address_a="10.221.0.1/24")
    nsxt.ip("-n", ns, "route", "add", "10.222.0.0/16", "via", "10.221.0.2", "dev", end)
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    snapshot(before)
    nsxt.ip("-n", ns, "link", "set", end, "down")
    nsxt.ip("-n", ns, "link", "set", end, "name", "nsxt-renamed")
    nsxt.ip("-n", ns, "link", "set", "nsxt-renamed", "up")
    # a rename needs the link down, which flushed the route: the same route again
    nsxt.ip("-n", ns, "route", "add", "10.222.0.0/16", "via", "10.221.0.2", "dev", "nsxt-renamed")
    snapshot(after)
    done = subprocess.run(
        [*NSX, "diff", "--json", str(before), str(after)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    inode = next(
        n["inode"] for n in json.loads(before.read_text())["namespaces"] if ns in n["names"]
    )
    mine = [c for c in json.loads(done.stdout)["changes"] if c["namespace_inode"] == inode]
    renames = [c for c in mine if c["kind"] == "interface-changed" and c["before"] == f"name {end}"]
    assert len(renames) == 1 and renames[0]["after"] == "name nsxt-renamed", mine
    assert not [c for c in mine if c["kind"].startswith("route-")], mine


def test_a_veth_moved_to_another_namespace_is_one_change(nsxt: Any, tmp_path: Path) -> None:
    """`ip link set X netns B name Y` was an interface gone in A and one appeared in B.
    The other end, which stayed, proves it is one device: one interface-moved in B. A
    pair moved whole has no end left to prove it by and stays rows gone and appeared."""
    ns_a, ns_b, ns_c = nsxt.netns(), nsxt.netns(), nsxt.netns()
    end, other = nsxt.veth(ns_a, ns_c, address_a="10.223.0.1/24")
    pair = nsxt.veth(ns_a, ns_a)
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    snapshot(before)
    nsxt.ip("-n", ns_a, "link", "set", end, "netns", ns_b, "name", "nsxt-moved")
    for name in pair:
        nsxt.ip("-n", ns_a, "link", "set", name, "netns", ns_b)
    snapshot(after)
    done = subprocess.run(
        [*NSX, "diff", "--json", str(before), str(after)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    inodes = {n: ns["inode"] for ns in json.loads(after.read_text())["namespaces"]
              for n in ns["names"]}  # fmt: skip
    changes = json.loads(done.stdout)["changes"]

    def of(ns: str) -> set[tuple[str, str]]:
        return {(c["kind"], c["subject"]) for c in changes if c["namespace_inode"] == inodes[ns]}

    (moved,) = [c for c in changes if c["kind"] == "interface-moved"]
    assert (moved["namespace_inode"], moved["subject"]) == (inodes[ns_b], "nsxt-moved")
    assert moved["before"] == f"{end} in {ns_a} (inode {inodes[ns_a]})", moved
    assert moved["after"] == f"nsxt-moved in {ns_b} (inode {inodes[ns_b]})", moved
    assert ("interface-gone", end) not in of(ns_a)
    assert ("interface-appeared", "nsxt-moved") not in of(ns_b)
    assert ("interface-changed", other) in of(ns_c)  # its peer is elsewhere now
    for name in pair:
        assert ("interface-gone", name) in of(ns_a)
        assert ("interface-appeared", name) in of(ns_b)
