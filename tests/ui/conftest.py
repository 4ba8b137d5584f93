"""UI test plumbing: apps built on recorded-style snapshots with fake ports."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from uifixtures import AppFactory, FakeRunner, FakeSource, FakeWatcher, lab_snapshot

from nsexplorer.model import Snapshot
from nsexplorer.ui.app import NsxApp


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
