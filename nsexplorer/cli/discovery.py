"""CLI handlers: ``snapshot``, ``list`` and ``show``.

Output contract (stable for scripts): JSON documents follow snapshot schema 1 (UTF-8,
the exact name bytes kept); text output is for eyes: every character that is not
printable, and every byte that is not UTF-8, is shown escaped (textsafe.visible), the
same under every locale. Warnings go to stderr. Writing is cli.output's job.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable

from nsexplorer import TYPE_CHECKING, gcpause, snapshot_json
from nsexplorer.cli import output
from nsexplorer.model import (
    NamespaceId,
    NetNamespace,
    Snapshot,
    bridge_networks,
    group_of,
)
from nsexplorer.shellquote import shown
from nsexplorer.textsafe import visible

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from nsexplorer.model import Peer, TunHolder
    from nsexplorer.model_inside import InsideFacts
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

    # `show` must find a TARGET held only by a socket or inside a process-less mount
    # namespace: its pass is the thorough one.
    return LiveSource(docker_timeout=DOCKER_TIMEOUT, thorough_discover=args.command == "show")


def _warn(warnings: Iterable[str]) -> None:
    for w in warnings:
        print(f"nsexplorer: warning: {visible(w)}", file=sys.stderr)


# ---------------------------------------------------------------- snapshot


def cmd_snapshot(args: argparse.Namespace) -> int:
    if args.output and args.output != "-":
        output.check_output(args.output)  # a refusal before the collection, not after
    snap: Snapshot = _source(args).collect()
    output.write_json(snapshot_json.dumps(snap), args.output)
    _warn(snap.warnings)
    return 0


# ---------------------------------------------------------------- list


def cmd_list(args: argparse.Namespace) -> int:
    source = _source(args)
    snap: Snapshot = source.collect() if args.wide else source.discover()
    if args.json:
        with gcpause.paused():  # as snapshot_json.dumps does
            doc = snapshot_json.encode(snap)
        if args.wide:
            for row, ns in zip(doc["namespaces"], snap.namespaces, strict=True):
                row["interface_count"] = len(ns.interfaces)
                row["addresses"] = _addresses(ns)
        output.write_json(snapshot_json.dumps_value(doc))
    else:
        output.write_stdout(format_list(snap, wide=args.wide))
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
            shown(ns.label) if ns.label else "",  # look-alikes quoted apart: $'a\x1b', 'a\x1b'
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
    source = _source(args)
    ns, snap = find_target(source, args.target)
    if not ns.detailed:
        ns = source.detail(ns)
    ns, inside = _inside(source, ns)
    if args.json:
        doc = snapshot_json.encode_namespace(ns)
        if inside is not None:
            doc.update(snapshot_json.encode_inside(inside))
        output.write_json(snapshot_json.dumps_value(doc))
    else:
        snap = _with_peers_read(source, ns, snap)
        enter = _enter_form(ns) if source.live else None
        held = inside.tun_holders if inside is not None else None
        holders = dict(held) if held is not None else None
        output.write_stdout(
            format_namespace(ns, snap, inside=inside, enter=enter, tun_holders=holders)
        )
    # The snapshot-wide ones too (Docker down: containers missing from this view).
    extra = inside.warnings if inside is not None else ()
    _warn(dict.fromkeys((*snap.warnings, *ns.warnings, *extra)))
    return 1 if ns.gone else 0


def _with_peers_read(source: SnapshotSource, ns: NetNamespace, snap: Snapshot) -> Snapshot:
    """``snap`` with the namespaces at the other end of ``ns``'s carrier-less links read,
    so the text can say why a link has no carrier ("peer admin down in X"): the cheap
    pass has no interfaces. A namespace that cannot be read just gives no cause."""
    from dataclasses import replace

    from nsexplorer.errors import NsxError

    wanted = {
        i.peer.netns_inode
        for i in ns.interfaces
        if i.carrier is False and i.peer is not None and i.peer.netns_inode not in (None, ns.inode)
    }
    if not wanted:
        return snap
    read: dict[int, NetNamespace] = {}
    for other in snap.namespaces:
        if other.inode in wanted and not other.detailed:
            try:
                read[other.inode] = source.detail(other)
            except (NsxError, OSError):
                continue
    if not read:
        return snap
    return replace(snap, namespaces=tuple(read.get(n.inode, n) for n in snap.namespaces))


def _inside(source: SnapshotSource, ns: NetNamespace) -> tuple[NetNamespace, InsideFacts | None]:
    """Sockets, neighbours, FDB, NAT, conntrack; None, with ``ns`` marked gone (why in
    its warnings), if the namespace vanished since its interfaces were read: a JSON
    reader must not see a live namespace whose inside was not read for no reason."""
    from dataclasses import replace

    from nsexplorer.errors import NamespaceGone

    try:
        return ns, source.inside(ns)
    except NamespaceGone as err:
        why = f"gone during the read: {err}; what is shown was read before"
        return replace(ns, gone=True, warnings=(*ns.warnings, why)), None


def find_target(source: SnapshotSource, target: str) -> tuple[NetNamespace, Snapshot]:
    """The namespace TARGET designates, and the cheap snapshot it was looked up in.

    Every namespace's interfaces are read first only when the TARGET may be an address,
    MAC or interface name and no name matched it (then the namespace comes back
    detailed). TargetNotFound/TargetAmbiguous: exit 2.
    """
    from nsexplorer import targets

    snap = source.discover()
    stat_id, why = _stat_target(target) if source.live else (None, "")
    full = source.collect() if targets.needs_details(target, snap, stat_id) else snap
    pid_max = _pid_max() if source.live else targets.PID_MAX_LIMIT
    ns = targets.resolve(target, full, stat_id=stat_id, stat_error=why, pid_max=pid_max)
    return ns, snap


def _pid_max(path: str = "/proc/sys/kernel/pid_max") -> int:
    from nsexplorer import targets

    try:
        with open(path, "rb") as f:
            text = f.read(32).strip()
    except OSError:
        return targets.PID_MAX_LIMIT
    return int(text) if text.isdigit() and len(text) < 12 else targets.PID_MAX_LIMIT


def _stat_target(target: str) -> tuple[NamespaceId | None, str]:
    """(identity, "") of a path or pid:N target, or (None, why it could not be read).

    Names and inodes are not paths: (None, ""). Never creates anything: the path is
    opened O_PATH|O_NOFOLLOW and checked to be nsfs (a symlink a container planted is
    not followed to wherever it points on the host).
    """
    from nsexplorer import targets
    from nsexplorer.kernel import nsfs

    path = None
    pid = targets.pid_of(target)
    if pid is not None:
        path = f"/proc/{pid}/ns/net"
    elif "/" in target and "\x00" not in target:
        path = target
    if path is None:
        return None, ""
    try:
        return nsfs.stat_namespace(path), ""
    except nsfs.NotANamespace:
        if os.path.islink(path):
            return None, f"{path}: a symbolic link (not followed; give the file it points to)"
        return None, f"{path}: not a network namespace file"
    except FileNotFoundError as err:
        if pid is not None:
            return None, f"/proc/{pid}: no such process"
        if not target.startswith(("/", "./", "../")):
            return None, ""  # not a path after all (10.0.0.5/25, a/b): a name or a query
        return None, f"{path}: {err.strerror or err}"
    except (OSError, ValueError) as err:
        return None, f"{path}: {getattr(err, 'strerror', None) or err}"


def _enter_form(ns: NetNamespace) -> str:
    """How a command is run in ``ns``, as a person would paste it (CMD: the command),
    checked against the kernel now; '-' when nothing reaches it."""
    from nsexplorer import shellquote
    from nsexplorer.actions import entry
    from nsexplorer.errors import NsxError

    try:
        return shellquote.join(entry.wrap(entry.plan(ns), ["CMD"]))
    except NsxError as err:
        return f"- ({err.message})"


def format_namespace(
    ns: NetNamespace,
    snap: Snapshot | None = None,
    *,
    inside: InsideFacts | None = None,
    enter: str | None = None,
    tun_holders: Mapping[str, Sequence[TunHolder]] | None = None,
) -> str:
    """``enter``: how a command is run in it (live only: it was checked just now);
    ``tun_holders``: the processes holding each tun/tap device (None: not looked for)."""
    from nsexplorer.cli import show_net
    from nsexplorer.link_state import port_state_words

    v = visible
    out: list[str] = []
    out.append(f"{shown(ns.label) if ns.label else 'namespace'}  (inode {ns.inode})")
    if ns.cookie is not None:
        out.append(f"  id:      {ns.cookie}  (the kernel's; never reused, unlike the inode)")
    out.append(f"  group:   {group_of(ns)}")
    out.append(f"  found:   {', '.join(str(s) for s in ns.sources) or '-'}")
    out.append(f"  access:  {v(ns.access_path) or '-'}")
    if enter is not None:
        out.append(f"  enter:   {v(enter)}")
    if ns.names:
        out.append(f"  names:   {', '.join(v(n) for n in ns.names)}")
    for m in ns.bind_mounts:
        covered = "; COVERED by another mount: the path does not open it" if m.covered else ""
        if m.mount_ns_path:
            out.append(
                f"  mount:   {v(m.path)}  (in mount ns {m.mount_ns_inode}, which no process "
                f"is in; held by {v(m.mount_ns_path)}{covered})"
            )
        elif m.hidden:
            out.append(
                f"  mount:   {v(m.path)}  (hidden, mount ns {m.mount_ns_inode}; "
                f"reach: {v(m.reach_path)}{covered})"
            )
        else:
            out.append(f"  mount:   {v(m.path)}{f'  ({covered[2:]})' if covered else ''}")
    if ns.pids:
        pids = " ".join(str(p) for p in ns.pids[:10])
        more = f" ... ({len(ns.pids)} processes)" if len(ns.pids) > 10 else ""
        out.append(f"  pids:    {pids}{more}")
    for h in ns.fd_holders:
        out.append(f"  held by: pid {h.pid} fd {h.fd}")
    for t in ns.thread_holders:
        out.append(f"  held by: thread {t.tid} of pid {t.pid}")
    for sk in ns.socket_holders:
        out.append(f"  held by: socket fd {sk.fd} of pid {sk.pid} (socket inode {sk.socket_inode})")
    for c in ns.containers:
        extra = f", compose project {v(c.compose_project)}" if c.compose_project else ""
        out.append(
            f"  container: {v(c.name)}  {c.short_id}  image {v(c.image)}  "
            f"mode {v(_mode(c.network_mode))}  pid {c.pid or '-'}{extra}"
        )
        for n in c.networks:
            addr = f"{n.ip_address}/{n.prefixlen}" if n.ip_address else "-"
            gw = f" gateway {n.gateway}" if n.gateway else ""
            six = f" {n.ipv6_address}" if n.ipv6_address else ""
            six += f"/{n.ipv6_prefixlen}" if six and n.ipv6_prefixlen else ""
            gw6 = f" gateway {n.ipv6_gateway}" if n.ipv6_gateway else ""
            out.append(f"      network {v(n.name)}: {addr}{gw}{six}{gw6} mac {n.mac or '-'}")
        for p in c.ports:
            out.append(
                f"      port {v(p.container_port)} published on {v(p.host_ip) or '*'}:"
                f"{v(p.host_port)}"
            )
    if ns.gone:
        out.append("  GONE: the namespace vanished")
    if ns.detailed:
        nets = bridge_networks(snap, ns) if snap is not None else {}
        lookup = {n.inode: n for n in snap.namespaces} if snap is not None else {}
        lookup[ns.inode] = ns  # the detailed one
        out.append("")
        out.append("Interfaces:")
        for i in ns.interfaces:
            out.extend(
                show_net.interface_lines(
                    i,
                    lambda p: _peer_text(p.netns_inode, p, snap),
                    lookup,
                    nets.get(i.name, ""),
                    None if tun_holders is None else tun_holders.get(i.name, ()),
                )
            )
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
            net = f" (docker network {v(nets[br.name])})" if br.name in nets else ""
            out.append(f"  bridge {v(br.name)}{net} ports:{'' if members else ' none'}")
            for port in members:
                peer = port.peer
                # a port without a peer (a vxlan, a tap) is named with its kind
                behind = f" -> {_peer_text(peer.netns_inode, peer, snap)}" if peer else ""
                kind = "" if peer else f" ({v(port.kind)})"
                state = f" {words}" if (words := port_state_words(port)) else ""
                out.append(f"      {v(port.name)}{kind}{behind}{state}")
        out.append("")
        out.append("Routes:")
        for r in ns.routes:
            out.extend(show_net.route_lines(r))
        if ns.rules:
            out.append("")
            out.append("Rules:")
            out.extend(show_net.rule_lines(ns.rules))
    if inside is not None:
        from nsexplorer.cli.inside import format_inside

        host = snap.host if snap is not None else None
        out.extend(format_inside(inside, visible(host.label) if host else "host"))
    if ns.warnings:
        out.append("")
        out.append("Warnings:")
        out.extend(f"  {v(w)}" for w in ns.warnings)
    # Every line once more as a whole: Docker's addresses, kinds and the rest are not
    # ours either, and visible() leaves text it already made visible unchanged.
    return "\n".join(v(line) for line in out) + "\n"


def _peer_text(inode: int | None, peer: Peer, snap: Snapshot | None) -> str:
    if inode is None:
        return f"UNRESOLVED (ifindex {peer.ifindex}; its namespace could not be read)"
    where = f"inode {inode}"
    if snap is not None:
        other = snap.by_inode(inode)
        if other is not None:
            where = f"{visible(other.label)} (inode {inode})"
    return f"{visible(peer.name or '?')} (ifindex {peer.ifindex}) in {where}"
