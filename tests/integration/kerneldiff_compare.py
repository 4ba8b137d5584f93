"""What iproute2 says about a namespace, and the snapshot's JSON, in one comparable shape.

``ip_view(name)`` runs ``ip -n NAME -j -d`` for links, addresses, routes of every table
(IPv4 and IPv6), nexthop objects, rules and netns ids, and normalises ip's spellings
(table and dsfield names, host routes without /32, ``from`` prefixes, fwmark/fwmask,
"via" objects) into the snapshot's terms. ``snapshot_view`` does the same for one
namespace object of ``nsexplorer snapshot``. Peers and parents compare as
(namespace name, ifindex, name): ip's link_netnsid is mapped through ``ip netns
list-id``, the snapshot's netns_inode through the snapshot's namespace names.

Written from iproute2's output, independently of nsexplorer's decoders.
"""

from __future__ import annotations

import grp
import json
import pwd
import re
import subprocess
import time
from collections.abc import Callable
from typing import Any

STACKED = ("macvlan", "macvtap", "ipvlan", "ipvtap", "vlan", "macsec")


def _names_file(path: str) -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        with open(path) as f:
            for line in f:
                parts = line.split("#", 1)[0].split()
                if len(parts) >= 2:
                    out[parts[1]] = int(parts[0], 0)
    except FileNotFoundError:
        pass
    return out


TABLES = {"main": 254, "local": 255, "default": 253, **_names_file("/etc/iproute2/rt_tables")}
DSFIELDS = _names_file("/etc/iproute2/rt_dsfield")
PROTOCOLS_BY_NAME: dict[str, int] = {}
try:
    with open("/etc/protocols") as _f:
        for _line in _f:
            _p = _line.split("#", 1)[0].split()
            if len(_p) >= 2:
                PROTOCOLS_BY_NAME[_p[0]] = int(_p[1])
except FileNotFoundError:
    pass


def ip_json(name: str, *args: str) -> Any:
    done = subprocess.run(["ip", "-n", name, "-j", *args], capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ip -n {name} -j {' '.join(args)}: {done.stderr.decode()}")
    text = done.stdout.decode("utf-8").strip()
    return json.loads(text, object_pairs_hook=_first_wins) if text else []


def _first_wins(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """ip -j repeats keys: an "encap ip" route prints the tunnel's "dst", "src" and "tos"
    in the route's own object, after the route's "dst". Keep the first of each."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        out.setdefault(key, value)
    return out


def _table(value: Any) -> int | None:
    if value is None:
        return None
    return TABLES.get(str(value)) or int(str(value), 0)


def _tos(value: Any) -> int:
    if value is None:
        return 0
    text = str(value)
    return DSFIELDS[text] if text in DSFIELDS else int(text, 0)


GROUPS = {"default": 0, **_names_file("/etc/iproute2/group")}


def _ifgroup(value: Any) -> int | None:
    # ip names interface groups from /etc/iproute2/group: "default" is 0
    if value is None:
        return None
    text = str(value)
    return GROUPS[text] if text in GROUPS else int(text, 0)


def _prefix(addr: str | None, length: Any, host_len: int) -> str | None:
    if addr is None or addr == "all":
        return None
    if addr == "default":
        return "default"
    if "/" in addr:
        return addr
    if addr == "0":  # ip's spelling when only a length is set
        addr = "0.0.0.0" if host_len == 32 else "::"  # noqa: S104 - an address, not a bind
    return f"{addr}/{length if length is not None else host_len}"


# ---------------------------------------------------------------- ip's side


def ip_view(name: str) -> dict[str, Any]:
    links = ip_json(name, "-d", "link", "show")
    addrs = ip_json(name, "addr", "show")
    try:
        nexthops = {nh["id"]: nh for nh in ip_json(name, "nexthop", "show")}
    except RuntimeError:
        nexthops = {}
    ids = {x["nsid"]: x.get("name") for x in ip_json(name, "netns", "list-id")}
    by_index = {x["ifindex"]: x["ifname"] for x in links}
    return {
        "links": links,
        "by_index": by_index,
        "nsids": ids,
        "addrs": {x["ifindex"]: x.get("addr_info", []) for x in addrs},
        "routes": [
            {**_ip_route(r, fam, nexthops, by_index), "mtu_lock": lock}
            for fam, flag in ((4, "-4"), (6, "-6"))
            for r, lock in _routes_with_mtu_locks(name, flag)
        ],
        "rules": [
            _ip_rule(r, fam)
            for fam, flag in ((4, "-4"), (6, "-6"))
            for r in ip_json(name, flag, "rule", "show")
        ],
    }


def _routes_with_mtu_locks(name: str, flag: str) -> list[tuple[Any, bool]]:
    """Each route of ip -j with whether its MTU is locked, which only ip's text says
    ("mtu lock N"), matched in dump order (a multipath route's nexthop lines indented).
    The two dumps are separate reads: a route that comes or goes between them (IPv6
    DAD, a carrier change) makes them disagree, so they are read again until a JSON
    dump before and after the text one agree."""
    for _attempt in range(50):
        routes = ip_json(name, flag, "-d", "route", "show", "table", "all")
        done = subprocess.run(
            ["ip", "-n", name, flag, "route", "show", "table", "all"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        heads = [line for line in done.stdout.splitlines() if line and not line[0].isspace()]
        again = ip_json(name, flag, "-d", "route", "show", "table", "all")
        if len(heads) == len(routes) and again == routes:
            return [(r, " mtu lock " in f"{line} ") for r, line in zip(routes, heads, strict=True)]
        time.sleep(0.1)
    raise RuntimeError(
        f"{name}: ip {flag} route: text and JSON dumps never agreed "
        f"({len(heads)} lines, {len(routes)} routes):\n" + "\n".join(heads)
    )


def _gateway(obj: dict[str, Any]) -> str | None:
    if "gateway" in obj:
        return str(obj["gateway"])
    via = obj.get("via")
    return str(via["host"]) if isinstance(via, dict) else None


def _ip_route(
    r: dict[str, Any], family: int, nexthops: dict[int, Any], names: dict[int, str]
) -> dict[str, Any]:
    host_len = 32 if family == 4 else 128
    hops: list[tuple[Any, ...]] = []
    if "nexthops" in r:
        hops = [
            (_gateway(h), h.get("dev"), h.get("weight", 1), h.get("flags", []))
            for h in r["nexthops"]
        ]
    elif "nhid" in r:
        hops = _object_paths(r["nhid"], nexthops)
    metrics = r.get("metrics") or [{}]
    return {
        "family": family,
        "type": r.get("type", "unicast"),
        "dst": _prefix(r["dst"], None, host_len),
        "src": _prefix(r.get("from"), None, host_len),
        "gateway": _gateway(r),
        "dev": r.get("dev"),
        "table": _table(r.get("table", "main")),
        "protocol": r.get("protocol"),
        "scope": r.get("scope"),
        "metric": r.get("metric"),
        "prefsrc": r.get("prefsrc"),
        "nhid": r.get("nhid"),
        "tos": _tos(r.get("tos")),
        "encap": r.get("encap"),
        "mtu": metrics[0].get("mtu"),
        "flags": r.get("flags", []),
        "nexthops": hops,
    }


def _object_paths(nhid: int, objects: dict[int, Any]) -> list[tuple[Any, ...]]:
    nh = objects.get(nhid)
    if nh is None or "blackhole" in nh:
        return []
    if "group" not in nh:
        return [(nh.get("gateway"), nh.get("dev"), 1, nh.get("flags", []))]
    out = []
    for member in nh["group"]:
        m = objects.get(member["id"])
        if m is not None and "blackhole" not in m:
            out.append(
                (m.get("gateway"), m.get("dev"), member.get("weight", 1), m.get("flags", []))
            )
    return out


def _ip_rule(r: dict[str, Any], family: int) -> dict[str, Any]:
    host_len = 32 if family == 4 else 128
    if "goto" in r:
        action = "goto"
    elif "nop" in r:
        action = "nop"
    else:
        action = r.get("action", "lookup")
    fwmark = r.get("fwmark")
    if fwmark is not None and "fwmask" in r:
        fwmark = f"{fwmark}/{r['fwmask']}"
    proto = r.get("ipproto")
    sport = r.get("sport", f"{r['sport_start']}-{r['sport_end']}" if "sport_start" in r else None)
    dport = r.get("dport", f"{r['dport_start']}-{r['dport_end']}" if "dport_start" in r else None)
    return {
        "family": family,
        "priority": r["priority"],
        "invert": "not" in r,
        "src": _prefix(r.get("src"), r.get("srclen"), host_len),
        "dst": _prefix(r.get("dst"), r.get("dstlen"), host_len),
        "tos": _tos(r.get("tos")),
        "fwmark": fwmark,
        "iif": r.get("iif"),
        "oif": r.get("oif"),
        "table": _table(r.get("table")),
        "action": action,
        "goto": r.get("goto") if isinstance(r.get("goto"), int) else None,
        "suppress_prefixlen": r.get("suppress_prefixlen"),
        "suppress_ifgroup": _ifgroup(r.get("suppress_ifgroup")),
        "ipproto": (
            None
            if proto is None
            else PROTOCOLS_BY_NAME.get(proto) or int(re.sub(r"^ipproto-", "", proto))
        ),
        "sport": None if sport is None else str(sport),
        "dport": None if dport is None else str(dport),
        "uidrange": f"{r['uid_start']}-{r['uid_end']}" if "uid_start" in r else None,
        "l3mdev": "l3mdev" in r,
        "tun_id": r.get("tun_id"),
        "realms": (
            f"{r['flow_from']}/{r['flow_to']}"
            if "flow_from" in r
            else str(r["flow_to"])
            if "flow_to" in r
            else None
        ),
        "protocol": r.get("protocol"),  # ip -j names it only when not unspec or kernel
        "iif_detached": "iif_detached" in r,
        "oif_detached": "oif_detached" in r,
        "unresolved": "unresolved" in r,
    }


def _kind(link: dict[str, Any]) -> str:
    info = link.get("linkinfo") or {}
    kind = info.get("info_kind")
    if kind == "tun" and (info.get("info_data") or {}).get("type") == "tap":
        return "tap"
    if kind:
        return str(kind)
    return "loopback" if link.get("link_type") == "loopback" else "device"


def expected_links(name: str, views: dict[str, dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Per ifindex, every interface field as ip reports it; peer and parent as
    (namespace name or None, ifindex, interface name or None)."""
    view = views[name]
    out: dict[int, dict[str, Any]] = {}

    def where(link: dict[str, Any], ifindex: int) -> tuple[str | None, int, str | None]:
        if "link_netnsid" in link:
            other = view["nsids"].get(link["link_netnsid"])
            other_name = views[other]["by_index"].get(ifindex) if other in views else None
            return other, ifindex, other_name
        return name, ifindex, view["by_index"].get(ifindex)

    for x in view["links"]:
        kind = _kind(x)
        ref: tuple[str | None, int, str | None] | None = None
        index_of = {v: k for k, v in view["by_index"].items()}
        if kind == "vxlan":
            data = (x.get("linkinfo") or {}).get("info_data") or {}
            # ip names IFLA_VXLAN_LINK by looking the ifindex up in ITS namespace (even
            # when the vxlan's lower device is in another one), else prints "if<N>": the
            # ifindex is that name's ifindex here, or N.
            lower = _index_of_name(data.get("link"), index_of)
            if lower:
                ref = where(x, lower)
        elif "link" in x and x["link"] is not None:
            ref = where(x, _index_of_name(x["link"], index_of) or 0)
        elif "link_index" in x:
            ref = where(x, x["link_index"])
        elif "link_netnsid" in x and (kind == "veth" or kind in STACKED):
            ref = where(x, x["ifindex"])  # IFLA_LINK omitted: equal ifindexes
        out[x["ifindex"]] = {
            "name": x["ifname"],
            "kind": kind,
            "flags": x["flags"],
            "mtu": x["mtu"],
            "mac": x.get("address", ""),
            "master": x.get("master"),
            "state": x["operstate"].lower(),
            "alias": x.get("ifalias", ""),
            "peer": ref if kind == "veth" else None,
            "parent": ref if kind != "veth" else None,
            "addresses": [_ip_addr(a) for a in view["addrs"].get(x["ifindex"], [])],
            "port_state": _port_state(x),
            "altnames": x.get("altnames", []),
            "vxlan": _vxlan(x) if kind == "vxlan" else None,
            "tun": _tun(x) if kind in ("tun", "tap") else None,
            "txqlen": x.get("txqlen", 0),  # ip omits a queue length of 0
            "group": _ifgroup(x.get("group")),
        }
    return out


def _vxlan(link: dict[str, Any]) -> dict[str, Any]:
    data = (link.get("linkinfo") or {}).get("info_data") or {}
    remote = [data[k] for k in ("group", "remote", "group6", "remote6") if k in data]
    local = [data[k] for k in ("local", "local6") if k in data]
    return {
        "id": data.get("id"),
        "remote": remote[0] if remote else None,
        "local": local[0] if local else None,
        "port": data.get("port"),
        "external": bool(data.get("external")),
    }


def _tun(link: dict[str, Any]) -> dict[str, Any]:
    data = (link.get("linkinfo") or {}).get("info_data") or {}
    return {
        "type": data.get("type"),
        **{k: data.get(k) is True for k in ("pi", "vnet_hdr", "multi_queue", "persist")},
        "numqueues": data.get("numqueues"),
        "numdisabled": data.get("numdisabled"),
        # ip prints the owner's name when this host has one, else the id
        "user": _id_of(data.get("user"), lambda n: pwd.getpwnam(n).pw_uid),
        "group": _id_of(data.get("group"), lambda n: grp.getgrnam(n).gr_gid),
    }


def _id_of(value: Any, by_name: Callable[[str], int]) -> int | None:
    if value is None or isinstance(value, int):
        return value
    return by_name(str(value))


def _port_state(link: dict[str, Any]) -> str | None:
    info = link.get("linkinfo") or {}
    if info.get("info_slave_kind") != "bridge":
        return None
    return str((info.get("info_slave_data") or {}).get("state"))


def _index_of_name(name: str | None, index_of: dict[str, int]) -> int | None:
    if name is None:
        return None
    if name in index_of:
        return index_of[name]
    m = re.fullmatch(r"if(\d+)", name)
    return int(m.group(1)) if m else None


def _ip_addr(a: dict[str, Any]) -> dict[str, Any]:
    flags = [k for k, v in a.items() if v is True]
    if "ifa_flags" in a:
        flags.append(a["ifa_flags"])
    return {
        "family": {"inet": 4, "inet6": 6}[a["family"]],
        "address": a["local"],
        "prefixlen": a["prefixlen"],
        "scope": a["scope"],
        "flags": flags,
        "peer": a.get("address"),
        "label": a.get("label", ""),
        "broadcast": a.get("broadcast"),
    }


FOREVER = 4294967295


def _ip_lifetimes(view: dict[str, Any]) -> dict[tuple[int, str, int], tuple[Any, Any]]:
    """(valid, preferred) per (ifindex, address, prefixlen); None for forever. Apart from
    the other fields: they tick, so they compare within a window, not exactly."""
    return {
        (ifindex, a["local"], a["prefixlen"]): tuple(
            None if a[k] == FOREVER else a[k] for k in ("valid_life_time", "preferred_life_time")
        )
        for ifindex, infos in view["addrs"].items()
        for a in infos
    }


# ---------------------------------------------------------------- the snapshot's side


def snapshot_links(
    ns: dict[str, Any], names_by_inode: dict[int, str | None]
) -> dict[int, dict[str, Any]]:
    def ref(p: dict[str, Any] | None) -> tuple[str | None, int, str | None] | None:
        if p is None:
            return None
        return names_by_inode.get(p["netns_inode"]), p["ifindex"], p["name"]

    return {
        i["ifindex"]: {
            "name": i["name"],
            "kind": i["kind"],
            "flags": i["flags"],
            "mtu": i["mtu"],
            "mac": i["mac"] or "",  # null for a device without an address (ip: none)
            "master": i["master"],
            "state": i["state"],
            "alias": i["alias"],
            "peer": ref(i["peer"]),
            "parent": ref(i["parent"]),
            "port_state": i.get("port_state"),
            "altnames": i.get("altnames", []),
            "vxlan": i.get("vxlan"),
            "tun": i.get("tun"),
            "txqlen": i.get("txqlen"),
            "group": i.get("group", 0),
            "addresses": [
                {
                    **{
                        k: a[k]
                        for k in ("family", "address", "prefixlen", "scope", "flags", "peer")
                    },
                    "label": a["label"],
                    "broadcast": a.get("broadcast"),
                }
                for a in i["addresses"]
            ],
        }
        for i in ns["interfaces"]
    }


def snapshot_routes(ns: dict[str, Any]) -> list[dict[str, Any]]:
    keys = (
        "family",
        "type",
        "dst",
        "src",
        "gateway",
        "dev",
        "table",
        "protocol",
        "scope",
        "metric",
        "prefsrc",
        "nhid",
        "tos",
        "encap",
        "mtu",
        "flags",
        "mtu_lock",
    )
    out = []
    defaults = {"nhid": None, "tos": 0, "src": None, "encap": None, "mtu": None, "mtu_lock": False}
    for r in ns["routes"]:
        row = {k: r[k] if k in r or k not in defaults else defaults[k] for k in keys}
        row["nexthops"] = [(h["gateway"], h["dev"], h["weight"], h["flags"]) for h in r["nexthops"]]
        out.append(row)
    return out


def snapshot_rules(ns: dict[str, Any]) -> list[dict[str, Any]]:
    # Beyond the nine always-present keys, a rule's keys are present only when set.
    always = ("family", "priority", "table", "src", "dst", "iif", "oif", "fwmark", "action")
    defaults = {
        "invert": False,
        "tos": 0,
        "l3mdev": False,
        "iif_detached": False,
        "oif_detached": False,
        "unresolved": False,
    }
    out = [
        {k: r[k] if k in always else r.get(k, defaults.get(k)) for k in _RULE_KEYS}
        for r in ns["rules"]
    ]
    for rule in out:
        if rule["protocol"] in ("unspec", "kernel"):
            rule["protocol"] = None
    return out


_RULE_KEYS = (
    "family",
    "priority",
    "invert",
    "src",
    "dst",
    "tos",
    "fwmark",
    "iif",
    "oif",
    "table",
    "action",
    "goto",
    "suppress_prefixlen",
    "suppress_ifgroup",
    "ipproto",
    "sport",
    "dport",
    "uidrange",
    "l3mdev",
    "tun_id",
    "realms",
    "protocol",
    "iif_detached",
    "oif_detached",
    "unresolved",
)


# ---------------------------------------------------------------- the difference


def differences(
    name: str,
    ns: dict[str, Any],
    views: dict[str, dict[str, Any]],
    inode_names: dict[int, str | None],
) -> list[str]:
    """Every field where the snapshot and ip disagree, as readable lines."""
    out: list[str] = []
    ours = snapshot_links(ns, inode_names)
    theirs = expected_links(name, views)
    if set(ours) != set(theirs):
        out.append(f"{name}: ifindexes ours {sorted(ours)} vs ip {sorted(theirs)}")
    for index in sorted(set(ours) & set(theirs)):
        for key, value in theirs[index].items():
            if ours[index][key] != value:
                out.append(
                    f"{name}: interface {index} ({theirs[index]['name']!r}) {key}: "
                    f"ours {ours[index][key]!r} vs ip {value!r}"
                )
    for what, mine, ip_rows in (
        ("route", snapshot_routes(ns), views[name]["routes"]),
        ("rule", snapshot_rules(ns), views[name]["rules"]),
    ):
        if mine != ip_rows:
            missing = [r for r in ip_rows if r not in mine]
            extra = [r for r in mine if r not in ip_rows]
            out.append(
                f"{name}: {what}s differ ({len(mine)} ours, {len(ip_rows)} ip)"
                + "".join(f"\n    only ip:   {r}" for r in missing)
                + "".join(f"\n    only ours: {r}" for r in extra)
                + ("\n    (same rows, different order)" if not missing and not extra else "")
            )
    return out


def lifetime_differences(
    name: str,
    ns: dict[str, Any],
    before: dict[str, dict[str, Any]],
    after: dict[str, dict[str, Any]],
    slack: int = 1,
) -> list[str]:
    """Address lifetimes: forever on both sides, or ours between what ip said after the
    snapshot and before it (the kernel counts down in whole seconds: ``slack`` for a
    second that turns between two reads)."""
    out: list[str] = []
    early, late = _ip_lifetimes(before[name]), _ip_lifetimes(after[name])
    for i in ns["interfaces"]:
        for a in i["addresses"]:
            key = (i["ifindex"], a["address"], a["prefixlen"])
            if key not in early or key not in late:
                continue  # a missing address is a difference of its own
            ours = (a.get("valid_lft"), a.get("preferred_lft"))
            for what, mine, hi, lo in zip(
                ("valid", "preferred"), ours, early[key], late[key], strict=True
            ):
                if mine is None or hi is None or lo is None:
                    wrong = not (mine is None and hi is None and lo is None)
                else:
                    wrong = not lo - slack <= mine <= hi + slack
                if wrong:
                    out.append(
                        f"{name}: interface {i['ifindex']} address {key[1]}/{key[2]} "
                        f"{what}_lft: ours {mine!r} vs ip {hi!r} before, {lo!r} after"
                    )
    return out
