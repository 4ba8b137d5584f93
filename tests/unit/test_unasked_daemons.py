"""A dockerd that runs here but that no engine asked answered for is said, with the
DOCKER_HOST that would ask it (QA r: `snapshot` showed no containers and no warning)."""

from __future__ import annotations

from pathlib import Path

from nsexplorer.collect.docker_endpoint import daemon_hosts, unasked_daemons


def _proc(tmp_path: Path, processes: dict[int, tuple[str, list[str]]]) -> str:
    for pid, (comm, argv) in processes.items():
        d = tmp_path / str(pid)
        d.mkdir()
        (d / "comm").write_text(comm + "\n")
        (d / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
    return str(tmp_path)


def test_daemon_hosts_reads_every_spelling_and_leaves_out_systemd_s_fd() -> None:
    argv = ["dockerd", "-H", "fd://", "--host=unix:///run/a.sock", "-H=tcp://0:2375", "-H"]
    assert daemon_hosts(argv) == ["unix:///run/a.sock", "tcp://0:2375"]


def test_a_daemon_nobody_asked_is_named_with_its_socket(tmp_path: Path) -> None:
    proc = _proc(
        tmp_path,
        {
            10: ("dockerd", ["/usr/bin/dockerd", "-H", "fd://"]),
            20: ("dockerd", ["/usr/bin/dockerd", "-H", "unix:///run/tb/docker.sock"]),
            30: ("sleep", ["sleep", "-H", "unix:///x"]),
        },
    )
    said = unasked_daemons({"unix:///var/run/docker.sock"}, proc)
    assert "pid 10;" in said and "pid 20 listening on unix:///run/tb/docker.sock" in said
    assert "set DOCKER_HOST=unix:///run/tb/docker.sock to ask it" in said
    assert "pid 30" not in said
    # the one asked is not "unasked"; with none left, nothing is said
    assert "pid 20" not in unasked_daemons({"unix:///run/tb/docker.sock"}, proc)
    assert unasked_daemons(set(), _proc(tmp_path / "none", {})) == ""
