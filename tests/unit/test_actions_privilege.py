"""Entering another namespace needs CAP_SYS_ADMIN: read from /proc/<self>/status CapEff."""

from __future__ import annotations

from pathlib import Path

from nsexplorer.actions import entry
from nsexplorer.actions.runner import CAP_SYS_ADMIN, has_capability, privilege_problem
from nsexplorer.model import NamespaceId, NetNamespace


def _status(tmp_path: Path, capeff: str) -> str:
    path = tmp_path / "status"
    path.write_text(f"Name:\tx\nCapInh:\t0000000000000000\nCapEff:\t{capeff}\n")
    return str(path)


def test_capability_bits(tmp_path: Path) -> None:
    assert has_capability(CAP_SYS_ADMIN, _status(tmp_path, "000001ffffffffff"))
    assert not has_capability(CAP_SYS_ADMIN, _status(tmp_path, "0000000000000000"))
    assert has_capability(CAP_SYS_ADMIN, _status(tmp_path, "0000000000200000"))
    assert not has_capability(CAP_SYS_ADMIN, _status(tmp_path, "00000000001fffff"))


def test_privilege_problem_only_for_other_namespaces(tmp_path: Path) -> None:
    ns = NetNamespace(NamespaceId(4, 42), label="nsxt-a", names=("nsxt-a",))
    none = _status(tmp_path, "0000000000000000")
    named = entry.Entry(entry.Kind.NAMED, ref="nsxt-a")
    assert "needs root" in privilege_problem(named, ns, none)
    assert privilege_problem(entry.Entry(entry.Kind.DIRECT), ns, none) == ""
    full = _status(tmp_path, "000001ffffffffff")
    assert privilege_problem(named, ns, full) == ""
