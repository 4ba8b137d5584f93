"""Text builders for the views beside the main table: what is inside a namespace
(sockets, neighbours, FDB, NAT, conntrack, rules), problems and changes.

Like ``ui.render``, every string that came from the system (process names, addresses,
device names, rule text, problem messages and commands) goes through :func:`safe`:
control characters are shown escaped and the result is a ``Text``, never markup.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Protocol

from rich.text import Text

from nsexplorer.diffing import Change, rule_text
from nsexplorer.model import NetNamespace
from nsexplorer.textsafe import counted
from nsexplorer.ui.render import plain, safe
from nsexplorer.ui.roles import BAD, GOOD, KIND, WARN

if TYPE_CHECKING:
    from nsexplorer.model_inside import DnatRule, InsideFacts, SocketInfo

SEVERITY_STYLES = {"error": BAD, "warning": WARN, "info": KIND}
SEVERITY_MARKS = {"error": "E", "warning": "W", "info": "i"}
SEVERITY_ORDER = ("error", "warning", "info")

SECTION_TITLES = {
    "sockets": "Sockets",
    "neighbours": "Neighbours (ARP/NDP)",
    "fdb": "Bridge forwarding database",
    "nat": "NAT: published ports and DNAT rules",
    "conntrack": "Conntrack",
    "rules": "Policy rules",
    "tun": "tun/tap devices: the processes holding them (their carrier)",
}


class Finding(Protocol):
    """What the UI needs of a problem (nsexplorer.problems.Problem has these fields)."""

    @property
    def kind(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def namespace_inode(self) -> int: ...
    @property
    def interface(self) -> str | None: ...
    @property
    def message(self) -> str: ...
    @property
    def evidence(self) -> tuple[str, ...]: ...
    @property
    def next(self) -> str: ...


# ---------------------------------------------------------------- problems and badges

_UTC_STAMP = re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\b")


def local_times(text: str) -> str:
    """A finding's UTC stamps ("tx_dropped +5 since 2026-12-04T19:52:10Z", the CLI's
    and the JSON's form) in the local HH:MM:SS of the other views; with the date when it
    is not today (a replayed snapshot)."""
    if "Z" not in text:
        return text
    import calendar  # only for a text with a stamp

    today = time.strftime("%Y-%m-%d")

    def local(m: re.Match[str]) -> str:
        try:
            epoch = calendar.timegm(time.strptime(m.group(0), "%Y-%m-%dT%H:%M:%SZ"))
        except ValueError:  # a stamp-shaped word that is no time: as it was
            return m.group(0)
        day, clock = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch)).split()
        return clock if day == today else f"{day} {clock}"

    return _UTC_STAMP.sub(local, text)


def badge_text(severity: str | None) -> Text:
    """The mark a sidebar row carries for its worst finding ("" when healthy)."""
    if severity is None:
        return Text()
    return plain(SEVERITY_MARKS.get(severity, "?"), SEVERITY_STYLES.get(severity, ""))


def problems_summary_text(problems: Iterable[Finding]) -> Text:
    """For the header: "2 errors 1 warning", or nothing when there are none."""
    counts = dict.fromkeys(SEVERITY_ORDER, 0)
    for p in problems:
        counts[p.severity] = counts.get(p.severity, 0) + 1
    parts: list[Text] = []
    for sev in SEVERITY_ORDER:
        n = counts[sev]
        if n:
            word = sev if sev == "info" or n == 1 else f"{sev}s"
            parts.append(plain(f"{n} {word}", SEVERITY_STYLES[sev]))
    return Text(" ").join(parts)


def problem_cells(p: Finding, where: str) -> tuple[Text, ...]:
    """One row of the Problems view: severity, namespace, interface, what."""
    return (
        plain(p.severity, SEVERITY_STYLES.get(p.severity, "")),
        safe(where),
        safe(p.interface or "", "bold") if p.interface else plain("-", "dim"),
        safe(local_times(p.message)),
    )


def group_cells(found: Sequence[Finding], places: int, *, expanded: bool) -> tuple[Text, ...]:
    """The line standing for many findings of one kind: how many, where, what to do."""
    first = found[0]
    interfaces = len({(p.namespace_inode, p.interface) for p in found if p.interface})
    what = plain(f"{len(found)} ", "bold")  # the count first: a narrow view cuts the end
    what.append_text(safe(first.kind, "bold"))
    what.append(" findings", style="bold")
    what.append("  enter folds them" if expanded else "  enter lists them", style="dim")
    mark = "▾ " if expanded else "▸ "
    return (
        plain(mark + first.severity, SEVERITY_STYLES.get(first.severity, "")),
        plain(counted(places, "namespace"), "dim"),
        plain(counted(interfaces, "interface"), "dim"),
        what,
    )


def group_detail_text(found: Sequence[Finding], places: int, *, expanded: bool) -> Text:
    """A group line's detail: the count, and the first of its findings as an example."""
    first = found[0]
    out = plain(first.severity, SEVERITY_STYLES.get(first.severity, ""))
    out.append(" ")
    out.append_text(safe(first.kind, "bold"))
    key = "enter folds them" if expanded else "enter lists them"
    out.append(f": {len(found)} findings in {counted(places, 'namespace')}; {key}")
    out.append("\nthe first: ")
    out.append_text(safe(local_times(first.message)))
    return out


def problem_detail_text(p: Finding, where: str) -> Text:
    """The selected problem in full: kind, where, evidence, the command to look closer."""
    out = Text()
    out.append_text(plain(p.severity, SEVERITY_STYLES.get(p.severity, "")))
    out.append(" ")
    out.append_text(safe(p.kind, "bold"))
    out.append(" in ")
    out.append_text(safe(where))
    if p.interface:
        out.append(" on ")
        out.append_text(safe(p.interface, "bold"))
    out.append("\n")
    out.append_text(safe(local_times(p.message)))
    for line in p.evidence:
        out.append("\n  - ")
        out.append_text(safe(line, "dim"))
    if p.next:
        out.append("\nlook closer: ")
        out.append_text(safe(p.next, "bold"))
    return out


def namespace_problems_text(problems: Sequence[Finding]) -> Text:
    """The Problems section of one namespace's Details (only its own findings); empty
    when it has none, so a healthy namespace shows no warning at all."""
    out = Text()
    for p in problems:
        out.append("\n  " if out else "  ")  # indented like the other Details sections
        out.append_text(badge_text(p.severity))
        out.append(" ")
        if p.interface:
            out.append_text(safe(p.interface, "bold"))
            out.append(": ")
        out.append_text(safe(local_times(p.message)))
        if p.next:
            out.append("\n      ")
            out.append_text(safe(p.next, "dim"))
    return out


# ---------------------------------------------------------------- changes


def change_cells(when: str, c: Change, changed: str = "") -> tuple[Text, ...]:
    """One row of the Changes view: first seen, namespace, kind, what (and when its
    words last changed, when they did since it was first seen)."""
    style = BAD if c.kind.endswith(("-gone", "-removed")) else GOOD
    if c.kind.endswith(("-changed", "-moved")):
        style = WARN
    what = safe(local_times(c.message))
    if changed:
        what.append(f"  (last changed {changed})", style="dim")
    return (plain(when, "dim"), safe(c.namespace_label), plain(c.kind, style), what)


def change_detail_text(when: str, c: Change, changed: str = "") -> Text:
    """The selected change in full (a row is cut at the view's edge): what, where, when
    first seen and last changed, and its before and after."""
    out = plain(c.kind, "bold")
    out.append(" in ")
    out.append_text(safe(c.namespace_label, "bold"))
    out.append(f" (netns {c.namespace_inode})")
    if c.subject:
        out.append(" on ")
        out.append_text(safe(c.subject, "bold"))
    out.append(f"\nfirst seen {when}")
    if changed:
        out.append(f", last changed {changed}")
    for word, value in (("before", c.before), ("after", c.after)):
        if value:
            out.append(f"\n{word}: ")
            out.append_text(safe(local_times(value)))
    return out


# ---------------------------------------------------------------- inside a namespace


def _endpoint(address: str | None, port: int | None) -> str:
    if address is None:
        return "*"
    if port is None:
        return address or "(unnamed)"
    host = f"[{address}]" if ":" in address else address
    return f"{host}:{port}"


def socket_line(s: SocketInfo) -> Text:
    """`tcp LISTEN 0.0.0.0:80 -> * nginx(123)`, every name escaped."""
    out = Text()
    out.append_text(plain(f"{s.protocol}{s.family if s.family else ''}".ljust(5), "bold"))
    out.append(" ")
    out.append_text(plain(s.state.ljust(10), GOOD if s.state == "LISTEN" else ""))
    out.append(" ")
    out.append_text(safe(_endpoint(s.local_address, s.local_port)))
    if s.remote_address is not None:
        out.append(" -> ")
        out.append_text(safe(_endpoint(s.remote_address, s.remote_port)))
    if s.interface:
        out.append(" %")
        out.append_text(safe(s.interface))
    if s.pids:
        out.append("  ")
        names = s.commands or ("?",) * len(s.pids)
        for n, (pid, cmd) in enumerate(zip(s.pids, names, strict=False)):
            if n:
                out.append(",")
            out.append_text(safe(cmd, KIND))
            out.append(f"({pid})")
    elif s.inode == 0:
        out.append("  (no process)", "dim")
    return out


def dnat_line(d: DnatRule) -> str:
    """`iptables nat DOCKER: tcp dport 8080 in !docker0 -> 10.0.0.2:80` (raw: escape it)."""
    match = " ".join(
        x
        for x in (
            d.protocol or "any",
            f"dport {d.dport}" if d.dport else "",
            f"dst {d.dst}" if d.dst else "",
            f"in {d.in_interface}" if d.in_interface else "",
        )
        if x
    )
    to = f"{d.to_address}:{d.to_port}" if d.to_port else d.to_address
    return f"{d.tool} {d.table} {d.chain}: {match} -> {to}"


def _lines(out: Text, lines: Sequence[Text], empty: str) -> None:
    if not lines:
        out.append("\n  ")
        out.append(empty, "dim")
    for line in lines:
        out.append("\n  ")
        out.append_text(line)


def _title(out: Text, part: str, count: int | None = None) -> None:
    if out:
        out.append("\n\n")
    out.append(SECTION_TITLES[part], "bold underline")
    if count is not None:
        out.append(f" ({count})", "dim")


def _unavailable(out: Text, facts: InsideFacts, part: str) -> bool:
    why = facts.reason(part)
    if why is None:
        return False
    _title(out, part)
    out.append("\n  ")
    out.append_text(safe(why, "italic yellow"))
    return True


def inside_text(facts: InsideFacts, ns: NetNamespace) -> Text:
    """Every part of ``facts`` and ``ns``'s policy rules, one section each; a part not
    read says why."""
    out = Text()
    if not _unavailable(out, facts, "sockets"):
        _title(out, "sockets", len(facts.sockets))
        _lines(out, [socket_line(s) for s in facts.sockets], "no sockets")
        if facts.time_wait:
            out.append(f"\n  + {facts.time_wait} in TIME-WAIT (not listed)", "dim")
    if not _unavailable(out, facts, "neighbours"):
        _title(out, "neighbours", len(facts.neighbours))
        neigh = [
            safe(f"{n.address} {n.lladdr or '-'} {n.state} dev {n.dev}") for n in facts.neighbours
        ]
        _lines(out, neigh, "no neighbour entries")
    if not _unavailable(out, facts, "fdb"):
        _title(out, "fdb", len(facts.fdb))
        fdb = [safe(e.words()) for e in facts.fdb]
        _lines(out, fdb, "no bridge here")
    if not _unavailable(out, facts, "nat"):
        _title(out, "nat", len(facts.published) + len(facts.dnat))
        nat = [
            safe(f"published {p.host_ip or '*'}:{p.host_port} -> {p.container_port}")
            for p in facts.published
        ]
        nat += [safe(dnat_line(d)) for d in facts.dnat]
        _lines(out, nat, "no published ports, no DNAT rule leads here")
    if not _unavailable(out, facts, "conntrack"):
        _title(out, "conntrack")
        count = facts.conntrack_count
        out.append("\n  ")
        out.append("nf_conntrack not loaded" if count is None else f"{count} entries")
    if facts.tun_holders is not None:
        _title(out, "tun", len(facts.tun_holders))
        from nsexplorer.model import holders_words  # (model_net: built on first use)

        held = [safe(f"{name}: {holders_words(h)}") for name, h in facts.tun_holders]
        _lines(out, held, "no tun/tap device")
    if ns.detailed:
        _title(out, "rules", len(ns.rules))
        _lines(out, [safe(rule_text(r)) for r in ns.rules], "no policy rules recorded")
    else:
        _title(out, "rules")
        out.append("\n  ")
        out.append("not read yet", "italic dim")
    for w in facts.warnings:
        out.append("\n")
        out.append_text(safe(w, WARN))
    return out
