"""The app asks the watcher to follow every namespace of each full read, and the status
line says "live" only when the watcher reports that it follows all of them."""

from __future__ import annotations

from dataclasses import replace

from helpers import settle, widget_text
from uifixtures import LAB_B, AppFactory, FakeSource, FakeWatcher, lab_snapshot

from nsexplorer.model import candidate_paths
from nsexplorer.ports import WatchCoverage
from nsexplorer.ui.collecting import live_status

SMALL = (80, 24)


def status(app) -> str:  # type: ignore[no-untyped-def]
    return widget_text(app.query_one("#status")).strip()


async def test_every_namespace_of_each_full_read_is_handed_to_the_watcher(
    make_app: AppFactory,
) -> None:
    full = lab_snapshot()
    source = FakeSource(full)
    watcher = FakeWatcher()
    app = make_app(source=source, watcher=watcher, debounce=0.01, min_collect_gap=0)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        assert watcher.every, "watch_all never called"
        first = watcher.every[-1]
        assert set(first) == {ns.id for ns in full.namespaces if not ns.gone}
        for ns in full.namespaces:
            assert first[ns.id] == tuple(candidate_paths(ns))
        # a namespace goes: the next full read hands over the set without it
        kept = tuple(ns for ns in full.namespaces if ns.inode != LAB_B)
        source.snapshot = replace(full, namespaces=kept)
        assert watcher.on_change is not None
        watcher.on_change("namespace netlink")
        await pilot.pause(0.2)
        await settle(pilot)
        assert len(watcher.every) == 2
        assert full.by_inode(LAB_B).id not in watcher.every[-1]  # type: ignore[union-attr]
        assert len(watcher.every[-1]) == len(first) - 1


async def test_status_says_how_many_are_not_watched_and_fits_the_sidebar(
    make_app: AppFactory,
) -> None:
    full = lab_snapshot()
    n = len(full.namespaces)
    watcher = FakeWatcher(WatchCoverage(watched=n - 3, unwatched=3, over_budget=3))
    app = make_app(source=FakeSource(full), watcher=watcher, debounce=0.01, min_collect_gap=0)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.pause()
        assert status(app) == "live · 3 not watched"  # whole, not cut by the ellipsis
        watcher.report(WatchCoverage(watched=n))
        await pilot.pause()
        assert status(app) == f"{n} namespaces · live"
        watcher.report(WatchCoverage(watched=n - 1, pending=1))
        await pilot.pause()
        assert status(app) == f"{n} namespaces · watch…"
        watcher.report(WatchCoverage(unwatched=n))  # nothing could be opened
        await pilot.pause()
        assert status(app) == "not live: none watched"
        watcher.report(WatchCoverage(unwatched=n, stopped="OSError: no netlink"))
        await pilot.pause()
        assert status(app) == "not live: watch ended"


class BrokenWatcher(FakeWatcher):
    def start(self, *args: object, **kwargs: object) -> None:
        raise OSError("no netlink here")


async def test_status_never_says_live_when_nothing_watches(make_app: AppFactory) -> None:
    for watcher, said in (
        (None, "not live: no watcher"),
        (BrokenWatcher(), "not live: watch failed"),
    ):
        app = make_app(watcher=watcher, debounce=0.01, min_collect_gap=0)
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await pilot.pause()
            assert status(app) == said
            assert "live" not in status(app).replace("not live", "")
    # a replay: nothing to watch
    app = make_app(live=False, watcher=FakeWatcher(), replay_name="saved.json")
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        assert "live" not in status(app) and "· replay" in status(app)


def test_live_status_words() -> None:
    assert live_status(500, WatchCoverage(watched=500)) == "500 namespaces · live"
    assert live_status(500, WatchCoverage(watched=500, gone=2)) == "500 namespaces · live"
    assert live_status(500, WatchCoverage(watched=488, unwatched=12)) == "live · 12 not watched"
    assert live_status(500, None) == "500 namespaces · watch…"
    assert live_status(500, WatchCoverage(watched=500), failed=True) == "not live: watch failed"
    assert live_status(9, WatchCoverage(unwatched=9)) == "not live: none watched"
    assert live_status(9, WatchCoverage(watched=9), watcher=False) == "not live: no watcher"
    assert live_status(9, None, watcher=False) == "not live: no watcher"
    ended = WatchCoverage(unwatched=9, stopped="OSError: [Errno 24] Too many open files")
    assert live_status(9, ended) == "not live: watch ended"
    assert not ended.complete
    texts = [live_status(1000, WatchCoverage(watched=1000)), "live · 999 not watched"]
    texts += [
        live_status(9, c, failed=f, watcher=w)
        for c, f, w in (
            (None, False, False),
            (None, True, True),
            (ended, False, True),
            (WatchCoverage(unwatched=9), False, True),
        )
    ]
    for text in texts:
        assert len(text) <= 22  # the sidebar's 24 columns less its padding


async def test_sockets_subscribed_after_the_read_make_the_app_read_once_more(
    make_app: AppFactory,
) -> None:
    full = lab_snapshot()
    source = FakeSource(full)
    watcher = FakeWatcher()
    app = make_app(source=source, watcher=watcher, debounce=0.01, min_collect_gap=0)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        before = source.collects
        assert watcher.on_subscribed is not None
        # a change made between that read and this notice was heard by nobody
        source.snapshot = replace(full, namespaces=full.namespaces[:-1])
        watcher.on_subscribed((full.namespaces[-1].id,))
        await pilot.pause(0.1)
        await settle(pilot)
        assert source.collects == before + 1
        went = app.inventory.get(full.namespaces[-1].inode)
        assert went is None or went.gone  # the re-read saw it go
