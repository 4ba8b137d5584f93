"""CLI handlers: ``snapshot``, ``list`` and ``show``.

Output contract (stable for scripts): JSON documents follow snapshot schema 1; text
output is for eyes and escapes every control character. Warnings go to stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from nsexplorer import snapshot_json
from nsexplorer.cli import show_net
from nsexplorer.errors import NsxError
from nsexplorer.model import NamespaceId, NetNamespace, Peer, Snapshot, group_of
from nsexplorer.textsafe import visible

if TYPE_CHECKING:
    from nsexplorer.ports import SnapshotSource

DOCKER_TIMEOUT = 3.0


def run(args: argparse.Namespace) -> int:
    command: str = args.command
    if command == "snapshot":
        return cmd_snapshot(args)
    if command == "list":
        return cmd_list(args)
    return cmd_show(args)


def _source(args: argparse.Namespace) -> SnapshotSource:
    from_file = getattr(args, "from_file", None)
    if from_file:
        from nsexplorer.collect.recorded import RecordedSource

        return RecordedSource(from_file)
    from nsexplorer.collect.source import LiveSource

    return LiveSource(docker_timeout=DOCKER_TIMEOUT)


def _warn(warnings: Iterable[str]) -> None:
    for w in warnings:
        print(f"nsexplorer: warning: {visible(w)}", file=sys.stderr)


def _stdout(text: str) -> None:
    """Write to stdout; a failure (`> /dev/full`) is a message, a gone reader is quiet."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise  # cli.main exits quietly
    except OSError as err:
        raise NsxError(f"cannot write standard output: {err.strerror or err}") from err


def _write_json(text: str, output: str | None) -> None:
    if not output or output == "-":
        _stdout(text + "\n")
        return
    import tempfile

    directory = os.path.dirname(os.path.abspath(output))
    fd, tmp = tempfile.mkstemp(prefix=".nsexplorer-", suffix=".json", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text + "\n")
        os.replace(tmp, output)
    except BaseException:
        os.unlink(tmp)
        raise


# ---------------------------------------------------------------- snapshot


def cmd_snapshot(args: argparse.Namespace) -> int:
    snap: Snapshot = _source(args).collect()
    try:
        _write_json(snapshot_json.dumps(snap), args.output)
    except BrokenPipeError:
        raise
    except OSError as err:
        where = "standard output" if not args.output or args.output == "-" else repr(args.output)
        raise NsxError(f"cannot write {where}: {err.strerror}") from err
    _warn(snap.warnings)
    return 0


# ---------------------------------------------------------------- list


def cmd_list(args: argparse.Namespace) -> int:
    source = _source(args)
    snap: Snapshot = source.collect() if args.wide else source.discover()
    if args.json:
        doc = snapshot_json.encode(snap)
        if args.wide:
            for row, ns in zip(doc["namespaces"], snap.namespaces, strict=True):
                row["interface_count"] = len(ns.interfaces)
                row["addresses"] = _addresses(ns)
        _write_json(snapshot_json.dumps_value(doc), None)
    else:
        _stdout(format_list(snap, wide=args.wide))
    _warn(snap.warnings)
    return 0


def _addresses(ns: NetNamespace) -> list[str]:
    return [
        f"{a.address}/{a.prefixlen}"
        for i in ns.interfaces
        for a in i.addresses
        if a.scope != "host" and not (a.family == 6 and a.scope == "link")
    ]


def _mode(mode: str) -> str:
    """container:<64 hex> shortened to the 12 a person types."""
    if mode.startswith("container:"):
        return mode[: len("container:") + 12]
    return mode


def _pids_text(ns: NetNamespace) -> str:
    if not ns.pids:
        return "-"
    if len(ns.pids) == 1:
        return str(ns.pids[0])
    return f"{ns.pids[0]}+{len(ns.pids) - 1}"


def format_list(snap: Snapshot, *, wide: bool = False) -> str:
    header = ["INODE", "GROUP", "FOUND", "PIDS", "LABEL", "CONTAINERS"]
    if wide:
        header[4:4] = ["IFS", "ADDRESSES"]
    rows: list[list[str]] = [header]
    for ns in snap.namespaces:
        containers = ", ".join(
            f"{c.short_id} {c.image} {_mode(c.network_mode)}".strip() for c in ns.containers
        )
        row = [
            str(ns.inode),
            str(group_of(ns)),
            ",".join(str(s) for s in ns.sources),
            _pids_text(ns),
            ns.label,
            containers or "-",
        ]
        if wide:
            ifs = str(len(ns.interfaces)) if ns.detailed else "?"
            row[4:4] = [ifs, ",".join(_addresses(ns)) or "-"]
        rows.append([visible(c) for c in row])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = []
    for r in rows:
        cells = [c.ljust(w) for c, w in zip(r[:-1], widths[:-1], strict=True)] + [r[-1]]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- show


def cmd_show(args: argparse.Namespace) -> int:
    from nsexplorer import targets

    source = _source(args)
    snap: Snapshot = source.discover()
    target: str = args.target
    stat_id, why = _stat_target(target) if source.live else (None, "")
    ns = targets.resolve(target, snap, stat_id=stat_id, stat_error=why)
    ns = source.detail(ns)
    if args.json:
        _write_json(snapshot_json.dumps_value(snapshot_json.encode_namespace(ns)), None)
    else:
        _stdout(format_namespace(ns, snap))
    # The snapshot-wide ones too (Docker down: containers missing from this view).
    _warn(dict.fromkeys((*snap.warnings, *ns.warnings)))
    return 0


def _stat_target(target: str) -> tuple[NamespaceId | None, str]:
    """(identity, "") of a path or pid:N target, or (None, why it could not be read).

    Names and inodes are not paths: (None, ""). Never creates anything: the path is
    opened O_PATH|O_NOFOLLOW and checked to be nsfs (a symlink a container planted is
    not followed to wherever it points on the host).
    """
    from nsexplorer.collect import nsfs

    path = None
    if target.startswith("pid:") and target[4:].isdigit():
        path = f"/proc/{int(target[4:])}/ns/net"
    elif "/" in target:
        path = target
    if path is None:
        return None, ""
    try:
        return nsfs.stat_namespace(path), ""
    except nsfs.NotANamespace:
        if os.path.islink(path):
            return None, f"{path}: a symbolic link (not followed; give the file it points to)"
        return None, f"{path}: not a network namespace file"
    except OSError as err:
        return None, f"{path}: {err.strerror or err}"


def format_namespace(ns: NetNamespace, snap: Snapshot | None = None) -> str:
    v = visible
    out: list[str] = []
    out.append(f"{v(ns.label) or 'namespace'}  (inode {ns.inode})")
    out.append(f"  group:   {group_of(ns)}")
    out.append(f"  found:   {', '.join(str(s) for s in ns.sources) or '-'}")
    out.append(f"  access:  {v(ns.access_path) or '-'}")
    if ns.names:
        out.append(f"  names:   {', '.join(v(n) for n in ns.names)}")
    for m in ns.bind_mounts:
        if m.hidden:
            out.append(
                f"  mount:   {v(m.path)}  (hidden, mount ns {m.mount_ns_inode}; "
                f"reach: {v(m.reach_path)})"
            )
        else:
            out.append(f"  mount:   {v(m.path)}")
    if ns.pids:
        shown = " ".join(str(p) for p in ns.pids[:10])
        more = f" ... ({len(ns.pids)} processes)" if len(ns.pids) > 10 else ""
        out.append(f"  pids:    {shown}{more}")
    for h in ns.fd_holders:
        out.append(f"  held by: pid {h.pid} fd {h.fd}")
    for c in ns.containers:
        extra = f", compose project {v(c.compose_project)}" if c.compose_project else ""
        out.append(
            f"  container: {v(c.name)}  {c.short_id}  image {v(c.image)}  "
            f"mode {v(_mode(c.network_mode))}  pid {c.pid or '-'}{extra}"
        )
        for n in c.networks:
            addr = f"{n.ip_address}/{n.prefixlen}" if n.ip_address else "-"
            gw = f" gateway {n.gateway}" if n.gateway else ""
            out.append(f"      network {v(n.name)}: {addr}{gw} mac {n.mac or '-'}")
    if ns.gone:
        out.append("  GONE: the namespace vanished")
    if ns.detailed:
        out.append("")
        out.append("Interfaces:")
        for i in ns.interfaces:
            out.extend(show_net.interface_lines(i, lambda p: _peer_text(p.netns_inode, p, snap)))
            if i.peer is not None:
                out.append(f"      peer: {_peer_text(i.peer.netns_inode, i.peer, snap)}")
            if i.counters is not None:
                k = i.counters
                out.append(
                    f"      rx {k.rx_bytes} B {k.rx_packets} pkt {k.rx_errors} err "
                    f"{k.rx_dropped} drop; tx {k.tx_bytes} B {k.tx_packets} pkt "
                    f"{k.tx_errors} err {k.tx_dropped} drop"
                )
        ports = [i for i in ns.interfaces if i.kind == "bridge"]
        for br in ports:
            members = [i for i in ns.interfaces if i.master_ifindex == br.ifindex]
            out.append(f"  bridge {v(br.name)} ports:")
            for port in members:
                peer = port.peer
                behind = _peer_text(peer.netns_inode, peer, snap) if peer is not None else "-"
                out.append(f"      {v(port.name)} -> {behind}")
        out.append("")
        out.append("Routes:")
        for r in ns.routes:
            out.extend(show_net.route_lines(r))
        if ns.rules:
            out.append("")
            out.append("Rules:")
            out.extend(show_net.rule_lines(ns.rules))
    if ns.warnings:
        out.append("")
        out.append("Warnings:")
        out.extend(f"  {v(w)}" for w in ns.warnings)
    return "\n".join(out) + "\n"


def _peer_text(inode: int | None, peer: Peer, snap: Snapshot | None) -> str:
    if inode is None:
        return f"UNRESOLVED (ifindex {peer.ifindex}; its namespace could not be read)"
    where = f"inode {inode}"
    if snap is not None:
        other = snap.by_inode(inode)
        if other is not None:
            where = f"{visible(other.label)} (inode {inode})"
    return f"{visible(peer.name or '?')} (ifindex {peer.ifindex}) in {where}"
