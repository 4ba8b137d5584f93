"""The lab's state file: a faithful JSON round trip, hostile strings included."""

from __future__ import annotations

import pytest

from nsexplorer.lab.state import HOSTILE_ALIAS, LabContainer, LabLink, LabState


def test_state_round_trips_through_json() -> None:
    state = LabState(
        netns=("nsxlab-a", "nsxlab-[x]"),
        links=(LabLink("nsxlab-a", "eth0", "veth", "10.215.0.11/24", "host", "nsxlab-a-h"),),
        process_ns_pid=123,
        hidden_holder_pid=456,
        containers=(LabContainer("nsxlab-web", "f" * 64, "bridge", 789, "/run/x/netns/ab", None),),
        bench_netns=("nsxlab-n0001",),
        pids=(123, 456),
        complete=True,
    )
    text = state.to_json()
    assert "\x1b" not in text and "\x07" not in text  # escaped in the file
    again = LabState.from_json(text)
    assert again == state
    assert again.hostile_alias == HOSTILE_ALIAS
    assert again.hidden_proc_path == "/proc/456/root/run/nsxlab/hidden/ns"
    assert again.process_ns_path == "/proc/123/ns/net"
    assert again.container("nsxlab-web").pid == 789


def test_unknown_keys_in_an_older_or_newer_file_are_ignored() -> None:
    text = LabState().to_json().replace('"prefix"', '"future_field": 1, "prefix"', 1)
    assert LabState.from_json(text) == LabState()


def test_status_unreadable_state_file_is_a_clear_needs_root_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`lab status` as non-root hit PermissionError on /run/nsxlab/state.json: a traceback."""
    from nsexplorer.errors import NeedsRoot
    from nsexplorer.lab import state as lab_state

    class Unreadable:
        def read_text(self) -> str:
            raise PermissionError(13, "Permission denied", "/run/nsxlab/state.json")

        def __str__(self) -> str:
            return "/run/nsxlab/state.json"

    monkeypatch.setattr(lab_state, "STATE_FILE", Unreadable())
    with pytest.raises(NeedsRoot, match="needs root"):
        lab_state.load()
