"""`nsexplorer exec|name|unname` as a person runs them: the real binary, live discovery."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import ReadableNsexplorer  # the fixture's type only

pytestmark = [pytest.mark.integration, pytest.mark.root]

DOCKER = "/usr/bin/docker"
NSX = [sys.executable, "-m", "nsexplorer"]


def nsx(*args: str, audit: Path, **kw: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NSX_AUDIT_LOG": str(audit)}
    return subprocess.run(
        [*NSX, *args], capture_output=True, text=True, env=env, timeout=120, check=False, **kw
    )  # type: ignore[call-overload, no-any-return]


@pytest.fixture
def sleeper() -> Iterator[int]:
    """A process alone in a new netns, with a bridge in it."""
    proc = subprocess.Popen(["unshare", "--net", "sleep", "600"])
    try:
        host = os.stat("/proc/thread-self/ns/net").st_ino
        deadline = time.monotonic() + 10
        while os.stat(f"/proc/{proc.pid}/ns/net").st_ino == host:
            assert time.monotonic() < deadline, "unshare never switched netns"
            time.sleep(0.02)
        subprocess.run(
            ["nsenter", f"--net=/proc/{proc.pid}/ns/net", "ip", "link", "add", "nsxtcbr0",
             "type", "bridge"],
            check=True,
        )  # fmt: skip
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture
def web() -> Iterator[str]:
    """A bridge-mode container on the test daemon."""
    name = f"nsxt-{secrets.token_hex(2)}-web"
    subprocess.run([DOCKER, "run", "-d", "--name", name, "nsx-busybox:test", "sleep", "600"],
                   check=True, capture_output=True)  # fmt: skip
    try:
        yield name
    finally:
        subprocess.run([DOCKER, "rm", "-f", name], capture_output=True, check=False)


def audit_lines(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_exec_process_namespace_streams_and_passes_status(sleeper: int, tmp_path: Path) -> None:
    audit = tmp_path / "audit.log"
    done = nsx("exec", f"pid:{sleeper}", "--", "ls", "/sys/class/net", audit=audit)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["lo", "nsxtcbr0"]
    assert done.stderr.startswith(f"# nsenter --net=/proc/{sleeper}/ns/net -- unshare")
    done = nsx("exec", f"pid:{sleeper}", "--", "sh", "-c", "echo hi; exit 7", audit=audit)
    assert done.returncode == 7
    assert done.stdout == "hi\n"
    statuses = [(x["exit_status"], x.get("state")) for x in audit_lines(audit)]
    assert statuses == [(None, "running"), (0, None), (None, "running"), (7, None)]


def test_exec_bad_input(sleeper: int, tmp_path: Path) -> None:
    audit = tmp_path / "audit.log"
    done = nsx("exec", f"pid:{sleeper}", "--", "nsxt-no-such-cmd", audit=audit)
    assert done.returncode == 127
    assert "command not found: nsxt-no-such-cmd" in done.stderr
    done = nsx("exec", "nsxt-no-such-target", "--", "true", audit=audit)
    assert done.returncode == 2
    assert "no namespace matches 'nsxt-no-such-target'" in done.stderr
    done = nsx("exec", str(sleeper), "-a", "--", "true", audit=audit)  # a pid is not an inode
    assert done.returncode == 2


def test_read_only_refuses_and_runs_nothing(sleeper: int, tmp_path: Path) -> None:
    audit = tmp_path / "audit.log"
    marker = tmp_path / "ran"
    for args in (
        ["exec", f"pid:{sleeper}", "--", "touch", str(marker)],
        ["name", f"pid:{sleeper}", "nsxt-ro"],
        ["unname", "nsxt-ro"],
    ):
        done = nsx("--read-only", *args, audit=audit)
        assert done.returncode == 3, done
        assert "read-only" in done.stderr
        assert done.stdout == ""
    assert not marker.exists()
    assert not audit.exists()
    assert not os.path.lexists("/var/run/netns/nsxt-ro")


def test_name_and_unname(sleeper: int, tmp_path: Path) -> None:
    audit = tmp_path / "audit.log"
    name = f"nsxt-cli-{secrets.token_hex(2)}"
    try:
        done = nsx("name", f"pid:{sleeper}", name, audit=audit)
        assert done.returncode == 0, done.stderr
        assert f"/var/run/netns/{name}" in done.stdout
        ls = subprocess.run(["ip", "netns", "exec", name, "ls", "/sys/class/net"],
                            capture_output=True, text=True, check=True)  # fmt: skip
        assert ls.stdout.split() == ["lo", "nsxtcbr0"]
        again = nsx("name", f"pid:{sleeper}", name, audit=audit)
        assert again.returncode == 1
        assert "already exists" in again.stderr
        assert "#" not in again.stderr  # refused before any command is shown
        # Now that it is named, exec goes through `ip netns exec` (and /etc/netns).
        done = nsx("exec", name, "--", "true", audit=audit)
        assert done.stderr.startswith(f"# ip netns exec {name} true")
        done = nsx("unname", name, audit=audit)
        assert done.returncode == 0, done.stderr
        assert not os.path.lexists(f"/var/run/netns/{name}")
        actions = [(x["action"], x.get("state")) for x in audit_lines(audit)]
        assert actions == [("name", None), ("exec", "running"), ("exec", None), ("unname", None)]
    finally:
        if os.path.lexists(f"/var/run/netns/{name}"):
            subprocess.run(["umount", "-l", f"/var/run/netns/{name}"], check=False)
            os.unlink(f"/var/run/netns/{name}")


def test_hostile_netns_name_is_quoted_and_escaped(tmp_path: Path) -> None:
    name = f"nsxt\x1b[31m{secrets.token_hex(2)}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        done = nsx("exec", name, "--", "ls", "/sys/class/net", audit=tmp_path / "audit.log")
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == ["lo"]
        assert "\x1b" not in done.stderr
        shown = done.stderr.splitlines()[0].removeprefix("# ")
        assert shown.startswith("ip netns exec $'nsxt\\x1b[31m")
        # Pasted into bash, the shown command does the same thing.
        pasted = subprocess.run(["bash", "-c", shown], capture_output=True, text=True, check=True)
        assert pasted.stdout.split() == ["lo"]
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


@pytest.mark.docker
def test_exec_container_runs_host_ip_and_seed_form_is_shown(web: str, tmp_path: Path) -> None:
    done = nsx("exec", web, "--", "ip", "-o", "link", audit=tmp_path / "audit.log")
    assert done.returncode == 0, done.stderr
    assert " eth0@if" in done.stdout
    lines = done.stderr.splitlines()
    assert lines[0].startswith("# nsenter --net=")
    assert any("nsenter -t " in x and " -m nsenter --net=" in x for x in lines[1:])
    hostname = nsx("exec", web, "-a", "--", "hostname", audit=tmp_path / "audit.log")
    inspect = subprocess.run([DOCKER, "inspect", "-f", "{{.Id}}", web], capture_output=True,
                             text=True, check=True)  # fmt: skip
    assert hostname.stdout.strip() == inspect.stdout.strip()[:12]
    assert hostname.stderr.startswith("# nsenter -t ")


@pytest.mark.docker
def test_host_mode_container(tmp_path: Path) -> None:
    name = f"nsxt-{secrets.token_hex(2)}-hostmode"
    run = [DOCKER, "run", "-d", "--name", name, "--network", "host"]
    subprocess.run([*run, "nsx-busybox:test", "sleep", "600"], check=True, capture_output=True)
    try:
        audit = tmp_path / "audit.log"
        done = nsx("exec", name, "--", "ls", "/sys/class/net", audit=audit)
        assert done.stderr.startswith("# ls /sys/class/net\n")  # the host's netns: direct
        assert set(done.stdout.split()) == set(os.listdir("/sys/class/net"))
        # --all-namespaces enters THIS container (its pid namespace, where pid 1 is the
        # container's sleep), not the host, although the network namespace is the host's.
        inside = nsx("exec", name, "-a", "--", "cat", "/proc/1/cmdline", audit=audit)
        assert inside.returncode == 0, inside.stderr
        assert inside.stdout.split("\0")[:2] == ["sleep", "600"]
        assert inside.stderr.startswith("# nsenter -t ")
    finally:
        subprocess.run([DOCKER, "rm", "-f", name], capture_output=True, check=False)


def test_non_root_exec_and_name_say_they_need_root(
    tmp_path: Path, readable_nsexplorer: ReadableNsexplorer
) -> None:
    """As nobody, `exec NAMED -- CMD` let `ip netns exec` fail with its own EPERM (255)."""
    name = f"nsxt-nr{secrets.token_hex(3)}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    audit = tmp_path / "audit.log"
    base = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all"]  # fmt: skip
    env = {"DOCKER_HOST": "unix:///nonexistent/nsxt.sock"}
    try:
        assert nsx("exec", name, "--", "true", audit=audit).returncode == 0  # as root
        for argv in (["exec", name, "--", "true"], ["exec", name]):
            run = subprocess.run(
                [*base, *readable_nsexplorer.argv, *argv],
                capture_output=True,
                text=True,
                env=readable_nsexplorer.env({**os.environ, **env, "NSX_AUDIT_LOG": str(audit)}),
                timeout=60,
                check=False,
                stdin=subprocess.DEVNULL,
            )
            assert run.returncode == 1, run
            assert "needs root" in run.stderr, run.stderr
            assert "Traceback" not in run.stderr
            assert "# ip netns exec" not in run.stderr  # nothing was announced nor run
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False)


# ---------------------------------------------------------------------- refusals print nothing

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
          "--inh-caps=-all", "--bounding-set=-all"]  # fmt: skip


@pytest.fixture
def lonely() -> Iterator[str]:
    """A named namespace held by nothing but its name (nsxh4 prefix)."""
    name = f"nsxh4-r{secrets.token_hex(3)}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False)


REFUSALS = {
    # what is run -> the exit status it must end with
    "read-only exec": (["--read-only", "exec", "{ns}", "--", "touch", "{marker}"], 3),
    "read-only name": (["--read-only", "name", "{ns}", "nsxh4-never"], 3),
    "read-only unname": (["--read-only", "unname", "{ns}"], 3),
    "unknown target exec": (["exec", "nsxh4-no-such-target", "--", "touch", "{marker}"], 2),
    "unknown target name": (["name", "nsxh4-no-such-target", "nsxh4-never"], 2),
    "command not found": (["exec", "{ns}", "--", "nsxh4-no-such-command"], 127),
    "name exists": (["name", "{ns}", "{ns}"], 1),
    "invalid name": (["name", "{ns}", "bad name"], 1),
    "unname unknown": (["unname", "nsxh4-never-made"], 1),
    "unname would destroy": (["unname", "{ns}"], 1),
    "unname not a mount": (["unname", "{plain}"], 1),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_refused_action_prints_no_equivalent_command(
    case: str, lonely: str, tmp_path: Path
) -> None:
    """A `# command` line in a ticket reads as if it ran: a refusal prints none."""
    audit = tmp_path / "audit.log"
    marker = tmp_path / "ran"
    plain = f"nsxh4-plain-{secrets.token_hex(2)}"
    Path(f"/var/run/netns/{plain}").write_text("")
    try:
        argv, status = REFUSALS[case]
        args = [a.format(ns=lonely, marker=marker, plain=plain) for a in argv]
        done = nsx(*args, audit=audit)
        assert done.returncode == status, done
        assert not any(line.startswith("#") for line in done.stderr.splitlines()), done.stderr
        assert done.stderr.startswith("nsexplorer: "), done.stderr
        assert done.stdout == ""
        assert not marker.exists()
        assert os.path.exists(f"/var/run/netns/{lonely}")
        assert not os.path.lexists("/var/run/netns/nsxh4-never")
    finally:
        os.unlink(f"/var/run/netns/{plain}")


@pytest.mark.parametrize(
    "argv", [["exec", "{ns}", "--", "true"], ["name", "{ns}", "nsxh4-nr"], ["unname", "{ns}"]]
)
def test_non_root_refusals_print_no_equivalent_command(
    argv: list[str], lonely: str, tmp_path: Path
) -> None:
    args = [a.format(ns=lonely) for a in argv]
    run = subprocess.run(
        [*NOBODY, *NSX, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "DOCKER_HOST": "unix:///nonexistent/nsxh4.sock",
             "NSX_AUDIT_LOG": str(tmp_path / "audit.log")},
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert run.returncode == 1, run
    assert "needs root" in run.stderr, run.stderr
    assert not any(line.startswith("#") for line in run.stderr.splitlines()), run.stderr
    assert "Traceback" not in run.stderr
    assert os.path.exists(f"/var/run/netns/{lonely}")
    assert not os.path.lexists("/var/run/netns/nsxh4-nr")
