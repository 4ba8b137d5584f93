"""Model values to styled ``Text``: the only place untrusted strings become renderables.

Every string that came from the system (interface names, aliases, netns names, process
names, container names, images, labels, command output) passes through :func:`safe`,
which makes control characters visible and wraps the result in a ``rich.text.Text``, a
type Textual never parses as markup. Nothing here returns a plain ``str`` meant for
display except :func:`match_reason` (the matcher's reason, already made visible by it).
A namespace's label is ``model.ns_label`` (the one label function; escape it through
:func:`safe`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.text import Text

from nsexplorer.link_state import ADMIN_DOWN, compact_state, link_state, port_state_words
from nsexplorer.link_state import Lookup as Lookup  # noqa: PLC0414 - re-exported for panes
from nsexplorer.model import (
    Container,
    Group,
    Interface,
    NetNamespace,
    Nexthop,
    Peer,
    ProcessInfo,
    Route,
    Snapshot,
    group_of,
    ns_label,
    primary_container,
    table_name,
)
from nsexplorer.textsafe import counted, visible, visible_runs
from nsexplorer.ui.roles import (
    ALERT,
    BAD,
    BRIDGE,
    GOOD,
    HEADING_WARN,
    KIND,
    LINK,
    PLACE,
    PROMPT,
    WARN,
)
from nsexplorer.ui.widgets.labels import fit_label

if TYPE_CHECKING:
    from nsexplorer.matching import Match

GROUP_TITLES: dict[Group, str] = {
    Group.HOST: "Host",
    Group.CONTAINERS: "Containers",
    Group.NAMED: "Named (ip netns)",
    Group.MOUNTED: "Bind-mounted (not ip netns)",
    Group.HIDDEN: "Hidden (other mount ns)",
    Group.FD_ONLY: "Pinned by an fd only",
    Group.PROCESSES: "Processes",
    Group.OTHER: "Other",
}

STATE_STYLES = {"up": GOOD, "down": BAD, "lowerlayerdown": BAD, "unknown": WARN}


ESCAPED = "reverse"  # an escape, told apart from the same characters typed (as less does)


def safe(s: str | None, style: str = "") -> Text:
    """Untrusted text, control characters escaped (in reverse video: a name holding a
    real ESC and one spelled ``\\x1b`` must not look alike), never parsed as markup. The
    style covers this text only (a span, not the base style, which text appended later
    would inherit: a bold "Run in " made the whole prompt title bold)."""
    s = s or ""
    if s.isprintable():  # the common case: one plain run
        return _styled(Text(s, no_wrap=False, end=""), style)
    runs = visible_runs(s)
    text = _styled(Text("".join(run for run, _ in runs), no_wrap=False, end=""), style)
    # over the style, so that an escape stands out in reversed text too (an entry's header)
    mark = "not reverse" if "reverse" in style.split() else ESCAPED
    at = 0
    for run, escaped in runs:
        if escaped:
            text.stylize(mark, at, at + len(run))
        at += len(run)
    return text


def plain(s: str, style: str = "") -> Text:
    """Text we wrote ourselves: never parsed as markup, and made visible too, because
    our own sentences often quote a name or an error (visible() leaves printable text
    as it is, so this costs nothing when there is nothing to escape)."""
    return _styled(Text(visible(s), end=""), style)


def _styled(text: Text, style: str) -> Text:
    if style:
        text.stylize(style)
    return text


def join(parts: Iterable[Text], sep: str = " ") -> Text:
    return Text(sep, end="").join(list(parts))


# --- namespaces ----------------------------------------------------------------------


def container_mode(c: Container) -> str:
    mode = c.network_mode
    if mode.startswith("container:"):
        return "container:" + mode[len("container:") :][:12]
    return "bridge" if mode == "default" else mode


def container_text(c: Container, *, with_name: bool = True) -> Text:
    parts: list[Text] = []
    if with_name:
        parts.append(safe(c.name, "bold"))
    parts.append(safe(c.image, "dim"))
    parts.append(safe(container_mode(c), KIND))
    if c.status and c.status != "running":
        parts.append(safe(c.status, WARN))
    return join(parts)


GONE_MARK = "gone "  # in front of a gone namespace's row: a cut row still shows it


def ns_sidebar_text(ns: NetNamespace, reason: str = "") -> Text:
    """The sidebar line for a namespace; a gone one says so first. ``reason`` (why the
    filter found it) comes right after the name: a container row's image and network
    mode come after it, so a row cut at the sidebar's edge (with an ellipsis) cuts
    those, not the reason."""
    why = safe(reason, "italic") if reason else None
    if ns.is_host:
        text = plain("host", "bold")
    elif (c := primary_container(ns)) is not None:
        text = container_text(c)
        if why is not None:
            text = join([safe(c.name, "bold"), why, container_text(c, with_name=False)], "  ")
            why = None
    else:
        text = safe(ns_label(ns), "bold" if ns.names else "")
    if why is not None:
        text.append("  ")
        text.append_text(why)
    if ns.gone:
        text.stylize("strike dim")
        text = Text.assemble((GONE_MARK, BAD), text, end="")
    return text


def path_label_end(ns: NetNamespace) -> int:
    """For a namespace labelled by a path (a hidden or bind-mounted one), the cells of
    its last part with the slash before it: what a cut row must keep in view (siblings
    share the directory and differ in the end). 0 for any other label."""
    label = visible(ns_label(ns))
    if ns.is_host or primary_container(ns) is not None or not label.startswith("/"):
        return 0
    return cell_len(label) - cell_len(label.rstrip("/").rpartition("/")[0])


def ns_title(ns: NetNamespace) -> Text:
    """The one-line title above the main panes: what tells the namespace apart first
    (label, inode, gone), so that a narrow terminal cuts the image and group, not them."""
    parts = [safe(ns_label(ns), "bold"), plain(f"netns {ns.inode}", "dim")]
    if ns.gone:
        parts.append(plain("GONE", BAD))
    c = None if ns.is_host else primary_container(ns)
    if c is not None:
        parts.append(container_text(c, with_name=False))
    parts.append(plain(f"[{group_of(ns).value}]", "dim"))
    if not ns.gone and not ns.detailed:
        parts.append(plain("(reading…)", "dim italic"))
    return join(parts, "  ")


def title_lengths(ns: NetNamespace) -> tuple[int, int]:
    """How many characters of ns_title(ns) its label takes, and how many the label,
    the inode and the gone mark take: the part a narrow header must keep in view."""
    label = len(visible(ns_label(ns)))
    keep = label + len(f"  netns {ns.inode}") + (len("  GONE") if ns.gone else 0)
    return label, keep


def group_text(group: Group, count: int) -> Text:
    return join([plain(GROUP_TITLES[group], "bold underline"), plain(f"({count})", "dim")])


def short_ref(lookup: Lookup, inode: int | None) -> str:
    """'host', a container or netns name, or 'netns N' for a namespace inode (raw)."""
    if inode is None:
        return "an unknown namespace"
    ns = lookup.get(inode)
    if ns is None:
        return f"netns {inode}"
    return ns_label(ns)


def match_reason(m: Match) -> str:
    """What a sidebar row adds about why the filter found it: the matcher's reason, or ""
    for an exact name, which the row's own label already shows."""
    from nsexplorer.matching import Kind, Rank  # imported by then: the match came from it

    evident = m.kind in (Kind.NETNS_NAME, Kind.CONTAINER_NAME, Kind.LABEL)
    return "" if m.rank == Rank.NAME and evident else m.reason


# --- interfaces ----------------------------------------------------------------------


def peer_text(iface: Interface, lookup: Lookup) -> Text:
    """'→ veth46024eb in host (docker0)', or an honest 'unresolved'; for a stacked
    device (macvlan, vlan, vxlan, ...) its lower device: 'over eth0 in host'."""
    peer: Peer | None = iface.peer
    if peer is None:
        if iface.kind == "veth":
            return plain("→ peer unknown", WARN)
        text = _other_end_text("over ", iface.parent, lookup) if iface.parent else plain("")
        if iface.vxlan is not None and iface.vxlan.far_end:  # the tunnel's other end
            tunnel = safe(f"→ {iface.vxlan.far_end} (id {iface.vxlan.vni})")
            text = join([t for t in (text, tunnel) if t.plain], ", ")
        return text
    return _other_end_text("→ ", peer, lookup)


def _other_end_text(lead: str, end: Peer, lookup: Lookup) -> Text:
    """``lead`` and where ``end`` is: its name, namespace, master, and "admin down" when
    it is (the cause of this device's "no carrier", beside the one to `ip link set up`)."""
    if not end.resolved:
        where = f"ifindex {end.ifindex}" if end.ifindex is not None else "peer"
        return plain(f"{lead}unresolved ({where}, netns unknown)", WARN)
    text = plain(lead, LINK)
    text.append_text(safe(end.name, "bold"))
    text.append(" in ")
    text.append_text(safe(short_ref(lookup, end.netns_inode)))
    end_ns = lookup.get(end.netns_inode) if end.netns_inode is not None else None
    if end_ns is not None and end.ifindex is not None:
        other = end_ns.interface(end.ifindex)
        if other is not None and other.master:
            text.append(" (")
            text.append_text(safe(other.master))
            text.append(")")
        if other is not None and other.admin_up is False:
            text.append(", ")
            text.append_text(plain(ADMIN_DOWN, BAD))
    return text


# Address states in which it does not (yet, or any more) work as one: said beside it.
ADDRESS_STATES = (("dadfailed", BAD), ("tentative", WARN), ("deprecated", WARN))


def addresses_text(iface: Interface, *, with_link: bool = False) -> Text:
    """The addresses as `ip -br addr` writes them (a point-to-point one with its peer),
    each with the state that keeps it from working: a duplicate-address failure or a
    tentative address must not read as a working one."""
    text = Text(end="")
    for a in iface.addresses:
        if not (with_link or a.scope not in ("link", "host") or a.family == 4):
            continue
        if text:
            text.append(" ")
        text.append_text(safe(a.cidr))
        for flag, style in ADDRESS_STATES:
            if flag in a.flags:
                text.append(f" ({flag})", style=style)
    return text


def iface_name_text(iface: Interface) -> Text:
    text = safe(iface.name, "bold")
    if iface.alias:
        text.append(" ")
        text.append_text(safe(f"({iface.alias})", "dim"))
    return text


def iface_cells(iface: Interface, lookup: Lookup) -> tuple[Text, ...]:
    return (
        safe(iface.name, "bold"),
        addresses_text(iface),
        peer_text(iface, lookup),
        safe(iface.state, STATE_STYLES.get(iface.state, "")),
        safe(iface.kind, KIND),
        safe(iface.master or ""),
        plain(str(iface.mtu)),
        safe(iface.mac, "dim"),
        safe(iface.alias, "dim"),
    )


# --- routes and processes ------------------------------------------------------------

# metric early, in view: which of two routes to one prefix wins
ROUTE_COLUMNS = (
    "table",
    "destination",
    "metric",
    "gateway",
    "dev",
    "proto",
    "scope",
    "type",
    "src",
)


def route_cells(route: Route) -> tuple[Text, ...]:
    """One route as a row. A multipath route, or one through a nexthop object, has no
    gateway or dev of its own: its paths' are shown (it never looks like it goes
    nowhere); two routes that differ only by metric, tos or source prefix differ here.
    The type column also carries the flags, an encap and the MTU metric (lock too)."""
    dst = route.selector_words
    gateway, dev = safe(route.gateway), safe(route.dev)
    if route.nexthops:
        gateway, dev = _paths_cells(route.nexthops)
    if route.nhid is not None:
        lead = plain(f"nhid {route.nhid}" + (": " if gateway.plain else ""))
        gateway = Text.assemble(lead, gateway, end="")
    encap = f"encap {route.encap}" if route.encap else ""
    return (
        plain(table_name(route.table), "dim"),
        safe(dst, "bold"),
        plain("" if route.metric is None else str(route.metric)),
        gateway,
        dev,
        safe(route.protocol),
        safe(route.scope),
        safe(
            " ".join(
                w for w in (route.type, *route.flags, encap, route.mtu_words, route.more_words) if w
            )
        ),
        safe(route.prefsrc or ""),
    )


# A path's flags that mean it is not used now, beside its gateway.
PATH_DOWN_STYLES = {"dead": BAD, "linkdown": WARN}


def _paths_cells(hops: Sequence[Nexthop]) -> tuple[Text, Text]:
    """The gateway and dev cells of a route's paths, each path in the same place in
    both (a dev is said once only when every path has it), with its weight when they
    differ and its flags ("linkdown", "dead": styled, the path is not in use)."""
    weighted = len({h.weight for h in hops}) > 1
    gateways = []
    for h in hops:
        one = safe(h.gateway or "-")
        if weighted:
            one.append(f" w{h.weight}")
        for flag in h.flags:
            one.append(" ")
            one.append_text(safe(flag, PATH_DOWN_STYLES.get(flag, "")))
        gateways.append(one)
    devs = [h.dev or "-" for h in hops]
    dev = safe(devs[0]) if len(set(devs)) == 1 else join([safe(d) for d in devs], ", ")
    return join(gateways, ", "), dev


PROCESS_COLUMNS = ("pid", "user", "command")


def process_cells(p: ProcessInfo) -> tuple[Text, ...]:
    return (plain(str(p.pid)), safe(p.user), safe(p.command))


# --- details -------------------------------------------------------------------------


def _kv(text: Text, key: str, value: Text) -> None:
    text.append(f"  {key:<14}", style="bold")
    text.append_text(value)
    text.append("\n")


def details_text(ns: NetNamespace, also: Sequence[str] = ()) -> Text:
    """The namespace's Details; ``also``: collection warnings that name it."""
    t = Text(end="")
    t.append("Namespace\n", style="bold underline")
    _kv(t, "inode", plain(str(ns.inode)))
    _kv(t, "device", plain(str(ns.id.dev)))
    if ns.cookie is not None:  # the kernel's own id: never reused, unlike the inode
        _kv(t, "kernel id", plain(str(ns.cookie)))
    _kv(t, "group", plain(group_of(ns).value))
    _kv(t, "found by", plain(", ".join(s.value for s in ns.sources) or "-"))
    if ns.access_path:
        _kv(t, "opens via", safe(ns.access_path))
    if ns.names:
        _kv(t, "ip netns", safe(", ".join(ns.names)))
    if ns.gone:
        _kv(t, "state", plain("gone: it vanished since it was listed", BAD))

    t.append("\nPaths reaching it\n", style="bold underline")
    rows = 0
    for m in ns.bind_mounts:
        v = safe(m.path, "bold")
        v.append(f"  from mount ns {m.mount_ns_inode}", style="dim")
        if m.mount_ns_path:
            v.append("  in a mount ns no process is in, held by ", style=WARN)
            v.append_text(safe(m.mount_ns_path))
        elif m.hidden:
            v.append("  hidden", style=WARN)
            v.append("  → ")
            v.append_text(safe(m.reach_path))
        if m.covered:
            v.append("  covered by another mount", style=WARN)
        _kv(t, "bind mount", v)
        rows += 1
    for pid in ns.pids[:8]:
        _kv(t, "process", plain(f"/proc/{pid}/ns/net"))
        rows += 1
    if len(ns.pids) > 8:
        _kv(t, "", plain(f"… and {len(ns.pids) - 8} more processes", "dim"))
    for h in ns.fd_holders[:8]:
        _kv(t, "open fd", plain(f"/proc/{h.pid}/fd/{h.fd}"))
        rows += 1
    for th in ns.thread_holders[:8]:
        _kv(t, "thread", plain(f"/proc/{th.pid}/task/{th.tid}/ns/net"))
        rows += 1
    for sk in ns.socket_holders[:8]:
        _kv(t, "socket", plain(f"fd {sk.fd} of pid {sk.pid} (socket inode {sk.socket_inode})"))
        rows += 1
    if rows == 0:
        t.append("  (none known)\n", style="dim")

    for c in ns.containers:
        t.append("\nContainer ", style="bold underline")
        t.append_text(safe(c.name, "bold underline"))
        t.append("\n")
        _kv(t, "id", safe(c.id))
        _kv(t, "image", safe(c.image))
        _kv(t, "network mode", safe(container_mode(c)))
        if c.shares_with:
            _kv(t, "shares netns", safe(c.shares_with))
        if c.status:
            _kv(t, "status", safe(c.status))
        _kv(t, "pid", plain(str(c.pid) if c.pid else "-"))
        if c.sandbox_key:
            _kv(t, "sandbox key", safe(c.sandbox_key))
        if c.compose_project:
            _kv(t, "compose", safe(c.compose_project))
        for net in c.networks:
            v = safe(net.name, KIND)
            if net.ip_address:
                v.append("  ")
                v.append_text(safe(f"{net.ip_address}/{net.prefixlen}"))
            if net.gateway:
                v.append("  gw ")
                v.append_text(safe(net.gateway))
            if net.mac:
                v.append("  ")
                v.append_text(safe(net.mac, "dim"))
            if net.ipv6_address:
                v.append("  ")
                six = f"{net.ipv6_address}/{net.ipv6_prefixlen}" if net.ipv6_prefixlen else ""
                v.append_text(safe(six or net.ipv6_address))
            if net.ipv6_gateway:
                v.append("  gw ")
                v.append_text(safe(net.ipv6_gateway))
            _kv(t, "network", v)
        for port in c.ports:
            where = f"{port.host_ip or '*'}:{port.host_port}"
            _kv(t, "published", safe(f"{port.container_port} on {where}"))

    warnings = list(dict.fromkeys([*ns.warnings, *also]))
    if warnings:
        t.append("\nWarnings\n", style=HEADING_WARN)
        for w in warnings:
            t.append("  • ", style=WARN)
            t.append_text(safe(w))
            t.append("\n")
    return t


def warnings_text(warnings: Iterable[str]) -> Text:
    """Collection warnings, one bullet each."""
    t = Text(end="")
    for w in warnings:
        t.append("• ", style=WARN)
        t.append_text(safe(w))
        t.append("\n")
    return t


# --- wiring --------------------------------------------------------------------------


def wire_iface_text(iface: Interface, where: str | None = None) -> Text:
    text = iface_name_text(iface)
    text.append(" ")
    text.append_text(safe(iface.kind, KIND))
    if iface.state != "up":
        text.append(" ")
        text.append_text(safe(iface.state, STATE_STYLES.get(iface.state, "")))
    addrs = addresses_text(iface)
    if addrs.plain:
        text.append(" ")
        text.append_text(addrs)
    if where is not None:
        text.append(" in ")
        text.append_text(safe(where, PLACE))
    return text


def docker_network_text(network: str) -> Text:
    """'docker:NAME': the Docker network(s) a bridge carries ("" when none)."""
    if not network:
        return Text(end="")
    text = plain("docker:", "dim")
    text.append_text(safe(network, KIND))
    return text


def network_text(network: str) -> Text:
    """' docker:NAME' after a bridge's name: the Docker network(s) it carries."""
    if not network:
        return Text(end="")
    text = plain(" ", "dim")
    text.append_text(docker_network_text(network))
    return text


def wire_bridge_text(bridge: Interface, where: str, network: str, lookup: Lookup) -> Text:
    text = plain("bridge ", BRIDGE)
    text.append_text(safe(bridge.name, BRIDGE))
    text.append_text(network_text(network))
    text.append(" in ")
    text.append_text(safe(where, PLACE))
    if link_state(bridge, lookup)[0] != "up":  # admin down, no port forwarding
        text.append(" ")
        text.append_text(link_state_text(bridge, lookup))
    addrs = addresses_text(bridge)
    if addrs.plain:
        text.append(" ")
        text.append_text(addrs)
    return text


def wire_peer_text(peer_name: str | None, where: str, peer: Interface | None = None) -> Text:
    """The other end of a veth; ``peer``, when known, adds its bridge port state when
    it does not forward (the wire stops there)."""
    text = plain("⇄ ", LINK)
    text.append_text(safe(peer_name or "?", "bold"))
    text.append(" in ")
    text.append_text(safe(where, PLACE))
    if peer is not None and (port := port_state_words(peer)):
        text.append_text(safe(f" {port}", ALERT))
    return text


# --- output --------------------------------------------------------------------------


def command_line_text(command: str, note: str = "") -> Text:
    text = plain("$ ", PROMPT)
    text.append_text(safe(command))
    if note:
        text.append("  ")
        text.append(note, style="dim")
    return text


def output_lines(output: str, limit: int = 2000) -> Sequence[Text]:
    lines = output.splitlines()
    head: list[Text] = []
    if len(lines) > limit:
        head.append(plain(f"… {len(lines) - limit} earlier lines not shown", "dim"))
        lines = lines[-limit:]
    # tabs (brctl, column output) as spaces, not as \x09
    return head + [safe(line.expandtabs()) for line in lines]


# --- link state, interface rows (issue 10: state a responder can act on) --------------

# Column order: what a responder reads first; the name column stays put when the table
# scrolls sideways (the pane fixes it).
INTERFACE_COLUMNS = ("name", "state", "addresses", "peer", "master", "kind", "mtu", "mac", "alias")

# Roles (ui/roles.py): app.tcss gives each a theme colour and an emphasis that survives
# NO_COLOR and 16 colours (bold for what is wrong); the colour only adds to it.
LINK_STATE_STYLES = {
    "up": GOOD,
    "up, no carrier": ALERT,
    "admin down": BAD,
    "down": BAD,
    "lowerlayerdown": BAD,
    "unknown": WARN,
}


def link_state_text(iface: Interface, lookup: Lookup, *, with_cause: bool = True) -> Text:
    state, cause = link_state(iface, lookup)
    text = safe(state, LINK_STATE_STYLES.get(state, ""))
    if cause and with_cause:
        text.append(" (")
        text.append_text(safe(cause, "italic"))
        text.append(")")
    return text


def link_state_cell(iface: Interface, lookup: Lookup) -> Text:
    """The state column's compact word ("no carrier", "admin down", "up"): the cause is
    in the row's tooltip and the namespace's Details (its findings), not in the column."""
    state, _ = link_state(iface, lookup)
    return safe(compact_state(state), LINK_STATE_STYLES.get(state, ""))


def interface_cells(
    iface: Interface, lookup: Lookup, network: str = "", *, gone: bool = False
) -> tuple[Text, ...]:
    """One Interfaces row, in INTERFACE_COLUMNS order; ``network``: the Docker network(s)
    whose bridge this is, shown in its master column (a bridge has no master of its own;
    with its name it would push every other column right). ``gone``: the namespace
    vanished, so the row is what was last seen ("was up"), dimmed."""
    master = safe(iface.master or "")
    if (stalled := iface.port_not_forwarding) is not None:
        master.append_text(safe(f" ({stalled})", ALERT))  # "br0 (disabled)": it fits
    if network:
        master = join([m for m in (master, docker_network_text(network)) if m.plain])
    state = link_state_cell(iface, lookup)
    if gone:
        state = Text.assemble("was ", state, style="dim", end="")
    cells = (
        safe(iface.name, "bold"),
        state,
        addresses_text(iface),
        peer_text(iface, lookup),
        master,
        safe(iface.kind, KIND),
        plain(str(iface.mtu)),
        safe(iface.mac, "dim"),
        safe(iface.alias, "dim"),
    )
    if gone:
        for cell in cells:
            cell.stylize("dim")
    return cells


def gone_row_cells(since: str) -> tuple[Text, ...]:
    """The row above a gone namespace's interfaces: what follows is not current."""
    when = f"since {since}" if since else "gone"
    return (
        plain("gone", BAD),
        plain(when, BAD),
        plain("rows below: as last seen", "italic"),
    )


COUNTER_COLUMNS = (
    "name",
    "rx bytes",
    "rx/s",
    "rx pkts",
    "rx err",
    "rx drop",
    "tx bytes",
    "tx/s",
    "tx pkts",
    "tx err",
    "tx drop",
    "rx+tx/s",
)

SPARK = "▁▂▃▄▅▆▇█"


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover - the loop always returns


def sparkline(values: Sequence[float]) -> str:
    top = max(values, default=0)
    if top <= 0:
        return SPARK[0] * len(values)
    return "".join(
        SPARK[min(len(SPARK) - 1, int(v / top * (len(SPARK) - 1) + 0.5))] for v in values
    )


def count_text(n: int, *, bad: bool = False) -> Text:
    return plain(str(n), BAD if bad and n else "")


def rate_text(rate: float | None) -> Text:
    if rate is None:  # before a second reading ("…" would read as a cut cell)
        return plain("-", "dim")
    return plain(f"{human_bytes(rate)}/s", "bold" if rate > 0 else "dim")


def ns_title_or_none(ns: NetNamespace | None, why: str) -> Text:
    """The title line; when nothing is selected, says so and why."""
    if ns is None:
        return plain(f"nothing selected: {why}", "bold italic")
    return ns_title(ns)


# Cells of a label in a prompt, a notice or an Output header. A Docker container name has
# no length limit: one of 5,000 characters filled the run prompt and hid its input line.
LABEL_ROOM = 96


def label_text(ns: NetNamespace, style: str = "") -> Text:
    """The namespace's label, escaped and cut to LABEL_ROOM cells with an ellipsis (a
    path keeps its last part); the inode, shown beside it, tells cut ones apart."""
    return fit_label(safe(ns_label(ns), style), LABEL_ROOM)


def named(ns: NetNamespace) -> str:
    """'label (netns N)' for a notice (escaped and cut like label_text)."""
    return f"{label_text(ns).plain} (netns {ns.inode})"


def target_text(ns: NetNamespace) -> Text:
    """How a prompt or a confirmation names the namespace it acts on: label and inode."""
    text = label_text(ns, "bold underline")
    text.append(f" (netns {ns.inode})", style="bold")
    return text


def inodes_text(inodes: Sequence[int], limit: int) -> Text:
    """'(netns 1, 2, 3)', or '(netns 1, 2, … and 5 others)' past ``limit``."""
    listed = ", ".join(str(i) for i in inodes[:limit])
    more = len(inodes) - limit
    tail = f", … and {counted(more, 'other')}" if more > 0 else ""
    return plain(f"(netns {listed}{tail})", "bold")


def entry_header_text(label: str, inode: int, clock: str, command: str, typed: str = "") -> Text:
    """The lines that open one Output entry: where, when and the command as the user
    typed it (``typed``) on the first, so it is never pushed off the right edge by a
    long nsenter/unshare wrapper; the exact equivalent ``command`` on its own line after
    (when it differs)."""
    text = plain("── ", "dim")
    text.append_text(fit_label(safe(label, "bold reverse"), LABEL_ROOM))
    text.append(f" · {clock} ", style="bold")
    text.append("── ", style="dim")
    text.append_text(command_line_text(typed or command))
    text.append(f"  (netns {inode})", style="dim")
    if typed and typed != command:
        text.append("\n")
        text.append("   runs as: ", style="dim")
        text.append_text(command_line_text(command))
    return text


def snapshot_origin(snapshot: Snapshot) -> str:
    """'HOST at TIME': where and when a snapshot was taken (raw)."""
    when = snapshot.collected_at.replace("T", " ").removesuffix("+00:00")
    suffix = " UTC" if snapshot.collected_at.endswith(("+00:00", "Z")) else ""
    return f"{snapshot.hostname} at {when.removesuffix('Z')}{suffix}"


def snapshot_header_text(snapshot: Snapshot, *, live: bool) -> Text:
    """The Details pane's first lines: which host, read when (a replay says so)."""
    t = Text(end="")
    t.append("Snapshot\n" if not live else "Host\n", style="bold underline")
    _kv(t, "hostname", safe(snapshot.hostname))
    _kv(t, "read at" if live else "collected at", safe(snapshot.collected_at))
    if not live:
        _kv(t, "replay", plain("a saved snapshot: nothing here is live", "bold"))
    t.append("\n")
    return t


def wire_link_text(iface: Interface, lookup: Lookup) -> Text:
    """A link in the Wiring tree: name, kind, its state when not plainly up (the same
    words as the Interfaces pane), addresses."""
    text = iface_name_text(iface)
    text.append(" ")
    text.append_text(safe(iface.kind, KIND))
    if link_state(iface, lookup)[0] != "up":
        text.append(" ")
        text.append_text(link_state_text(iface, lookup))
    if port := port_state_words(iface):
        text.append_text(safe(f" {port}", ALERT))
    addrs = addresses_text(iface)
    if addrs.plain:
        text.append(" ")
        text.append_text(addrs)
    return text
