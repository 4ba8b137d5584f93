"""The window between the app's read of the container engine and the watcher's event
stream: a container started inside it sends its events to nobody, so the watcher says
when the stream is open and the app reads again. Real daemon (the testbed), real watcher,
real app, both Engine API clients.

The container is started by a hook on the watcher's events() call (after the app's
first read, before the request for the stream is sent), not by a sleep that hopes to
land there. Containers made here are named ``nsxes-*`` and removed even on failure.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "ui"))

from helpers import settle

from nsexplorer.collect.docker_endpoint import Endpoint
from nsexplorer.collect.docker_engine import DockerEngine
from nsexplorer.collect.source import LiveSource
from nsexplorer.collect.watch import NetlinkWatcher
from nsexplorer.ui.app import NsxApp

pytestmark = [pytest.mark.integration, pytest.mark.root, pytest.mark.docker]

IMAGE = "nsx-busybox:test"


def docker(*args: str) -> subprocess.CompletedProcess[str]:
    host = os.environ.get("DOCKER_HOST", "")
    assert host.startswith("unix://"), host
    return subprocess.run(
        ["/usr/bin/docker", "-H", host, *args], capture_output=True, text=True, check=False
    )


@pytest.fixture
def name() -> Iterator[str]:
    made = f"nsxes-{secrets.token_hex(3)}"
    try:
        yield made
    finally:
        docker("rm", "-f", made)


class LateStartEngine(DockerEngine):
    """The testbed's engine; the first events() call starts a container before it asks
    for the stream (the app has read the engine by then: the watcher starts after the
    first full read)."""

    def __init__(self, container: str, *, use_sdk: bool) -> None:
        super().__init__(Endpoint(os.environ["DOCKER_HOST"], "DOCKER_HOST"), 5.0, use_sdk=use_sdk)
        self.container = container
        self.started = threading.Event()

    def events(self, subscribed: Callable[[], None] | None = None) -> Iterator[str]:
        if not self.started.is_set():
            run = docker(
                "run", "-d", "--network", "none", "--name", self.container, IMAGE, "sleep", "300"
            )
            assert run.returncode == 0, run.stderr
            self.started.set()
        yield from super().events(subscribed)


class EngineOnlyWatcher(NetlinkWatcher):
    """The real watcher, passing on only what came from the engine's thread: netlink
    notices (the container's own namespace, the host's, others' tests) and the sockets'
    subscriptions would re-read for reasons of their own and hide the missed start."""

    def start(self, on_change: Callable[[str], None], *more: Any) -> None:
        def from_engine(callback: Callable[[Any], None] | None) -> Callable[[Any], None] | None:
            if callback is None:
                return None

            def passed(arg: Any) -> None:
                if threading.current_thread().name.startswith("nsx-watch-docker"):
                    callback(arg)

            return passed

        on_coverage = more[0] if more else None
        on_subscribed = more[1] if len(more) > 1 else None
        super().start(from_engine(on_change), on_coverage, from_engine(on_subscribed))


@pytest.mark.parametrize("use_sdk", [False, True], ids=["stdlib", "sdk"])
async def test_a_container_started_before_the_event_stream_opened_is_shown(
    name: str, use_sdk: bool
) -> None:
    engine = LateStartEngine(name, use_sdk=use_sdk)
    source = LiveSource(engines=[engine])
    watcher = EngineOnlyWatcher(engines=[engine], rescan_interval=3600)
    app = NsxApp(source, watcher=watcher, read_only=True, debounce=0.05, min_collect_gap=0)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)

            def shown() -> set[str]:
                snapshot = app.inventory.snapshot
                namespaces = snapshot.namespaces if snapshot is not None else ()
                return {c.name for ns in namespaces for c in ns.containers}

            # Until the container shows (the stream's notice, its debounce, one read),
            # within a bound against a hang; without the notice it never does.
            deadline = time.monotonic() + 30
            while name not in shown() and time.monotonic() < deadline:
                await pilot.pause(0.1)
            assert engine.started.is_set(), "the hook never ran: no event stream was asked"
            assert name in shown(), f"{name} not shown: {sorted(shown())}; {watcher.errors}"
    finally:
        watcher.stop()
