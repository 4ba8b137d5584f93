"""`show` names admin state and carrier separately, on real veths, against `ip -j link`.

Two throwaway namespaces (nsxt prefix, removed even on failure) joined by two veth
pairs: one pair with both ends up, one whose far end was set down. The near end of that
one is "up, no carrier: peer admin down in <far namespace>"; the far end "admin down".
No address is given: no packet is ever sent.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.root]

NSX = [sys.executable, "-m", "nsexplorer"]
LINE = re.compile(r"  (\d+): (\S+)  (\S+) (.*) mtu \d+ ")


def show_states(target: str) -> dict[str, str]:
    """Interface name -> the state words of `nsexplorer show TARGET`."""
    done = subprocess.run(
        [*NSX, "show", target], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return {m.group(2): m.group(4) for m in map(LINE.match, done.stdout.splitlines()) if m}


def ip_links(netns: str) -> dict[str, list[str]]:
    out = subprocess.run(
        ["ip", "-n", netns, "-j", "link", "show"], capture_output=True, text=True, check=True
    ).stdout
    return {x["ifname"]: x["flags"] for x in json.loads(out)}


def words_for(flags: list[str]) -> str:
    """What ip's flags mean, in show's words (the cause is checked separately)."""
    if "UP" not in flags:
        return "admin down"
    return "up, no carrier" if "NO-CARRIER" in flags else "up"


def test_show_separates_admin_down_from_no_carrier_and_names_the_cause(nsxt) -> None:  # type: ignore[no-untyped-def]
    near, far = nsxt.netns(), nsxt.netns()
    up_a, up_z = nsxt.veth(near, far)
    cut_a, cut_z = nsxt.veth(near, far)
    nsxt.ip("-n", far, "link", "set", cut_z, "down")
    far_inode = os.stat(f"/run/netns/{far}").st_ino

    for netns in (near, far):
        theirs = ip_links(netns)
        ours = show_states(netns)
        assert set(ours) == set(theirs)
        for name, flags in theirs.items():
            assert ours[name].split(":")[0] == words_for(flags) or (
                name == "lo" and ours[name] == "up (unknown)"
            ), (netns, name, flags, ours[name])

    near_states, far_states = show_states(near), show_states(far)
    assert "NO-CARRIER" in ip_links(near)[cut_a] and "UP" in ip_links(near)[cut_a]
    assert near_states[cut_a] == f"up, no carrier: peer admin down in {far} (inode {far_inode})"
    assert far_states[cut_z] == "admin down"
    assert near_states[up_a] == far_states[up_z] == "up"

    # Set up again: the carrier comes back, and so does "up".
    nsxt.ip("-n", far, "link", "set", cut_z, "up")
    assert show_states(near)[cut_a] == "up"


def test_a_bridge_whose_only_port_does_not_forward(nsxt) -> None:  # type: ignore[no-untyped-def]
    """QA: a bridge's carrier follows its ports' STP state, not their links: with its
    one port up (carrier too) but set disabled, the bridge has no carrier, and show
    said "no port up". It says no port forwards, and the port says its state."""
    here, there = nsxt.netns(), nsxt.netns()
    port, _far = nsxt.veth(here, there)
    br = f"{port}b"
    nsxt.ip("-n", here, "link", "add", br, "type", "bridge")
    nsxt.ip("-n", here, "link", "set", port, "master", br)
    nsxt.ip("-n", here, "link", "set", br, "up")
    subprocess.run(
        ["bridge", "-n", here, "link", "set", "dev", port, "state", "0"], check=True, timeout=30
    )
    info = next(
        x["linkinfo"]
        for x in json.loads(
            subprocess.run(
                ["ip", "-n", here, "-j", "-d", "link", "show", port],
                capture_output=True, text=True, check=True,
            ).stdout
        )
    )  # fmt: skip
    assert info["info_slave_data"]["state"] == "disabled"
    assert "LOWER_UP" in ip_links(here)[port] and "NO-CARRIER" in ip_links(here)[br]
    states = show_states(here)
    assert states[br] == "up, no carrier: no port forwarding"
    shown = subprocess.run(
        [*NSX, "show", here], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert f" master {br} (port disabled)" in shown
    assert re.search(rf"^      {re.escape(port)} -> .* port disabled$", shown, re.M), shown


def test_an_altname_is_shown_and_found(nsxt) -> None:  # type: ignore[no-untyped-def]
    """QA: altnames (IFLA_PROP_LIST) were not shown, and `show ALTNAME` found nothing."""
    here, there = nsxt.netns(), nsxt.netns()
    end, _far = nsxt.veth(here, there)
    alt = f"{end}-an-alternative-name-past-15"
    nsxt.ip("-n", here, "link", "property", "add", "dev", end, "altname", alt)
    theirs = json.loads(
        subprocess.run(
            ["ip", "-n", here, "-j", "link", "show", end],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )[0]["altnames"]
    assert theirs == [alt]
    done = subprocess.run(
        [*NSX, "show", alt], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{here}  (inode ")
    assert f"      altname {alt}\n" in done.stdout
    doc = json.loads(
        subprocess.run(
            [*NSX, "show", here, "--json"], capture_output=True, text=True, timeout=60, check=True
        ).stdout
    )
    ns = doc["namespaces"][0] if "namespaces" in doc else doc
    assert next(i for i in ns["interfaces"] if i["name"] == end)["altnames"] == theirs
