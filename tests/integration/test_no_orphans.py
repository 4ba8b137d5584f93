"""No command outlives nsexplorer (issue 10, item 7), on the real kernel.

The real CLI starts a long `sleep` (or tcpdump) in a throwaway namespace (prefix nsxt,
removed even on failure), nsexplorer is SIGKILLed, and the command must be gone within
a few seconds: it leads its own session, so only its parent-death signal can end it.
And the trap that signal sets: it fires when the *thread* that forked the child exits,
so a command started from a worker thread that returns at once must live on while
nsexplorer does.

What a command forks does not carry that signal: the session guard (kernel.sessionguard)
ends it. Those tests run `sh -c` scripts that fork (tcpdump | grep, background sleeps)
in namespaces of their own (prefix nsxor-), SIGKILL nsexplorer (or let it exit) and
wait for the grandchildren to go; a `setsid` process and a pipeline's other command
must stay; the guard itself is fed processes it must not kill.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from nsexplorer.kernel import children

pytestmark = [pytest.mark.integration, pytest.mark.root]

NSX = [sys.executable, "-m", "nsexplorer"]
DOCKER = "/usr/bin/docker"


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rindex(b")") + 2 :].decode().split()


def _cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().decode("utf-8", "replace").split("\0")[:-1]
    except OSError:
        return []


def _ancestors(pid: int) -> Iterator[int]:
    for _ in range(64):
        st = _stat(pid)
        if st is None or int(st[1]) <= 1:
            return
        pid = int(st[1])
        yield pid


def find_under(
    root: int,
    argv: list[str] | Callable[[list[str]], bool],
    count: int = 1,
    timeout: float = 30,
) -> list[tuple[int, str]]:
    """(pid, start time) of the ``count`` processes below ``root`` running exactly
    ``argv`` (or whose argv ``argv`` accepts)."""
    want = argv if callable(argv) else argv.__eq__
    deadline = time.monotonic() + timeout
    found: list[tuple[int, str]] = []
    while time.monotonic() < deadline:
        found = []
        for name in os.listdir("/proc"):
            if name.isdigit() and want(_cmdline(int(name))) and root in _ancestors(int(name)):
                st = _stat(int(name))
                if st is not None:
                    found.append((int(name), st[19]))
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"{len(found)} of {count} {argv} started under {root}")


def wait_gone(pid: int, start: str, timeout: float = 5) -> None:
    """Until ``pid`` (started at ``start``) is gone: reaped, a zombie, or the number
    reused by another process."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = _stat(pid)
        if st is None or st[0] == "Z" or st[19] != start:
            return
        time.sleep(0.05)
    raise AssertionError(f"{pid} ({' '.join(_cmdline(pid))}) outlived nsexplorer")


def alive(pid: int, start: str) -> bool:
    st = _stat(pid)
    return st is not None and st[0] != "Z" and st[19] == start


def seconds() -> str:
    """A sleep duration no other process on this host is likely to be using."""
    return str(7000 + secrets.randbelow(2000))


@contextmanager
def running_nsx(*args: str, tmp_path: Path, job: bool = False) -> Iterator[subprocess.Popen[bytes]]:
    """The real nsexplorer, killed at the end whatever happened. ``job``: leading its
    own process group, as a shell starts it."""
    env = {**os.environ, "NSX_AUDIT_LOG": str(tmp_path / "audit.log")}
    nsx = subprocess.Popen(
        [*NSX, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        process_group=0 if job else None,
    )
    try:
        yield nsx
    finally:
        if nsx.poll() is None:
            nsx.kill()
        nsx.wait()


def kill_and_check(nsx: subprocess.Popen[bytes], found: list[tuple[int, str]]) -> None:
    """SIGKILL nsexplorer; every process in ``found`` must be gone within seconds."""
    try:
        for pid, start in found:
            assert alive(pid, start), "the command ended before nsexplorer was killed"
        nsx.send_signal(signal.SIGKILL)
        nsx.wait(timeout=10)
        for pid, start in found:
            wait_gone(pid, start)
    finally:
        for pid, start in found:  # a failed check leaves nothing behind
            if alive(pid, start):
                os.kill(pid, signal.SIGKILL)


def test_a_command_from_exec_dies_when_nsexplorer_is_killed(nsxt, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    name = nsxt.netns()
    argv = ["sleep", seconds()]
    with running_nsx("exec", name, "--", *argv, tmp_path=tmp_path) as nsx:
        kill_and_check(nsx, find_under(nsx.pid, argv))


def test_commands_fanned_out_from_worker_threads_die_when_nsexplorer_is_killed(
    nsxt,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    """`exec --match` runs each namespace's command from a pool thread."""
    names = [nsxt.netns(), nsxt.netns()]
    argv = ["sleep", seconds()]
    match = ("exec", "--match", f"nsxt{nsxt.tag}", "--", *argv)
    with running_nsx(*match, tmp_path=tmp_path) as nsx:
        kill_and_check(nsx, find_under(nsx.pid, argv, count=len(names)))


def test_a_capture_dies_when_nsexplorer_is_killed(nsxt, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    name = nsxt.netns()
    pcap = tmp_path / "x.pcap"
    with running_nsx("capture", name, "-i", "lo", "-w", str(pcap), tmp_path=tmp_path) as nsx:
        found = find_under(nsx.pid, lambda argv: argv[:1] == ["tcpdump"] and "lo" in argv)
        kill_and_check(nsx, found)


@pytest.mark.docker
def test_an_all_namespaces_command_dies_too(tmp_path: Path) -> None:
    """--all-namespaces enters the container's pid namespace: nsenter forks and the
    command is its child, guarded again."""
    if os.environ.get("DOCKER_HOST") != "unix:///run/nsx-testbed/docker.sock":
        pytest.skip("needs the testbed daemon (scripts/testbed.sh start)")
    box = f"nsxt-{secrets.token_hex(2)}-orphan"
    subprocess.run([DOCKER, "run", "-d", "--name", box, "nsx-busybox:test", "sleep", "600"],
                   check=True, capture_output=True)  # fmt: skip
    try:
        argv = ["sleep", seconds()]
        with running_nsx("exec", "-a", box, "--", *argv, tmp_path=tmp_path) as nsx:
            [(pid, start)] = find_under(nsx.pid, argv)
            ns_pid = os.readlink(f"/proc/{pid}/ns/pid")
            assert ns_pid != os.readlink("/proc/self/ns/pid")  # really in the container's
            kill_and_check(nsx, [(pid, start)])
    finally:
        subprocess.run([DOCKER, "rm", "-f", box], capture_output=True, check=False)


# ---------------------------------------------------------------- the thread trap


def test_a_command_outlives_the_worker_thread_that_started_it() -> None:
    """While nsexplorer lives, a command lives on after the thread that asked for it
    returned; forked by such a thread itself, the parent-death signal would kill it
    right then (the kernel's rule, shown by the plain Popen below)."""
    argv = [*children.guard(), "sleep", "600"]
    started: dict[str, subprocess.Popen[bytes]] = {}

    def worker(key: str, spawn: object) -> None:
        proc: subprocess.Popen[bytes] = spawn(argv)  # type: ignore[operator]
        started[key] = proc
        # Return only once the guard set the signal and became the command: a thread
        # that ends before the prctl hands its children to another thread first.
        deadline = time.monotonic() + 10
        while _cmdline(proc.pid)[:1] != ["sleep"] and time.monotonic() < deadline:
            time.sleep(0.01)

    for key, spawn in (("ours", children.popen), ("plain", subprocess.Popen)):
        t = threading.Thread(target=worker, args=(key, spawn))
        t.start()
        t.join()
    try:
        time.sleep(1.0)
        assert started["ours"].poll() is None, "killed when its worker thread ended"
        # The trap is real: the same guarded command forked by the worker itself died
        # with that thread.
        assert started["plain"].wait(timeout=5) == -signal.SIGKILL
    finally:
        for proc in started.values():
            if proc.poll() is None:
                proc.kill()
            proc.wait()


@pytest.mark.parametrize("setpriv", [True, False], ids=["setpriv", "python"])
def test_the_guard_refuses_to_start_once_its_parent_is_not_nsexplorer(
    setpriv: bool, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Had nsexplorer died between the fork and the prctl, nothing would ever signal
    the command: the guard checks its parent and does not start it."""
    if not setpriv:
        monkeypatch.setattr(children, "_setpriv_path", [None])
    words = children.guard()
    assert (words[0].endswith("setpriv")) is setpriv
    marker = tmp_path / "ran"
    cmd = ["sh", "-c", 'touch "$1"', "sh", str(marker)]
    ok = subprocess.run([*words, *cmd], check=False)
    assert ok.returncode == 0 and marker.exists()
    marker.unlink()
    wrong = [*words[:-1], "1", *cmd]  # "my parent is pid 1": not so
    refused = subprocess.run(wrong, check=False)
    assert refused.returncode == children.NO_PARENT and not marker.exists()
    # Two levels up (this test process, through a shell that forks the guard).
    two = children.guard(levels=2)
    via_sh = subprocess.run(["sh", "-c", '"$@"; exit $?', "sh", *two, *cmd], check=False)
    assert via_sh.returncode == 0 and marker.exists()


# ------------------------------------------------- what the command forks (sessionguard)


@pytest.fixture
def nsxor() -> Iterator[Callable[[], str]]:
    """Named netns ``nsxor-TAG-N`` (lo up), removed even on failure; the factory's
    ``tag`` attribute is the common prefix."""
    tag = f"nsxor-{secrets.token_hex(2)}"
    made: list[str] = []

    def make() -> str:
        name = f"{tag}-{len(made)}"
        subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
        made.append(name)
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        return name

    make.tag = tag  # type: ignore[attr-defined]
    try:
        yield make
    finally:
        for name in made:
            subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)


def _tcpdump_on_lo(argv: list[str]) -> bool:
    return argv[:1] == ["tcpdump"] and argv[-1] == "lo"


def test_what_fanned_out_commands_fork_dies_when_nsexplorer_is_killed(
    nsxor: Callable[[], str], tmp_path: Path
) -> None:
    """`sh -c 'tcpdump | grep'` in each namespace: SIGKILL nsexplorer and sh dies by its
    parent-death signal, which tcpdump, grep and a background sleep that sh forked do
    not carry; the session guard ends them."""
    names = [nsxor(), nsxor()]
    secs = seconds()
    script = f"sleep {secs} & tcpdump -n -l -i lo 2>&1 | grep --line-buffered .; wait"
    match = ("exec", "--match", nsxor.tag, "--", "sh", "-c", script)  # type: ignore[attr-defined]
    with running_nsx(*match, tmp_path=tmp_path) as nsx:
        found = find_under(nsx.pid, ["sleep", secs], count=len(names))
        found += find_under(nsx.pid, _tcpdump_on_lo, count=len(names))
        found += find_under(nsx.pid, ["grep", "--line-buffered", "."], count=len(names))
        kill_and_check(nsx, found)


def test_what_a_command_left_behind_dies_when_nsexplorer_exits(
    nsxor: Callable[[], str], tmp_path: Path
) -> None:
    """The command exits after 2 s, leaving a background sleep (its output closed, so
    nothing waits for it): nsexplorer ends normally, and the sleep must end with it.
    The guard learns of it only once the leader exited, by its session id."""
    nsxor()
    secs = seconds()
    script = f"sleep {secs} >/dev/null 2>&1 </dev/null & sleep 2"
    match = ("exec", "--match", nsxor.tag, "--", "sh", "-c", script)  # type: ignore[attr-defined]
    with running_nsx(*match, tmp_path=tmp_path) as nsx:
        [(pid, start)] = find_under(nsx.pid, ["sleep", secs], timeout=2)
        try:
            assert nsx.wait(timeout=30) == 0
            wait_gone(pid, start)
        finally:
            if alive(pid, start):
                os.kill(pid, signal.SIGKILL)


def test_a_process_detached_on_purpose_is_left_alone(
    nsxor: Callable[[], str], tmp_path: Path
) -> None:
    """`setsid CMD` leaves the command's session: the person detached it, nsexplorer's
    death does not end it (while the sleep beside it, still in the session, dies)."""
    nsxor()
    kept, ended = seconds(), seconds()
    script = f"setsid sleep {kept} >/dev/null 2>&1 & sleep {ended}; wait"
    match = ("exec", "--match", nsxor.tag, "--", "sh", "-c", script)  # type: ignore[attr-defined]
    with running_nsx(*match, tmp_path=tmp_path) as nsx:
        [(dpid, dstart)] = find_under(nsx.pid, ["sleep", kept])
        try:
            kill_and_check(nsx, find_under(nsx.pid, ["sleep", ended]))
            time.sleep(0.5)  # the guard is done by now: it ended the other sleep
            assert alive(dpid, dstart), "a process that left the session was killed"
        finally:
            if alive(dpid, dstart):
                os.kill(dpid, signal.SIGKILL)


_GUARD_PARENT = """\
import subprocess, sys, time
subprocess.Popen([sys.executable, "-I", "-S", sys.argv[1], str(__import__("os").getpid())],
                 stdin=0, start_new_session=True)
time.sleep(600)
"""


def _run_guard(*commands: subprocess.Popen[bytes]) -> None:
    """The guard as nsexplorer starts it, its parent a stand-in for nsexplorer, sent
    ``commands`` as nsexplorer sends them (the pid, with a pidfd); then the stand-in
    is SIGKILLed. Returns once the guard exited."""
    from nsexplorer.kernel import sessionguard

    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    parent = subprocess.Popen(
        [sys.executable, "-c", _GUARD_PARENT, sessionguard.__file__], stdin=theirs.fileno()
    )
    theirs.close()
    try:
        guard = find_under(parent.pid, lambda a: sessionguard.__file__ in a, timeout=10)[0]
        with ours:
            for proc in commands:
                pidfd = os.pidfd_open(proc.pid)
                socket.send_fds(ours, [str(proc.pid).encode()], [pidfd])
                os.close(pidfd)
        time.sleep(0.3)  # taken in while its parent lives (the real order of things)
        parent.kill()
        parent.wait()
        wait_gone(*guard, timeout=30)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def test_the_guard_ends_only_sessions_its_commands_lead() -> None:
    """A process that does not lead its own session (here: in this test's session) is
    not taken for one: neither it nor anything of its session is touched; a session
    leader's whole session is ended (the control)."""
    outside = subprocess.Popen(["sh", "-c", f"sleep {seconds()} & wait"])
    leader = subprocess.Popen(["sh", "-c", f"sleep {seconds()} & wait"], start_new_session=True)
    procs = [outside, leader]
    found: list[tuple[int, str]] = []
    try:
        found += [find_under(p.pid, lambda a: a[:1] == ["sleep"], timeout=10)[0] for p in procs]
        _run_guard(outside)
        assert outside.poll() is None and alive(*found[0]), "killed outside its sessions"
        _run_guard(leader)
        assert leader.wait(timeout=10) == -signal.SIGKILL
        wait_gone(*found[1])
        assert outside.poll() is None and alive(*found[0])
    finally:
        for p in procs:
            if p.poll() is None:
                os.kill(p.pid, signal.SIGKILL)
            p.wait()
        for pid, start in found:
            if alive(pid, start):
                os.kill(pid, signal.SIGKILL)


def test_what_a_command_run_with_the_terminal_forks_dies_with_nsexplorer(
    nsxor: Callable[[], str], tmp_path: Path
) -> None:
    """`exec TARGET -- sh -c '...'` keeps the terminal, so stays in nsexplorer's process
    group. Started as a shell job (leading its group), nsexplorer is SIGKILLed: what sh
    forked dies; a process that was in the group before and is not nsexplorer's (a
    pipeline's other command, as `nsexplorer ... | less`) is left alone."""
    name = nsxor()
    secs, other = seconds(), seconds()
    script = f"sleep {secs} & sleep {secs} | cat; wait"
    with running_nsx("exec", name, "--", "sh", "-c", script, tmp_path=tmp_path, job=True) as nsx:
        beside = subprocess.Popen(["sleep", other], process_group=nsx.pid)
        try:
            found = find_under(nsx.pid, ["sleep", secs], count=2)
            found += find_under(nsx.pid, ["cat"])
            kill_and_check(nsx, found)
            time.sleep(0.5)  # the guard is done by now: it ended the others
            assert beside.poll() is None, "killed a process nsexplorer did not start"
        finally:
            if beside.poll() is None:
                beside.kill()
            beside.wait()


@pytest.mark.docker
def test_what_an_all_namespaces_command_forks_in_a_container_dies_too(tmp_path: Path) -> None:
    """`exec -a BOX -- sh -c ...` from a shell (nsexplorer a job): nsenter forks into
    the container's pid namespace and sh forks again there; from the host those
    processes are still in nsexplorer's process group, and end with it."""
    if os.environ.get("DOCKER_HOST") != "unix:///run/nsx-testbed/docker.sock":
        pytest.skip("needs the testbed daemon (scripts/testbed.sh start)")
    box = f"nsxor-{secrets.token_hex(2)}-box"
    subprocess.run([DOCKER, "run", "-d", "--name", box, "nsx-busybox:test", "sleep", "600"],
                   check=True, capture_output=True)  # fmt: skip
    try:
        secs = seconds()
        script = f"sleep {secs} & sleep {secs} | cat; wait"
        argv = ("exec", "-a", box, "--", "sh", "-c", script)
        with running_nsx(*argv, tmp_path=tmp_path, job=True) as nsx:
            found = find_under(nsx.pid, ["sleep", secs], count=2)
            assert os.readlink(f"/proc/{found[0][0]}/ns/pid") != os.readlink("/proc/self/ns/pid")
            kill_and_check(nsx, found)
    finally:
        subprocess.run([DOCKER, "rm", "-f", box], capture_output=True, check=False)
