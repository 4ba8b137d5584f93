"""InsideFacts in `show`: JSON (round trip, null for what was not read) and text
(hostile names escaped, reasons shown), a saved snapshot says "not recorded", and the
paths that must stay light never import pyroute2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nsexplorer import snapshot_json
from nsexplorer.cli.inside import format_inside
from nsexplorer.collect.recorded import SnapshotReplay
from nsexplorer.model import NamespaceId, NetNamespace, PublishedPort, Snapshot
from nsexplorer.model_inside import (
    DnatRule,
    FdbEntry,
    InsideFacts,
    Neighbour,
    SocketInfo,
)

EVIL = "\x1b]2;pwned\x07[@click=app.quit]x[/]"

ANY4 = "0.0.0.0"  # noqa: S104 - an address in test data, nothing binds


def facts() -> InsideFacts:
    return InsideFacts(
        namespace_inode=4026532000,
        read_at="2026-12-01T22:00:00Z",
        sockets=(
            SocketInfo("tcp", "LISTEN", ANY4, 80, None, None, (10, 11), ("nginx", EVIL)),
            SocketInfo("tcp", "ESTAB", "::1", 80, "::1", 5000, (11,), (EVIL,), family=6),
            SocketInfo(
                "unix", "LISTEN", "@" + EVIL, None, None, None, family=0, socket_type="stream"
            ),
            SocketInfo("udp", "UNCONN", "fe80::1", 546, None, None, (), (), 6, interface=EVIL),
        ),
        time_wait=3,
        neighbours=(Neighbour("10.0.0.2", "02:00:00:00:00:02", "REACHABLE", EVIL),),
        fdb=(FdbEntry("02:00:00:00:00:02", EVIL, 1, "", (), "br0"),),
        published=(PublishedPort("80/tcp", ANY4, "8080"),),
        dnat=(
            DnatRule(
                1,
                "iptables",
                4,
                "nat",
                EVIL,
                "10.0.0.2",
                "80",
                "tcp",
                "8080",
                in_interface="!docker0",
            ),
        ),
        conntrack_count=12,
        warnings=(f"odd {EVIL}",),
    )


def test_json_round_trip_keeps_hostile_bytes() -> None:
    f = facts()
    doc = json.loads(snapshot_json.dumps_value(snapshot_json.encode_inside(f)))
    assert doc["sockets"][0] == {
        "protocol": "tcp",
        "state": "LISTEN",
        "local_address": ANY4,
        "local_port": 80,
        "remote_address": None,
        "remote_port": None,
        "pids": [10, 11],
        "commands": ["nginx", EVIL],
        "family": 4,
        "inode": 0,
        "uid": None,
        "recv_q": 0,
        "send_q": 0,
        "interface": None,
        "socket_type": "",
    }
    assert set(doc["neighbours"][0]) >= {"address", "lladdr", "state", "dev"}
    assert set(doc["fdb"][0]) >= {"mac", "dev", "vlan", "state", "flags", "master"}
    assert doc["conntrack_count"] == 12 and doc["sockets_time_wait"] == 3
    assert snapshot_json.decode_inside(doc) == f


def test_json_says_null_and_why_for_what_was_not_read() -> None:
    f = InsideFacts(1, unavailable=(("sockets", "needs root"), ("nat", "no iptables")))
    doc = snapshot_json.encode_inside(f)
    assert doc["sockets"] is None and doc["sockets_time_wait"] is None
    assert doc["dnat"] is None and doc["published_ports"] is None
    assert doc["neighbours"] == [] and doc["conntrack_count"] is None
    assert doc["inside"]["unavailable"] == {"sockets": "needs root", "nat": "no iptables"}
    assert snapshot_json.decode_inside(doc) == f
    assert snapshot_json.decode_inside({"inode": 1}) is None


def test_text_escapes_every_name_and_shows_every_part() -> None:
    text = "\n".join(format_inside(facts(), "host"))
    assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b]2;pwned\\x07" in text
    assert "Sockets: 4 (3 in TIME-WAIT, not listed)" in text
    assert "pids 10 nginx, 11 \\x1b]2;pwned\\x07" in text
    assert "[::1]:80" in text and "[::1]:5000" in text
    assert "[fe80::1]%\\x1b]2;pwned\\x07[@click=app.quit]x[/]:546" in text
    shown = "\\x1b]2;pwned\\x07[@click=app.quit]x[/]"
    assert f"10.0.0.2 dev {shown} lladdr 02:00:00:00:00:02 REACHABLE" in text
    assert f"02:00:00:00:00:02 dev {shown} vlan 1 master br0" in text
    assert "NAT: 1 DNAT rules, 1 published ports" in text
    assert "published: 80/tcp on 0.0.0.0:8080" in text
    assert "dnat (host, iptables nat chain \\x1b]2;pwned\\x07[@click=app.quit]x[/]): " in text
    assert "in !docker0 tcp dport 8080 -> 10.0.0.2:80" in text
    assert "Conntrack: 12 entries" in text


def test_text_gives_the_reason_for_a_part_not_read() -> None:
    f = InsideFacts(1, unavailable=(("conntrack", "nf_conntrack is not loaded"),))
    text = format_inside(f)
    assert "Conntrack: nf_conntrack is not loaded" in text
    assert "Sockets: 0" in text


def test_a_saved_snapshot_says_it_holds_nothing_inside() -> None:
    ns = NetNamespace(NamespaceId(4, 5))
    got = SnapshotReplay(Snapshot("h", "t", (ns,)), origin="x.json").inside(ns)
    assert all(not got.has(p) for p in ("sockets", "neighbours", "fdb", "nat", "conntrack"))
    assert format_inside(got) == [
        "",
        "Inside: not recorded (x.json holds no sockets, neighbours or NAT rules)",
    ]


def saved(tmp_path: Path) -> Path:
    ns = (NetNamespace(NamespaceId(4, 1000), is_host=True, label="host", pids=(2,)),)
    path = tmp_path / "snap.json"
    path.write_text(snapshot_json.dumps(Snapshot("h", "t", namespaces=ns)))
    return path


def test_show_from_a_file_has_the_keys_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from nsexplorer.cli import main

    path = saved(tmp_path)
    assert main(["--from", str(path), "show", "host", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["sockets"] is None and doc["inside"]["unavailable"]["sockets"].startswith(
        "not recorded"
    )
    assert main(["--from", str(path), "show", "host"]) == 0
    assert "Inside: not recorded" in capsys.readouterr().out


LIGHT = """
import sys
from nsexplorer.cli import main
code = main({argv!r})
assert "pyroute2" not in sys.modules, "pyroute2 was imported"
heavy = {heavy!r}
assert heavy not in sys.modules, heavy + " was imported"
sys.exit(code)
"""


@pytest.mark.parametrize(
    ("command", "heavy"),
    [
        (["list"], "nsexplorer.model_inside"),  # not even the inside classes
        (["list", "--json"], "nsexplorer.model_inside"),
        (["show", "host"], "pyroute2"),
    ],
)
def test_list_and_show_of_a_saved_snapshot_never_import_pyroute2(
    tmp_path: Path, command: list[str], heavy: str
) -> None:
    argv = ["--from", str(saved(tmp_path)), *command]
    done = subprocess.run(
        [sys.executable, "-c", LIGHT.format(argv=argv, heavy=heavy)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


FIRST_FRAME = """
import asyncio, sys
from nsexplorer.collect.recorded import SnapshotReplay
from nsexplorer.model import NamespaceId, NetNamespace, Snapshot
from nsexplorer.ui.app import NsxApp
import nsexplorer.cli.tui, nsexplorer.collect.source, nsexplorer.collect.watch
import nsexplorer.actions.runner

ns = NetNamespace(NamespaceId(4, 1000), is_host=True, label="host", pids=(2,))

async def main():
    app = NsxApp(SnapshotReplay(Snapshot("h", "t", (ns,)), live=True))
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()

asyncio.run(main())
assert "pyroute2" not in sys.modules, "pyroute2 was imported"
assert "nsexplorer.model_inside" not in sys.modules, "the inside classes were imported"
"""


def test_the_tuis_first_frame_never_imports_pyroute2_nor_the_inside_classes() -> None:
    done = subprocess.run(
        [sys.executable, "-c", FIRST_FRAME],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
