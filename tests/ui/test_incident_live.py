"""Issue 12's keys in the real app over real namespaces this test makes (root): marks and
"run in marked" with one namespace failing, the capture key seeing a ping between two
namespaces (a pcap tcpdump reads back), a change made during the session in Changes, and
a bundle whose summary names what was run. The app is wired as `nsexplorer` wires it
(cli.tui.incident_tools over a LiveSource and a NamespaceRunner); only the pcap and
bundle directory and the audit log are the test's own."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import settle, widget_text
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from nsexplorer.ui.app import NsxApp
from nsexplorer.ui.screens.changes import ChangesScreen
from nsexplorer.ui.screens.fanout import FanOutScreen
from nsexplorer.ui.typeahead import TYPING_GAP
from nsexplorer.ui.widgets.panes import InterfacesPane
from nsexplorer.ui.widgets.sidebar import NamespaceTree

pytestmark = [pytest.mark.integration, pytest.mark.root]

BUSYBOX = shutil.which("busybox") or "/bin/busybox"
SIZE = (140, 40)


def live_app(tmp_path: Path, *, read_only: bool = False) -> NsxApp:
    from nsexplorer.actions.runner import NamespaceRunner
    from nsexplorer.cli.tui import incident_tools
    from nsexplorer.collect.source import LiveSource

    source = LiveSource(docker_timeout=3.0)
    runner = NamespaceRunner(read_only=read_only, audit_log=str(tmp_path / "audit.log"))
    tools = incident_tools(runner, source.detail, directory=str(tmp_path))
    return NsxApp(source, runner=runner, incident=tools)


def inode_of(name: str) -> int:
    return os.stat(f"/run/netns/{name}").st_ino


async def until(pilot: Pilot[None], ok: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not ok():
        if time.monotonic() > deadline:
            raise AssertionError(f"never saw: {what}")
        await pilot.pause(0.05)


def transcript(app: NsxApp) -> str:
    return "\n".join(app.main.output_pane().transcript)


def audit(tmp_path: Path) -> list[dict[str, Any]]:
    """Each action's final audit line (a command's "running" line, written as it
    starts, left out)."""
    lines = [json.loads(line) for line in (tmp_path / "audit.log").read_text().splitlines()]
    return [e for e in lines if e.get("state") != "running"]


def bundle_files(tmp_path: Path) -> dict[str, bytes]:
    (archive,) = tmp_path.glob("nsexplorer-*.tar.gz")
    with tarfile.open(archive) as tar:
        out: dict[str, bytes] = {}
        for member in tar.getmembers():
            f = tar.extractfile(member)
            assert f is not None
            out[member.name.split("/", 1)[1]] = f.read()
    return out


async def write_bundle(pilot: Pilot[None], app: NsxApp, tmp_path: Path) -> dict[str, bytes]:
    await pilot.press("B")
    await pilot.pause()
    await pilot.press("enter")  # the default path the prompt offers (in tmp_path)
    await until(pilot, lambda: "bundle written:" in transcript(app), "the bundle written")
    said = [n.message for n in app._notifications if n.message.startswith("bundle written:")]
    assert said and str(tmp_path) in said[0]  # the notification names the path
    return bundle_files(tmp_path)


async def test_marks_and_run_in_marked_with_one_failing(nsxt: Any, tmp_path: Path) -> None:
    a, b, c = nsxt.netns(), nsxt.netns(), nsxt.netns()
    end_a, _ = nsxt.veth(a, b, address_a="10.233.7.1/24", address_b="10.233.7.2/24")
    ino = {name: inode_of(name) for name in (a, b, c)}
    app = live_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *f"nsxt{nsxt.tag}n", "enter")
        tree = app.query_one(NamespaceTree)
        assert set(tree.inodes()) == set(ino.values())
        for name in (a, b, c):
            app.goto(ino[name])
            await pilot.press("space")
        await pilot.pause()
        rows = [line for line in widget_text(tree).splitlines() if f"nsxt{nsxt.tag}n" in line]
        assert len(rows) == 3 and all("✓" in row for row in rows), rows
        app.goto(ino[c])
        await pilot.press("space")  # unmark c again, then mark it back: it toggles
        await pilot.pause()
        assert "✓" not in next(r for r in widget_text(tree).splitlines() if c in r)
        await pilot.press("space")
        # c has no address: this filter hides it, so its mark is not acted on
        await pilot.press("escape", "slash", *"10.233.7.", "enter")
        await pilot.pause()
        assert set(tree.inodes()) == {ino[a], ino[b]}
        await pilot.press("X")
        await pilot.pause()
        title = widget_text(app.screen.query_one("#dialog-title", Static))
        assert "Run in 2 marked namespace(s)" in title and a in title and b in title
        assert c not in title and "1 marked namespace(s) hidden by the filter" in title
        # end_a exists in a only: b fails
        await pilot.press(*f"ip link show dev {end_a}", "enter")
        await until(pilot, lambda: isinstance(app.screen, FanOutScreen), "the fan-out screen")
        screen = app.screen
        assert isinstance(screen, FanOutScreen)
        await until(pilot, lambda: screen.finished, "the fan-out finished")
        results = screen.results
        assert set(results) == {ino[a], ino[b]}
        assert results[ino[a]].exit_status == 0 and end_a in results[ino[a]].output
        assert results[ino[b]].exit_status == 1
        status = widget_text(screen.query_one("#fanout-status", Static))
        assert "2 namespace(s): 1 ok, 1 failed" in status
        groups = "\n".join(widget_text(g) for g in screen.query(".fanout-group"))
        assert "exit 0" in groups and "exit 1" in groups
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, FanOutScreen)
        out = transcript(app)
        assert "2 finished: 1 ok, 1 failed" in out and f"ip link show dev {end_a}" in out
        runs = [e for e in audit(tmp_path) if e["action"] == "run"]
        assert sorted(e["netns_inode"] for e in runs) == sorted([ino[a], ino[b]])
        assert all(e["pid"] == os.getpid() for e in runs)
        files = await write_bundle(pilot, app, tmp_path)
        summary = files["summary.md"].decode()
        assert summary.count(f"run: ip link show dev {end_a}") == 2
        assert "| `exit 0` |" in summary and "| `exit 1` |" in summary
        kept = [name for name in files if name.startswith("output/")]
        assert len(kept) == 2  # each namespace's output, for the ticket


async def test_no_marks_runs_in_all_shown_and_read_only_refuses(nsxt: Any, tmp_path: Path) -> None:
    a, b = nsxt.netns(), nsxt.netns()
    app = live_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *f"nsxt{nsxt.tag}n", "enter", "X")
        await pilot.pause()
        title = widget_text(app.screen.query_one("#dialog-title", Static))
        assert "Run in 2 shown namespace(s)" in title and a in title and b in title
        await pilot.press(*"sleep 30", "enter")
        await until(pilot, lambda: isinstance(app.screen, FanOutScreen), "the fan-out screen")
        screen = app.screen
        assert isinstance(screen, FanOutScreen)
        await pilot.pause(0.5)
        assert app.command_running  # a run like x's: quitting asks, SIGTERM stops it
        started = time.monotonic()
        await pilot.press("escape")  # one key cancels both
        await until(pilot, lambda: screen.finished, "the cancelled fan-out finished", 15)
        assert time.monotonic() - started < 15
        assert all(r.exit_status is None for r in screen.results.values())
        assert not app.command_running
    ro = live_app(tmp_path, read_only=True)
    async with ro.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key in ("X", "t"):
            await pilot.press(key)
            await pilot.pause(TYPING_GAP + 0.05)  # a key after a pause, not typing on
            assert len(ro.screen_stack) == 1  # no prompt
        out = transcript(ro)
        assert "refused: read-only mode (--read-only): running a command in several" in out
        assert "refused: read-only mode (--read-only): capturing packets is refused" in out


async def test_capture_key_sees_a_ping_and_the_pcap_reads_back(nsxt: Any, tmp_path: Path) -> None:
    a, b = nsxt.netns(), nsxt.netns()
    end_a, _ = nsxt.veth(a, b, address_a="10.233.8.1/24", address_b="10.233.8.2/24")
    app = live_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(inode_of(a))
        await until(pilot, lambda: bool(app.selected_ns and app.selected_ns.detailed), "detail")
        await pilot.press("enter")  # into the Interfaces pane
        pane = app.query_one(InterfacesPane)
        ns = app.selected_ns
        assert ns is not None
        assert pane.select_ifindex(next(i.ifindex for i in ns.interfaces if i.name == end_a))
        await pilot.press("t")
        await pilot.pause()
        title = widget_text(app.screen.query_one("#dialog-title", Static))
        assert f"Capture on {end_a} in {a}" in title
        await pilot.press(*"-c 4 icmp", "enter")
        await until(pilot, lambda: "pcap: " in transcript(app), "the capture started")
        ping = threading.Thread(
            target=subprocess.run,
            args=(["ip", "netns", "exec", b, BUSYBOX, "ping", "-c", "3", "10.233.8.1"],),
            kwargs={"capture_output": True, "check": False},
        )
        ping.start()
        await until(pilot, lambda: not app.command_running, "the capture ended")
        ping.join()
        await pilot.pause(0.3)
        out = transcript(app)
        assert f"ip netns exec {a} tcpdump" in out  # the equivalent command, in the entry
        assert f"-i {end_a}" in out and app.main.current_command.startswith("ip netns exec")
        assert "ICMP echo request" in out  # decoded lines, streamed
        assert "stopped: count" in out and "pcap written: " in out
        (pcap,) = app.main.session.pcaps
        assert pcap.startswith(str(tmp_path)) and f"pcap written: {pcap}" in out
        back = subprocess.run(
            ["tcpdump", "-n", "-r", pcap], capture_output=True, text=True, check=True
        )
        assert back.stdout.count("ICMP echo") == 4
        assert [e["action"] for e in audit(tmp_path)] == ["capture"]
        files = await write_bundle(pilot, app, tmp_path)
        summary = files["summary.md"].decode()
        assert f"capture: tcpdump -n -l -U -Z root -i {end_a}" in summary
        assert a in summary.split("## What was looked at")[1].split("##")[0]
        (pcap_member,) = [n for n in files if n.startswith("pcaps/")]
        assert files[pcap_member] == Path(pcap).read_bytes()
        (output,) = [v for n, v in files.items() if n.startswith("output/")]
        assert b"ICMP echo request" in output


async def test_capture_refusals_are_clear(nsxt: Any, tmp_path: Path) -> None:
    a = nsxt.netns()
    gone_if = nsxt.bridge(netns=a)
    app = live_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.goto(inode_of(a))
        await until(pilot, lambda: bool(app.selected_ns and app.selected_ns.detailed), "detail")
        await pilot.press("enter")
        pane = app.query_one(InterfacesPane)
        ns = app.selected_ns
        assert ns is not None
        assert pane.select_ifindex(next(i.ifindex for i in ns.interfaces if i.name == gone_if))
        nsxt.ip("-n", a, "link", "del", gone_if)  # gone since the screen read it
        await pilot.press("t", "enter")
        await until(pilot, lambda: f"no interface '{gone_if}'" in transcript(app), "refusal")
        assert not list(tmp_path.glob("*.pcap"))
        await pilot.pause(TYPING_GAP + 0.05)  # t after a pause: a key, not typing on
        os.environ["PATH"], saved = str(tmp_path), os.environ["PATH"]
        try:
            await pilot.press("t")
            await pilot.pause()
        finally:
            os.environ["PATH"] = saved
        assert len(app.screen_stack) == 1
        assert "refused: tcpdump is not installed on the host" in transcript(app)


async def test_termshark_on_a_namespace_gone_unnoticed_is_refused(
    nsxt: Any, tmp_path: Path
) -> None:
    """Deleted after the sidebar read it, before anything told the UI: `T` says so and
    the app stays up (it used to end with the planning error)."""
    a = nsxt.netns()
    fake = tmp_path / "bin" / "termshark"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    app = live_app(tmp_path)
    os.environ["PATH"], saved = f"{fake.parent}:{os.environ['PATH']}", os.environ["PATH"]
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            app.goto(inode_of(a))
            await pilot.pause()
            nsxt.ip("netns", "del", a)
            await pilot.press("T")
            await until(pilot, lambda: "refused:" in transcript(app), "the refusal")
            assert app.is_running and len(app.screen_stack) == 1
            assert "gone" in transcript(app), transcript(app)
    finally:
        os.environ["PATH"] = saved


async def test_a_change_made_during_the_session_shows_in_changes(nsxt: Any, tmp_path: Path) -> None:
    a = nsxt.netns()
    app = live_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *a, "enter")  # the host may hold many others
        tree = app.query_one(NamespaceTree)
        assert "Δ" not in next(r for r in widget_text(tree).splitlines() if a in r)
        added = nsxt.bridge(netns=a)  # made after the baseline (the first full read)
        await pilot.press("r")
        await settle(pilot)
        await until(pilot, lambda: app.main.changes is not None, "a tracker")
        row = next(r for r in widget_text(tree).splitlines() if a in r)
        assert "Δ" in row
        await pilot.press("d")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ChangesScreen)
        table = screen.query_one("#changes-table", DataTable)
        cells = [[str(c) for c in table.get_row_at(n)] for n in range(table.row_count)]
        mine = next(n for n, row in enumerate(cells) if a in row[1] and added in row[3])
        assert cells[mine][2] == "interface-appeared"
        assert cells[mine][0].count(":") == 2  # first seen at HH:MM:SS
        table.move_cursor(row=mine)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is app.main and app.selected == inode_of(a)
        ns = app.selected_ns
        assert ns is not None
        selected = app.query_one(InterfacesPane).selected_ifindex
        iface = ns.interface(selected) if selected is not None else None
        assert iface is not None and iface.name == added
        files = await write_bundle(pilot, app, tmp_path)
        diff = json.loads(files["diff.json"])
        assert any(c["subject"] == added for c in diff["changes"])
        assert f"interface appeared {added}" in files["summary.md"].decode()
