"""The CLI says why a path or pid:N TARGET could not be read, instead of only 'no match'."""

from __future__ import annotations

from pathlib import Path

from nsexplorer.cli import actions, discovery


def test_missing_pid_and_path_targets_give_a_reason(tmp_path: Path) -> None:
    for stat in (discovery._stat_target, actions._stat_target):
        ident, why = stat("pid:999999999")
        assert ident is None
        assert why == "/proc/999999999: no such process"
        ident, why = stat(str(tmp_path / "nope"))
        assert ident is None
        assert why.endswith("nope: No such file or directory")
        plain = tmp_path / "plain"
        plain.write_text("")
        ident, why = stat(str(plain))
        assert ident is None
        assert why.endswith("plain: not a network namespace file")
        link = tmp_path / "link"
        if not link.is_symlink():
            link.symlink_to("/proc/thread-self/ns/net")
        ident, why = stat(str(link))
        assert ident is None  # never followed, even to a real namespace
        assert "symbolic link" in why


def test_names_and_own_netns_need_no_reason() -> None:
    for stat in (discovery._stat_target, actions._stat_target):
        assert stat("nsxt-web") == (None, "")
        # QA: an address with a prefix is a query, not a relative path to complain about
        assert stat("10.216.0.2/25") == (None, "")
        ident, why = stat("/proc/thread-self/ns/net")
        assert ident is not None
        assert why == ""
