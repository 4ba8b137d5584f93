"""The watcher's side of a container engine's event stream: each connection is announced
(a change before it is heard only by a new read), and the end of a connected stream is a
change too (the daemon went away: what the UI shows of it must be read again). Failed
reconnections are not changes: a daemon that stays down costs no re-read."""

from __future__ import annotations

import queue
import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from nsexplorer.collect import watch
from nsexplorer.collect.engine import EngineError
from nsexplorer.collect.watch import NetlinkWatcher

ATTEMPTS = 5  # connections tried before the test looks


class GoneEngine:
    """Connects once (one event, then the daemon closes the stream), then is down."""

    name = "docker"
    host = "unix:///nsxtest/none.sock"

    def __init__(self) -> None:
        self.calls = 0
        self.tried = threading.Event()

    def events(self, subscribed: Callable[[], None] | None = None) -> Iterator[str]:
        self.calls += 1
        if self.calls >= ATTEMPTS:
            self.tried.set()
        if self.calls > 1:
            raise EngineError("Connection refused")
        if subscribed is not None:
            subscribed()
        yield "docker start"

    def close(self) -> None:
        pass


def test_a_stream_that_ends_is_a_change_and_a_daemon_still_down_is_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refused() -> socket.socket:  # no netlink here: only the engine's thread speaks
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(watch, "netlink_socket", refused)
    engine = GoneEngine()
    heard: queue.Queue[str] = queue.Queue()
    w = NetlinkWatcher(engines=[engine], docker_retry=0.01)  # type: ignore[list-item]
    w.start(heard.put, None, lambda opened: heard.put(f"subscribed {opened}"))
    try:
        assert engine.tried.wait(30), engine.calls  # a bound against a hang
    finally:
        w.stop()
    said = []
    while not heard.empty():
        said.append(heard.get())
    assert said == ["subscribed ()", "docker start", "docker events ended"], said
    assert any("Connection refused" in e for e in w.errors), w.errors
