from __future__ import annotations

import pytest

from nsexplorer.cli import build_parser
from nsexplorer.cli.actions import split_exec_argv


@pytest.mark.parametrize(
    ("line", "want"),
    [
        (["exec", "T", "--", "sh", "-c", "exit 7"], (False, ["sh", "-c", "exit 7"])),
        (["exec", "T", "-a", "--", "ip", "a"], (True, ["ip", "a"])),
        (["exec", "-a", "T", "--", "ip", "a"], (True, ["ip", "a"])),
        (["exec", "T", "--all-namespaces", "--", "ls", "-a"], (True, ["ls", "-a"])),
        (["exec", "T", "ls", "-a"], (False, ["ls", "-a"])),
        (["exec", "T"], (False, [])),
    ],
)
def test_exec_argv_split(line: list[str], want: tuple[bool, list[str]]) -> None:
    args = build_parser().parse_args(line)
    assert split_exec_argv(args.argv, args.all_namespaces) == want


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
