"""Let the lab's bridges forward between their own ports on a host that filters them.

On a Docker host br_netfilter is on (net.bridge.bridge-nf-call-iptables=1), so a frame
between two ports of ANY bridge goes through iptables' FORWARD chain, whose policy
Docker sets to DROP: the lab's namespaces on nsxlab-br0 could not reach each other. A
per-bridge ``nf_call_iptables 0`` cannot override the global sysctl, so the lab inserts,
per family and only when the chain would filter, one rule at the top of FORWARD:

    -i nsxlab+ -o nsxlab+ -m comment --comment nsxlab -j ACCEPT

It matches only traffic that enters and leaves a bridge named ``nsxlab*`` (with
br_netfilter, ``-i``/``-o`` of a bridged packet are the bridge), so nothing else is
opened, and no policy or other chain is touched. ``remove`` deletes exactly the rules
carrying that comment, which only the lab makes, also when the state file was lost.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from nsexplorer.errors import ActionFailed
from nsexplorer.lab.state import PREFIX

COMMENT = PREFIX
OWN_COMMENTS = (COMMENT, "nsx-testbed")  # scripts/testbed.sh's rule for its nsxtb0
RULE: tuple[str, ...] = (
    "-i", f"{PREFIX}+", "-o", f"{PREFIX}+",
    "-m", "comment", "--comment", COMMENT, "-j", "ACCEPT",
)  # fmt: skip
# tool -> the br_netfilter sysctl that sends bridged packets of its family through it
FAMILIES: tuple[tuple[str, str], ...] = (
    ("iptables", "bridge-nf-call-iptables"),
    ("ip6tables", "bridge-nf-call-ip6tables"),
)
SYSCTL_DIR = Path("/proc/sys/net/bridge")


@dataclass(frozen=True, slots=True)
class Outcome:
    done: tuple[str, ...]
    problems: tuple[str, ...]


def _tool(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    # -w: wait for the xtables lock rather than fail while Docker edits its rules
    return subprocess.run(
        [argv[0], "-w", "5", *argv[1:]], capture_output=True, text=True, check=False, timeout=30
    )


def filters_bridged(tool: str, sysctl: str) -> bool:
    """True when bridged packets of this family pass FORWARD and FORWARD may drop them."""
    path = _tool(tool)
    if path is None:
        return False
    try:
        if (SYSCTL_DIR / sysctl).read_text().strip() != "1":
            return False
    except OSError:
        return False  # no br_netfilter: bridged frames never reach iptables
    listed = _run([path, "-S", "FORWARD"])
    if listed.returncode != 0:
        return False  # no such table here (no ip6tables support): nothing filters
    # an empty chain with policy ACCEPT passes everything; anything else may drop (the
    # project's own accept rules, the lab's and the test daemon's, do not count)
    rest = [ln for ln in listed.stdout.strip().splitlines() if not _is_own_accept(ln)]
    return rest != ["-P FORWARD ACCEPT"]


def _is_own_accept(line: str) -> bool:
    try:
        words = shlex.split(line)
    except ValueError:
        return False
    return words[-2:] == ["-j", "ACCEPT"] and any(
        words[i] == "--comment" and words[i + 1] in OWN_COMMENTS for i in range(len(words) - 1)
    )


def needed() -> tuple[str, ...]:
    """The tools (iptables, ip6tables) whose FORWARD chain would drop the lab's traffic."""
    return tuple(tool for tool, sysctl in FAMILIES if filters_bridged(tool, sysctl))


def add(tool: str) -> None:
    """Insert the lab's rule at the top of FORWARD (once)."""
    path = _tool(tool)
    if path is None:
        return
    if _run([path, "-C", "FORWARD", *RULE]).returncode == 0:
        return
    done = _run([path, "-I", "FORWARD", "1", *RULE])
    if done.returncode != 0:
        raise ActionFailed(f"lab: {tool} -I FORWARD failed: {done.stderr.strip()}")


def lab_rules(listing: str) -> list[list[str]]:
    """The ``-A FORWARD ...`` lines of ``-S FORWARD`` output carrying the lab's comment."""
    found: list[list[str]] = []
    for line in listing.splitlines():
        try:
            words = shlex.split(line)
        except ValueError:
            continue
        if len(words) < 2 or words[:2] != ["-A", "FORWARD"]:
            continue
        for i, word in enumerate(words[:-1]):
            if word == "--comment" and words[i + 1] == COMMENT:
                found.append(words[2:])
                break
    return found


def remove() -> Outcome:
    """Delete every FORWARD rule carrying the lab's comment, in both families."""
    done: list[str] = []
    problems: list[str] = []
    for tool, _sysctl in FAMILIES:
        path = _tool(tool)
        if path is None:
            continue
        listed = _run([path, "-S", "FORWARD"])
        if listed.returncode != 0:
            continue
        for spec in lab_rules(listed.stdout):
            deleted = _run([path, "-D", "FORWARD", *spec])
            if deleted.returncode == 0:
                done.append(f"{tool} rule FORWARD {' '.join(spec)}")
            else:
                problems.append(f"{tool} -D FORWARD {' '.join(spec)}: {deleted.stderr.strip()}")
    return Outcome(tuple(done), tuple(problems))
