"""Snapshot JSON schema 1: exact contract keys, faithful round trips, hostile names."""

from __future__ import annotations

import json
import os

import pytest

from nsexplorer import snapshot_json as sj
from nsexplorer.model import (
    Address,
    BindMount,
    Container,
    ContainerNetwork,
    Counters,
    DockerNetwork,
    EngineInfo,
    FdHolder,
    Interface,
    NamespaceId,
    NetNamespace,
    Peer,
    Route,
    Snapshot,
    Source,
)
from nsexplorer.model_net import COUNTER_NAMES

HOSTILE_NAME = os.fsdecode(b"br[@x=1]\xff")  # invalid UTF-8 byte: a lone surrogate
HOSTILE_ALIAS = "\x1b]2;pwned\x07[@click=app.quit]x[/]\u2028\x00"


def rich_snapshot() -> Snapshot:
    container = Container(
        engine="docker",
        id="a" * 64,
        name="web[/]",
        image="nsx-busybox:test",
        network_mode="default",
        pid=1234,
        status="running",
        sandbox_key="/run/docker/netns/abc",
        compose_project="proj",
        networks=(ContainerNetwork("bridge", "172.17.0.2", 16, "172.17.0.1", "02:42:ac:11:00:02"),),
    )
    sharer = Container(
        "docker", "b" * 64, "side", "img", "container:" + "a" * 64, None, shares_with="a" * 64
    )
    ns = NetNamespace(
        id=NamespaceId(4, 4026532000),
        label="web[/], side",
        sources=(Source.CONTAINER, Source.BIND_MOUNT, Source.PROCESS, Source.FD),
        names=("n\x1bx",),
        bind_mounts=(
            BindMount("/run/netns/n\x1bx", 4026531841, False),
            BindMount("/run/docker/netns/abc", 4026532999, True, via_pid=77),
        ),
        pids=(1234, 1240),
        fd_holders=(FdHolder(99, 7),),
        containers=(container, sharer),
        access_path="/proc/1234/ns/net",
        detailed=True,
        interfaces=(
            Interface(
                1,
                "lo",
                "loopback",
                "unknown",
                65536,
                "00:00:00:00:00:00",
                addresses=(Address(4, "127.0.0.1", 8, "host"),),
                counters=Counters(),
            ),
            Interface(
                2,
                HOSTILE_NAME,
                "veth",
                "up",
                1500,
                "02:42:ac:11:00:02",
                master="br0",
                alias=HOSTILE_ALIAS,
                addresses=(Address(6, "fe80::1", 64, "link"),),
                peer=Peer(4026531833, 7, "veth1"),
                counters=Counters(1, 2, 3, 4, 5, 6, 7, 8, read_at=1234.5),
                master_ifindex=3,
            ),
            Interface(3, "v2", "veth", "down", 1500, "", peer=Peer(None, 9, None)),
        ),
        routes=(
            Route(4, 254, "default", "172.17.0.1", HOSTILE_NAME, "global", "boot"),
            Route(6, 255, "::1/128", None, None, "host", "kernel", "local", None, 0),
        ),
        warnings=("w\x07",),
        gone=False,
    )
    host = NetNamespace(
        id=NamespaceId(4, 4026531833), is_host=True, label="host", sources=(Source.HOST,), pids=(2,)
    )
    return Snapshot(
        hostname="vm",
        collected_at="2026-11-28T04:00:00Z",
        namespaces=(host, ns),
        warnings=("docker \x1b[31m",),
        engines=(
            EngineInfo(
                "docker",
                True,
                "unix:///x.sock",
                55,
                "20.10",
                (
                    DockerNetwork(
                        "id", "bridge", "bridge", "docker0", (("172.17.0.0/16", "172.17.0.1"),)
                    ),
                ),
            ),
        ),
        meta=(("euid", "0"),),
    )


def test_round_trip_is_exact() -> None:
    snap = rich_snapshot()
    assert sj.decode(sj.encode(snap)) == snap
    assert sj.loads(sj.dumps(snap)) == snap
    assert sj.loads(sj.dumps(snap, indent=2)) == snap


def test_counters_keep_their_eight_values_but_not_the_read_time() -> None:
    """The read time is one process's monotonic clock: written out, it would mean
    nothing to a reader and make two reads of an idle host differ."""
    doc = json.loads(sj.dumps(rich_snapshot()))
    ifaces = [i for n in doc["namespaces"] for i in n["interfaces"]]
    (counters,) = [i["counters"] for i in ifaces if (i["counters"] or {}).get("rx_bytes") == 1]
    assert tuple(counters) == COUNTER_NAMES
    assert list(counters.values()) == [1, 2, 3, 4, 5, 6, 7, 8]
    back = sj.loads(sj.dumps(rich_snapshot()))
    kept = [i.counters for n in back.namespaces for i in n.interfaces if i.counters]
    assert [c.rx_bytes for c in kept if c is not None] == [0, 1]
    assert all(c is not None and c.read_at is None for c in kept)


def test_output_is_valid_utf8_json_and_keeps_bytes_exact() -> None:
    text = sj.dumps(rich_snapshot())
    raw = text.encode("utf-8")  # raises if a lone surrogate leaked through
    assert b"\x1b" not in raw and b"\x07" not in raw and b"\x00" not in raw
    assert "\\udcff" in text
    doc = json.loads(raw)
    name = doc["namespaces"][1]["interfaces"][1]["name"]
    assert os.fsencode(name) == b"br[@x=1]\xff"
    assert doc["namespaces"][1]["interfaces"][1]["alias"] == HOSTILE_ALIAS


def test_contract_keys_are_exact() -> None:
    doc = json.loads(sj.dumps(rich_snapshot()))
    assert {"schema_version", "hostname", "collected_at", "warnings", "namespaces"} <= set(doc)
    assert doc["schema_version"] == 1
    ns = doc["namespaces"][1]
    assert {
        "inode",
        "is_host",
        "names",
        "bind_mounts",
        "pids",
        "containers",
        "interfaces",
        "routes",
    } <= set(ns)
    assert ns["inode"] == 4026532000 and ns["is_host"] is False
    assert set(ns["bind_mounts"][0]) >= {"path", "mount_ns_inode", "hidden"}
    assert ns["bind_mounts"][1]["hidden"] is True
    assert set(ns["containers"][0]) >= {"engine", "id", "name", "image", "network_mode", "pid"}
    iface = ns["interfaces"][1]
    assert set(iface) >= {
        "ifindex",
        "name",
        "kind",
        "state",
        "mtu",
        "mac",
        "master",
        "alias",
        "addresses",
        "peer",
    }
    assert iface["master"] == "br0"
    assert iface["peer"] == {"netns_inode": 4026531833, "ifindex": 7, "name": "veth1"}
    assert ns["interfaces"][0]["peer"] is None
    assert ns["interfaces"][2]["peer"] == {"netns_inode": None, "ifindex": 9, "name": None}
    assert set(iface["addresses"][0]) >= {"family", "address", "prefixlen", "scope"}
    assert iface["addresses"][0]["family"] == 6
    assert set(ns["routes"][0]) >= {"family", "table", "dst", "gateway", "dev", "scope", "protocol"}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "JSON object"),
        ({"schema_version": 2, "hostname": "h", "collected_at": "t"}, "schema_version"),
        ({"hostname": "h"}, "schema_version"),
        ({"schema_version": 1}, "malformed"),
        (
            {
                "schema_version": 1,
                "hostname": "h",
                "collected_at": "t",
                "namespaces": [{"is_host": True}],
            },
            "malformed",
        ),
        (
            {
                "schema_version": 1,
                "hostname": "h",
                "collected_at": "t",
                "namespaces": [{"inode": 1, "sources": ["nope"]}],
            },
            "malformed",
        ),
    ],
)
def test_bad_documents_raise(doc: object, message: str) -> None:
    with pytest.raises(sj.SnapshotFormatError, match=message):
        sj.decode(doc)  # type: ignore[arg-type]


def test_loads_rejects_non_json() -> None:
    with pytest.raises(sj.SnapshotFormatError, match="not valid JSON"):
        sj.loads(b"{nope")
    with pytest.raises(sj.SnapshotFormatError):
        sj.loads(b"\xff\xfe")


def test_minimal_document_decodes_with_defaults() -> None:
    snap = sj.decode(
        {"schema_version": 1, "hostname": "h", "collected_at": "t", "namespaces": [{"inode": 5}]}
    )
    assert snap.namespaces[0].inode == 5
    assert snap.namespaces[0].interfaces == ()
    assert snap.engines == ()
