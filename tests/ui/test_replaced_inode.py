"""A namespace replaced under the same inode (the kernel reuses a freed namespace's inode
number within a second): the newcomer takes the row at once, the selected one too, and
is said to be new; nothing runs in it by mistake: a prompt opened before the replacement
refuses, a mark does not carry over to the newcomer."""

from __future__ import annotations

from dataclasses import replace

from helpers import settle, widget_text
from uifixtures import DB, LAB_A, AppFactory, FakeRunner, FakeSource, FakeWatcher, lab_snapshot

from nsexplorer.model import ProcessInfo, Snapshot
from nsexplorer.ui.collecting import REPLACED_NAMED, replaced_notice
from nsexplorer.ui.incident import IncidentTools
from nsexplorer.ui.messages import NamespaceVanished, ProcessesFetched
from nsexplorer.ui.widgets.sidebar import NamespaceTree

OLD_COOKIE, NEW_COOKIE = 4101, 9202


def with_cookie(snap: Snapshot, inode: int, cookie: int, **changes: object) -> Snapshot:
    return replace(
        snap,
        namespaces=tuple(
            replace(ns, cookie=cookie, **changes) if ns.inode == inode else ns  # type: ignore[arg-type]
            for ns in snap.namespaces
        ),
    )


def before() -> Snapshot:
    return with_cookie(lab_snapshot(), LAB_A, OLD_COOKIE)


def after() -> Snapshot:
    """nsxlab-a was deleted; a new namespace, ``intruder``, got its inode number."""
    return with_cookie(
        lab_snapshot(), LAB_A, NEW_COOKIE, names=("intruder",), label="intruder", bind_mounts=()
    )


async def replaced(pilot, source: FakeSource, watcher: FakeWatcher) -> None:  # type: ignore[no-untyped-def]
    source.snapshot = after()
    assert watcher.on_change is not None
    watcher.on_change("host netlink")
    await pilot.pause(0.1)
    await settle(pilot)


def transcript(app) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(app.main.output_pane().transcript)


async def test_the_selected_namespace_replaced_under_its_inode_shows_the_newcomer(
    make_app: AppFactory,
) -> None:
    """QA: the newcomer used to be held back while the old row stayed selected, shown
    gone: a restarted container (or another one that got the inode) was hidden from the
    sidebar and the filter for as long as the responder looked at it."""
    source, watcher, runner = FakeSource(before()), FakeWatcher(), FakeRunner()
    app = make_app(source=source, watcher=watcher, runner=runner, debounce=0.01, min_collect_gap=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await settle(pilot)
        await replaced(pilot, source, watcher)
        assert app.selected == LAB_A
        ns = app.main.selected_ns
        assert ns is not None and ns.cookie == NEW_COOKIE and not ns.gone
        tree = widget_text(app.query_one(NamespaceTree))
        assert "intruder" in tree and "nsxlab-a" not in tree, tree
        assert widget_text(app.query_one("#title")).strip().startswith("intruder  netns")
        said = " ".join(str(n.message) for n in app._notifications)
        assert f"netns {LAB_A}: nsxlab-a was deleted" in said, said
        assert "\\x0a" not in said, said  # the notice's line breaks are breaks, not escapes
        assert "a new namespace, intruder (the selected row shows it now)" in said, said
        await pilot.press("slash", *"intruder", "enter")  # the filter finds it
        await settle(pilot)
        assert app.selected == LAB_A
        await pilot.press("escape", "escape", "x", *"hostname", "enter")
        await settle(pilot)
        assert runner.runs == [(LAB_A, ("hostname",), False)]
        assert "── intruder · " in transcript(app)  # the entry names the newcomer


async def test_a_prompt_opened_before_the_replacement_runs_nothing(make_app: AppFactory) -> None:
    source, watcher, runner = FakeSource(before()), FakeWatcher(), FakeRunner()
    app = make_app(source=source, watcher=watcher, runner=runner, debounce=0.01, min_collect_gap=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await settle(pilot)
        await pilot.press("x", *"hostname")
        await replaced(pilot, source, watcher)
        await pilot.press("enter")
        await settle(pilot)
        assert runner.runs == []
        assert "was replaced since it was read" in transcript(app)


async def test_once_moved_away_the_newcomer_is_listed_and_a_mark_does_not_carry_over(
    make_app: AppFactory,
) -> None:
    source, watcher, runner = FakeSource(before()), FakeWatcher(), FakeRunner()
    fanned: list[object] = []

    def fanout(namespaces, argv, *, cancel=None, on_done=None):  # type: ignore[no-untyped-def]
        fanned.append(namespaces)
        return []

    app = make_app(
        source=source,
        watcher=watcher,
        runner=runner,
        debounce=0.01,
        min_collect_gap=0,
        incident=IncidentTools(fanout=fanout),
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await settle(pilot)
        await pilot.press("space")  # mark nsxlab-a
        app.goto(DB)
        await settle(pilot)
        await replaced(pilot, source, watcher)
        inv = app.main.nsx.inventory
        now = inv.get(LAB_A)
        assert now is not None and now.cookie == NEW_COOKIE and now.label == "intruder"
        assert LAB_A not in app.main.marks  # the newcomer is not marked
        said = " ".join(str(n.message) for n in app._notifications)
        assert f"netns {LAB_A}: nsxlab-a was deleted; its inode now names" in said, said
        assert "a new namespace, intruder" in said, said
        await pilot.press("X")  # run in marked: the one marked is gone, nothing widens
        await settle(pilot)
        assert runner.runs == [] and fanned == []
        assert "marked namespace(s) are hidden by the filter or gone" in transcript(app)


def test_details_name_the_kernel_id_when_known() -> None:
    from nsexplorer.ui.render import details_text

    known = before().by_inode(LAB_A)
    assert known is not None
    assert f"kernel id     {OLD_COOKIE}" in details_text(known).plain
    assert "kernel id" not in details_text(replace(known, cookie=None)).plain


def test_the_notice_names_a_few_and_counts_the_rest() -> None:
    snap = lab_snapshot()
    olds = {ns.inode: replace(ns, label=f"old\x1b[31m{n}") for n, ns in enumerate(snap.namespaces)}
    news = {i: replace(ns, cookie=NEW_COOKIE, label="new") for i, ns in olds.items()}
    lines = replaced_notice(olds, news.get, None)
    assert len(lines) == REPLACED_NAMED + 1, lines
    assert lines[-1] == f"and {len(olds) - REPLACED_NAMED} more namespaces"
    text = "\n".join(lines)
    assert "\x1b" not in text and "old\\x1b[31m0" in text  # escaped, never raw


async def test_a_late_answer_about_the_old_namespace_leaves_the_newcomer_alone(
    make_app: AppFactory,
) -> None:
    """A detail or process read of the old namespace that ends after its inode went to a
    new one (the read says "gone", or lists the old one's processes) changes nothing of
    the newcomer; the same answer about the namespace shown does."""
    snap = lab_snapshot()
    source = FakeSource(with_cookie(snap, LAB_A, NEW_COOKIE, label="nsxlab-newcomer"))
    app = make_app(source=source, runner=FakeRunner())
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        newcomer = app.inventory.get(LAB_A)
        assert newcomer is not None and newcomer.cookie == NEW_COOKIE
        old = replace(newcomer, cookie=OLD_COOKIE, label="nsxlab-a")
        app.post_message(NamespaceVanished(old, "nsxlab-a is gone"))
        app.post_message(ProcessesFetched(old, (ProcessInfo(4242, "root", "old one"),)))
        await settle(pilot)
        shown = app.inventory.get(LAB_A)
        assert shown is not None and not shown.gone and LAB_A not in app.inventory.processes
        app.post_message(NamespaceVanished(newcomer, "nsxlab-newcomer is gone"))
        await settle(pilot)
        shown = app.inventory.get(LAB_A)
        assert shown is not None and shown.gone


async def test_a_notice_about_two_namespaces_breaks_its_lines(make_app: AppFactory) -> None:
    """The walk-through saw `nsxlab-a\\x0anetns …`: the notice's own line breaks were
    escaped with the names in it. Each line is made visible; the breaks stay breaks."""
    first = with_cookie(before(), DB, OLD_COOKIE)
    source, watcher = FakeSource(first), FakeWatcher()
    app = make_app(source=source, watcher=watcher, debounce=0.01, min_collect_gap=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        source.snapshot = with_cookie(
            with_cookie(lab_snapshot(), LAB_A, NEW_COOKIE, label="new\nline"),
            DB,
            NEW_COOKIE,
        )
        assert watcher.on_change is not None
        watcher.on_change("host netlink")
        await pilot.pause(0.1)
        await settle(pilot)
        notices = [str(n.message) for n in app._notifications if "was deleted" in str(n.message)]
        assert len(notices) == 1, notices
        lines = notices[0].split("\n")
        assert len(lines) == 2 and all(line.startswith("netns ") for line in lines), lines
        assert "new\\x0aline" in notices[0]  # a newline inside a name is still escaped
