from __future__ import annotations

import pytest

from nsexplorer.cli import build_parser
from nsexplorer.cli.actions import take_exec_flags


@pytest.mark.parametrize(
    ("line", "want"),
    [
        (["exec", "T", "--", "sh", "-c", "exit 7"], (False, False, ["sh", "-c", "exit 7"])),
        (["exec", "T", "-a", "--", "ip", "a"], (True, False, ["ip", "a"])),
        (["exec", "-a", "T", "--", "ip", "a"], (True, False, ["ip", "a"])),
        (["exec", "T", "--all-namespaces", "--", "ls", "-a"], (True, False, ["ls", "-a"])),
        (["exec", "T", "ls", "-a"], (False, False, ["ls", "-a"])),
        (["exec", "T"], (False, False, [])),
        (["exec", "T", "--read-only", "--", "true"], (False, True, ["true"])),
        (["exec", "--read-only", "T", "-a", "--", "true"], (True, True, ["true"])),
        (["--read-only", "exec", "T", "--", "true"], (False, True, ["true"])),
        (["exec", "T", "--", "echo", "--read-only"], (False, False, ["echo", "--read-only"])),
    ],
)
def test_exec_flags_after_target(line: list[str], want: tuple[bool, bool, list[str]]) -> None:
    args = build_parser().parse_args(line)
    take_exec_flags(args)
    assert (args.all_namespaces, args.read_only, args.argv) == want


@pytest.mark.parametrize(
    "line", [["name", "T", "N", "--read-only"], ["unname", "N", "--read-only"]]
)
def test_read_only_after_the_subcommand_is_honoured(line: list[str]) -> None:
    assert build_parser().parse_args(line).read_only is True


def test_named_container_pid() -> None:
    from nsexplorer.cli.actions import named_container_pid
    from nsexplorer.model import Container, NamespaceId, NetNamespace

    a = Container("docker", "abcdef" + "0" * 58, "web", "img", "host", pid=10)
    b = Container("docker", "abcdff" + "0" * 58, "db", "img", "host", pid=20)
    ns = NetNamespace(id=NamespaceId(1, 2), containers=(a, b))
    assert named_container_pid("web", ns) == 10
    assert named_container_pid("/db", ns) == 20
    assert named_container_pid("abcdf", ns) == 20
    assert named_container_pid("abcd", ns) is None  # ambiguous prefix
    assert named_container_pid("host", ns) is None
