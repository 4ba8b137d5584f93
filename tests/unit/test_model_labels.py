"""model.ns_label: the one label of a namespace (the UI's, the messages' and the audit
log's via describe)."""

from __future__ import annotations

from nsexplorer.model import (
    BindMount,
    Container,
    FdHolder,
    NamespaceId,
    NetNamespace,
    describe,
    ns_label,
)

OWN = Container("docker", "a" * 64, "web", "img", "default", 10)
JOINED = Container(
    "docker", "b" * 64, "side", "img", f"container:{'a' * 64}", 11, shares_with="web"
)


def ns(**kw: object) -> NetNamespace:
    return NetNamespace(NamespaceId(4, 42), **kw)  # type: ignore[arg-type]


def test_the_label_a_responder_looks_for_best_first() -> None:
    assert ns_label(ns(is_host=True, label="whatever")) == "host"
    assert ns_label(ns(containers=(JOINED, OWN), label="side, web")) == "web"
    assert ns_label(ns(names=("a", "b"), label="a, b")) == "a, b"
    assert ns_label(ns(label="pid 7 (sleep)", pids=(7,))) == "pid 7 (sleep)"
    assert ns_label(ns(bind_mounts=(BindMount("/run/x", 1, False),))) == "/run/x"
    assert ns_label(ns(pids=(7,))) == "pid 7"
    assert ns_label(ns(fd_holders=(FdHolder(7, 5),))) == "fd 5 of pid 7"
    assert ns_label(ns()) == "netns 42"


def test_describe_is_the_label_and_the_inode() -> None:
    assert describe(ns(containers=(JOINED, OWN))) == "web (inode 42)"
    assert describe(ns(is_host=True)) == "host (inode 42)"
    assert describe(ns(label="n\x1b[1m")) == "n\x1b[1m (inode 42)"  # raw: callers escape
    assert describe(ns()) == "inode 42"  # not "netns 42 (inode 42)"
