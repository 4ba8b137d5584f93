"""`nsexplorer exec --all`: every namespace, each command in the right one, failures named."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.root]

NSX = [sys.executable, "-m", "nsexplorer"]
HEAD = re.compile(r"^==> .*\(inode (\d+)\): (?:exit (\d+)|no exit status)", re.M)


def inode_of(name: str) -> int:
    return os.stat(f"/var/run/netns/{name}").st_ino


def test_exec_all_runs_in_each_namespace_and_names_the_failing_one(
    nsxt: Any, tmp_path: Path
) -> None:
    ok_ns, bad_ns = nsxt.netns(), nsxt.netns()
    bad = inode_of(bad_ns)
    audit = tmp_path / "audit.log"
    # Read-only inside each namespace: print where it runs; fail only in bad_ns.
    script = f'n=$(readlink /proc/self/ns/net); echo "$n"; [ "$n" != "net:[{bad}]" ]'
    done = subprocess.run(
        [*NSX, "exec", "--all", "--parallel", "3", "--", "sh", "-c", script],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NSX_AUDIT_LOG": str(audit)},
        timeout=120,
    )
    assert done.returncode == 1, done.stderr  # one namespace failed
    blocks = re.split(r"(?m)^(?===> )", done.stdout)
    seen: dict[int, tuple[int, str]] = {}
    for block in filter(None, blocks):
        m = HEAD.match(block)
        assert m, block
        if m.group(2) is None:  # vanished since discovery (the machine is shared): said so
            assert "gone" in block, block
            continue
        seen[int(m.group(1))] = (int(m.group(2)), block)
    assert inode_of(ok_ns) in seen and bad in seen
    for inode, (status, block) in seen.items():
        assert f"net:[{inode}]" in block  # the command ran in the namespace it is listed under
        assert status == (1 if inode == bad else 0), block
    assert "failed" in done.stderr and "ok" in done.stderr
    entries = [json.loads(line) for line in audit.read_text().splitlines()]
    ended = [e["netns_inode"] for e in entries if e.get("state") != "running"]
    assert sorted(ended) == sorted(seen)  # one final entry each


def test_exec_all_needs_a_command_and_honours_read_only() -> None:
    empty = subprocess.run([*NSX, "exec", "--all"], capture_output=True, text=True, check=False)
    assert empty.returncode == 1 and "needs a command" in empty.stderr
    ro = subprocess.run(
        [*NSX, "--read-only", "exec", "--all", "--", "true"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ro.returncode == 3 and "read-only" in ro.stderr
    assert "==>" not in ro.stdout


def test_exec_match_runs_only_where_the_filter_matches(nsxt: Any, tmp_path: Path) -> None:
    a, b = nsxt.netns(), nsxt.netns()
    other = nsxt.netns()
    end_a, _ = nsxt.veth(a, b)
    # a veth name finds both ends: exactly a and b, never `other` or the host
    done = subprocess.run(
        [*NSX, "exec", "--match", end_a, "--", "readlink", "/proc/self/ns/net"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NSX_AUDIT_LOG": str(tmp_path / "audit.log")},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    ran = {int(m.group(1)) for m in HEAD.finditer(done.stdout)}
    assert ran == {inode_of(a), inode_of(b)}, done.stdout
    assert inode_of(other) not in ran
    assert f"interface {end_a}" in done.stderr  # why each one was chosen, said first
    for inode in ran:
        assert f"net:[{inode}]" in done.stdout
    none = subprocess.run(
        [*NSX, "exec", "--match", "nsxzz-nothing", "--", "true"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert none.returncode == 2 and "no namespace matches" in none.stderr


def test_fanout_refuses_a_stray_target_an_empty_match_and_zero_parallel(nsxt: Any) -> None:
    name = nsxt.netns()
    cases = {
        ("exec", "--all", name, "--", "true"): "take no TARGET",
        ("exec", "--match", name, name, "--", "true"): "take no TARGET",
        ("exec", "--match", "", "--", "true"): "needs a TEXT",
        ("exec", "--all", "--match", name, "--", "true"): "not both",
    }
    for args, message in cases.items():
        done = subprocess.run([*NSX, *args], capture_output=True, text=True, check=False)
        assert done.returncode == 1 and message in done.stderr, (args, done.stderr)
        assert "==>" not in done.stdout and "running in" not in done.stderr
    zero = subprocess.run(
        [*NSX, "exec", "--all", "--parallel", "0", "--", "true"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert zero.returncode == 2 and "--parallel" in zero.stderr
