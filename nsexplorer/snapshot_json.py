"""Snapshot <-> JSON, schema version 1.

A faithful encoding of :mod:`nsexplorer.model`: ``decode(encode(s)) == s``.

The keys promised by the CLI contract (README) are always present with exactly those
names; every other model field is written under an additional key, so scripts may rely
on the contract keys and ignore the rest.

Names are bytes to Linux. Collectors decode them with ``os.fsdecode`` (UTF-8 with
``surrogateescape``), so a byte that is not valid UTF-8 becomes a lone surrogate
U+DC80..U+DCFF. :func:`dumps` writes such a character as the JSON escape ``\\udcXX``
(everything else stays as UTF-8 text; control characters are escaped by JSON itself), so
the document is always valid UTF-8 JSON, and ``os.fsencode`` of the decoded string gives
back the original bytes exactly.

Stdlib only, no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import fields

from nsexplorer import TYPE_CHECKING, gcpause
from nsexplorer.model import (
    BindMount,
    Container,
    ContainerNetwork,
    DockerNetwork,
    EngineInfo,
    FdHolder,
    NamespaceId,
    NetNamespace,
    PublishedPort,
    Snapshot,
    SocketHolder,
    Source,
    StoppedContainer,
    ThreadHolder,
    group_of,
)
from nsexplorer.snapshot_json_net import (
    decode_interface,
    decode_route,
    decode_rule,
    encode_interface,
    encode_route,
    encode_rule,
    opt_int,
)

SCHEMA_VERSION = 1

_SURROGATE = re.compile("[\ud800-\udfff]")

if TYPE_CHECKING:  # typing costs import time on the `list` path
    from typing import Any

    JSONDict = dict[str, Any]


class SnapshotFormatError(ValueError):
    """The document is not a schema-1 nsexplorer snapshot."""


# ---------------------------------------------------------------- encoding


def encode(snapshot: Snapshot) -> JSONDict:
    return {
        "schema_version": snapshot.schema_version,
        "hostname": snapshot.hostname,
        "collected_at": snapshot.collected_at,
        "warnings": list(snapshot.warnings),
        "namespaces": [encode_namespace(ns) for ns in snapshot.namespaces],
        "engines": [_encode_engine(e) for e in snapshot.engines],
        "meta": {k: v for k, v in snapshot.meta},
    }


def encode_namespace(ns: NetNamespace) -> JSONDict:
    return {
        "inode": ns.id.ino,
        "is_host": ns.is_host,
        "names": list(ns.names),
        "bind_mounts": [
            {
                "path": m.path,
                "mount_ns_inode": m.mount_ns_inode,
                "hidden": m.hidden,
                "via_pid": m.via_pid,
                "reach_path": m.reach_path,
                "covered": m.covered,
                "mount_ns_path": m.mount_ns_path,
            }
            for m in ns.bind_mounts
        ],
        "pids": list(ns.pids),
        "containers": [_encode_container(c) for c in ns.containers],
        "interfaces": [encode_interface(i) for i in ns.interfaces],
        "routes": [encode_route(r) for r in ns.routes],
        # Additional keys (not part of the minimal contract).
        "dev": ns.id.dev,
        # The kernel's unique id of the namespace (NS_GET_ID); null when not known.
        "cookie": ns.cookie,
        "label": ns.label,
        "group": str(group_of(ns)),
        "sources": [str(s) for s in ns.sources],
        "fd_holders": [{"pid": h.pid, "fd": h.fd} for h in ns.fd_holders],
        "thread_holders": [{"pid": h.pid, "tid": h.tid} for h in ns.thread_holders],
        "socket_holders": [
            {"pid": h.pid, "fd": h.fd, "socket_inode": h.socket_inode} for h in ns.socket_holders
        ],
        "access_path": ns.access_path,
        "detailed": ns.detailed,
        "warnings": list(ns.warnings),
        "gone": ns.gone,
        "rules": [encode_rule(r) for r in ns.rules],
    }


def _encode_container(c: Container) -> JSONDict:
    return {
        "engine": c.engine,
        "id": c.id,
        "name": c.name,
        "image": c.image,
        "network_mode": c.network_mode,
        "pid": c.pid,
        "status": c.status,
        "sandbox_key": c.sandbox_key,
        "compose_project": c.compose_project,
        "shares_with": c.shares_with,
        "networks": [
            {
                "name": n.name,
                "ip_address": n.ip_address,
                "prefixlen": n.prefixlen,
                "gateway": n.gateway,
                "mac": n.mac,
                "ipv6_address": n.ipv6_address,
                "ipv6_prefixlen": n.ipv6_prefixlen,
                "ipv6_gateway": n.ipv6_gateway,
                "network_id": n.network_id,
            }
            for n in c.networks
        ],
        "ports": [
            {"container_port": p.container_port, "host_ip": p.host_ip, "host_port": p.host_port}
            for p in c.ports
        ],
    }


def _encode_engine(e: EngineInfo) -> JSONDict:
    return {
        "engine": e.engine,
        "reachable": e.reachable,
        "host": e.host,
        "daemon_pid": e.daemon_pid,
        "version": e.version,
        "networks": [
            {
                "id": n.id,
                "name": n.name,
                "driver": n.driver,
                "bridge": n.bridge,
                "subnets": [{"subnet": s, "gateway": g} for s, g in n.subnets],
            }
            for n in e.networks
        ],
        "stopped": [{"id": c.id, "name": c.name, "state": c.state} for c in e.stopped],
        "origin": e.origin,
        "netns_inode": e.netns_inode,
    }


def dumps(snapshot: Snapshot, *, indent: int | None = None) -> str:
    """The snapshot as JSON text: valid UTF-8, non-UTF-8 name bytes as ``\\udcXX``."""
    with gcpause.paused():  # ~10^5 acyclic dicts are built
        return dumps_value(encode(snapshot), indent=indent)


def dumps_value(value: Any, *, indent: int | None = None) -> str:
    """Any encoded value (a snapshot, a namespace, a list) as safe JSON text."""
    # check_circular off: the encoders build trees (no value holds itself), and keeping
    # an id per container to prove it costs ~10 % of the encoding of a big snapshot.
    text = json.dumps(value, ensure_ascii=False, indent=indent, check_circular=False)
    # Lone surrogates (undecodable name bytes) cannot be written as UTF-8: escape them.
    # Rare, so first the cheap check (a C-speed encode) instead of a regex over megabytes.
    try:
        text.encode()
    except UnicodeEncodeError:
        return _SURROGATE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)
    return text


# ---------------------------------------------------------------- decoding


def loads(text: str | bytes) -> Snapshot:
    try:
        value = json.loads(text)
    except (ValueError, UnicodeDecodeError) as err:
        raise SnapshotFormatError(f"not valid JSON: {err}") from err
    return decode(value)


def decode(doc: Mapping[str, Any]) -> Snapshot:
    """The Snapshot a schema-1 document describes; unknown keys are ignored."""
    if not isinstance(doc, Mapping):
        raise SnapshotFormatError("a snapshot must be a JSON object")
    version = doc.get("schema_version")
    if version != SCHEMA_VERSION:
        raise SnapshotFormatError(
            f"unsupported schema_version {version!r} (this nsexplorer reads {SCHEMA_VERSION})"
        )
    try:
        meta = doc.get("meta") or {}
        return Snapshot(
            hostname=str(doc["hostname"]),
            collected_at=str(doc["collected_at"]),
            namespaces=tuple(decode_namespace(n) for n in doc.get("namespaces", ())),
            warnings=tuple(str(w) for w in doc.get("warnings", ())),
            engines=tuple(_decode_engine(e) for e in doc.get("engines", ())),
            schema_version=int(version),
            meta=tuple((str(k), str(v)) for k, v in meta.items()),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise SnapshotFormatError(f"malformed snapshot: {type(err).__name__}: {err}") from err


def decode_namespace(d: Mapping[str, Any]) -> NetNamespace:
    return NetNamespace(
        id=NamespaceId(dev=int(d.get("dev", 0)), ino=int(d["inode"])),
        is_host=bool(d.get("is_host", False)),
        label=str(d.get("label", "")),
        sources=tuple(Source(s) for s in d.get("sources", ())),
        names=tuple(str(n) for n in d.get("names", ())),
        bind_mounts=tuple(
            BindMount(
                path=str(m["path"]),
                mount_ns_inode=int(m["mount_ns_inode"]),
                hidden=bool(m["hidden"]),
                via_pid=opt_int(m.get("via_pid")),
                covered=bool(m.get("covered", False)),
                mount_ns_path=str(m.get("mount_ns_path", "")),
            )
            for m in d.get("bind_mounts", ())
        ),
        pids=tuple(int(p) for p in d.get("pids", ())),
        fd_holders=tuple(
            FdHolder(pid=int(h["pid"]), fd=int(h["fd"])) for h in d.get("fd_holders", ())
        ),
        thread_holders=tuple(
            ThreadHolder(pid=int(h["pid"]), tid=int(h["tid"])) for h in d.get("thread_holders", ())
        ),
        socket_holders=tuple(
            SocketHolder(pid=int(h["pid"]), fd=int(h["fd"]), socket_inode=int(h["socket_inode"]))
            for h in d.get("socket_holders", ())
        ),
        containers=tuple(_decode_container(c) for c in d.get("containers", ())),
        access_path=str(d.get("access_path", "")),
        detailed=bool(d.get("detailed", False)),
        interfaces=tuple(decode_interface(i) for i in d.get("interfaces", ())),
        routes=tuple(decode_route(r) for r in d.get("routes", ())),
        warnings=tuple(str(w) for w in d.get("warnings", ())),
        gone=bool(d.get("gone", False)),
        rules=tuple(decode_rule(r) for r in d.get("rules", ())),
        cookie=opt_int(d.get("cookie")),  # absent from snapshots before it was read
    )


def _decode_container(c: Mapping[str, Any]) -> Container:
    return Container(
        engine=str(c.get("engine", "docker")),
        id=str(c["id"]),
        name=str(c["name"]),
        image=str(c.get("image", "")),
        network_mode=str(c.get("network_mode", "")),
        pid=opt_int(c.get("pid")),
        status=str(c.get("status", "")),
        sandbox_key=str(c.get("sandbox_key", "")),
        compose_project=str(c.get("compose_project", "")),
        shares_with=str(c.get("shares_with", "")),
        networks=tuple(
            ContainerNetwork(
                name=str(n["name"]),
                ip_address=str(n.get("ip_address", "")),
                prefixlen=int(n.get("prefixlen", 0)),
                gateway=str(n.get("gateway", "")),
                mac=str(n.get("mac", "")),
                ipv6_address=str(n.get("ipv6_address", "")),
                ipv6_prefixlen=int(n.get("ipv6_prefixlen", 0)),
                ipv6_gateway=str(n.get("ipv6_gateway", "")),
                network_id=str(n.get("network_id", "")),
            )
            for n in c.get("networks", ())
        ),
        ports=tuple(
            PublishedPort(
                container_port=str(p["container_port"]),
                host_ip=str(p.get("host_ip", "")),
                host_port=str(p.get("host_port", "")),
            )
            for p in c.get("ports", ())
        ),
    )


def _decode_engine(e: Mapping[str, Any]) -> EngineInfo:
    return EngineInfo(
        engine=str(e.get("engine", "docker")),
        reachable=bool(e.get("reachable", False)),
        host=str(e.get("host", "")),
        daemon_pid=opt_int(e.get("daemon_pid")),
        version=str(e.get("version", "")),
        networks=tuple(
            DockerNetwork(
                id=str(n["id"]),
                name=str(n["name"]),
                driver=str(n.get("driver", "")),
                bridge=str(n.get("bridge", "")),
                subnets=tuple(
                    (str(s["subnet"]), str(s.get("gateway", ""))) for s in n.get("subnets", ())
                ),
            )
            for n in e.get("networks", ())
        ),
        stopped=tuple(
            StoppedContainer(
                id=str(c.get("id", "")), name=str(c.get("name", "")), state=str(c.get("state", ""))
            )
            for c in e.get("stopped", ())
            if isinstance(c, Mapping)
        ),
        origin=str(e.get("origin", "")),
        netns_inode=opt_int(e.get("netns_inode")),
    )


# ---------------------------------------------------------------- inside a namespace
# Read on demand (`show --json`), never part of a snapshot: extra keys of a namespace
# object. A part that was not read is null, with the reason under "inside".

if TYPE_CHECKING:
    from nsexplorer.model_inside import InsideFacts
    from nsexplorer.model_net import TunHolder

_INSIDE_KEYS = {
    "sockets": ("sockets", "sockets_time_wait"),
    "neighbours": ("neighbours",),
    "fdb": ("fdb",),
    "nat": ("published_ports", "dnat"),
    "conntrack": ("conntrack_count",),
}


def _flat(value: Any) -> JSONDict:
    """A flat model record as a JSON object: its fields by name, tuples as lists."""
    return {
        f.name: list(v) if isinstance(v := getattr(value, f.name), tuple) else v
        for f in fields(value)
    }


def encode_inside(facts: InsideFacts) -> JSONDict:
    """The keys ``show --json`` adds to the namespace object."""
    doc: JSONDict = {
        "sockets": [_flat(s) for s in facts.sockets],
        "sockets_time_wait": facts.time_wait,
        "neighbours": [_flat(n) for n in facts.neighbours],
        "fdb": [_flat(e) for e in facts.fdb],
        "published_ports": [_flat(p) for p in facts.published],
        "dnat": [_flat(r) for r in facts.dnat],
        "conntrack_count": facts.conntrack_count,
    }
    if facts.tun_holders is not None:  # only when looked for (a tun/tap is there)
        doc["tun_holders"] = {name: [_flat(h) for h in held] for name, held in facts.tun_holders}
    for part, _why in facts.unavailable:
        for key in _INSIDE_KEYS.get(part, ()):
            doc[key] = None
    doc["inside"] = {
        "namespace_inode": facts.namespace_inode,
        "read_at": facts.read_at,
        "unavailable": {part: why for part, why in facts.unavailable},
        "warnings": list(facts.warnings),
    }
    return doc


def _unflat(cls: Any, d: Any) -> Any:
    if not isinstance(d, Mapping):
        raise SnapshotFormatError(f"{cls.__name__}: not an object")
    values = {}
    for f in fields(cls):
        if f.name in d:
            v = d[f.name]
            values[f.name] = tuple(v) if isinstance(v, list) else v
    try:
        return cls(**values)
    except TypeError as err:
        raise SnapshotFormatError(f"{cls.__name__}: {err}") from err


def _decode_tun_holders(d: Any) -> tuple[tuple[str, tuple[TunHolder, ...]], ...] | None:
    if d is None:
        return None
    from nsexplorer.model_net import TunHolder  # (built on first use: `list` needs none)

    if not isinstance(d, Mapping) or not all(isinstance(v, list) for v in d.values()):
        raise SnapshotFormatError("tun_holders: not an object of lists")
    return tuple(
        (str(name), tuple(_unflat(TunHolder, h) for h in held)) for name, held in sorted(d.items())
    )


def decode_inside(d: Mapping[str, Any]) -> InsideFacts | None:
    """The InsideFacts ``encode_inside`` wrote into a namespace object (None: none)."""
    from nsexplorer.model_inside import (
        DnatRule,
        FdbEntry,
        InsideFacts,
        Neighbour,
        SocketInfo,
    )

    meta = d.get("inside")
    if not isinstance(meta, Mapping):
        return None
    unavailable = meta.get("unavailable") or {}
    warnings = meta.get("warnings") or []
    if not isinstance(unavailable, Mapping) or not isinstance(warnings, list):
        raise SnapshotFormatError("inside: malformed")

    def records(key: str, cls: Any) -> tuple[Any, ...]:
        items = d.get(key)
        if items is None:
            return ()
        if not isinstance(items, list):
            raise SnapshotFormatError(f"{key}: not a list")
        return tuple(_unflat(cls, x) for x in items)

    return InsideFacts(
        namespace_inode=int(meta.get("namespace_inode") or d.get("inode") or 0),
        read_at=str(meta.get("read_at", "")),
        sockets=records("sockets", SocketInfo),
        time_wait=int(d.get("sockets_time_wait") or 0),
        neighbours=records("neighbours", Neighbour),
        fdb=records("fdb", FdbEntry),
        published=records("published_ports", PublishedPort),
        dnat=records("dnat", DnatRule),
        conntrack_count=opt_int(d.get("conntrack_count")),
        tun_holders=_decode_tun_holders(d.get("tun_holders")),
        unavailable=tuple((str(k), str(v)) for k, v in unavailable.items()),
        warnings=tuple(str(w) for w in warnings),
    )
