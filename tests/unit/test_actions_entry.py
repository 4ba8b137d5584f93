"""Choosing the way into a namespace and building the argv: pure, with a fake probe."""

from __future__ import annotations

import pytest

from nsexplorer.actions import entry
from nsexplorer.actions.entry import Entry, Kind, plan, seed_form, wrap
from nsexplorer.errors import ActionFailed, NamespaceGone
from nsexplorer.model import (
    BindMount,
    Container,
    FdHolder,
    NamespaceId,
    NetNamespace,
    SocketHolder,
    ThreadHolder,
    candidate_paths,
)

NSFS = 4
HOST = NamespaceId(NSFS, 4026531840)
TARGET = NamespaceId(NSFS, 4026532999)
OTHER = NamespaceId(NSFS, 4026532111)


def probe_from(table: dict[str, NamespaceId]) -> entry.Probe:
    def probe(path: str) -> NamespaceId | None:
        if path == "/proc/thread-self/ns/net":
            return HOST
        return table.get(path)

    return probe


def test_host_namespace_runs_directly() -> None:
    ns = NetNamespace(id=HOST, is_host=True)
    way = plan(ns, probe=probe_from({}))
    assert way == Entry(Kind.DIRECT)
    assert wrap(way, ["ip", "-o", "link"]) == ["ip", "-o", "link"]


def test_named_namespace_uses_ip_netns_exec() -> None:
    ns = NetNamespace(id=TARGET, names=("blue",), pids=(42,))
    way = plan(ns, probe=probe_from({"/var/run/netns/blue": TARGET, "/proc/42/ns/net": TARGET}))
    assert wrap(way, ["cat", "/etc/hosts"]) == ["ip", "netns", "exec", "blue", "cat", "/etc/hosts"]


def test_stale_name_falls_back_to_a_path() -> None:
    # /var/run/netns/blue now names another namespace: never run there.
    ns = NetNamespace(id=TARGET, names=("blue",), pids=(42,))
    way = plan(ns, probe=probe_from({"/var/run/netns/blue": OTHER, "/proc/42/ns/net": TARGET}))
    assert way == Entry(Kind.PATH, ref="/proc/42/ns/net")


def test_path_entry_remounts_sys_with_a_constant_script() -> None:
    hostile = "/tmp/x'; rm -rf / #\n"
    argv = wrap(Entry(Kind.PATH, ref=hostile), ["ls", "/sys/class/net"])
    assert argv[:2] == ["nsenter", f"--net={hostile}"]
    i = argv.index("-c")
    assert argv[i + 1] == entry.SYSFS_SCRIPT  # the only shell text, never holding a name
    assert "mount -t sysfs" in entry.SYSFS_SCRIPT
    assert argv[i + 2 :] == ["sh", "ls", "/sys/class/net"]
    assert argv[3:8] == ["unshare", "--mount", "--propagation", "private", "--"]


def test_hidden_bind_mount_is_reached_through_proc_root_and_offers_the_seed_form() -> None:
    mount = BindMount("/run/docker/netns/abc", 4026531841, hidden=True, via_pid=77)
    ns = NetNamespace(id=TARGET, bind_mounts=(mount,))
    way = plan(ns, probe=probe_from({"/proc/77/root/run/docker/netns/abc": TARGET}))
    assert way.kind is Kind.PATH
    assert way.ref == "/proc/77/root/run/docker/netns/abc"
    assert seed_form(way, ["ip", "a"]) == [
        "nsenter", "-t", "77", "-m", "nsenter", "--net=/run/docker/netns/abc", "--", "ip", "a",
    ]  # fmt: skip


def test_no_seed_form_without_a_hidden_mount() -> None:
    assert seed_form(Entry(Kind.PATH, ref="/proc/1/ns/net"), ["x"]) is None


def test_candidate_order_and_fd_holders() -> None:
    ns = NetNamespace(
        id=TARGET,
        access_path="/a",
        bind_mounts=(BindMount("/b", 1, hidden=False),),
        pids=(5,),
        fd_holders=(FdHolder(9, 3),),
        thread_holders=(ThreadHolder(7, 8),),
        socket_holders=(SocketHolder(6, 4, 123),),
    )
    assert candidate_paths(ns) == [
        "/a",
        "/b",
        "/proc/5/ns/net",
        "/proc/7/task/8/ns/net",
        "/proc/9/fd/3",
        "/proc/6/fd/4",
    ]
    way = plan(ns, probe=probe_from({"/proc/9/fd/3": TARGET}))
    assert way.ref == "/proc/9/fd/3"


def test_vanished_namespace_raises_gone() -> None:
    ns = NetNamespace(id=TARGET, label="web", pids=(5,))
    with pytest.raises(NamespaceGone, match=r"web \(inode 4026532999\) is gone"):
        plan(ns, probe=probe_from({"/proc/5/ns/net": OTHER}))


def test_all_namespaces_uses_the_owning_container_pid() -> None:
    owner = Container("docker", "a" * 64, "web", "img", "default", pid=100)
    sharer = Container("docker", "b" * 64, "side", "img", "container:" + "a" * 64, pid=200,
                       shares_with="a" * 64)  # fmt: skip
    ns = NetNamespace(id=TARGET, containers=(sharer, owner))
    way = plan(ns, True, probe=probe_from({"/proc/100/ns/net": TARGET, "/proc/200/ns/net": TARGET}))
    assert wrap(way, ["ip", "a"]) == ["nsenter", "-t", "100", "-a", "--", "ip", "a"]


def test_all_namespaces_enter_the_container_the_row_is_labelled_with() -> None:
    """The namespace's row is labelled with primary_container; `a` on it enters that
    one, also when a container:-mode one whose owner is unknown (no shares_with: its
    owner in another engine) is listed first."""
    joined = Container("docker", "b" * 64, "side", "img", "container:" + "f" * 64, pid=200)
    owner = Container("docker", "a" * 64, "web", "img", "default", pid=100)
    ns = NetNamespace(id=TARGET, containers=(joined, owner))
    probe = probe_from({"/proc/100/ns/net": TARGET, "/proc/200/ns/net": TARGET})
    assert plan(ns, True, probe=probe) == Entry(Kind.ALL, pid=100)
    assert entry.choices(ns, True) == [Entry(Kind.ALL, pid=100), Entry(Kind.ALL, pid=200)]


def test_all_namespaces_without_a_process_is_a_clear_error() -> None:
    ns = NetNamespace(id=TARGET, bind_mounts=(BindMount("/b", 1, hidden=False),))
    with pytest.raises(ActionFailed, match="has none") as info:
        plan(ns, True, probe=probe_from({"/b": TARGET}))
    assert "without -a/--all-namespaces" in str(info.value)
    assert "`a` turns all namespaces off" in str(info.value)  # the TUI has no such flag


def test_all_namespaces_with_dead_processes_is_gone() -> None:
    ns = NetNamespace(id=TARGET, pids=(5,))
    with pytest.raises(NamespaceGone):
        plan(ns, True, probe=probe_from({}))


def test_host_shell(tmp_path: object) -> None:
    assert entry.host_shell({"SHELL": "/bin/sh"}) == "/bin/sh"
    assert entry.host_shell({}) == "/bin/sh"
    assert entry.host_shell({"SHELL": "relative/sh"}) == "/bin/sh"
    assert entry.host_shell({"SHELL": "/nonexistent/zsh"}) == "/bin/sh"


def test_all_namespaces_on_the_host_is_direct_unless_a_container_is_named() -> None:
    hostmode = Container("docker", "c" * 64, "hm", "img", "host", pid=300)
    ns = NetNamespace(id=HOST, is_host=True, containers=(hostmode,), pids=(1, 300))
    probe = probe_from({"/proc/300/ns/net": HOST})
    assert plan(ns, True, probe=probe) == Entry(Kind.DIRECT)
    assert plan(ns, True, probe=probe, via_pid=300) == Entry(Kind.ALL, pid=300)


def test_via_pid_wins_over_the_owner() -> None:
    owner = Container("docker", "a" * 64, "web", "img", "default", pid=100)
    sharer = Container("docker", "b" * 64, "side", "img", "container:x", pid=200, shares_with="x")
    ns = NetNamespace(id=TARGET, containers=(owner, sharer))
    probe = probe_from({"/proc/100/ns/net": TARGET, "/proc/200/ns/net": TARGET})
    assert plan(ns, True, probe=probe, via_pid=200).pid == 200
    assert plan(ns, True, probe=probe).pid == 100


def test_plain_processes_are_not_used_when_a_container_owns_the_namespace() -> None:
    owner = Container("docker", "a" * 64, "web", "img", "default", pid=100)
    ns = NetNamespace(id=TARGET, containers=(owner,), pids=(55, 100))
    probe = probe_from({"/proc/55/ns/net": TARGET})  # the container's pid is gone
    with pytest.raises(NamespaceGone, match=r"\(100\)"):
        plan(ns, True, probe=probe)


def test_a_socket_held_namespace_pastes_as_nsexplorer_exec(monkeypatch: pytest.MonkeyPatch) -> None:
    """No path opens a socket's namespace (nsenter fails on /proc/PID/fd/N of a socket):
    what is shown and pasted is nsexplorer's own exec by inode."""
    ns = NetNamespace(id=TARGET, socket_holders=(SocketHolder(6, 4, 123),))
    way = plan(ns, probe=probe_from({"/proc/6/fd/4": TARGET}))
    assert way == Entry(Kind.SOCKET, ref="/proc/6/fd/4", inode=TARGET.ino)
    monkeypatch.setattr(entry, "self_command", lambda: ["nsexplorer"])
    assert wrap(way, ["ip", "a"]) == ["nsexplorer", "exec", str(TARGET.ino), "--", "ip", "a"]
    assert seed_form(way, ["ip", "a"]) is None
    # An fd that holds the namespace file itself is a path nsenter opens: unchanged.
    fd_held = NetNamespace(id=TARGET, fd_holders=(FdHolder(9, 3),))
    assert plan(fd_held, probe=probe_from({"/proc/9/fd/3": TARGET})).kind is Kind.PATH


def test_self_command_is_what_the_shell_would_find(monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil
    import sys

    monkeypatch.setattr(sys, "argv", ["/opt/venv/bin/nsexplorer", "tui"])
    monkeypatch.setattr(shutil, "which", lambda name: "/opt/venv/bin/nsexplorer")
    assert entry.self_command() == ["nsexplorer"]
    # Another nsexplorer (or none) on PATH: this very one, by its interpreter.
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/local/bin/nsexplorer")
    assert entry.self_command() == [sys.executable, "-m", "nsexplorer"]
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert entry.self_command() == [sys.executable, "-m", "nsexplorer"]


def test_netns_of_a_mount_namespace_no_process_is_in_is_entered_through_its_file() -> None:
    mount = BindMount("/tmp/inner/ns", 4026533001, hidden=True, mount_ns_path="/run/holder/mnt")
    ns = NetNamespace(id=TARGET, bind_mounts=(mount,))
    mnt = NamespaceId(NSFS, 4026533001)
    way = plan(ns, probe=probe_from({"/run/holder/mnt": mnt}))
    assert way.kind is Kind.MOUNT_NS
    assert (way.ref, way.mount_ns, way.mount_ns_inode) == (
        "/tmp/inner/ns",
        "/run/holder/mnt",
        mnt.ino,
    )
    argv = wrap(way, ["ip", "link"])
    assert argv[:6] == [
        "nsenter",
        "--mount=/run/holder/mnt",
        "--",
        "nsenter",
        "--net=/tmp/inner/ns",
        "--",
    ]
    assert argv[-3:] == ["sh", "ip", "link"] and "unshare" in argv  # a fresh sysfs too
    # the file must hold that very mount namespace
    with pytest.raises(NamespaceGone):
        plan(ns, probe=probe_from({"/run/holder/mnt": OTHER}))
    # a covered mount, or one a process reaches through /proc/PID/root: not this way
    covered = NetNamespace(
        id=TARGET,
        bind_mounts=(
            BindMount(
                "/tmp/inner/ns",
                4026533001,
                hidden=True,
                mount_ns_path="/run/holder/mnt",
                covered=True,
            ),
        ),
    )
    assert all(w.kind is not Kind.MOUNT_NS for w in entry.choices(covered))
