"""Facts `ip -j` leaves out or a random topology may not build, pinned on the real
kernel: a rule's suppress_ifgroup (the kernel differential builds it in ~40% of seeds
only) and a route's locked MTU (`ip route`'s "mtu lock N"; ip -j drops the lock).
Checked in `show`, `snapshot` JSON and against ip's own output. Namespaces: nsxt
prefix, removed even on failure.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.root]


def nsexplorer(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "nsexplorer", *args], capture_output=True, text=True, check=True
    )
    return done.stdout


def test_suppress_ifgroup_and_a_locked_mtu_are_read_as_the_kernel_has_them(nsxt: Any) -> None:
    ns = nsxt.netns()
    nsxt.ip("-n", ns, "rule", "add", "pref", "100", "lookup", "100", "suppress_ifgroup", "5")
    nsxt.ip("-n", ns, "route", "add", "10.77.0.0/24", "dev", "lo", "mtu", "lock", "1300")
    nsxt.ip("-n", ns, "route", "add", "10.78.0.0/24", "dev", "lo", "mtu", "1200")
    # what the kernel says, through ip
    ip_rules = json.loads(nsxt.ip("-n", ns, "-j", "rule"))
    assert [r.get("suppress_ifgroup") for r in ip_rules if r["priority"] == 100] == ["5"]
    ip_routes = nsxt.ip("-n", ns, "route")
    assert "10.77.0.0/24 dev lo scope link mtu lock 1300" in ip_routes
    assert "10.78.0.0/24 dev lo scope link mtu 1200" in ip_routes
    # what nsexplorer says
    shown = nsexplorer("show", ns)
    assert "100: from all lookup 100 suppress_ifgroup 5" in shown
    assert "mtu lock 1300" in shown and "mtu 1200" in shown
    assert "mtu lock 1200" not in shown
    snap = json.loads(nsexplorer("snapshot"))
    mine = [n for n in snap["namespaces"] if ns in n["names"]]
    assert len(mine) == 1
    rules = [r for r in mine[0]["rules"] if r["priority"] == 100]
    assert [r.get("suppress_ifgroup") for r in rules] == [5]
    routes = {r["dst"]: r for r in mine[0]["routes"]}
    assert routes["10.77.0.0/24"]["mtu"] == 1300 and routes["10.77.0.0/24"]["mtu_lock"] is True
    assert routes["10.78.0.0/24"]["mtu"] == 1200 and "mtu_lock" not in routes["10.78.0.0/24"]
