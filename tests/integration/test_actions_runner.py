"""NamespaceRunner against real namespaces: named, process-only, hidden in a mount ns."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from nsexplorer.actions.runner import NamespaceRunner
from nsexplorer.errors import ActionFailed, NamespaceGone, ReadOnlyRefused
from nsexplorer.model import BindMount, FdHolder, NamespaceId, NetNamespace

pytestmark = [pytest.mark.integration, pytest.mark.root]

HOST_NET = "/proc/thread-self/ns/net"


def nsid(path: str) -> NamespaceId:
    st = os.stat(path)
    return NamespaceId(st.st_dev, st.st_ino)


def wait_for_netns(path: str, timeout: float = 10.0) -> NamespaceId:
    host = nsid(HOST_NET)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            got = nsid(path)
            if got.dev == host.dev and got != host:
                return got
        except OSError:
            pass
        time.sleep(0.02)
    raise AssertionError(f"{path} never became a network namespace")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)


@pytest.fixture
def runner(tmp_path: Path) -> NamespaceRunner:
    return NamespaceRunner(audit_log=str(tmp_path / "audit.log"))


@pytest.fixture
def process_ns(nsxt: object) -> Iterator[tuple[NetNamespace, int]]:
    """A namespace held only by a process (unshare --net sleep), with a bridge in it."""
    proc = subprocess.Popen(["unshare", "--net", "sleep", "600"])
    try:
        ident = wait_for_netns(f"/proc/{proc.pid}/ns/net")
        subprocess.run(
            ["nsenter", f"--net=/proc/{proc.pid}/ns/net", "ip", "link", "add", "nsxtpbr0",
             "type", "bridge"],
            check=True,
        )  # fmt: skip
        yield NetNamespace(id=ident, label="nsxt-sleeper", pids=(proc.pid,)), proc.pid
    finally:
        stop(proc)


@pytest.fixture
def hidden_ns(nsxt: object) -> Iterator[tuple[NetNamespace, int, str]]:
    """A netns with no process, bind-mounted only inside another process's private
    mount namespace (invisible to the host's mount table)."""
    where = tempfile.mkdtemp(prefix="nsxt-hidden-")
    script = (
        'mount -t tmpfs nsxt "$1" && touch "$1/ns" && '
        'unshare --net="$1/ns" ip link add nsxthbr0 type bridge && exec sleep 600'
    )
    proc = subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", where]
    )
    try:
        reach = f"/proc/{proc.pid}/root{where}/ns"
        ident = wait_for_netns(reach)
        # The nsfs mount appears before the bridge is made: wait for the final exec.
        deadline = time.monotonic() + 10
        while Path(f"/proc/{proc.pid}/comm").read_text().strip() != "sleep":
            assert proc.poll() is None, "the hidden-namespace holder exited"
            assert time.monotonic() < deadline, "the hidden-namespace holder never slept"
            time.sleep(0.02)
        mount = BindMount(f"{where}/ns", 0, hidden=True, via_pid=proc.pid)
        yield NetNamespace(id=ident, label="nsxt-hidden", bind_mounts=(mount,)), proc.pid, where
    finally:
        stop(proc)
        os.rmdir(where)


def named_ns(nsxt: object) -> tuple[NetNamespace, str]:
    name = nsxt.netns()  # type: ignore[attr-defined]
    nsxt.ip("-n", name, "link", "add", "nsxtnbr0", "type", "bridge")  # type: ignore[attr-defined]
    return NetNamespace(id=nsid(f"/var/run/netns/{name}"), names=(name,)), name


def host_ifaces() -> set[str]:
    return set(os.listdir("/sys/class/net"))


# ---------------------------------------------------------------------------- entering


def test_named_sees_its_own_sys_and_etc_netns_override(
    runner: NamespaceRunner, nsxt: object
) -> None:
    ns, name = named_ns(nsxt)
    etc = Path("/etc/netns") / name
    try:
        etc.mkdir(parents=True)
        (etc / "hosts").write_text("10.250.0.9 nsxt-override-host\n")
        assert runner.equivalent_command(ns, ["cat", "/etc/hosts"]).startswith(
            f"ip netns exec {name} "
        )
        got = runner.run(ns, ["ls", "/sys/class/net"])
        assert got.exit_status == 0, got
        assert set(got.output.split()) == {"lo", "nsxtnbr0"}
        hosts = runner.run(ns, ["cat", "/etc/hosts"])
        assert "nsxt-override-host" in hosts.output
    finally:
        shutil.rmtree(etc, ignore_errors=True)


def test_process_only_ns_gets_a_fresh_sysfs(
    runner: NamespaceRunner, process_ns: tuple[NetNamespace, int]
) -> None:
    ns, pid = process_ns
    assert runner.equivalent_command(ns, ["ip", "a"]).startswith(
        f"nsenter --net=/proc/{pid}/ns/net"
    )
    got = runner.run(ns, ["ls", "/sys/class/net"])
    assert got.exit_status == 0, got
    assert set(got.output.split()) == {"lo", "nsxtpbr0"}
    assert host_ifaces() != {"lo", "nsxtpbr0"}  # the host's /sys is untouched
    links = runner.run(ns, ["ip", "-o", "link"])
    assert "nsxtpbr0" in links.output
    assert "nsxtpbr0" not in host_ifaces()


def test_hidden_mount_ns_is_reached_through_proc_root(
    runner: NamespaceRunner, hidden_ns: tuple[NetNamespace, int, str]
) -> None:
    ns, pid, where = hidden_ns
    assert f"/proc/{pid}/root{where}/ns" not in Path("/proc/self/mountinfo").read_text()
    cmd = runner.equivalent_command(ns, ["ls", "/sys/class/net"])
    assert f"--net=/proc/{pid}/root{where}/ns" in cmd
    got = runner.run(ns, ["ls", "/sys/class/net"])
    assert set(got.output.split()) == {"lo", "nsxthbr0"}, got
    # The seed article's form is offered too, and really works.
    seed = runner.seed_command(ns, ["ip", "-o", "link"])
    assert seed == f"nsenter -t {pid} -m nsenter --net={where}/ns -- ip -o link"
    done = subprocess.run(["bash", "-c", seed], capture_output=True, text=True, check=True)
    assert "nsxthbr0" in done.stdout


def test_paste_of_equivalent_command_does_the_same(
    runner: NamespaceRunner, process_ns: tuple[NetNamespace, int]
) -> None:
    ns, _ = process_ns
    cmd = runner.equivalent_command(ns, ["ls", "/sys/class/net"])
    done = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, check=True)
    assert set(done.stdout.split()) == {"lo", "nsxtpbr0"}


def test_interactive_shell_argv_lands_in_the_namespace(
    runner: NamespaceRunner, process_ns: tuple[NetNamespace, int]
) -> None:
    ns, _ = process_ns
    shell = runner.prepare_shell(ns)
    try:
        done = subprocess.run(
            shell.argv,
            input="ls /sys/class/net; exit 5\n",
            capture_output=True,
            text=True,
            check=False,
            pass_fds=shell.pass_fds,
        )
        shell.ended(done.returncode, "")
    finally:
        shell.release()
    assert done.returncode == 5
    assert shell.command.startswith(f"nsenter --net=/proc/{ns.pids[0]}/ns/net -- unshare")
    assert set(done.stdout.split()) == {"lo", "nsxtpbr0"}
    # on record as it started, and how it ended
    lines = [json.loads(x) for x in Path(runner.audit_log_path).read_text().splitlines()]
    assert [(x["action"], x.get("state"), x["exit_status"]) for x in lines] == [
        ("shell", "running", None), ("shell", None, 5)
    ]  # fmt: skip
    assert lines[0]["run"] == lines[1]["run"]


# ---------------------------------------------------------------------------- bad input


def test_exit_status_passes_through(
    runner: NamespaceRunner, process_ns: tuple[NetNamespace, int]
) -> None:
    ns, _ = process_ns
    got = runner.run(ns, ["sh", "-c", "echo out; echo err >&2; exit 7"])
    assert got.exit_status == 7
    assert got.output.split() == ["out", "err"]
    assert got.error == ""


def test_command_not_found(runner: NamespaceRunner, process_ns: tuple[NetNamespace, int]) -> None:
    ns, _ = process_ns
    got = runner.run(ns, ["nsxt-no-such-command"])
    assert got.exit_status == 127
    assert "command not found: nsxt-no-such-command" in got.error


def test_timeout_kills_the_whole_process_group(
    runner: NamespaceRunner, process_ns: tuple[NetNamespace, int]
) -> None:
    ns, _ = process_ns
    got = runner.run(ns, ["sh", "-c", "sleep 600 & echo $!; wait"], timeout=1.0)
    assert got.exit_status is None
    assert "timeout" in got.error
    child = int(got.output.split()[0])
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{child}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{child}"), "background child survived the timeout"


def test_cancel_stops_a_never_ending_command(
    runner: NamespaceRunner, process_ns: tuple[NetNamespace, int]
) -> None:
    ns, _ = process_ns
    cancel = threading.Event()

    def cancelled() -> bool:
        return cancel.is_set()

    threading.Timer(0.5, cancel.set).start()
    got = runner.run(ns, ["sh", "-c", "while :; do echo tick; sleep 0.05; done"], cancel=cancelled)
    assert got.exit_status is None and got.stopped == "cancelled"
    assert "cancelled" in got.error
    assert "tick" in got.output
    assert "cancelled" not in got.output  # nsexplorer's note is not the command's output


def test_cancel_interrupts_as_ctrl_c_would_and_keeps_the_last_words(
    runner: NamespaceRunner, process_ns: tuple[NetNamespace, int]
) -> None:
    # ping prints its statistics on SIGINT; SIGTERM used to lose them
    ns, _ = process_ns
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    script = 'trap "echo nsx-last-words; exit 3" INT; echo started; while :; do sleep 0.05; done'
    got = runner.run(ns, ["sh", "-c", script], cancel=cancel.is_set)
    assert got.stopped == "cancelled"
    assert "started" in got.output and "nsx-last-words" in got.output, got.output


def test_a_cancelled_run_in_the_bundle_says_cancelled(
    runner: NamespaceRunner, process_ns: tuple[NetNamespace, int], tmp_path: Path
) -> None:
    """The TUI's bundle from a real cancelled run and its real audit entry: "cancelled",
    never exit `None`; the UI's note kept apart from the output."""
    from nsexplorer.cli.bundle import write_session_bundle
    from nsexplorer.model import Snapshot
    from nsexplorer.ports import KeptOutput, SessionEvidence

    ns, _ = process_ns
    started = datetime.now(UTC)
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    argv = ["sh", "-c", "while :; do echo tick; sleep 0.05; done"]
    got = runner.run(ns, argv, cancel=cancel.is_set)
    kept = KeptOutput(
        started.isoformat(), "nsxt-sleeper", " ".join(argv), got.exit_status, got.output,
        got.error, got.stopped,
    )  # fmt: skip
    snap = Snapshot("h", started.isoformat(), (ns,))
    evidence = SessionEvidence(snap, None, started, outputs=(kept,))
    written = write_session_bundle(runner.audit_log_path, evidence, directory=str(tmp_path))
    assert written.audit_entries == 1
    with tarfile.open(written.path) as tar:
        files = {
            m.name.split("/", 1)[1]: f.read().decode()
            for m in tar.getmembers()
            if (f := tar.extractfile(m)) is not None
        }
    summary = files["summary.md"]
    assert "| `run: sh -c while :; do echo tick; sleep 0.05; done` | `cancelled` |" in summary
    assert "None" not in summary
    (name,) = [n for n in files if n.startswith("output/")]
    assert f"- `{name}`" in summary
    text = files[name]
    assert text.endswith("# ended: cancelled\n# nsexplorer: cancelled; output so far is shown\n")
    assert "None" not in text and "tick\n" in text


def test_huge_output_is_bounded_with_the_tail_kept(
    tmp_path: Path, process_ns: tuple[NetNamespace, int]
) -> None:
    ns, _ = process_ns
    runner = NamespaceRunner(audit_log=str(tmp_path / "audit.log"), output_limit=64 * 1024)
    got = runner.run(ns, ["sh", "-c", "seq 1 2000000; echo THE-END"])
    assert got.exit_status == 0
    assert got.truncated
    assert len(got.output.encode()) <= 64 * 1024
    assert got.output.endswith("2000000\nTHE-END\n")


def test_vanished_namespace(runner: NamespaceRunner, tmp_path: Path) -> None:
    proc = subprocess.Popen(["unshare", "--net", "sleep", "600"])
    try:
        ns = NetNamespace(id=wait_for_netns(f"/proc/{proc.pid}/ns/net"), pids=(proc.pid,))
    finally:
        stop(proc)
    with pytest.raises(NamespaceGone, match="is gone"):
        runner.run(ns, ["true"])
    assert not (tmp_path / "audit.log").exists()


# ---------------------------------------------------------------------------- read-only, audit


def test_read_only_runs_nothing(
    tmp_path: Path, process_ns: tuple[NetNamespace, int], runner: NamespaceRunner
) -> None:
    ns, _ = process_ns
    runner.run(ns, ["true"])
    log = Path(runner.audit_log_path)
    before = log.read_bytes()
    ro = NamespaceRunner(read_only=True, audit_log=str(log))
    marker = tmp_path / "ran"
    for call in (
        lambda: ro.run(ns, ["touch", str(marker)]),
        lambda: ro.run_attached(ns, ["touch", str(marker)]),
        lambda: ro.prepare_shell(ns),
        lambda: ro.name(ns, "nsxt-ro-name"),
        lambda: ro.unname("nsxt-ro-name"),
    ):
        with pytest.raises(ReadOnlyRefused):
            call()
    assert not marker.exists()
    assert not os.path.lexists("/var/run/netns/nsxt-ro-name")
    assert log.read_bytes() == before


def test_audit_log_records_runs(
    runner: NamespaceRunner, process_ns: tuple[NetNamespace, int]
) -> None:
    ns, _ = process_ns
    runner.run(ns, ["sh", "-c", "exit 3"])
    runner.run(ns, ["nsxt-no-such-command"])
    lines = [json.loads(x) for x in Path(runner.audit_log_path).read_text().splitlines()]
    # the run that started has a line before it and one after; the missing program none
    assert [(x["exit_status"], x.get("state")) for x in lines] == [
        (None, "running"), (3, None), (127, None)
    ]  # fmt: skip
    lines = lines[1:]
    assert lines[0]["netns_inode"] == ns.inode
    assert lines[0]["argv"] == ["sh", "-c", "exit 3"]
    assert lines[0]["command"][0] == "nsenter"
    assert lines[0]["who"]["uid"] == 0


# ---------------------------------------------------------------------------- name / unname


def ip_netns_list() -> str:
    # errors=: a real host may hold names that are not UTF-8 (not ours to judge here)
    done = subprocess.run(["ip", "netns", "list"], capture_output=True, check=True)
    return done.stdout.decode(errors="surrogateescape")


@pytest.mark.parametrize("which", ["process", "hidden"])
def test_name_then_ip_netns_exec_then_unname(
    runner: NamespaceRunner,
    which: str,
    request: pytest.FixtureRequest,
) -> None:
    ns = request.getfixturevalue(f"{which}_ns")[0]
    bridge = "nsxtpbr0" if which == "process" else "nsxthbr0"
    name = f"nsxt-named-{which}-{os.getpid()}"
    try:
        assert runner.name(ns, name) == f"/var/run/netns/{name}"
        assert name in ip_netns_list()
        assert nsid(f"/var/run/netns/{name}") == ns.id
        done = subprocess.run(
            ["ip", "netns", "exec", name, "ls", "/sys/class/net"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert set(done.stdout.split()) == {"lo", bridge}
        with pytest.raises(ActionFailed, match="already exists"):
            runner.name(ns, name)
        runner.unname(name, ns)
        assert not os.path.lexists(f"/var/run/netns/{name}")
        assert name not in ip_netns_list()
        # The namespace itself lives on (held by the process / the hidden mount).
        assert runner.run(ns, ["ls", "/sys/class/net"]).output.split() == sorted(["lo", bridge])
        actions = [
            json.loads(x)["action"] for x in Path(runner.audit_log_path).read_text().splitlines()
        ]
        assert actions[:2] == ["name", "unname"]
    finally:
        if os.path.lexists(f"/var/run/netns/{name}"):
            subprocess.run(["umount", "-l", f"/var/run/netns/{name}"], check=False)
            os.unlink(f"/var/run/netns/{name}")


def test_name_refuses_an_existing_name(
    runner: NamespaceRunner, process_ns: tuple[NetNamespace, int], nsxt: object
) -> None:
    ns, _ = process_ns
    taken = nsxt.netns()  # type: ignore[attr-defined]
    before = nsid(f"/var/run/netns/{taken}")
    with pytest.raises(ActionFailed, match="already exists"):
        runner.name(ns, taken)
    assert nsid(f"/var/run/netns/{taken}") == before


def test_unname_refuses_a_name_that_now_leads_elsewhere(
    runner: NamespaceRunner, process_ns: tuple[NetNamespace, int], nsxt: object
) -> None:
    """The name was read on ``ns``; it now leads to another namespace (deleted and made
    again meanwhile): removing it must not take it from the newcomer."""
    ns, _ = process_ns
    other = nsxt.netns()  # type: ignore[attr-defined]
    before = nsid(f"/var/run/netns/{other}")
    with pytest.raises(ActionFailed, match="now leads to another namespace"):
        runner.unname(other, ns)
    assert nsid(f"/var/run/netns/{other}") == before


def test_unname_refusals(runner: NamespaceRunner, nsxt: object) -> None:
    lonely = nsxt.netns()  # type: ignore[attr-defined]
    with pytest.raises(ActionFailed, match="would destroy"):
        runner.unname(lonely)
    assert lonely in ip_netns_list()
    plain = Path(f"/var/run/netns/nsxt-plain-{os.getpid()}")
    plain.write_text("")
    try:
        with pytest.raises(ActionFailed, match="not a bind mount"):
            runner.unname(plain.name)
        assert plain.exists()
    finally:
        plain.unlink()
    with pytest.raises(ActionFailed, match="no namespace is named"):
        runner.unname("nsxt-never-made")
    with pytest.raises(ActionFailed, match="invalid namespace name"):
        runner.unname("../etc")


def test_all_namespaces_without_a_process_says_so(
    runner: NamespaceRunner, hidden_ns: tuple[NetNamespace, int, str]
) -> None:
    ns, _, _ = hidden_ns
    with pytest.raises(ActionFailed, match="has none"):
        runner.run(ns, ["true"], all_namespaces=True)


NAME_IN_PRIVATE_MOUNT_NS = """
import os, subprocess, sys
from nsexplorer.actions.runner import NamespaceRunner
from nsexplorer.model import NamespaceId, NetNamespace

pid, name, log = int(sys.argv[1]), sys.argv[2], sys.argv[3]
# Only in this private mount namespace: an empty /run, so /var/run/netns is missing.
# (findmnt may still list a host mount at /run/netns, shadowed: the top one is last.)
subprocess.run(["mount", "-t", "tmpfs", "nsxt", "/run"], check=True)
assert not os.path.exists("/var/run/netns")
before = subprocess.run(["findmnt", "-n", "-o", "PROPAGATION", "/var/run/netns"],
                        capture_output=True, text=True, check=False).stdout.strip()
st = os.stat(f"/proc/{pid}/ns/net")
ns = NetNamespace(id=NamespaceId(st.st_dev, st.st_ino), pids=(pid,))
NamespaceRunner(audit_log=log).name(ns, name)
after = subprocess.run(["findmnt", "-n", "-o", "PROPAGATION", "/var/run/netns"],
                       capture_output=True, text=True, check=True).stdout.split()[-1]
ls = subprocess.run(["ip", "netns", "exec", name, "ls", "/sys/class/net"],
                    capture_output=True, text=True, check=True).stdout.split()
print(repr((before, after, ls)))
"""


def test_name_makes_the_run_dir_a_shared_mount_point_like_iproute2(
    process_ns: tuple[NetNamespace, int], tmp_path: Path
) -> None:
    """`ip netns add` turns /var/run/netns into a shared mount point when it is not one.

    Checked in a private mount namespace so the host's /var/run/netns is left alone.
    """
    _, pid = process_ns
    name = f"nsxt-priv-{os.getpid()}"
    done = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", sys.executable, "-c",
         NAME_IN_PRIVATE_MOUNT_NS, str(pid), name, str(tmp_path / "audit.log")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    before, after, ls = eval(done.stdout)  # noqa: S307 - our own repr() of a tuple of str
    assert before == ""  # it did not even exist
    assert after == "shared"
    assert ls == ["lo", "nsxtpbr0"]
    assert not os.path.lexists(f"/var/run/netns/{name}")  # nothing leaked to the host


def test_fd_only_namespace(runner: NamespaceRunner, nsxt: object) -> None:
    """A namespace whose last holder is an open file descriptor of a host process."""
    owner = subprocess.Popen(["unshare", "--net", "sleep", "600"])
    holder = None
    try:
        path = f"/proc/{owner.pid}/ns/net"
        ident = wait_for_netns(path)
        subprocess.run(["nsenter", f"--net={path}", "ip", "link", "add", "nsxtfbr0", "type",
                        "bridge"], check=True)  # fmt: skip
        fd = os.open(path, os.O_RDONLY)
        try:
            holder = subprocess.Popen(["sleep", "600"], pass_fds=(fd,))
        finally:
            os.close(fd)
        stop(owner)  # now only the holder's fd keeps it alive
        ns = NetNamespace(id=ident, fd_holders=(FdHolder(holder.pid, fd),))
        assert runner.equivalent_command(ns, ["true"]).startswith(
            f"nsenter --net=/proc/{holder.pid}/fd/{fd} "
        )
        got = runner.run(ns, ["ls", "/sys/class/net"])
        assert set(got.output.split()) == {"lo", "nsxtfbr0"}, got
    finally:
        stop(owner)
        if holder is not None:
            stop(holder)
