"""Text output of `list` and `show`: escaped control characters, peers named."""

from __future__ import annotations

from dataclasses import replace

from nsexplorer.cli.discovery import format_list, format_namespace
from nsexplorer.model import (
    Address,
    Container,
    Interface,
    NamespaceId,
    NetNamespace,
    Peer,
    Route,
    Snapshot,
    Source,
)


def snap() -> Snapshot:
    host = NetNamespace(
        NamespaceId(4, 1),
        is_host=True,
        label="host",
        sources=(Source.HOST,),
        pids=(2, 3),
        detailed=True,
        interfaces=(
            Interface(5, "br0", "bridge", "up", 1500, "aa"),
            Interface(
                7,
                "veth\x1b[31m",
                "veth",
                "up",
                1500,
                "bb",
                master="br0",
                master_ifindex=5,
                peer=Peer(2, 2, "eth0"),
            ),
        ),
    )
    web = NetNamespace(
        NamespaceId(4, 2),
        label="web\x07",
        sources=(Source.CONTAINER,),
        containers=(Container("docker", "c" * 64, "web\x07", "img", "default", 9),),
        detailed=True,
        interfaces=(
            Interface(
                2,
                "eth0",
                "veth",
                "up",
                1500,
                "cc",
                alias="\x1b]2;x\x07",
                addresses=(Address(4, "10.0.0.2", 24, "global"),),
                peer=Peer(1, 7, "veth\x1b[31m"),
            ),
            Interface(3, "e1", "veth", "up", 1500, "dd", peer=Peer(None, 4, None)),
        ),
        routes=(Route(4, 254, "default", "10.0.0.1", "eth0", "global", "boot"),),
    )
    return Snapshot("h", "t", (host, web))


def test_list_escapes_control_characters() -> None:
    text = format_list(snap(), wide=True)
    assert "\x1b" not in text and "\x07" not in text
    assert "web\\x07" in text
    assert "10.0.0.2/24" in text


def test_show_names_peers_and_bridge_ports() -> None:
    s = snap()
    text = format_namespace(s.namespaces[1], s)
    assert "\x1b" not in text and "\x07" not in text
    assert "peer: veth\\x1b[31m (ifindex 7) in host (inode 1)" in text
    assert "UNRESOLVED" in text
    assert "default via 10.0.0.1 dev eth0" in text
    host_text = format_namespace(s.namespaces[0], s)
    assert "bridge br0 ports:" in host_text
    assert "veth\\x1b[31m -> eth0 (ifindex 2) in web\\x07 (inode 2)" in host_text


def test_show_says_none_for_a_bridge_without_ports() -> None:
    s = snap()
    host = s.namespaces[0]
    lone = Interface(9, "nsxqf-br9", "bridge", "down", 1500, "ee")
    host = replace(host, interfaces=(*host.interfaces, lone))
    text = format_namespace(host, replace(s, namespaces=(host, *s.namespaces[1:])))
    lines = text.splitlines()
    assert "  bridge nsxqf-br9 ports: none" in lines
    assert "  bridge br0 ports:" in lines  # one with ports lists them below
