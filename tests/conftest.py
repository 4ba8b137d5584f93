"""Shared test plumbing: root/Docker requirements, CI strictness, the lab, throwaway objects.

- Markers (declared in pyproject.toml) drive skips: a test marked ``root`` is skipped
  when not root, ``docker`` when no Docker engine answers; every skip states why. Use
  the markers (or the fixtures below) rather than `from conftest import ...`: with more
  than one conftest.py under tests/, that import may find the wrong one.
- Under ``CI=true`` every skip becomes a failure: a green CI means everything ran.
- ``DOCKER_HOST`` defaults to the testbed's socket (scripts/testbed.sh) when it is unset
  and that socket exists, for this process and every subprocess it starts.
- ``lab``: the session-wide lab topology (nsexplorer.lab), built once, removed at the end
  even when tests fail. It is a ``LabState``: names, pids, paths, containers.
- ``nsxt``: a factory for throwaway bridges, veths and named netns (prefix ``nsxt``)
  that are removed after the test, pass or fail.
- ``readable_nsexplorer``: how a test runs nsexplorer as an unprivileged user (setpriv):
  the checkout may sit under a private directory (/root is 0700), so the package and its
  runtime dependencies are copied once per session to a world-readable temporary
  directory and run by an interpreter that user can reach.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from nsexplorer.lab import LabState

TESTBED_SOCKET = "/run/nsx-testbed/docker.sock"
TESTBED_DOCKER_HOST = f"unix://{TESTBED_SOCKET}"
LAB_SESSION_LOCK = "/run/nsxlab.lock"

if not os.environ.get("DOCKER_HOST") and os.path.exists(TESTBED_SOCKET):
    os.environ["DOCKER_HOST"] = TESTBED_DOCKER_HOST

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


# --------------------------------------------------------------------------- requirements


def is_root() -> bool:
    return os.geteuid() == 0


_docker_cache: dict[str, str | None] = {}


def docker_unavailable_reason() -> str | None:
    """None when the engine at DOCKER_HOST answers /_ping, else why not."""
    host = os.environ.get("DOCKER_HOST", "")
    if host in _docker_cache:
        return _docker_cache[host]
    reason: str | None
    if not host:
        reason = (
            "no Docker engine: DOCKER_HOST is unset and the testbed socket "
            f"{TESTBED_SOCKET} does not exist (run `scripts/testbed.sh start`)"
        )
    elif not host.startswith("unix://"):
        reason = f"DOCKER_HOST={host} is not a unix socket; the tests only use local engines"
    else:
        path = host.removeprefix("unix://")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(5)
                sock.connect(path)
                sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
                answer = sock.recv(64)
            reason = None if b" 200 " in answer else f"Docker at {host} answered {answer!r}"
        except OSError as err:
            reason = f"Docker engine at {host} does not answer ({err.strerror or err})"
    _docker_cache[host] = reason
    return reason


def requires_root() -> None:
    """Skip the calling test (or fixture) unless running as root."""
    if not is_root():
        pytest.skip("needs root (creates namespaces, veths, bridges); run the tests as root")


def requires_docker() -> None:
    """Skip the calling test (or fixture) unless a Docker engine answers at DOCKER_HOST."""
    reason = docker_unavailable_reason()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def docker_reachable() -> bool:
    """True when a Docker engine answers at DOCKER_HOST (no skip; for tests that adapt)."""
    return docker_unavailable_reason() is None


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("root") is not None:
        requires_root()
    if item.get_closest_marker("docker") is not None:
        requires_docker()


# --------------------------------------------------------------------------- CI strictness


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped under CI=true, which counts as a failure: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped:
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"module skipped under CI=true, which counts as a failure: {reason}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The testbed's own tests may restart the daemon, and the lab's CLI tests compare the
    # host before and after a whole lab cycle: both run before anything else, so before
    # anything builds the session-wide `lab`.
    def rank(item: pytest.Item) -> int:
        name = Path(str(item.fspath)).name
        if name.startswith("test_testbed"):
            return 0
        if name.startswith("test_lab"):
            return 1
        return 2

    items.sort(key=rank)  # stable: keeps the collection order within each group


# --------------------------------------------------------------------------- the lab


class _SessionLock:
    """One pytest session at a time builds and uses the lab (the machine may be shared).

    A parent that already holds the lock for longer (``.ci/run``, which changes the
    host's firewall for its whole run) passes its descriptor down as NSXLAB_LOCK_FD:
    flock on that same open file succeeds at once, on any other it waits like anyone.
    """

    def __init__(self) -> None:
        self._fd: int | None = None
        self._inherited = False

    def _inherited_fd(self) -> int | None:
        raw = os.environ.get("NSXLAB_LOCK_FD", "")
        if not raw.isascii() or not raw.isdigit():
            return None
        fd = int(raw)
        try:
            held, lock = os.fstat(fd), os.stat(LAB_SESSION_LOCK)
        except OSError:
            return None
        if (held.st_dev, held.st_ino) != (lock.st_dev, lock.st_ino):
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return None  # not the holder's open file: wait for the lock as anyone does
        return fd

    def acquire(self, timeout: float = 900.0) -> None:
        if self._fd is not None:
            return
        inherited = self._inherited_fd()
        if inherited is not None:
            self._fd, self._inherited = inherited, True
            return
        fd = os.open(LAB_SESSION_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + timeout
        announced = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(fd)
                    pytest.fail(f"another test session held {LAB_SESSION_LOCK} for {timeout}s")
                if not announced:
                    print(f"\nwaiting for {LAB_SESSION_LOCK}: another test session uses the lab")
                    announced = True
                time.sleep(0.5)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None and not self._inherited:
            os.close(self._fd)  # an inherited lock stays the parent's, held
        self._fd = None


_LAB_LOCK = _SessionLock()


@pytest.fixture(scope="session")
def lab_lock() -> Iterator[None]:
    """Holds the cross-session lab lock for the rest of this session (root only)."""
    requires_root()
    _LAB_LOCK.acquire()
    try:
        yield
    finally:
        _LAB_LOCK.release()


@pytest.fixture(scope="session")
def lab(lab_lock: None) -> Iterator[LabState]:
    """The lab topology (with Docker when an engine answers), removed at session end."""
    from nsexplorer import lab as labmod

    labmod.down()  # leftovers of a crashed run, or a lab someone left up by hand
    try:
        state = labmod.up(docker=docker_unavailable_reason() is None)
        yield state
    finally:
        report = labmod.down()
        if report.problems:
            print("lab teardown problems:", *report.problems, sep="\n  ")


# --------------------------------------------------------------------------- throwaways


class Throwaway:
    """Makes bridges, veth pairs and named netns with the ``nsxt`` prefix; removes them.

    Names are ``nsxt`` + 4 random hex + a kind letter + a counter (at most 15 bytes).
    """

    def __init__(self) -> None:
        self.tag = secrets.token_hex(2)
        self._n = 0
        self.links: list[str] = []
        self.namespaces: list[str] = []

    def _name(self, kind: str) -> str:
        self._n += 1
        return f"nsxt{self.tag}{kind}{self._n}"

    @staticmethod
    def ip(*args: str) -> str:
        done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def netns(self) -> str:
        """A new named netns (``ip netns add``) with lo up; returns its name."""
        name = self._name("n")
        self.ip("netns", "add", name)
        self.namespaces.append(name)
        self.ip("-n", name, "link", "set", "lo", "up")
        return name

    def bridge(self, netns: str | None = None, address: str | None = None) -> str:
        """A new bridge, up, in the host netns or ``netns``; returns its name."""
        name = self._name("b")
        where = ["-n", netns] if netns else []
        self.ip(*where, "link", "add", name, "type", "bridge")
        if netns is None:
            self.links.append(name)
        if address:
            self.ip(*where, "addr", "add", address, "dev", name)
        self.ip(*where, "link", "set", name, "up")
        return name

    def veth(
        self,
        netns_a: str | None = None,
        netns_b: str | None = None,
        master_a: str | None = None,
        address_a: str | None = None,
        address_b: str | None = None,
    ) -> tuple[str, str]:
        """A veth pair, end A in ``netns_a`` and end B in ``netns_b`` (None: host).

        Returns (name_a, name_b). ``master_a`` enslaves end A to that bridge.
        """
        a, b = self._name("a"), self._name("z")
        self.ip("link", "add", a, "type", "veth", "peer", "name", b)
        self.links.extend((a, b))
        for end, ns, addr in ((a, netns_a, address_a), (b, netns_b, address_b)):
            where = []
            if ns:
                self.ip("link", "set", end, "netns", ns)
                where = ["-n", ns]
            if addr:
                self.ip(*where, "addr", "add", addr, "dev", end)
            self.ip(*where, "link", "set", end, "up")
        if master_a:
            where = ["-n", netns_a] if netns_a else []
            self.ip(*where, "link", "set", a, "master", master_a)
        return a, b

    def cleanup(self) -> list[str]:
        problems: list[str] = []
        for name in reversed(self.links):
            done = subprocess.run(
                ["ip", "link", "del", "dev", name], capture_output=True, text=True, check=False
            )
            if done.returncode != 0 and "Cannot find device" not in done.stderr:
                problems.append(f"ip link del {name}: {done.stderr.strip()}")
        for ns in reversed(self.namespaces):
            done = subprocess.run(
                ["ip", "netns", "del", ns], capture_output=True, text=True, check=False
            )
            if done.returncode != 0 and "No such file" not in done.stderr:
                problems.append(f"ip netns del {ns}: {done.stderr.strip()}")
        self.links.clear()
        self.namespaces.clear()
        return problems


@pytest.fixture
def nsxt() -> Iterator[Throwaway]:
    """Throwaway kernel objects for one test (root only), removed even on failure."""
    requires_root()
    maker = Throwaway()
    try:
        yield maker
    finally:
        problems = maker.cleanup()
        if problems:
            print("nsxt cleanup problems:", *problems, sep="\n  ")


# --------------------------------------------------------------------------- unprivileged runs


@dataclass(frozen=True, slots=True)
class ReadableNsexplorer:
    """``argv`` starts nsexplorer from a copy any user can read; ``env`` adds its path."""

    argv: tuple[str, ...]
    pythonpath: str

    def env(self, base: Mapping[str, str]) -> dict[str, str]:
        return {**base, "PYTHONPATH": self.pythonpath, "PYTHONDONTWRITEBYTECODE": "1"}


def _reachable_by_others(path: str) -> bool:
    """Every directory on the way is searchable and the file executable by "other"."""
    p = Path(path)
    for parent in p.parents:
        try:
            if not os.stat(parent).st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
    try:
        return bool(os.stat(p).st_mode & stat.S_IXOTH)
    except OSError:
        return False


def _runtime_distributions() -> list[Any]:
    """nsexplorer's runtime dependencies, transitively (not the test extras)."""
    import importlib.metadata as md

    from packaging.requirements import Requirement

    seen: dict[str, Any] = {}
    todo = [req for req in md.requires("nsexplorer") or ()]
    while todo:
        req = Requirement(todo.pop())
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        key = req.name.lower().replace("_", "-")
        if key in seen:
            continue
        try:
            dist = md.distribution(req.name)
        except md.PackageNotFoundError:
            continue  # an optional dependency that is not installed
        seen[key] = dist
        todo += list(dist.requires or ())
    return list(seen.values())


@pytest.fixture(scope="session")
def readable_nsexplorer() -> Iterator[ReadableNsexplorer]:
    """nsexplorer runnable by an unprivileged user whatever the checkout's permissions."""
    import nsexplorer

    interpreters = [os.path.realpath(sys.executable)]
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for folder in ("/usr/local/bin", "/usr/bin", "/bin"):
        interpreters.append(os.path.join(folder, version))
    python = next((p for p in interpreters if _reachable_by_others(p)), None)
    if python is None:
        pytest.skip(f"no {version} that an unprivileged user can run: tried {interpreters}")
    root = Path(tempfile.mkdtemp(prefix="nsxt-readable-"))
    try:
        root.chmod(0o755)
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(Path(nsexplorer.__file__).parent, root / "nsexplorer", ignore=ignore)
        for dist in _runtime_distributions():
            for rel in dist.files or ():
                if ".." in rel.parts or rel.suffix == ".pyc":
                    continue  # console scripts and caches
                source = Path(str(dist.locate_file(rel)))
                if source.is_file():
                    target = root / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(source, target)
        for folder, dirs, files in os.walk(root):
            for d in dirs:
                os.chmod(os.path.join(folder, d), 0o755)  # noqa: S103 (readable is the point)
            for f in files:
                os.chmod(os.path.join(folder, f), 0o644)
        # -P: the (possibly unreadable) working directory is not put on sys.path
        yield ReadableNsexplorer((python, "-P", "-m", "nsexplorer"), str(root))
    finally:
        shutil.rmtree(root, ignore_errors=True)
