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
    assert "`exec: ip a`" in summary and "`exit 3`" in summary  # what was run, how it ended
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


def test_a_cancelled_run_says_cancelled_and_nsexplorers_note_is_not_output() -> None:
    """QA: a cancelled command showed exit `None`, and the UI's note "cancelled; output so
    far is shown" was written into its output as if the command had printed it."""
    ns = NetNamespace(id=NamespaceId(4, 7), label="nsxt-app")
    note = "cancelled; output so far is shown"
    parts = bundle.BundleParts(
        snapshot=snap(ns),
        problems=[
            {
                "kind": "mtu-mismatch",
                "severity": "warning",
                "namespace_inode": 7,
                "interface": "eth0",
                "message": "mtu 1400, but its peer has 1500",
            },
            {"kind": "leaked-netns", "severity": "info", "namespace_inode": 99, "message": "m"},
        ],
        audit_entries=[
            {"time": "t1", "action": "run", "netns": "nsxt-app", "argv": ["sleep", "99"]}
            | {"exit_status": None, "stopped": "cancelled"},
            {"time": "t2", "action": "run", "netns": "nsxt-app", "argv": ["nope"]}
            | {"exit_status": None, "error": "could not start nope"},
        ],
        outputs=[
            bundle.RunOutput("t1", "nsxt-app", "sleep 99", None, "tick\n", note, "cancelled"),
            bundle.RunOutput("t2", "nsxt-app", "ip a", 0, "lo\n"),
        ],
    )
    got = members(bundle.build(parts))
    summary = next(v for k, v in got.items() if k.endswith("summary.md")).decode()
    assert "None" not in summary
    assert "| `run: sleep 99` | `cancelled` |" in summary
    assert "| `run: nope` | `not run (an error)` |" in summary
    # problems: severity, namespace and interface
    assert "- **warning** `mtu-mismatch` in `nsxt-app` on `eth0`: `mtu 1400" in summary
    assert "- **info** `leaked-netns` in `netns 99`: `m`" in summary
    # every file is listed, the outputs too
    outputs = sorted(k.split("/", 1)[1] for k in got if "/output/" in k)
    assert outputs == ["output/001-nsxt-app.txt", "output/002-nsxt-app.txt"]
    for name in outputs:
        assert f"- `{name}`" in summary
    cancelled = next(v for k, v in got.items() if k.endswith(outputs[0])).decode()
    assert cancelled == (
        f"# t1 in nsxt-app\n$ sleep 99\ntick\n# ended: cancelled\n# nsexplorer: {note}\n"
    )
    done = next(v for k, v in got.items() if k.endswith(outputs[1])).decode()
    assert done == "# t2 in nsxt-app\n$ ip a\nlo\n# ended: exit 0\n"


def test_how_a_run_ended_in_words() -> None:
    assert bundle.ending(3) == "exit 3"
    assert bundle.ending(None, "cancelled") == "cancelled"
    assert bundle.ending(None, "timeout") == "stopped (timeout)"
    assert bundle.ending(0, "count") == "stopped (count), exit 0"
    assert bundle.ending(None, None, "could not start") == "not run (an error)"
    assert bundle.ending(None) == "no exit status"


def test_a_running_line_shows_only_when_its_run_never_ended() -> None:
    """A command's "running" audit line is written as it starts; its final line says
    how it ended. One whose nsexplorer was killed has only the first."""
    ns = NetNamespace(id=NamespaceId(4, 7), label="nsxt-app")
    run = {"action": "run", "netns": "nsxt-app", "exit_status": None}
    parts = bundle.BundleParts(
        snapshot=snap(ns),
        audit_entries=[
            run | {"time": "t1", "argv": ["sleep", "3"], "run": "9.1", "state": "running"},
            run | {"time": "t2", "argv": ["sleep", "3"], "run": "9.1", "exit_status": 0},
            run | {"time": "t3", "argv": ["sleep", "99"], "run": "9.2", "state": "running"},
        ],
    )
    summary = next(v for k, v in members(bundle.build(parts)).items() if k.endswith("summary.md"))
    text = summary.decode()
    assert text.count("`run: sleep 3`") == 1 and "| `t2` |" in text, text
    assert "| `run: sleep 99` | `running, no end recorded` |" in text, text


def test_an_older_shell_line_reads_as_interactive_not_as_a_missing_status() -> None:
    """Review: an older nsexplorer logged a shell once, at its start (no run id, exit
    null); within a bundle's day that read "no exit status", as if something failed."""
    ns = NetNamespace(id=NamespaceId(4, 7), label="nsxt-app")
    old = {"action": "shell", "netns": "nsxt-app", "exit_status": None, "time": "t1"}
    parts = bundle.BundleParts(
        snapshot=snap(ns),
        audit_entries=[
            old | {"argv": ["bash"]},
            old | {"argv": ["sh"], "run": "9.a.1", "exit_status": None, "error": ""},
        ],
    )
    summary = next(v for k, v in members(bundle.build(parts)).items() if k.endswith("summary.md"))
    text = summary.decode()
    assert "| `shell: bash` | `interactive (logged at its start only)` |" in text, text
    assert "| `shell: sh` | `no exit status` |" in text, text  # a new-style line says so
