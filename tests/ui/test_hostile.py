"""Hostile names: no crash, rendered literally, no injected action, no escape sequence.

Linux accepts ``[ ] @ =`` in interface names and anything in aliases; netns names,
container names, images and process names are attacker-chosen too. Every pane of every
namespace is drawn; then every rendered segment is inspected.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import replace

from helpers import settle
from textual import events
from textual.strip import Strip
from textual.widgets import Input
from uifixtures import (
    HOSTILE,
    LAB_A,
    LAB_B,
    PROC,
    WEB,
    AppFactory,
    FakeRunner,
    hostile_snapshot,
    lab_snapshot,
)

from nsexplorer.model import Snapshot
from nsexplorer.ui.app import NsxApp
from nsexplorer.ui.screens.dialogs import ChoiceScreen, ConfirmScreen
from nsexplorer.ui.widgets.filterbar import FilterBar
from nsexplorer.ui.widgets.panes import PANES
from nsexplorer.ui.widgets.sidebar import NamespaceTree

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
SIZE = (200, 50)


def strips_of(app: NsxApp) -> list[Strip]:
    return list(app.screen._compositor.render_strips())


def assert_screen_is_clean(app: NsxApp) -> str:
    """No control character and no action metadata in anything the app draws (the
    footer's own key actions aside); returns the screen as text."""
    for strip in strips_of(app):
        for seg in strip:
            assert not CONTROL.search(seg.text), f"raw control character in {seg.text!r}"
            meta = seg.style.meta if seg.style is not None else {}
            click = meta.get("@click") if meta else None
            assert click is None or "quit" not in str(click), f"injected action {click!r}"
    return "\n".join(strip.text for strip in strips_of(app))


async def visit_everything(app: NsxApp, pilot) -> str:  # type: ignore[no-untyped-def]
    seen = []
    for ns in list(app.namespaces):
        app.goto(ns.inode)
        for pane_id, _ in PANES:
            app.action_show_pane(pane_id)
            await pilot.pause()
            seen.append(assert_screen_is_clean(app))
    return "\n".join(seen)


async def test_hostile_names_render_literally_and_inject_nothing(make_app: AppFactory) -> None:
    app = make_app(hostile_snapshot(), runner=FakeRunner())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        everything = await visit_everything(app, pilot)
        assert app.is_running
        # shown literally, not interpreted
        assert HOSTILE["iface_close"] in everything  # eth0[/]
        assert HOSTILE["iface_click"] in everything  # [@click=app.quit]x
        assert HOSTILE["iface_reverse"] in everything  # x[reverse]
        assert HOSTILE["netns"] in everything  # [bold]x[/
        assert HOSTILE["container"] in everything
        # control characters made visible
        assert "\\x1b]2;pwned\\x07" in everything
        assert "sleep\\x1b]52;c;ZXZpbA==\\x07" in everything
        assert "\\x1b[2J\\x1b[31mred[bold]x[/" in everything


async def test_clicking_a_hostile_label_runs_no_action(make_app: AppFactory) -> None:
    app = make_app(hostile_snapshot(), runner=FakeRunner())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await pilot.pause()
        table = app.query_one("#interfaces")
        # click on every row of the interfaces table, where "[@click=app.quit]x" is drawn
        for row in range(4):
            await pilot.click(table, offset=(3, row + 1))
            await pilot.pause()
        assert app.is_running


async def test_hostile_names_in_palette_and_dialogs(make_app: AppFactory) -> None:
    runner = FakeRunner()
    app = make_app(hostile_snapshot(), runner=runner)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause(0.5)
        await pilot.press(*"evil")
        await pilot.pause(0.5)
        text = assert_screen_is_clean(app)
        assert HOSTILE["container"].replace("evil", "") in text or "evil" in text
        await pilot.press("enter")
        await pilot.pause()
        assert app.selected == WEB
        # a run prompt and a confirmation quoting hostile names
        app.goto(LAB_A)
        await pilot.press("x")
        await pilot.pause()
        assert HOSTILE["netns"] in assert_screen_is_clean(app)
        await pilot.press("escape")
        app.goto(PROC)
        await pilot.press("x", *"echo hi", "enter")
        await settle(pilot)
        assert_screen_is_clean(app)
        assert app.is_running


async def test_notifications_do_not_parse_markup(make_app: AppFactory) -> None:
    app = make_app(hostile_snapshot())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.notify("[@click=app.quit]boom[/] \x1b]2;x\x07", title="\x1b[2J[b]t")
        await pilot.pause()
        notes = list(app._notifications)
        assert notes
        for note in notes:
            assert note.markup is False
            assert not CONTROL.search(note.message + note.title)
        assert notes[-1].message == "[@click=app.quit]boom[/] \\x1b]2;x\\x07"
        assert app.is_running


# --- bytes that are not UTF-8, C1 controls, bidi overrides (issue 8) -------------------

# What os.fsdecode makes of a netns name holding 0xff, an OSC title sequence, a C1 CSI
# and a right-to-left override; and of a process name with raw bytes.
RAW_NETNS = "nsxh2-\udcff\x1b]2;owned\x07\x9b31m\u202eevil"
RAW_NETNS_SHOWN = "nsxh2-\\xff\\x1b]2;owned\\x07\\x9b31m\\u202eevil"
OTHER_NETNS = "nsxh2-\udc80second"
RAW_PROCESS = "sl\udcfeep\x9d0;t\x9c"
RAW_IFACE = "e\udcff\x85\u2066x"


def nasty_snapshot() -> Snapshot:
    base = hostile_snapshot()
    out = []
    for orig in base.namespaces:
        ns = orig
        if ns.inode == LAB_A:
            ifaces = list(ns.interfaces)
            ifaces[1] = replace(ifaces[1], name=RAW_IFACE, alias="a\u2028b\udcc3")
            ns = replace(
                ns, names=(RAW_NETNS, OTHER_NETNS), label=RAW_NETNS, interfaces=tuple(ifaces)
            )
        elif ns.inode == PROC:
            ns = replace(ns, label=f"pid 6161 ({RAW_PROCESS})")
        out.append(ns)
    return replace(base, namespaces=tuple(out), warnings=(f"seen: {RAW_IFACE}",))


def assert_all_printable(app: NsxApp) -> str:
    """Stricter than assert_screen_is_clean: every drawn character is printable (no
    C0/C1, no surrogate, no bidi control); returns the screen as text."""
    assert_screen_is_clean(app)
    for strip in strips_of(app):
        for seg in strip:
            bad = [ch for ch in seg.text if not ch.isprintable()]
            assert not bad, f"unprintable {bad!r} drawn in {seg.text!r}"
    return "\n".join(strip.text for strip in strips_of(app))


async def test_raw_bytes_c1_and_bidi_are_drawn_escaped_everywhere(make_app: AppFactory) -> None:
    app = make_app(nasty_snapshot(), runner=FakeRunner())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        seen = []
        for ns in list(app.namespaces):
            app.goto(ns.inode)
            for pane_id, _ in PANES:
                app.action_show_pane(pane_id)
                await pilot.pause()
                seen.append(assert_all_printable(app))
        everything = "\n".join(seen)
        assert RAW_NETNS_SHOWN in everything
        assert "sl\\xfeep\\x9d0;t\\x9c" in everything
        assert "e\\xff\\x85\\u2066x" in everything
        assert "a\\u2028b\\xc3" in everything
        assert app.is_running


async def test_unname_picks_from_visible_choices_and_acts_on_the_raw_name(
    make_app: AppFactory,
) -> None:
    """The unname prompt used to pre-fill the raw name into an Input, which drew its
    ESC sequences to the terminal. Now: a list of escaped names, no Input at all, and
    the raw name behind the chosen line is what is removed."""
    runner = FakeRunner()
    app = make_app(nasty_snapshot(), runner=runner)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await pilot.pause()
        await pilot.press("N")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        assert not list(app.screen.query(Input))  # nothing raw is pre-filled anywhere
        text = assert_all_printable(app)
        assert f"/var/run/netns/{RAW_NETNS_SHOWN}" in text
        assert "/var/run/netns/nsxh2-\\x80second" in text
        await pilot.press("down", "enter")  # the second name
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "ip netns delete nsxh2-\\x80second" in assert_all_printable(app)
        await pilot.press("y")
        await settle(pilot)
        assert runner.unnamed == [OTHER_NETNS]  # the exact raw name, byte 0x80 included
        assert_all_printable(app)
        notes = [n.message for n in app._notifications]
        assert "removed the name nsxh2-\\x80second" in notes


async def test_unname_escape_changes_nothing(make_app: AppFactory) -> None:
    runner = FakeRunner()
    app = make_app(nasty_snapshot(), runner=runner)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(LAB_A)
        await pilot.press("N")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert len(app.screen_stack) == 1
        assert runner.unnamed == []


async def test_inputs_never_hold_or_draw_control_characters(make_app: AppFactory) -> None:
    """A paste (or code) putting raw bytes into a field: the field holds and draws the
    escaped text, so what it shows is exactly what it submits."""
    runner = FakeRunner()
    app = make_app(nasty_snapshot(), runner=runner)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # the sidebar filter (a FilterBar fed key by key, not an Input): pasted control
        # characters are kept (the query is the name pasted), and drawn escaped
        await pilot.press("slash")
        await pilot.pause()
        filt = app.query_one("#filter", FilterBar)
        filt.insert(RAW_NETNS)
        await pilot.pause()
        assert filt.value == RAW_NETNS
        assert RAW_NETNS_SHOWN[-24:] in assert_all_printable(app)  # cut at its start
        filt.value = "\x1b]2;set by code\x07"
        await pilot.pause()
        assert "\\x1b]2;set by code\\x07" in assert_all_printable(app)
        await pilot.press("escape")
        await pilot.pause()
        # the run prompt: the command that runs is the one drawn
        app.goto(PROC)
        await pilot.press("x")
        await pilot.pause()
        field = app.screen.query_one(Input)
        field.post_message(events.Paste("echo \x1b]2;x\x07\udcff"))
        await pilot.pause()
        shown = assert_all_printable(app)
        assert "echo \\x1b]2;x\\x07\\xff" in shown
        await pilot.press("enter")
        await settle(pilot)
        # the line submitted is the one drawn; it is split as a shell would split it
        assert runner.runs[-1][1] == tuple(shlex.split("echo \\x1b]2;x\\x07\\xff"))
        assert_all_printable(app)


async def test_palette_help_status_and_notifications_with_raw_bytes(
    make_app: AppFactory,
) -> None:
    class Runner(FakeRunner):
        @property
        def audit_log_path(self) -> str:
            return "/var/log/\udcff\x1b]2;a\x07.log"

    app = make_app(nasty_snapshot(), runner=Runner(), replay_name="snap\x1b]2;r\x07\udcff")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause(0.5)
        await pilot.press(*"nsxh2")
        await pilot.pause(0.5)
        assert "go to " + RAW_NETNS_SHOWN in assert_all_printable(app)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert "/var/log/\\xff\\x1b]2;a\\x07.log" in assert_all_printable(app)
        await pilot.press("escape")
        await pilot.pause()
        app.notify("gone: \udcff\x9b2J", title="\u202eeltit")
        await pilot.pause()
        assert_all_printable(app)
        note = list(app._notifications)[-1]
        assert (note.message, note.title) == ("gone: \\xff\\x9b2J", "\\u202eeltit")
        assert app.is_running


async def test_replay_status_line_escapes_the_file_name(make_app: AppFactory) -> None:
    app = make_app(nasty_snapshot(), live=False, replay_name="snap\x1b]2;r\x07\udcff")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "replay snap\\x1b]2;r\\x07\\xff" in assert_all_printable(app)


def renamed(names: dict[int, str]) -> Snapshot:
    """The lab with these namespaces (by inode) named so, their labels too."""
    snap = lab_snapshot()
    return replace(
        snap,
        namespaces=tuple(
            replace(n, names=(names[n.inode],), label=names[n.inode]) if n.inode in names else n
            for n in snap.namespaces
        ),
    )


async def test_a_real_escape_does_not_look_like_its_spelling(make_app: AppFactory) -> None:
    """One namespace is named with a real ESC, another with the four characters
    ``\\x1b``: both read ``nsxh-a\\x1bb``, so the escape is drawn in reverse video (as
    less does) and the spelling is not, in the sidebar and in the header."""
    real, spelled = "nsxh-a\x1bb", "nsxh-a\\x1bb"
    app = make_app(renamed({LAB_A: real, LAB_B: spelled}), runner=FakeRunner())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for inode in (LAB_A, LAB_B):
            app.goto(inode)
            await settle(pilot)
            segs = [seg for strip in strips_of(app) for seg in strip]
            escapes = [s for s in segs if s.text == "\\x1b" and s.style and s.style.reverse]
            spelled_out = [s for s in segs if spelled in s.text and not s.style.reverse]
            # the real one: its sidebar row, and the header when selected; the spelled
            # one: its row, and the header when selected, never reversed
            assert len(escapes) == (2 if inode == LAB_A else 1), segs
            assert len(spelled_out) == (1 if inode == LAB_A else 2), segs


async def test_a_pasted_name_finds_itself_not_its_look_alike(make_app: AppFactory) -> None:
    """Review: the filter turned a pasted ESC into the four characters ``\\x1b``, and
    then found the namespace named with a backslash that reads the same, not the one
    whose name was pasted. Typed as shown, the spelled one comes first (its row and the
    other's tell them apart: the escape is reversed)."""
    real, spelled = "q\x1b", "q\\x1b"
    app = make_app(renamed({LAB_A: real, LAB_B: spelled}), runner=FakeRunner())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        app.post_message(events.Paste(real))
        await pilot.pause(0.2)
        await settle(pilot)
        assert app.selected == LAB_A
        # the filter line draws the pasted ESC as an escape (review), the typed one not
        bar = [seg for strip in strips_of(app) for seg in strip][:8]
        assert any(seg.text == "\\x1b" and seg.style and seg.style.reverse for seg in bar), bar
        await pilot.press("escape", "slash", *spelled)
        await settle(pilot)
        assert app.selected == LAB_B


async def test_a_name_of_thousands_of_digits_is_listed_and_found(make_app: AppFactory) -> None:
    """Docker takes a container name of any length; int() refuses a run of more than
    4,300 digits, and the sidebar's natural sort once crashed the app on one."""
    long_name = "c" + "1" * 5000
    base = lab_snapshot()
    spaces = []
    for ns in base.namespaces:
        if ns.inode == WEB:
            c0 = replace(ns.containers[0], name=long_name)
            spaces.append(replace(ns, label=long_name, containers=(c0, *ns.containers[1:])))
        else:
            spaces.append(ns)
    app = make_app(replace(base, namespaces=tuple(spaces)), runner=FakeRunner())
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert WEB in app.query_one(NamespaceTree).inodes()
        await pilot.press("slash", *"c1111", "enter")
        await settle(pilot)
        assert app.selected == WEB
        assert "c11111" in assert_screen_is_clean(app)
        # the run prompt names it cut, and its input line stays on the screen
        await pilot.press("x")
        await pilot.pause()
        prompt = app.screen
        line = prompt.query_one(Input)
        assert 0 <= line.region.y < 36 and line.region.height > 0
        title = assert_screen_is_clean(app)
        assert "…" in title and f"(netns {WEB})" in title
        assert app.is_running
