"""What runs is what was verified: the path may be swapped after the check, the command
still runs in the namespace whose inode was confirmed and audited.

Each race is made real: right after nsexplorer verified and opened the namespace, and
before the command starts, the test bind-mounts ANOTHER namespace over the very path
that was checked (the seam is the function that starts the child). The command then
reports, from inside, which namespace it is in.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from nsexplorer.actions import naming, opened
from nsexplorer.actions import runner as runner_mod
from nsexplorer.actions.runner import NamespaceRunner
from nsexplorer.errors import NamespaceGone
from nsexplorer.kernel import children, nsfs
from nsexplorer.model import BindMount, NamespaceId, NetNamespace

pytestmark = [pytest.mark.integration, pytest.mark.root]

NETNS = "/var/run/netns"
READ_NET = ["readlink", "/proc/self/ns/net"]


def nsid(path: str) -> NamespaceId:
    st = os.stat(path)
    return NamespaceId(st.st_dev, st.st_ino)


def unmount_all(path: str) -> None:
    """Every mount stacked on ``path`` (ours), then the file."""
    for _ in range(10):
        if subprocess.run(["mountpoint", "-q", path], check=False).returncode != 0:
            break
        subprocess.run(["umount", "-l", path], check=False)
    if os.path.lexists(path):
        os.unlink(path)


@dataclass
class Named:
    name: str
    id: NamespaceId

    @property
    def path(self) -> str:
        return f"{NETNS}/{self.name}"


@pytest.fixture
def pair() -> Iterator[tuple[Named, Named]]:
    """Two fresh named namespaces, nsxh4-a-* and nsxh4-b-*, removed afterwards."""
    tag = secrets.token_hex(3)
    names = [f"nsxh4-a-{tag}", f"nsxh4-b-{tag}"]
    try:
        for name in names:
            subprocess.run(["ip", "netns", "add", name], check=True)
        a, b = (Named(n, nsid(f"{NETNS}/{n}")) for n in names)
        assert a.id != b.id
        yield a, b
    finally:
        for name in names:
            unmount_all(f"{NETNS}/{name}")


def swap(path: str, to: Named) -> None:
    """From now on ``path`` opens namespace ``to`` (a bind mount stacked on it)."""
    subprocess.run(["mount", "--bind", to.path, path], check=True)
    assert nsid(path) == to.id


def racing(
    monkeypatch: pytest.MonkeyPatch, module: Any, attr: str, path: str, to: Named
) -> list[int]:
    """Replace ``module.attr`` by a wrapper that swaps ``path`` first; counts calls."""
    real: Callable[..., Any] = getattr(module, attr)
    calls: list[int] = []

    def wrapper(*args: Any, **kw: Any) -> Any:
        calls.append(1)
        swap(path, to)
        return real(*args, **kw)

    monkeypatch.setattr(module, attr, wrapper)
    return calls


def net_of(output: str) -> str:
    return output.strip()


def audit(runner: NamespaceRunner) -> list[dict[str, Any]]:
    """Each action's final audit line. A command's "running" line, written as it
    starts, says the same (where it ran, what was verified and executed)."""
    lines = [json.loads(x) for x in Path(runner.audit_log_path).read_text().splitlines()]
    final = [e for e in lines if e.get("state") != "running"]
    for started in (e for e in lines if e.get("state") == "running"):
        [end] = [e for e in final if e.get("run") == started["run"]]
        same = ("time", "state", "exit_status", "stopped")
        assert {k: v for k, v in started.items() if k not in same} == {
            k: v for k, v in end.items() if k not in same
        }
    return final


@pytest.fixture
def runner(tmp_path: Path) -> NamespaceRunner:
    return NamespaceRunner(audit_log=str(tmp_path / "audit.log"))


def test_run_stays_in_the_verified_namespace_when_the_name_is_swapped(
    pair: tuple[Named, Named], runner: NamespaceRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = pair
    ns = NetNamespace(id=a.id, names=(a.name,))
    calls = racing(monkeypatch, runner_mod, "run_captured", a.path, b)
    got = runner.run(ns, READ_NET)
    assert calls == [1]
    assert got.exit_status == 0, got
    assert net_of(got.output) == f"net:[{a.id.ino}]"  # not b's
    # What is shown (and would be pasted) is the name, and the swap was real: pasted
    # now, the same command lands in b. That is the race nsexplorer no longer loses.
    assert got.argv == ("ip", "netns", "exec", a.name, *READ_NET)
    pasted = subprocess.run(list(got.argv), capture_output=True, text=True, check=True)
    assert net_of(pasted.stdout) == f"net:[{b.id.ino}]"
    [record] = audit(runner)
    assert record["netns_inode"] == a.id.ino
    assert record["verified_path"] == a.path
    assert record["command"] == list(got.argv)
    executed, guard = record["executed"], children.guard()
    assert executed[: len(guard)] == guard  # killed with nsexplorer (kernel.children)
    assert executed[len(guard)] == "nsenter"
    assert executed[len(guard) + 1].startswith("--net=/proc/self/fd/")


def test_exec_cli_path_stays_in_the_verified_namespace(
    pair: tuple[Named, Named],
    runner: NamespaceRunner,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    a, b = pair
    ns = NetNamespace(id=a.id, names=(a.name,))
    out = tmp_path / "net"
    shown: list[str] = []
    racing(monkeypatch, runner_mod, "call_in_foreground", a.path, b)
    script = 'readlink /proc/self/ns/net > "$1"; ls /sys/class/net >> "$1"'
    status = runner.run_attached(
        ns, ["sh", "-c", script, "sh", str(out)], announce=lambda cmd, seed: shown.append(cmd)
    )
    assert status == 0
    lines = out.read_text().split()
    assert lines[0] == f"net:[{a.id.ino}]"
    assert lines[1:] == ["lo"]  # a fresh sysfs of that namespace, as ip netns exec gives
    assert shown == [f"ip netns exec {a.name} sh -c {_q(script)} sh {out}"]


def _q(text: str) -> str:
    from nsexplorer.shellquote import quote

    return quote(text)


@pytest.fixture
def path_mount(pair: tuple[Named, Named], tmp_path: Path) -> Iterator[str]:
    """a's namespace bind-mounted at a plain path (not /var/run/netns): the PATH way."""
    path = str(tmp_path / "nsxh4-ns")
    Path(path).touch()
    subprocess.run(["mount", "--bind", pair[0].path, path], check=True)
    try:
        yield path
    finally:
        unmount_all(path)


def test_shell_stays_in_the_verified_namespace_when_the_path_is_swapped(
    pair: tuple[Named, Named], runner: NamespaceRunner, path_mount: str
) -> None:
    a, b = pair
    ns = NetNamespace(id=a.id, bind_mounts=(BindMount(path_mount, 0, hidden=False),))
    shell = runner.prepare_shell(ns)
    try:
        assert shell.command.startswith(f"nsenter --net={path_mount} -- unshare")
        swap(path_mount, b)  # after verification, before the shell starts
        done = subprocess.run(
            shell.argv,
            input="readlink /proc/self/ns/net; exit 4\n",
            capture_output=True,
            text=True,
            check=False,
            pass_fds=shell.pass_fds,
        )
        shell.ended(done.returncode, "")
    finally:
        shell.release()
    assert done.returncode == 4, done.stderr
    assert net_of(done.stdout) == f"net:[{a.id.ino}]"
    [record] = audit(runner)  # its running line says the same (see audit())
    assert (record["action"], record["verified_path"]) == ("shell", path_mount)
    assert record["exit_status"] == 4


def test_name_binds_the_verified_namespace_when_the_source_is_swapped(
    pair: tuple[Named, Named], runner: NamespaceRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = pair
    ns = NetNamespace(id=a.id, names=(a.name,))
    new = f"nsxh4-n-{secrets.token_hex(3)}"
    racing(monkeypatch, naming, "ensure_run_dir", a.path, b)
    try:
        assert runner.name(ns, new) == f"{NETNS}/{new}"
        assert nsid(f"{NETNS}/{new}") == a.id
        assert nsid(a.path) == b.id  # the swap happened before the bind mount
    finally:
        unmount_all(f"{NETNS}/{new}")


def test_a_vanished_path_is_gone_and_nothing_runs(
    pair: tuple[Named, Named], runner: NamespaceRunner, tmp_path: Path
) -> None:
    a, b = pair
    swap(a.path, b)  # before verification: the name now opens another namespace
    ns = NetNamespace(id=a.id, names=(a.name,))
    marker = tmp_path / "ran"
    with pytest.raises(NamespaceGone, match="is gone"):
        runner.run(ns, ["touch", str(marker)])
    assert not marker.exists()
    assert not Path(runner.audit_log_path).exists()


# ---------------------------------------------------------------------- --all-namespaces


@pytest.fixture
def uts_process() -> Iterator[tuple[subprocess.Popen[bytes], NamespaceId]]:
    """A process in its own net and uts namespaces, hostname nsxh4-uts."""
    proc = subprocess.Popen(
        ["unshare", "--net", "--uts", "sh", "-c", "hostname nsxh4-uts && exec sleep 600"]
    )
    try:
        deadline = time.monotonic() + 10
        while Path(f"/proc/{proc.pid}/comm").read_text().strip() != "sleep":
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        yield proc, nsid(f"/proc/{proc.pid}/ns/net")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_all_namespaces_enters_every_namespace_of_that_one_process(
    uts_process: tuple[subprocess.Popen[bytes], NamespaceId], runner: NamespaceRunner
) -> None:
    proc, ident = uts_process
    pid = proc.pid
    ns = NetNamespace(id=ident, pids=(pid,))
    got = runner.run(ns, ["sh", "-c", "hostname; readlink /proc/self/ns/uts"], all_namespaces=True)
    assert got.exit_status == 0, got
    assert got.output.split() == ["nsxh4-uts", os.readlink(f"/proc/{pid}/ns/uts")]
    assert got.argv[:4] == ("nsenter", "-t", str(pid), "-a")
    [record] = audit(runner)
    inodes = record["namespace_inodes"]
    for name, opt in opened.ALL_TYPES:
        if opt in inodes:
            assert inodes[opt] == os.stat(f"/proc/{pid}/ns/{name}").st_ino
    assert inodes["net"] == ident.ino
    assert inodes["uts"] != os.stat("/proc/thread-self/ns/uts").st_ino
    assert "user" not in inodes  # the same user namespace as ours: skipped, like nsenter -a


@pytest.mark.parametrize("pidfd", [True, False], ids=["pidfd", "start-time"])
def test_all_namespaces_refuses_when_the_pid_may_have_been_recycled(
    uts_process: tuple[subprocess.Popen[bytes], NamespaceId],
    runner: NamespaceRunner,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    pidfd: bool,
) -> None:
    """Every namespace file must come from one process: if it exited and was reaped
    once they were all open (its pid free for the next process), nothing runs."""
    proc, ident = uts_process
    pid = proc.pid
    if not pidfd:

        def no_pidfd(_pid: int, _flags: int = 0) -> int:
            raise OSError(38, "Function not implemented")  # ENOSYS, as on kernels < 5.3

        monkeypatch.setattr(os, "pidfd_open", no_pidfd)
    last = [n for n, _ in opened.ALL_TYPES if os.path.exists(f"/proc/thread-self/ns/{n}")][-1]
    real = nsfs.open_verified
    opened_paths: list[str] = []

    def open_then_reap(path: str, *args: Any, **kw: Any) -> tuple[int, NamespaceId]:
        got = real(path, *args, **kw)
        opened_paths.append(path)
        if path == f"/proc/{pid}/ns/{last}":  # every file is open: now the process goes
            proc.kill()
            proc.wait()
        return got

    monkeypatch.setattr(nsfs, "open_verified", open_then_reap)
    marker = tmp_path / "ran"
    ns = NetNamespace(id=ident, pids=(pid,))
    with pytest.raises(NamespaceGone, match="have exited or moved"):
        runner.run(ns, ["touch", str(marker)], all_namespaces=True)
    assert f"/proc/{pid}/ns/{last}" in opened_paths  # refused by the check after the opens
    assert not marker.exists()
    assert not Path(runner.audit_log_path).exists()


# ---------------------------------------------------------------------- ip netns exec rules


def test_named_namespace_binds_its_etc_netns_files_even_with_glob_characters_in_the_name(
    runner: NamespaceRunner,
) -> None:
    """The constant script gets the name as an argument: `[x]` in it is no glob."""
    tag = secrets.token_hex(2)
    name, decoy = f"nsxh4-[g]{tag}", f"nsxh4-g{tag}"  # the glob [g] would match the decoy
    etc, decoy_etc = Path("/etc/netns") / name, Path("/etc/netns") / decoy
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        for where, text in ((etc, "10.250.0.7 nsxh4-right\n"), (decoy_etc, "10.250.0.8 wrong\n")):
            where.mkdir(parents=True)
            (where / "hosts").write_text(text)
        ns = NetNamespace(id=nsid(f"{NETNS}/{name}"), names=(name,))
        got = runner.run(ns, ["cat", "/etc/hosts"])
        assert got.exit_status == 0, got
        assert got.output == "10.250.0.7 nsxh4-right\n"
        assert got.argv[:4] == ("ip", "netns", "exec", name)
        # The same as iproute2 does:
        ip = subprocess.run(["ip", "netns", "exec", name, "cat", "/etc/hosts"],
                            capture_output=True, text=True, check=True)  # fmt: skip
        assert ip.stdout == got.output
    finally:
        for where in (etc, decoy_etc):
            (where / "hosts").unlink(missing_ok=True)
            if where.exists():
                where.rmdir()
        unmount_all(f"{NETNS}/{name}")
