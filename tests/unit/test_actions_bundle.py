"""The incident bundle: fixed member names whatever names hold, an honest summary."""

from __future__ import annotations

import io
import json
import tarfile
from datetime import UTC, datetime
from pathlib import Path

from nsexplorer.actions import bundle
from nsexplorer.model import NamespaceId, NetNamespace, Snapshot

HOSTILE = "../../etc/x\x1b]2;pwned\x07`|[bold]\udcff"


def snap(*namespaces: NetNamespace, host: str = "h") -> Snapshot:
    return Snapshot(hostname=host, collected_at="2026-12-01T10:00:00+00:00", namespaces=namespaces)


def members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        out = {}
        for m in tar.getmembers():
            f = tar.extractfile(m)
            assert f is not None
            out[m.name] = f.read()
        return out


def test_safe_member_never_escapes_or_empties() -> None:
    for name in (HOSTILE, "..", ".", "", "/", "a/b", "\x00"):
        safe = bundle.safe_member(name)
        assert safe and safe not in (".", "..")
        assert set(safe) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def test_bundle_members_and_summary_with_hostile_names(tmp_path: Path) -> None:
    ns = NetNamespace(id=NamespaceId(4, 7), label=HOSTILE)
    pcap = tmp_path / "cap.pcap"
    pcap.write_bytes(b"\xd4\xc3\xb2\xa1pcap")
    parts = bundle.BundleParts(
        snapshot=snap(ns, host=HOSTILE),
        baseline=snap(),
        problems=[{"kind": "dad-failed", "message": HOSTILE}],
        audit_entries=[
            {
                "time": "t1",
                "action": "exec",
                "netns": HOSTILE,
                "argv": ["ip", "a"],
                "exit_status": 3,
            }
        ],
        outputs=[bundle.RunOutput("t1", HOSTILE, "ip a", 3, "out\x1b[2J")],
        pcaps=[str(pcap), str(tmp_path / "missing.pcap")],
        viewed=[HOSTILE],
    )
    got = members(bundle.build(parts))
    tops = {name.split("/")[0] for name in got}
    assert len(tops) == 1 and ".." not in next(iter(tops))
    names = {name.split("/", 1)[1] for name in got}
    assert {"snapshot.json", "baseline.json", "diff.json", "problems.json", "audit.jsonl"} <= names
    assert "pcaps/001-cap.pcap" in names
    assert any(n.startswith("output/001-") for n in names)
    assert all(".." not in n.split("/") for n in names)
    summary = next(v for k, v in got.items() if k.endswith("summary.md")).decode()
    assert "\x1b" not in summary and "\x07" not in summary
    assert "`exec: ip a`" in summary and "`3`" in summary  # what was run, and its status
    assert "namespace appeared" in summary  # the diff since the baseline
    assert "dad-failed" in summary
    assert "missing.pcap" in summary  # named under "Not included"
    diff = json.loads(next(v for k, v in got.items() if k.endswith("diff.json")))
    assert diff["changes"][0]["namespace_label"] == HOSTILE  # exact in JSON


def test_problems_not_computed_is_said_not_none_found() -> None:
    summary = members(bundle.build(bundle.BundleParts(snapshot=snap())))
    text = next(v for k, v in summary.items() if k.endswith("summary.md")).decode()
    assert "- not computed" in text and "none found" not in text
    assert not any(k.endswith("problems.json") for k in summary)


def test_read_audit_filters_by_time_and_survives_garbage(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    lines = [
        json.dumps({"time": "2026-12-01T09:00:00+00:00", "action": "old"}),
        "not json",
        json.dumps({"time": "2026-12-01T11:00:00+00:00", "action": "new"}),
        json.dumps({"no": "time"}),
    ]
    log.write_text("\n".join(lines) + "\n")
    since = datetime(2026, 12, 1, 10, tzinfo=UTC)
    entries, why = bundle.read_audit(str(log), since)
    assert [e["action"] for e in entries] == ["new"] and why == ""
    entries, why = bundle.read_audit(str(tmp_path / "nope"), since)
    assert entries == [] and "no audit log" in why
