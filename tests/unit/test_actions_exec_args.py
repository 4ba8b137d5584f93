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
