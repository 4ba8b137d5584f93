"""UI test plumbing: apps built on recorded-style snapshots with fake ports."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from uifixtures import FakeRunner, FakeSource, lab_snapshot

from nsexplorer.model import NamespaceId, Snapshot
from nsexplorer.ui.app import NsxApp


class FakeWatcher:
    """A ChangeWatcher the test drives by hand."""

    def __init__(self) -> None:
        self.on_change: Callable[[str], None] | None = None
        self.watched: list[NamespaceId | None] = []
        self.stopped = False

    def start(self, on_change: Callable[[str], None]) -> None:
        self.on_change = on_change

    def watch_namespace(self, ns: NamespaceId | None) -> None:
        self.watched.append(ns)

    def stop(self) -> None:
        self.stopped = True


AppFactory = Callable[..., NsxApp]


@pytest.fixture
def make_app() -> AppFactory:
    def factory(
        snapshot: Snapshot | None = None,
        *,
        live: bool = True,
        runner: FakeRunner | None = None,
        read_only: bool = False,
        watcher: FakeWatcher | None = None,
        source: FakeSource | None = None,
        **kwargs: object,
    ) -> NsxApp:
        src = source or FakeSource(snapshot or lab_snapshot(), live=live)
        return NsxApp(
            src,
            runner=runner if runner is not None else (FakeRunner() if live else None),
            watcher=watcher,
            read_only=read_only,
            **kwargs,  # type: ignore[arg-type]
        )

    return factory
