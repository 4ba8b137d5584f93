"""Pilot tests: the TUI on recorded-style snapshots with fake ports (no root needed)."""

from __future__ import annotations

import threading
from dataclasses import replace

from helpers import screen_text, settle, widget_text
from textual.binding import Binding
from textual.widgets import Footer
from uifixtures import (
    DB,
    HOST,
    LAB_A,
    LAB_B,
    PAIR_C,
    PAIR_D,
    WEB,
    AppFactory,
    FakeRunner,
    FakeSource,
    FakeWatcher,
    lab_snapshot,
)

from nsexplorer.errors import NamespaceGone, NsxError
from nsexplorer.model import NetNamespace, Snapshot
from nsexplorer.ports import PreparedShell
from nsexplorer.ui.acting import SHELL_EXTRAS
from nsexplorer.ui.help import key_rows
from nsexplorer.ui.main_screen import MainScreen
from nsexplorer.ui.typeahead import TYPING_GAP
from nsexplorer.ui.widgets.output import OutputPane
from nsexplorer.ui.widgets.panes import PANES, InterfacesPane, ProcessesPane
from nsexplorer.ui.widgets.sidebar import NamespaceTree

SIZE = (120, 36)


def output_text(app) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(app.query_one(OutputPane).transcript)


async def test_sidebar_lists_every_namespace_grouped(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        tree = app.query_one(NamespaceTree)
        assert set(tree.inodes()) == {ns.inode for ns in lab_snapshot().namespaces}
        text = widget_text(tree)
        for title in ("Host", "Containers", "Named", "Hidden", "Pinned by an fd", "Processes"):
            assert title in text
        # the sidecar (container:web mode) sits under web's namespace
        lines = text.splitlines()
        web_line = next(i for i, line in enumerate(lines) if "nsxlab-web" in line)
        assert "nsxlab-sidecar" in lines[web_line + 1]
        assert "pid 6161 (sleep)" in text


async def test_discover_shows_sidebar_before_collect_finishes(make_app: AppFactory) -> None:
    gate = threading.Event()
    source = FakeSource(lab_snapshot(), collect_gate=gate)
    app = make_app(source=source)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(50):
            await pilot.pause(0.02)
            if app.namespaces:
                break
        assert len(app.namespaces) == 12
        assert not app.snapshot or not all(ns.detailed for ns in app.namespaces)
        assert "reading" in widget_text(app.query_one("#status"))
        gate.set()
        await settle(pilot)
        assert all(ns.detailed for ns in app.namespaces)
        assert "live" in widget_text(app.query_one("#status"))


async def test_hidden_panes_and_footer_mount_after_the_first_frame(make_app: AppFactory) -> None:
    """The first frame carries only the sidebar and the Interfaces pane; the rest is mounted
    once the sidebar is drawn, or at once when a key needs it (discovery still running)."""
    gate = threading.Event()
    painted: list[bool] = []

    class SlowDiscover(FakeSource):
        def discover(self) -> Snapshot:
            gate.wait(30)
            return super().discover()

    app = make_app(source=SlowDiscover(lab_snapshot()), on_first_paint=lambda: painted.append(True))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        panes = app.query_one("#panes")
        assert [w.id for w in panes.children] == ["interfaces"]
        assert not app.query(Footer)
        await pilot.press("2")  # before any namespace is known
        assert [w.id for w in panes.children] == [pane_id for pane_id, _ in PANES]
        assert [w.id for w in panes.children if w.display] == ["routes"]
        assert app.query(Footer)
        gate.set()
        await settle(pilot)
        assert painted == [True]  # the composition root's hook, exactly once
        assert [w.id for w in panes.children if w.display] == ["routes"]
        assert "Quit" in screen_text(app).splitlines()[-1]


async def test_nothing_is_rendered_before_the_data(make_app: AppFactory) -> None:
    """The first render of the main screen is the populated one: the empty screen
    Textual would lay out and render on mount costs CPU and is never shown."""
    gate = threading.Event()

    class SlowDiscover(FakeSource):
        def discover(self) -> Snapshot:
            gate.wait(30)
            return super().discover()

    app = make_app(source=SlowDiscover(lab_snapshot()))
    async with app.run_test(size=SIZE) as pilot:
        rendered: list[int] = []
        compositor = app.main._compositor
        original = compositor.render_update

        def render_update(*args: object, **kwargs: object) -> object:
            rendered.append(len(app.namespaces))
            return original(*args, **kwargs)  # type: ignore[arg-type]

        compositor.render_update = render_update  # type: ignore[method-assign]
        for _ in range(5):
            await pilot.pause(0.02)
        assert rendered == []
        gate.set()
        await settle(pilot)
        assert rendered and rendered[0] == 12


async def test_enter_on_veth_jumps_to_peer_and_back(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(WEB)
        await pilot.press("enter")  # sidebar -> interfaces pane
        await pilot.pause()
        table = app.query_one(InterfacesPane)
        assert app.focused is table
        table.select_ifindex(6)  # eth0
        assert "→ veth46024eb in host (docker0)" in widget_text(table)
        await pilot.press("enter")
        await pilot.pause()
        assert app.selected == HOST
        assert table.selected_ifindex == 7  # veth46024eb, the peer row
        await pilot.press("b")
        await pilot.pause()
        assert app.selected == WEB
        assert table.selected_ifindex == 6


async def test_jump_between_two_non_host_namespaces(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(PAIR_C)
        await pilot.press("enter", "j", "enter")
        await pilot.pause()
        assert app.selected == PAIR_D
        assert app.query_one(InterfacesPane).selected_ifindex == 3
        await pilot.press("backspace")
        await pilot.pause()
        assert app.selected == PAIR_C


async def test_unresolved_peer_is_said_honestly(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 36)) as pilot:
        await settle(pilot)
        app.goto(4026532902)
        await pilot.pause()
        text = widget_text(app.query_one(InterfacesPane))
        assert "→ unresolved (ifindex 77, netns unknown)" in text
        await pilot.press("enter", "j", "enter")
        await pilot.pause()
        assert app.selected == 4026532902  # nowhere to jump to: stays


async def test_filter_finds_container_by_ip_mac_and_interface(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        tree = app.query_one(NamespaceTree)
        await pilot.press("slash", *"172.30.0.2")
        await pilot.pause()
        assert set(tree.inodes()) == {DB}
        # no watcher here: never "live", and the state survives the filter's count
        assert "1/12 shown · not live: no watcher" in widget_text(app.query_one("#status"))
        assert app.selected == DB
        await pilot.press("enter")
        assert app.focused is tree
        await pilot.press("escape")
        await pilot.pause()
        assert len(set(tree.inodes())) == 12
        await pilot.press("slash", *"ae:00:00:00:03:02")  # nsxlab-b veth0 MAC
        await pilot.pause()
        assert set(tree.inodes()) == {LAB_B}
        await pilot.press("escape")
        await pilot.press("slash", *"nsxlab-a-h")  # a host veth's name: both its ends
        await pilot.pause()
        assert set(tree.inodes()) == {HOST, LAB_A}
        assert app.selected == HOST
        await pilot.press(*"-nothing")
        await pilot.pause()
        assert "no match" in widget_text(app.query_one("#status"))


async def test_tab_and_number_keys_switch_panes(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        seen = [app.pane]
        for _ in range(8):
            await pilot.press("tab")
            seen.append(app.pane)
        assert seen == [
            "interfaces",
            "routes",
            "wiring",
            "processes",
            "details",
            "output",
            "counters",
            "inside",
            "interfaces",
        ]
        await pilot.press("shift+tab")
        assert app.pane == "inside"
        await pilot.press("2")
        assert app.pane == "routes"
        assert "172.17.0.0/16" in screen_text(app)


async def test_wiring_pane_draws_the_seed_picture(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await pilot.press("3")
        await pilot.pause()
        text = widget_text(app.query_one("#wiring"))
        assert "veth0 veth 10.213.0.2/24" in text
        assert "⇄ nsxlab-a-h in host" in text
        assert "bridge nsxlab-br0 in host" in text
        # the other ports of the bridge and who is behind them
        assert "nsxlab-b-h" in text and "veth0 in nsxlab-b" in text
        assert "veth0 in pid 6161 (sleep)" in text


async def test_wiring_enter_follows_to_the_other_side(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(WEB)
        await pilot.press("3", "enter")
        tree = app.query_one("#wiring")
        assert app.focused is tree
        await pilot.press("j", "j", "enter")  # eth0 -> ⇄ veth46024eb in host
        await pilot.pause()
        assert app.selected == HOST
        assert app.pane == "interfaces"
        assert app.query_one(InterfacesPane).selected_ifindex == 7


async def test_details_show_paths_and_container_facts(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(140, 50)) as pilot:
        await settle(pilot)
        app.goto(WEB)
        await pilot.press("5")
        await pilot.pause()
        text = widget_text(app.query_one("#details-body"))
        assert "4026532501" in text
        assert "/run/nsx-testbed/exec/netns/5e0a1b2c3d4e" in text
        assert "from mount ns 4026532300" in text and "hidden" in text
        assert "/proc/2900/root/run/nsx-testbed/exec/netns/5e0a1b2c3d4e" in text
        assert "bridge  172.17.0.2/16  gw 172.17.0.1" in text
        assert "nsxlab-sidecar" in text


async def test_processes_are_fetched_lazily(make_app: AppFactory) -> None:
    calls: list[int] = []

    class CountingSource(FakeSource):
        def processes(self, ns: NetNamespace):  # type: ignore[no-untyped-def]
            calls.append(ns.inode)
            return super().processes(ns)

    app = make_app(source=CountingSource(lab_snapshot()))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(WEB)
        await settle(pilot)
        assert calls == []
        await pilot.press("4")
        await settle(pilot)
        assert calls == [WEB]
        assert "sleep 3600" in widget_text(app.query_one(ProcessesPane))


async def test_palette_goes_to_a_namespace(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"go to nsxlab-b")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause()
        assert app.selected == LAB_B


async def test_palette_finds_by_the_rules_of_the_filter(make_app: AppFactory) -> None:
    """The palette asks the one matcher: an address, a dashed MAC, a veth's other end,
    each hit saying why; the best hit first."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for query, expected, why in (
            ("172.30.0.2/24", DB, "ip 172.30.0.2/24"),
            ("AE-00-00-00-03-02", LAB_B, "mac ae:00:00:00:03:02 on veth0"),
            ("go to nsxlab-a-h", HOST, "interface nsxlab-a-h"),
        ):
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*query)
            await pilot.pause(0.5)
            assert why in screen_text(app), query
            await pilot.press("enter")  # the first hit
            await pilot.pause()
            assert app.selected == expected, query


async def test_run_command_shows_equivalent_and_output_and_copies(make_app: AppFactory) -> None:
    runner = FakeRunner()
    app = make_app(runner=runner)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await pilot.press("x")
        await pilot.press(*"ip -br addr", "enter")
        await settle(pilot)
        assert runner.runs == [(LAB_A, ("ip", "-br", "addr"), False)]
        assert app.pane == "output"
        out = output_text(app)
        assert "$ nsenter --net=/run/netns/nsxlab-a ip -br addr" in out
        assert "2: eth0@if7: <UP>" in out
        assert "[exit 0]" in out
        await pilot.press("c")
        assert app.clipboard == "nsenter --net=/run/netns/nsxlab-a ip -br addr"
        # history: the prompt recalls the last command
        await pilot.press("x", "up")
        assert app.screen.query_one("#prompt-input").value == "ip -br addr"  # type: ignore[attr-defined]
        await pilot.press("escape")


async def test_all_namespaces_toggle_is_passed_through(make_app: AppFactory) -> None:
    runner = FakeRunner()
    app = make_app(runner=runner)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(WEB)
        await pilot.press("a", "x", *"hostname", "enter")
        await settle(pilot)
        assert runner.runs == [(WEB, ("hostname",), True)]
        assert "nsenter -t 3101 -a hostname" in output_text(app)


async def test_x_on_a_containers_own_row_says_whose_namespace_it_is(
    make_app: AppFactory,
) -> None:
    """QA: `x` on the ↳ nsxlab-sidecar row said only "Run in nsxlab-web": the right
    namespace, but not the container the responder picked."""
    app = make_app(runner=FakeRunner())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(WEB)
        await pilot.press("down", "x")  # the ↳ nsxlab-sidecar row
        await settle(pilot)
        title = widget_text(app.screen.query_one("#dialog-title"))
        assert f"netns {WEB}" in title and "the network namespace nsxlab-sidecar shares" in title
        await pilot.press("escape", "up", "x")  # its own row: no such words
        await settle(pilot)
        assert "shares" not in widget_text(app.screen.query_one("#dialog-title"))


async def test_all_namespaces_on_a_containers_own_row_enter_that_container(
    make_app: AppFactory,
) -> None:
    """QA: with `a` on, the ↳ row of a container sharing the namespace (container: mode,
    or host mode under the host) entered the namespace's first container, or nothing at
    all on the host: another container's files and processes, with no error."""
    runner = FakeRunner()
    app = make_app(runner=runner)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(WEB)
        await pilot.press("a", "down")  # the ↳ nsxlab-sidecar row: the same namespace
        await settle(pilot)
        assert app.selected == WEB
        assert "nsenter -t 3150 -a sh" in widget_text(app.query_one("#cmdbar"))
        await pilot.press("x")
        await settle(pilot)
        assert "all namespaces of container nsxlab-sidecar" in screen_text(app)
        await pilot.press(*"hostname", "enter")
        await settle(pilot)
        await pilot.press("escape", "up")  # back on the namespace's own row: its container
        await settle(pilot)
        assert "nsenter -t 3101 -a sh" in widget_text(app.query_one("#cmdbar"))
        await pilot.press("x", *"hostname", "enter")
        await settle(pilot)
        app.goto(HOST)
        await pilot.press("down")  # ↳ nsxlab-hostnet, a host-mode container
        await settle(pilot)
        await pilot.press("x", *"hostname", "enter")
        await settle(pilot)
        assert runner.runs == [(WEB, ("hostname",), True)] * 2 + [(HOST, ("hostname",), True)]
        assert runner.via_pids == [3150, None, 3001]
        out = output_text(app)
        assert "nsxlab-sidecar" in out and "nsenter -t 3150 -a hostname" in out
        assert "nsenter -t 3001 -a hostname" in out


async def test_a_containers_row_survives_a_refresh_and_follows_a_recreated_container(
    make_app: AppFactory,
) -> None:
    """Review: a rebuild put the cursor back on the namespace's row (so `s` entered the
    owner), and a sidecar recreated under its name kept the old id on its ↳ row."""
    snap = lab_snapshot()
    source, watcher, runner = FakeSource(snap), FakeWatcher(), FakeRunner()
    app = make_app(source=source, watcher=watcher, runner=runner, debounce=0.01, min_collect_gap=0)

    async def refreshed(new: Snapshot) -> None:
        source.snapshot = new
        assert watcher.on_change is not None
        watcher.on_change("host netlink")
        await pilot.pause(0.1)
        await settle(pilot)

    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(WEB)
        await pilot.press("a", "down")
        await settle(pilot)
        assert "nsenter -t 3150 -a sh" in widget_text(app.query_one("#cmdbar"))
        lab_a = snap.by_inode(LAB_A)
        assert lab_a is not None
        renamed = replace(lab_a, label="nsxlab-a2", names=("nsxlab-a2",))
        await refreshed(
            replace(
                snap, namespaces=tuple(renamed if n.inode == LAB_A else n for n in snap.namespaces)
            )
        )  # fmt: skip  (another row changed: the tree is rebuilt)
        assert "nsxlab-a2" in widget_text(app.query_one(NamespaceTree))
        assert "nsenter -t 3150 -a sh" in widget_text(app.query_one("#cmdbar"))
        web = snap.by_inode(WEB)
        assert web is not None
        sidecar = web.containers[1]
        again = replace(sidecar, id="9" * 64, pid=3999)  # `compose up` made a new one
        new_web = replace(web, containers=(web.containers[0], again))
        await refreshed(replace(snap, namespaces=tuple(
            new_web if n.inode == WEB else n for n in snap.namespaces
        )))  # fmt: skip
        assert "nsenter -t 3999 -a sh" in widget_text(app.query_one("#cmdbar"))
        # A prompt opened before the container was restarted runs nothing after it.
        await pilot.press("x", *"hostname")
        await settle(pilot)
        restarted = replace(new_web, containers=(web.containers[0], replace(again, pid=4001)))
        await refreshed(replace(snap, namespaces=tuple(
            restarted if n.inode == WEB else n for n in snap.namespaces
        )))  # fmt: skip
        await pilot.press("enter")
        await settle(pilot)
        assert runner.runs == []
        assert "container nsxlab-sidecar was restarted since the prompt opened" in "\n".join(
            app.main.output_pane().transcript
        )


async def test_a_container_found_by_its_name_is_highlighted_on_its_own_row(
    make_app: AppFactory,
) -> None:
    """QA: `/SIDECAR` (or a host-mode container's name) highlighted the namespace's row,
    so with `a` on, `x` entered the owner's (or the host's) namespaces, though the name
    typed was exactly the container's."""
    runner = FakeRunner()
    app = make_app(runner=runner)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("a", "slash", *"nsxlab-sidecar", "enter")
        await settle(pilot)
        assert app.selected == WEB
        assert "[all ns of nsxlab-sidecar] $ nsenter -t 3150 -a sh" in widget_text(
            app.query_one("#cmdbar")
        )
        await pilot.press("x", *"hostname", "enter")
        await settle(pilot)
        await pilot.press("escape", "slash", *"nsxlab-hostnet", "enter")
        await settle(pilot)
        assert app.selected == HOST
        await pilot.press("x", *"hostname", "enter")
        await settle(pilot)
        await pilot.press("escape", "escape", "slash", *"nsxlab-web", "enter")  # the owner
        await settle(pilot)
        await pilot.press("x", *"hostname", "enter")
        await settle(pilot)
        assert runner.via_pids == [3150, 3001, None]
        assert [r[0] for r in runner.runs] == [WEB, HOST, WEB]
        app.goto(LAB_A)
        await settle(pilot)
        app.goto(WEB, "5e0a" + "0" * 60)  # the palette's way: a container with no row
        await settle(pilot)
        assert app.selected == WEB and app.query_one(NamespaceTree).highlighted_container is None


async def test_never_ending_command_is_cancelled(make_app: AppFactory) -> None:
    runner = FakeRunner(block=True)
    app = make_app(runner=runner)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("x", *"sleep 1000", "enter")
        await pilot.pause(0.1)
        assert app.command_running
        await pilot.press("ctrl+c")
        await settle(pilot)
        assert not app.command_running
        out = output_text(app)
        assert "partial output" in out
        assert "[cancelled]" in out
        # kept for the bundle: the output as it came, nsexplorer's note apart from it
        kept = app.main.session.outputs[-1]
        assert kept.text == "partial output\n" and kept.exit_status is None
        assert kept.stopped == "cancelled"
        assert kept.error == "cancelled; output so far is shown"


async def test_read_only_refuses_every_action(make_app: AppFactory) -> None:
    runner = FakeRunner(read_only=True)
    app = make_app(runner=runner, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key in ("x", "s", "n", "N"):
            await pilot.press(key)
            await pilot.pause(TYPING_GAP + 0.05)  # a key after a pause, not typing on
            assert len(app.screen_stack) == 1, f"{key} opened a dialog in read-only mode"
        await settle(pilot)
        assert runner.runs == [] and runner.named == [] and runner.unnamed == []
        assert output_text(app).count("read-only mode (--read-only)") == 4
        assert "read-only" in widget_text(app.query_one("#cmdbar"))


async def test_replay_refuses_actions_and_refresh(make_app: AppFactory) -> None:
    app = make_app(live=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await pilot.pause(TYPING_GAP + 0.05)  # r after a pause: a key, not typing on
        await pilot.press("r")
        await settle(pilot)
        assert len(app.screen_stack) == 1
        assert "replaying a saved snapshot" in output_text(app)
        assert "nothing to refresh" in output_text(app)
        assert "replay" in widget_text(app.query_one("#status"))


async def test_name_asks_for_confirmation(make_app: AppFactory) -> None:
    runner = FakeRunner()
    app = make_app(runner=runner)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(DB)
        await pilot.press("n", *"nsxt-db", "enter")
        await pilot.pause()
        assert "ip netns attach nsxt-db 3201" in screen_text(app)  # the runner's own form
        await pilot.press("n")  # no
        await settle(pilot)
        assert runner.named == []
        await pilot.press("n", *"nsxt-db", "enter", "y")
        await settle(pilot)
        assert runner.named == [(DB, "nsxt-db")]
        assert "named /var/run/netns/nsxt-db" in output_text(app)


async def test_bad_name_is_refused_before_asking(make_app: AppFactory) -> None:
    runner = FakeRunner()
    app = make_app(runner=runner)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n", *"a/b", "enter")
        await pilot.pause()
        assert len(app.screen_stack) == 1
        assert runner.named == []


async def test_unname_removes_a_name_after_confirmation(make_app: AppFactory) -> None:
    runner = FakeRunner()
    app = make_app(runner=runner)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_B)
        await pilot.press("N", "enter")
        await pilot.pause()
        assert "ip netns delete nsxlab-b" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert runner.unnamed == ["nsxlab-b"]
        assert runner.unnamed_from == [LAB_B]  # checked against the namespace it was shown on


async def test_shell_without_a_real_terminal_is_refused_cleanly(make_app: AppFactory) -> None:
    spawned: list[PreparedShell] = []

    def spawn(shell: PreparedShell, *, netns_inode: int, label: str) -> int:
        spawned.append(shell)
        return 0

    runner = FakeRunner()
    app = make_app(spawn_shell=spawn, runner=runner)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert spawned == []  # run_test cannot hand the terminal over
        assert "cannot be handed over" in output_text(app)
        # the entry says what the shell gets beyond its "runs as" command
        assert SHELL_EXTRAS in output_text(app).replace("\n", "")
        assert app.is_running
        assert (runner.prepared, runner.released) == (1, 1)  # its descriptors closed


async def test_watcher_events_recollect_and_mark_gone(make_app: AppFactory) -> None:
    full = lab_snapshot()
    source = FakeSource(full)
    watcher = FakeWatcher()
    app = make_app(source=source, watcher=watcher, debounce=0.05, min_collect_gap=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert watcher.on_change is not None
        assert watcher.watched and watcher.watched[-1] is not None
        # the host is watched through the collector's path to it, wherever we run
        host = full.host
        assert host is not None and watcher.host == (host.id, host.access_path)
        before = source.collects
        # nsxlab-b disappears and a new namespace appears
        newcomer = replace(
            full.by_inode(LAB_B),
            id=replace(full.by_inode(LAB_B).id, ino=4026539999),
            names=("nsxt-new",),
            label="nsxt-new",
        )  # type: ignore[arg-type, union-attr]
        kept = tuple(ns for ns in full.namespaces if ns.inode != LAB_B)
        source.snapshot = replace(full, namespaces=(*kept, newcomer))
        for _ in range(5):  # a burst of events: one collect
            watcher.on_change("host netlink")
        await pilot.pause(0.3)
        await settle(pilot)
        assert source.collects == before + 1
        tree_text = widget_text(app.query_one(NamespaceTree))
        assert "nsxt-new" in tree_text
        assert "gone nsxlab-b" in tree_text
        # gone is one state everywhere: a manual refresh keeps it listed, label kept
        await pilot.press("r")
        await settle(pilot)
        assert "gone nsxlab-b" in widget_text(app.query_one(NamespaceTree))
    assert watcher.stopped


async def test_collection_failure_is_a_message_not_a_crash(make_app: AppFactory) -> None:
    class Broken(FakeSource):
        def collect(self) -> Snapshot:
            raise NsxError("netlink exploded")

    app = make_app(source=Broken(lab_snapshot()))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.is_running
        assert "collection failed" in widget_text(app.query_one("#status"))
        assert len(app.namespaces) == 12  # discover() still gave the sidebar


async def test_namespace_vanishing_on_detail_is_marked_gone(make_app: AppFactory) -> None:
    class Vanishing(FakeSource):
        def collect(self) -> Snapshot:
            threading.Event().wait(5)  # the full pass is slow; detail() answers first
            return self.snapshot

        def detail(self, ns: NetNamespace) -> NetNamespace:
            if ns.inode == LAB_A:
                raise NamespaceGone("namespace nsxlab-a vanished")
            return super().detail(ns)

    app = make_app(source=Vanishing(lab_snapshot()))
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(50):
            await pilot.pause(0.02)
            if app.namespaces:
                break
        app.goto(LAB_A)
        for _ in range(50):
            await pilot.pause(0.02)
            if app.selected_ns is not None and app.selected_ns.gone:
                break
        assert app.selected_ns is not None and app.selected_ns.gone
        assert "GONE" in widget_text(app.query_one("#title"))
        app.workers.cancel_all()


async def test_selection_detail_is_fetched_before_full_collect(make_app: AppFactory) -> None:
    gate = threading.Event()
    source = FakeSource(lab_snapshot(), collect_gate=gate)
    app = make_app(source=source)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(50):
            await pilot.pause(0.02)
            if app.namespaces:
                break
        app.goto(DB)
        for _ in range(50):
            await pilot.pause(0.02)
            if DB in source.detail_calls and app.selected_ns and app.selected_ns.detailed:
                break
        assert "172.30.0.2/24" in widget_text(app.query_one(InterfacesPane))
        gate.set()
        await settle(pilot)


async def test_help_lists_every_key_and_the_audit_log(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        text = widget_text(app.screen.query_one("#help-body"))
        for key, _ in key_rows(app, Binding.make_bindings(MainScreen.BINDINGS)):
            assert key in text
        assert "/var/log/nsexplorer/audit.log" in text
        await pilot.press("q")  # closes help, does not quit
        await pilot.pause()
        assert app.is_running and len(app.screen_stack) == 1
        await pilot.press("q")
        await pilot.pause()
    assert not app.is_running


async def test_usable_at_80x24(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.goto(WEB)
        await pilot.pause()
        text = screen_text(app)
        assert "nsxlab-web" in text
        assert "1 Ifaces" in text
        assert "q Quit" in text
        assert "$ nsenter --net=/proc/3101/ns/net sh" in text


async def test_enter_on_a_sidebar_node_does_not_fold_it(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        tree = app.query_one(NamespaceTree)
        app.goto(WEB)  # web has its sidecar container under it
        await pilot.press("enter")
        await pilot.pause()
        assert "nsxlab-sidecar" in widget_text(tree)
        assert app.focused is app.query_one(InterfacesPane)


async def test_slash_is_text_inside_the_filter_and_prompts(make_app: AppFactory) -> None:
    runner = FakeRunner()
    app = make_app(runner=runner)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"10.213.0.2/2")
        await pilot.pause()
        assert app.query_one("#filter").value == "10.213.0.2/2"  # type: ignore[attr-defined]
        await pilot.press("escape")
        await pilot.press("x", *"ls /sys", "enter")
        await settle(pilot)
        assert runner.runs[-1][1] == ("ls", "/sys")
