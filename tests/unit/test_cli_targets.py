"""The CLI's TARGET handling: exit 2 with every candidate on its own line, interfaces read
only when an address or interface name could decide, no traceback for any input."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from matchfixtures import BLUE, WEB, WEB_SPACE, cheap, snapshot

from nsexplorer import snapshot_json
from nsexplorer.cli import main
from nsexplorer.cli.discovery import _pid_max, find_target
from nsexplorer.model import NetNamespace, ProcessInfo, Snapshot


@pytest.fixture
def saved(tmp_path: Path) -> str:
    path = tmp_path / "snap.json"
    path.write_text(snapshot_json.dumps(snapshot()))
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_show_a_name_with_a_trailing_space(saved: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--from", saved, "show", "web ")
    assert code == 0
    assert f"(inode {WEB_SPACE})" in out.splitlines()[0]


def test_ambiguous_target_lists_every_candidate_on_its_own_line(
    saved: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--from", saved, "show", str(BLUE))
    assert code == 2
    assert out == ""
    assert err.splitlines() == [
        "nsexplorer: '3000' matches 2 namespaces (an all-digit netns name is also an inode: "
        "write /run/netns/NAME for the name); name one of them exactly:",
        "  3000 (named, inode 8000): netns name 3000",
        "  blue (named, inode 3000): inode 3000",
    ]
    code, out, err = run(capsys, "--from", saved, "show", "10.0.0.5/24")
    assert code == 2
    assert err.splitlines()[1:] == [
        "  blue (named, inode 3000): ip 10.0.0.5/24 on eth0",
        "  'web ' (named, inode 4000): ip 10.0.0.5/24 on eth0",
    ]


def test_an_address_resolves_when_it_is_in_one_namespace(
    saved: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--from", saved, "show", "02-42-ac-11-00-02")
    assert (code, err) == (0, "")
    assert out.startswith(f"web  (inode {WEB})")


@pytest.mark.parametrize(
    "target",
    ["9" * 5000, "pid:²", "pid:" + "9" * 5000, "\u0661\u0662", "\x1b[2J", "", " ", "\udcff"],
)
def test_hostile_targets_exit_2_with_one_escaped_message(
    saved: str, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    code, _, err = run(capsys, "--from", saved, "show", target)
    assert code == 2
    assert err.startswith("nsexplorer: ")
    assert "Traceback" not in err
    assert "\x1b" not in err


@dataclass
class CountingSource:
    """A SnapshotSource whose cheap pass has no interfaces; counts the full reads."""

    full: Snapshot
    collects: int = 0
    details: list[int] = field(default_factory=list)

    @property
    def live(self) -> bool:
        return False

    def discover(self) -> Snapshot:
        return cheap(self.full)

    def collect(self) -> Snapshot:
        self.collects += 1
        return self.full

    def detail(self, ns: NetNamespace) -> NetNamespace:
        self.details.append(ns.inode)
        found = self.full.by_inode(ns.inode)
        assert found is not None
        return found

    def processes(self, ns: NetNamespace) -> tuple[ProcessInfo, ...]:
        return ()


def test_interfaces_are_read_only_when_a_name_did_not_decide() -> None:
    source = CountingSource(snapshot())
    ns, _ = find_target(source, "web")
    assert (ns.inode, ns.detailed, source.collects) == (WEB, False, 0)
    ns, _ = find_target(source, "172.17.0.2")
    assert (ns.inode, ns.detailed, source.collects) == (WEB, True, 1)
    ns, snap = find_target(source, "docker0")
    assert ns.is_host and source.collects == 2
    assert not any(n.detailed for n in snap.namespaces)  # the cheap pass, for warnings


def test_pid_max_is_read_from_proc(tmp_path: Path) -> None:
    path = tmp_path / "pid_max"
    path.write_text("32768\n")
    assert _pid_max(str(path)) == 32768
    path.write_text("²\n")
    assert _pid_max(str(path)) == 4194304
    assert _pid_max(str(tmp_path / "missing")) == 4194304
