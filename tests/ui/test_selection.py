"""One source of truth for the selection: what `x`, `s`, `n` act on is the visible,
highlighted sidebar row, even when keys arrive in one burst (a paste, a fast typist
over a laggy link). Keys are posted without waiting between them (``burst``)."""

from __future__ import annotations

from dataclasses import replace

from helpers import burst, screen_text, settle, widget_text
from uifixtures import (
    DB,
    HOST,
    LAB_A,
    LAB_B,
    PAIR_C,
    PAIR_D,
    PROC,
    WEB,
    AppFactory,
    FakeRunner,
    lab_snapshot,
)

from nsexplorer.ui.app import KEYS_DROPPED
from nsexplorer.ui.screens.dialogs import ConfirmScreen, PromptScreen
from nsexplorer.ui.screens.prompts import RunPrompt
from nsexplorer.ui.typeahead import TYPING_GAP
from nsexplorer.ui.widgets.filterbar import FilterBar
from nsexplorer.ui.widgets.output import OutputPane
from nsexplorer.ui.widgets.sidebar import NamespaceTree

SIZE = (120, 36)

# (what is typed, the namespace it must land on): exact names beat a host interface
# that contains them (nsxlab-a-h), a prefix beats a substring, facts find their owner.
ROUNDS: list[tuple[str, int]] = [
    ("nsxlab-a", LAB_A),
    ("nsxlab-b", LAB_B),
    ("nsxlab-web", WEB),
    ("nsxlab-db", DB),
    ("nsxlab-c", PAIR_C),
    ("nsxlab-d", PAIR_D),
    ("172.30.0.2", DB),
    ("172.30.0.2/24", DB),
    ("10.213.0.3/24", LAB_B),
    ("AE-00-00-00-02-02", LAB_A),  # a dashed, upper-case MAC of nsxlab-a's veth0
    ("ae:00:00:00:0e:02", PROC),
    ("veth46024eb", HOST),
    ("dc0", PAIR_D),
    ("host", HOST),
    ("nsxlab-w", WEB),  # a prefix
    ("sidecar", WEB),  # the container sharing web's namespace
]


def highlighted_label(app) -> str:  # type: ignore[no-untyped-def]
    tree = app.query_one(NamespaceTree)
    node = tree.cursor_node
    return node.label.plain if node is not None else ""


async def test_x_targets_the_visible_highlighted_row_after_a_burst(
    make_app: AppFactory,
) -> None:
    app = make_app(runner=FakeRunner())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        tree = app.query_one(NamespaceTree)
        for round_no in range(3):  # every query several times, from different states
            for query, expected in ROUNDS:
                burst(app, ["slash", *query, "enter", "x"])
                await settle(pilot)
                prompt = app.screen
                assert isinstance(prompt, RunPrompt), f"{query!r}: no run prompt"
                what = f"round {round_no}, {query!r}"
                assert prompt.target.inode == expected, what
                assert tree.highlighted == expected, what
                assert app.selected == expected, what
                assert tree.cursor_node is not None and tree.cursor_node.data == expected
                # the prompt names the target: label and inode
                title = widget_text(prompt.query_one("#dialog-title"))
                assert f"netns {expected}" in title, what
                await pilot.press("escape")  # close the prompt
                await pilot.press("escape")  # clear the filter
                await settle(pilot)
                assert app.selected == expected  # clearing the filter keeps the selection


async def test_a_filter_matching_nothing_selects_nothing(make_app: AppFactory) -> None:
    runner = FakeRunner()
    app = make_app(runner=runner)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await settle(pilot)
        for _ in range(10):
            burst(app, ["slash", *"no-such-namespace", "enter", "x", "s", "n"])
            await settle(pilot)
            assert len(app.screen_stack) == 1, "an action opened a prompt with no selection"
            assert app.selected is None and app.selected_ns is None
            assert "nothing selected" in widget_text(app.query_one("#title"))
            await pilot.press("escape")
            await settle(pilot)
        out = "\n".join(app.query_one(OutputPane).transcript)
        # `x` refused; `s` and `n`, typed with it, were dropped, not refused one by one
        assert out.count("nothing is selected") == 10
        assert runner.runs == [] and runner.prepared == 0 and runner.named == []
        # a key typed on its own, after a pause, is a key again
        await pilot.pause(TYPING_GAP + 0.1)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, RunPrompt)  # the filter was cleared: a selection
        assert app.screen.target.inode == app.selected


async def test_typing_more_narrows_then_widens_without_a_stale_selection(
    make_app: AppFactory,
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # nothing, then something again: the selection follows what is shown
        burst(app, ["slash", *"nsxlab-bzz"])
        await settle(pilot)
        assert app.selected is None
        burst(app, ["backspace", "backspace"])
        await settle(pilot)
        assert app.selected == LAB_B
        assert "nsxlab-b" in widget_text(app.query_one("#title"))
        burst(app, ["ctrl+u", *"10.214.0", "enter"])
        await settle(pilot)
        tree = app.query_one(NamespaceTree)
        assert set(tree.inodes()) == {PAIR_C, PAIR_D}
        assert app.selected in (PAIR_C, PAIR_D)
        assert tree.highlighted == app.selected


async def test_the_row_says_why_it_matched(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(140, 36)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"10.213.0.0/24")  # a CIDR: every namespace inside it
        await pilot.press("enter", *["greater_than_sign"] * 4)  # wide enough for the reasons
        await settle(pilot)
        tree = app.query_one(NamespaceTree)
        assert HOST in set(tree.inodes()) and LAB_A in set(tree.inodes())
        assert app.selected == HOST  # of equally good matches, the first row
        text = screen_text(app)
        # the matcher's own words, as `nsexplorer show 10.213.0.0/24` prints them
        assert "nsxlab-a  ip 10.213.0.2/24 on veth0 (in 10.213.0.0/24)" in text
        assert "host  ip 10.213.0.1/24 on nsxlab-br0 (in 10.213.0.0/24)" in text
        await pilot.press("slash", "ctrl+u", *"nsxlab-a-h")  # a host veth's name
        await settle(pilot)
        text = screen_text(app)
        assert "host  interface nsxlab-a-h" in text
        assert "nsxlab-a  veth0, peer of nsxlab-a-h in host" in text  # its other end
        assert app.selected == HOST  # the interface's own namespace first
        await pilot.press("ctrl+u", *"nsxlab-a")  # an exact name adds nothing to the row
        await settle(pilot)
        assert app.selected == LAB_A
        rows = [line.split("▕")[0].strip() for line in screen_text(app).splitlines()]
        assert any(row.endswith(" nsxlab-a") for row in rows), rows


async def test_moving_skips_group_titles(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        seen = []
        for _ in range(14):
            await pilot.press("j")
            seen.append(app.selected)
        assert None not in seen
        assert seen[-1] == seen[-2]  # the last row: no further


async def test_prompts_and_confirmations_name_their_target(make_app: AppFactory) -> None:
    app = make_app(runner=FakeRunner())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(DB)
        await settle(pilot)
        await pilot.press("n")
        assert isinstance(app.screen, PromptScreen)
        assert f"nsxlab-db (netns {DB})" in screen_text(app)
        await pilot.press(*"nsxt-db", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert f"nsxlab-db (netns {DB})" in screen_text(app)
        await pilot.press("n")
        app.goto(LAB_B)
        await settle(pilot)
        await pilot.press("N")
        assert f"nsxlab-b (netns {LAB_B})" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert f"nsxlab-b (netns {LAB_B})" in screen_text(app)
        await pilot.press("n")


async def test_back_and_forward(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(WEB)
        app.goto(DB)
        app.goto(LAB_A)
        await settle(pilot)
        await pilot.press("b")
        assert app.selected == DB
        await pilot.press("b")
        assert app.selected == WEB
        await pilot.press("f")
        assert app.selected == DB
        await pilot.press("f")
        assert app.selected == LAB_A


async def test_a_hostile_name_is_found_as_it_is_shown(make_app: AppFactory) -> None:
    """The filter holds printable text only: a name with ESC and a raw byte is typed the
    way the sidebar shows it (\\x1b, \\xff), and found exactly."""
    snap = lab_snapshot()
    raw = "nsxh-\x1b]2;x\x07\udcff"
    spaces = [
        replace(ns, names=(raw,), label=raw) if ns.inode == LAB_B else ns for ns in snap.namespaces
    ]
    app = make_app(replace(snap, namespaces=tuple(spaces)))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, ["slash", *"nsxh-\\x1b]2;x\\x07\\xff", "enter"])
        await settle(pilot)
        assert app.selected == LAB_B
        assert set(app.query_one(NamespaceTree).inodes()) == {LAB_B}


async def test_keys_typed_after_x_in_one_burst_all_reach_its_prompt(
    make_app: AppFactory,
) -> None:
    """`x` and the command after it in one read (a paste, a laggy link): every key goes
    to the prompt, none runs as a main-screen key (`c` copy, `s` shell, `/` filter, `n`
    name), and the whole command runs, once, in the highlighted namespace."""
    runner = FakeRunner()
    app = make_app(runner=runner)
    command = "echo /tmp/x c s n b p ? q"  # each a main-screen key on its own
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for round_no in range(5):
            target = (LAB_A, LAB_B)[round_no % 2]
            app.goto(target)
            await settle(pilot)
            burst(app, ["x", *command, "enter"])
            await settle(pilot)
            assert len(app.screen_stack) == 1, f"round {round_no}: a screen left open"
            assert runner.prepared == 0, "a key opened a shell"
            assert runner.named == []
            assert app.query_one(FilterBar).editing is False, "a key opened the filter"
            assert runner.runs[-1][0] == target
            assert " ".join(runner.runs[-1][1]) == command, runner.runs[-1]
        assert len(runner.runs) == 5


async def test_letters_typed_with_a_refused_x_never_act_as_keys(make_app: AppFactory) -> None:
    """`x` refused while a command runs: the command typed with it must not run as keys
    (`s` would open a shell and the rest be typed into it)."""
    runner = FakeRunner(block=True)
    app = make_app(runner=runner)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await settle(pilot)
        burst(app, ["x", *"sleep 100", "enter"])  # runs, and blocks
        for _ in range(200):  # not settle(): it waits for the command to end
            await pilot.pause(0.01)
            if runner.runs and app.command_running:
                break
        assert len(runner.runs) == 1 and len(app.screen_stack) == 1
        burst(app, ["x", *"echo c s n /tmp", "enter"])  # refused: one is running
        await pilot.pause(0.3)
        notes = [n.message for n in app._notifications]
        assert any("still running" in n for n in notes), notes
        assert notes.count(KEYS_DROPPED) == 1, notes
        assert len(app.screen_stack) == 1
        assert runner.prepared == 0 and runner.named == [] and len(runner.runs) == 1
        assert app.query_one(FilterBar).editing is False
        await pilot.press("ctrl+c")
        await settle(pilot)
        assert not app.command_running


async def test_a_namespace_name_beats_a_host_interface_of_the_same_rank(
    make_app: AppFactory,
) -> None:
    """`/xlab-b` is inside the netns name nsxlab-b and inside the host's bridge
    nsxlab-br0 (the host is listed first): it lands on nsxlab-b."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, ["slash", *"xlab-b", "enter"])
        await settle(pilot)
        tree = app.query_one(NamespaceTree)
        assert HOST in set(tree.inodes())  # still listed, for its bridge
        assert app.selected == LAB_B
        assert tree.highlighted == LAB_B


async def test_a_container_rows_reason_is_shown_before_its_image(make_app: AppFactory) -> None:
    """At 120 columns a container row (name, image, network mode) filled the sidebar
    and its reason was cut off entirely: the reason comes right after the name, and
    what is cut ends in an ellipsis."""
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        burst(app, ["slash", *"172.30.0.2", "enter"])
        await settle(pilot)
        rows = widget_text(app.query_one(NamespaceTree)).splitlines()
        row = next(r for r in rows if "nsxlab-db" in r).rstrip()
        assert "nsxlab-db  ip 172.30.0.2/24 on eth0" in row, row
        assert row.endswith("…"), row  # the image and mode after it are cut, visibly
        assert app.selected == DB


async def test_no_shell_over_a_running_command(make_app: AppFactory) -> None:
    """QA: `s` while a command streamed opened the shell, and the command's later output
    was filed under the shell's entry. One at a time, as for `x`."""
    runner = FakeRunner(block=True)
    shells: list[object] = []
    app = make_app(runner=runner, spawn_shell=lambda shell: shells.append(shell) or 0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await settle(pilot)
        burst(app, ["x", *"sleep 100", "enter"])
        for _ in range(200):
            await pilot.pause(0.01)
            if runner.runs and app.command_running:
                break
        assert app.command_running
        await pilot.press("s")
        await pilot.pause(0.2)
        notes = [n.message for n in app._notifications]
        assert any("still running" in n for n in notes), notes
        assert shells == [] and runner.prepared == 0
        await pilot.press("ctrl+c")
        await settle(pilot)
        assert not app.command_running


async def test_slash_over_a_kept_filter_selects_it_to_be_replaced(make_app: AppFactory) -> None:
    """QA: one escape from a pane keeps the filter; the next `/` appended to it
    (`nsxlab-anxlab-b`) and matched nothing. Now `/` selects the kept text: typing
    replaces it, `right` keeps it, backspace clears it."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        bar = app.query_one(FilterBar)
        burst(app, ["slash", *"nsxlab-a", "enter", "enter"])
        await settle(pilot)
        assert app.focused is not app.main.sidebar_tree  # in the pane
        await pilot.press("escape")
        await settle(pilot)
        assert bar.value == "nsxlab-a" and not bar.editing and app.selected == LAB_A
        burst(app, ["slash", *"nsxlab-b"])
        await settle(pilot)
        assert bar.value == "nsxlab-b" and app.selected == LAB_B
        burst(app, ["enter", "slash", "right", *"zz"])
        await settle(pilot)
        assert bar.value == "nsxlab-bzz" and app.selected is None
        burst(app, ["enter", "slash", "backspace"])
        await settle(pilot)
        assert bar.value == "" and bar.editing


async def test_typing_that_goes_on_after_a_refused_x_is_dropped_too(
    make_app: AppFactory,
) -> None:
    """QA: `x` refused, then `ip -br link` typed 0.3 s later (before the refusal was
    read): its spaces marked namespaces and its letters ran as keys. Typing that goes on
    within TYPING_GAP is dropped with the burst; ctrl+c and arrows are never typing, and
    after a pause a key is a key again."""
    runner = FakeRunner(block=True)
    app = make_app(runner=runner)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await settle(pilot)
        burst(app, ["x", *"sleep 100", "enter"])  # runs, and blocks
        for _ in range(200):
            await pilot.pause(0.01)
            if runner.runs and app.command_running:
                break
        burst(app, ["x"])  # refused: one is running
        for key in [*"ip -br link", "enter"]:
            await pilot.pause(0.05)  # typed on, key by key, after the refusal
            burst(app, [key])
        await pilot.pause(0.1)
        notes = [n.message for n in app._notifications]
        assert notes.count(KEYS_DROPPED) == 1, notes
        assert app.main.marks.inodes() == set()  # no space marked anything
        assert len(app.screen_stack) == 1 and runner.prepared == 0 and runner.named == []
        burst(app, ["down"])  # navigation is never typing
        await pilot.pause(0.1)
        assert app.selected != LAB_A
        await pilot.press("ctrl+c")  # nor is ctrl+c
        await settle(pilot)
        assert not app.command_running


async def test_an_exact_match_is_listed_above_prefix_matches(make_app: AppFactory) -> None:
    """QA: `/10.77.0.3` listed the namespace holding exactly that address under six
    holding 10.77.0.31-38, in name order. Within a group, rows are in match order."""
    from uifixtures import a4

    snap = lab_snapshot()
    lab_a = next(ns for ns in snap.namespaces if ns.inode == LAB_A)
    ifaces = tuple(
        replace(i, addresses=(a4("10.213.0.31", 24),)) if i.name == "veth0" else i
        for i in lab_a.interfaces
    )
    spaces = tuple(replace(ns, interfaces=ifaces) if ns is lab_a else ns for ns in snap.namespaces)
    app = make_app(replace(snap, namespaces=spaces))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        tree = app.query_one(NamespaceTree)
        burst(app, ["slash", *"10.213.0.3", "enter"])
        await settle(pilot)
        rows = [n.data for n in tree.root.children[0].children]
        assert rows[:2] == [LAB_B, LAB_A], [n.label.plain for n in tree.root.children[0].children]
        assert tree.highlighted == LAB_B
        burst(app, ["slash", *"nsxlab", "enter"])  # equally good: in the names' order
        await settle(pilot)
        named = [n.data for g in tree.root.children for n in g.children]
        assert named.index(LAB_A) < named.index(LAB_B)


async def test_the_filtered_count_counts_gone_rows_apart(make_app: AppFactory) -> None:
    # "1/79 shown" with 60 long-gone rows in the 79 read as 79 namespaces that exist
    from nsexplorer.ui.messages import NamespaceVanished

    app = make_app(runner=FakeRunner())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        live = sum(not ns.gone for ns in app.inventory.namespaces)
        gone = app.inventory.get(LAB_B)
        assert gone is not None
        app.post_message(NamespaceVanished(gone, "nsxlab-b is gone"))
        await settle(pilot)
        burst(app, ["slash", *"nsxlab-"])
        await settle(pilot)
        status = widget_text(app.query_one("#status"))
        shown = sum(1 for i in app.query_one(NamespaceTree).inodes() if i != LAB_B)
        assert f"{shown}/{live - 1} +1 gone shown" in status, status
