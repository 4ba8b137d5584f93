"""Recorded-style data for the views beside the main table (problems, inside, changes),
and a harness App that mounts one view over it."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from textual.app import App, ComposeResult
from uifixtures import FakeRunner

from nsexplorer.errors import NamespaceGone
from nsexplorer.model import NetNamespace, PublishedPort, Rule
from nsexplorer.model_inside import DnatRule, FdbEntry, InsideFacts, Neighbour, SocketInfo
from nsexplorer.ports import RunResult
from nsexplorer.ui import roles
from nsexplorer.ui.widgets.inside import InsidePane

ANY4 = "0.0.0.0"  # noqa: S104 - an address in test data, nothing binds
HOSTILE_COMM = "\x1b[31mev[b]il\x07"


@dataclass(frozen=True, slots=True)
class FakeProblem:
    """The fields of nsexplorer.problems.Problem (the views need only these)."""

    kind: str
    severity: str
    namespace_inode: int
    interface: str | None
    message: str
    evidence: tuple[str, ...] = ()
    next: str = ""


def lab_problems() -> tuple[FakeProblem, ...]:
    return (
        FakeProblem(
            "veth-no-carrier",
            "warning",
            4026532602,
            "veth0",
            "no carrier: peer admin down in nsxlab-a",
            ("peer veth0 in nsxlab-a is admin down",),
            "ip netns exec nsxlab-b ip link show veth0",
        ),
        FakeProblem(
            "veth-admin-down",
            "error",
            4026532601,
            "veth0",
            "admin down \x1b[2J[red]x[/red]",
            ("flags: BROADCAST,MULTICAST",),
            "ip netns exec nsxlab-a ip link show veth0",
        ),
        FakeProblem("leaked-netns", "warning", 4026532901, None, "nothing holds it but an fd"),
    )


def inside_facts(ns: NetNamespace) -> InsideFacts:
    return InsideFacts(
        namespace_inode=ns.inode,
        read_at="2026-12-01T23:00:00Z",
        sockets=(
            SocketInfo("tcp", "LISTEN", ANY4, 80, None, None, (101,), ("nginx",), 4, 9),
            SocketInfo(
                "tcp", "ESTAB", "10.0.0.2", 80, "10.0.0.9", 5555, (202,), (HOSTILE_COMM,), 4, 10
            ),
            SocketInfo("udp", "UNCONN", "::", 53, None, None, family=6),
            SocketInfo("unix", "LISTEN", "@nsx\nsock", None, None, None, family=0, inode=11),
        ),
        time_wait=3,
        neighbours=(Neighbour("10.0.0.9", "02:00:00:00:00:09", "REACHABLE", "eth0"),),
        fdb=(FdbEntry("02:00:00:00:00:09", "veth0", master="br0"),),
        published=(PublishedPort("80/tcp", ANY4, "8080"),),
        dnat=(
            DnatRule(4026531840, "iptables", 4, "nat", "DOCKER", "10.0.0.2", "80", "tcp", "8080"),
        ),
        conntrack_count=None,
        unavailable=(),
    )


@dataclass
class FakeInside:
    """SnapshotSource.inside over canned facts; ``gone`` inodes raise NamespaceGone."""

    gone: set[int] = field(default_factory=set)
    calls: list[int] = field(default_factory=list)

    def inside(self, ns: NetNamespace, parts: Collection[str] | None = None) -> InsideFacts:
        self.calls.append(ns.inode)
        if ns.inode in self.gone:
            raise NamespaceGone(f"namespace {ns.inode} vanished")
        return inside_facts(ns)


RULES = (
    Rule(4, 0, 255, "lookup"),
    Rule(4, 100, 100, "lookup", src="10.9.0.0/16", iif="eth\x1b0"),
    Rule(4, 32766, 254, "lookup"),
)


class RolesApp(App[None]):
    """An app whose console knows render.py's roles (NsxApp gives them the theme's look;
    a harness only needs them to resolve)."""

    def __init__(self) -> None:
        super().__init__()
        self.console.push_theme(roles.console_theme(None))


class InsideHarness(RolesApp):
    def compose(self) -> ComposeResult:
        yield InsidePane(id="inside")


class ScreenHarness(RolesApp):
    """An empty app; tests push the screen under test and read its result."""

    def __init__(self) -> None:
        super().__init__()
        self.results: list[object] = []

    def record(self, result: object) -> None:
        self.results.append(result)


class FailingRunner(FakeRunner):
    """FakeRunner whose command fails (exit 2, hostile output) in the ``bad`` inodes."""

    def __init__(self, bad: set[int], **kwargs: bool) -> None:
        super().__init__(**kwargs)
        self.bad = bad

    def run(
        self,
        ns: NetNamespace,
        argv: Sequence[str],
        *,
        all_namespaces: bool = False,
        timeout: float | None = None,
        cancel: Callable[[], bool] | None = None,
        via_pid: int | None = None,
    ) -> RunResult:
        got = super().run(
            ns, argv, all_namespaces=all_namespaces, timeout=timeout, cancel=cancel, via_pid=via_pid
        )
        if ns.inode in self.bad:
            return RunResult(tuple(argv), 2, "RTNETLINK \x1b[31m[b]no[/b]\n")
        return got
