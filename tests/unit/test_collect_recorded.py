"""RecordedSource: a saved snapshot as a read-only source; clear errors for bad files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nsexplorer import snapshot_json
from nsexplorer.collect.recorded import RecordedSource
from nsexplorer.errors import NamespaceGone, NsxError
from nsexplorer.model import NamespaceId, NetNamespace, Snapshot


def saved(tmp_path: Path) -> tuple[Path, Snapshot]:
    snap = Snapshot("h", "t", (NetNamespace(NamespaceId(4, 7), is_host=True, label="host"),))
    path = tmp_path / "snap.json"
    path.write_text(snapshot_json.dumps(snap))
    return path, snap


def test_recorded_source_serves_the_file(tmp_path: Path) -> None:
    path, snap = saved(tmp_path)
    src = RecordedSource(str(path))
    assert src.live is False
    assert src.discover() == snap and src.collect() == snap
    assert src.detail(snap.namespaces[0]) == snap.namespaces[0]
    assert src.processes(snap.namespaces[0]) == ()
    with pytest.raises(NamespaceGone):
        src.detail(NetNamespace(NamespaceId(4, 8)))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        (b"{not json", "not an nsexplorer snapshot"),
        (b'{"schema_version": 99, "hostname": "h", "collected_at": "t"}', "schema_version"),
        (b"[]", "not an nsexplorer snapshot"),
    ],
)
def test_bad_files_are_clear_errors(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "x.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(NsxError, match=message):
        RecordedSource(str(path))


def test_directory_and_fifo_do_not_hang(tmp_path: Path) -> None:
    with pytest.raises(NsxError, match="cannot read"):
        RecordedSource(str(tmp_path))
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(NsxError):
        RecordedSource(str(fifo))  # O_NONBLOCK: reads nothing, does not block


def test_inside_facts_a_file_holds_are_replayed_the_others_not_recorded(
    tmp_path: Path,
) -> None:
    import json

    from nsexplorer.model_inside import InsideFacts, SocketInfo

    host = NetNamespace(NamespaceId(4, 7), is_host=True, label="host")
    other = NetNamespace(NamespaceId(4, 8), label="x")
    snap = Snapshot("h", "t", (host, other))
    facts = InsideFacts(
        7,
        read_at="2026-12-01T00:00:00Z",
        sockets=(SocketInfo("tcp", "LISTEN", "127.0.0.1", 80, None, None, (9,), ("srv",)),),
        unavailable=(("conntrack", "nf_conntrack not loaded here"),),
    )
    doc = snapshot_json.encode(snap)
    doc["namespaces"][0].update(snapshot_json.encode_inside(facts))
    path = tmp_path / "with-inside.json"
    path.write_text(json.dumps(doc))
    src = RecordedSource(str(path))
    assert src.collect() == snap
    assert src.inside(host) == facts
    assert src.inside(other).reason("sockets") == (
        f"not recorded ({path} holds no sockets, neighbours or NAT rules)"
    )
    doc["namespaces"][0]["sockets"] = "not a list"
    path.write_text(json.dumps(doc))
    with pytest.raises(NsxError, match="inside facts"):
        RecordedSource(str(path))
