"""The incident bundle: one .tar.gz a responder attaches to the ticket.

Inside, under one top directory: the snapshot now, the baseline (when there is one) and
the diff between them, the problems, the audit entries of the time span with any output
the caller kept, the packet captures taken, and summary.md, the story in prose. Member
names are fixed or sanitised, so nothing a namespace name holds can steer a path.
"""

from __future__ import annotations

import io
import json
import os
import re
import tarfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from nsexplorer import __version__, snapshot_json
from nsexplorer.changes import changes_between
from nsexplorer.diffing import Change, change_json
from nsexplorer.model import Snapshot, group_of, ns_label
from nsexplorer.ports import CANCELLED
from nsexplorer.textsafe import visible

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_AUDIT_LINE = 1 << 20  # a longer line is not ours: skip it rather than hold it


@dataclass(frozen=True, slots=True)
class RunOutput:
    """Output the caller kept of one run (the TUI's Output pane), keyed by audit time:
    ``text`` is the command's own output; ``error`` nsexplorer's note about the run and
    ``stopped`` why it ended early ("cancelled", "timeout"), kept apart from it."""

    time: str
    label: str
    command: str
    exit_status: int | None
    text: str
    error: str = ""
    stopped: str = ""


def ending(exit_status: object, stopped: object = None, error: object = None) -> str:
    """How a run ended, in words: "exit 3", "cancelled", "stopped (timeout)", "stopped
    (count), exit 0", "not run (an error)", "no exit status" (never Python's None)."""
    words = []
    if stopped:
        words.append("cancelled" if stopped == CANCELLED else f"stopped ({stopped})")
    if isinstance(exit_status, int):
        words.append(f"exit {exit_status}")
    if words:
        return ", ".join(words)
    return "not run (an error)" if error else "no exit status"


def output_text(out: RunOutput) -> str:
    """An output/*.txt file: a header, the command's output as it came, and the end,
    nsexplorer's own lines marked with "#" (never mixed into the output)."""
    lines = [f"# {out.time} in {out.label}", f"$ {out.command}"]
    text = out.text if not out.text or out.text.endswith("\n") else out.text + "\n"
    tail = [f"# ended: {ending(out.exit_status, out.stopped, out.error)}"]
    if out.error:
        tail.append(f"# nsexplorer: {out.error}")
    return "\n".join(lines) + "\n" + text + "\n".join(tail) + "\n"


@dataclass(slots=True)
class BundleParts:
    snapshot: Snapshot
    baseline: Snapshot | None = None
    problems: Sequence[Mapping[str, Any]] | None = None  # None: not computed
    audit_entries: Sequence[Mapping[str, Any]] = ()
    outputs: Sequence[RunOutput] = ()
    pcaps: Sequence[str] = ()  # paths of capture files to include
    viewed: Sequence[str] = ()  # labels of the namespaces the user looked at
    notes: list[str] = field(default_factory=list)  # what could not be included, and why


def safe_member(name: str, fallback: str = "file") -> str:
    """A tar member name made only of [A-Za-z0-9._-], never empty, never '.' or '..'."""
    cleaned = _SAFE.sub("_", name).strip("._") or fallback
    return cleaned[:100]


def one_per_run(entries: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """One audit entry per action: a command's "running" line (written as it starts)
    is left out when its final line, with the same ``run`` id, is there to say how it
    ended."""
    ended = {e.get("run") for e in entries if e.get("state") != "running"}
    return [e for e in entries if not (e.get("state") == "running" and e.get("run") in ended)]


def read_audit(path: str, since: datetime) -> tuple[list[dict[str, Any]], str]:
    """Audit entries at or after ``since``; the second value says why none could be read."""
    entries: list[dict[str, Any]] = []
    try:
        with open(path, "rb") as f:
            for raw in f:
                if len(raw) > MAX_AUDIT_LINE:
                    continue
                try:
                    entry = json.loads(raw)
                    when = datetime.fromisoformat(str(entry["time"]))
                except (ValueError, KeyError, TypeError):
                    continue
                if isinstance(entry, dict) and when >= since:
                    entries.append(entry)
    except FileNotFoundError:
        return entries, f"no audit log at {path} (nothing was run)"
    except OSError as err:
        return entries, f"audit log {path} not read: {err.strerror or err}"
    return entries, ""


def default_since(baseline: Snapshot | None, hours: float = 24.0) -> datetime:
    if baseline is not None:
        try:
            return datetime.fromisoformat(baseline.collected_at)
        except ValueError:
            pass
    return datetime.now(UTC) - timedelta(hours=hours)


def build(parts: BundleParts) -> bytes:
    """The .tar.gz as bytes (pcaps are read from disk; a missing one becomes a note)."""
    changes = changes_between(parts.baseline, parts.snapshot) if parts.baseline else ()
    top = "nsexplorer-bundle-" + safe_member(parts.snapshot.hostname, "host")
    members: list[tuple[str, bytes]] = [
        ("snapshot.json", snapshot_json.dumps(parts.snapshot, indent=1).encode()),
        ("audit.jsonl", b"".join(_json(e, indent=None) for e in parts.audit_entries)),
    ]
    if parts.problems is not None:
        members.append(("problems.json", _json({"problems": list(parts.problems)})))
    if parts.baseline is not None:
        members.append(("baseline.json", snapshot_json.dumps(parts.baseline, indent=1).encode()))
        members.append(("diff.json", _json({"changes": [change_json(c) for c in changes]})))
    output_names: list[str] = []
    for i, out in enumerate(parts.outputs, 1):
        name = f"output/{i:03d}-{safe_member(out.label)}.txt"
        output_names.append(name)
        members.append((name, output_text(out).encode("utf-8", "backslashreplace")))
    pcap_names: list[str] = []
    for i, path in enumerate(parts.pcaps, 1):
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as err:
            parts.notes.append(f"capture {visible(path)} not included: {err.strerror or err}")
            continue
        name = f"pcaps/{i:03d}-{safe_member(os.path.basename(path), 'capture')}"
        pcap_names.append(name)
        members.append((name, data))
    text = summary(parts, changes, pcap_names, output_names)
    members.append(("summary.md", text.encode("utf-8", "backslashreplace")))
    buf = io.BytesIO()
    now = time.time()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            info.mtime = int(now)
            info.mode = 0o600
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def summary(
    parts: BundleParts,
    changes: Sequence[Change],
    pcap_names: Iterable[str],
    output_names: Iterable[str] = (),
) -> str:
    """Markdown; every untrusted string escaped and kept inside code spans."""
    snap = parts.snapshot
    start = parts.baseline.collected_at if parts.baseline else "(no baseline)"
    lines = [
        f"# nsexplorer incident bundle: {_code(snap.hostname)}",
        "",
        f"- nsexplorer {__version__}, bundle written {_now()}",
        f"- time span: {_code(start)} to {_code(snap.collected_at)}",
        f"- namespaces: {len(snap.namespaces)} ({_groups(snap)})",
        "",
        "## What was looked at",
        "",
    ]
    lines += [f"- {_code(v)}" for v in parts.viewed] or [
        "- (not recorded: bundle made from the command line)"
    ]
    lines += ["", "## What was run", ""]
    if parts.audit_entries:
        lines += ["| time | namespace | command | exit |", "|---|---|---|---|"]
        for e in one_per_run(parts.audit_entries):
            cmd = " ".join(str(a) for a in e.get("argv") or e.get("command") or ())
            cells = (e.get("time", ""), e.get("netns", ""), f"{e.get('action', '')}: {cmd}")
            end = ending(e.get("exit_status"), e.get("stopped"), e.get("error"))
            if e.get("state") == "running":
                end = "running, no end recorded"
            elif e.get("action") == "shell" and "run" not in e and e.get("exit_status") is None:
                end = "interactive (logged at its start only)"  # an older nsexplorer logged no end
            row = " | ".join(_cell(str(c)) for c in (*cells, end))
            lines.append(f"| {row} |")
    else:
        lines.append("- nothing (no audit entries in the time span)")
    lines += ["", "## What changed", ""]
    if parts.baseline is None:
        lines.append("- no baseline given, so no changes computed")
    elif not changes:
        lines.append("- nothing changed since the baseline")
    else:
        lines += [
            f"- {_code(c.namespace_label or str(c.namespace_inode))}: {_code(c.message)}"
            for c in changes
        ]
    lines += ["", "## Problems", ""]
    if parts.problems is None:
        lines.append("- not computed")
    else:
        lines += [_problem_line(snap, p) for p in parts.problems] or ["- none found"]
    lines += ["", "## Files", ""]
    lines += ["- `snapshot.json`", "- `audit.jsonl`"]
    if parts.problems is not None:
        lines.append("- `problems.json`")
    if parts.baseline is not None:
        lines += ["- `baseline.json`", "- `diff.json`"]
    lines += [f"- `{n}`" for n in output_names]
    lines += [f"- `{n}`" for n in pcap_names]
    if parts.notes:
        lines += ["", "## Not included", ""] + [f"- {_code(n)}" for n in parts.notes]
    return "\n".join(lines) + "\n"


def _problem_line(snap: Snapshot, p: Mapping[str, Any]) -> str:
    """'- **error** `kind` in `namespace` on `eth0`: `message`'."""
    inode = p.get("namespace_inode")
    ns = snap.by_inode(inode) if isinstance(inode, int) else None
    where = ns_label(ns) if ns is not None else f"netns {inode}"
    line = f"- **{visible(str(p.get('severity')))}** {_code(str(p.get('kind')))} in {_code(where)}"
    if p.get("interface"):
        line += f" on {_code(str(p['interface']))}"
    return f"{line}: {_code(str(p.get('message')))}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _groups(snap: Snapshot) -> str:
    counts: dict[str, int] = {}
    for ns in snap.namespaces:
        g = str(group_of(ns))
        counts[g] = counts.get(g, 0) + 1
    return ", ".join(f"{n} {g}" for g, n in counts.items())


def _code(text: str) -> str:
    """A Markdown code span that cannot be closed early by the text inside."""
    safe = visible(text).replace("`", "\\x60")
    return f"`{safe}`"


def _cell(text: str) -> str:
    return _code(text).replace("|", "\\x7c")


def _json(value: Any, indent: int | None = 1) -> bytes:
    return (snapshot_json.dumps_value(value, indent=indent) + "\n").encode("utf-8")
