from __future__ import annotations

import pytest

from nsexplorer.actions.naming import name_path, validate_name
from nsexplorer.errors import ActionFailed


@pytest.mark.parametrize("name", ["blue", "nsxt-1", "web.prod", "a" * 255, "ünï"])
def test_valid_names(name: str) -> None:
    assert validate_name(name) == name
    assert name_path(name) == f"/var/run/netns/{name}"


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "empty"),
        (".", "not a file name"),
        ("..", "not a file name"),
        ("a/b", "'/'"),
        ("../etc", "'/'"),
        ("a\0b", "NUL"),
        ("a\nb", "control"),
        ("esc\x1b", "control"),
        ("two words", "space"),
        ("-n", "starts with '-'"),
        ("a" * 256, "longer than 255"),
        ("é" * 128, "longer than 255"),  # 256 bytes in UTF-8
    ],
)
def test_invalid_names(name: str, why: str) -> None:
    with pytest.raises(ActionFailed, match="invalid namespace name") as info:
        validate_name(name)
    assert why in str(info.value)


def test_name_command_uses_ip_netns_attach_for_a_pid() -> None:
    from nsexplorer.actions.naming import name_command

    assert name_command("/proc/42/ns/net", "blue") == "ip netns attach blue 42"


def test_name_command_for_a_path_quotes_hostile_parts() -> None:
    from nsexplorer.actions.naming import name_command

    got = name_command("/proc/7/root/run/x y\n", "blue")
    assert got == (
        "mkdir -p /var/run/netns && touch /var/run/netns/blue && "
        "mount --bind $'/proc/7/root/run/x y\\x0a' /var/run/netns/blue"
    )


@pytest.mark.parametrize("name", ["nsxt\x1b[31m\nred x", "nsxt x", "-rf", "nsxt\x07"])
def test_unname_accepts_any_existing_file_name(name: str) -> None:
    """A hostile name someone else made must be removable: only path safety applies."""
    from nsexplorer.actions.naming import existing_name_path

    assert existing_name_path(name) == f"/var/run/netns/{name}"


@pytest.mark.parametrize("name", ["", ".", "..", "../etc", "a/b", "x\0y"])
def test_unname_still_refuses_what_is_not_a_file_name_there(name: str) -> None:
    from nsexplorer.actions.naming import existing_name_path

    with pytest.raises(ActionFailed):
        existing_name_path(name)


def test_unname_command_says_root_is_needed_before_counting_holders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Review: without root, what holds a namespace cannot all be seen (another user's
    processes), so the count came out 0 and `N` said "nothing but the name keeps it
    alive" before asking. Root is checked first."""
    from nsexplorer.actions import runner as runner_module
    from nsexplorer.errors import NeedsRoot

    counted: list[str] = []
    monkeypatch.setattr(runner_module, "has_capability", lambda cap: False)
    monkeypatch.setattr(
        runner_module.NamespaceRunner, "_holders_of", staticmethod(lambda t: counted.append(t) or 0)
    )
    with pytest.raises(NeedsRoot):
        runner_module.NamespaceRunner(audit_log="/dev/null").unname_command("nsxu-a")
    assert counted == []
