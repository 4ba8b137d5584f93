"""Resolving TARGET strings: every kind, ambiguity, unknown targets."""

from __future__ import annotations

import pytest

from nsexplorer.errors import TargetAmbiguous, TargetNotFound
from nsexplorer.model import BindMount, Container, NamespaceId, NetNamespace, Snapshot
from nsexplorer.targets import resolve

WEB_ID = "47a48fe58b707825cd32e99a76c70cd7fdc70b8f17b1dc1838907d716eec897b"
APP_ID = "4791aa0000000000000000000000000000000000000000000000000000000000"


def c(name: str, cid: str, mode: str = "default", shares: str = "") -> Container:
    return Container("docker", cid, name, "img", mode, 10, shares_with=shares)


def snapshot() -> Snapshot:
    return Snapshot(
        hostname="h",
        collected_at="t",
        namespaces=(
            NetNamespace(NamespaceId(4, 100), is_host=True, label="host", pids=(2, 3)),
            NetNamespace(
                NamespaceId(4, 200),
                label="web, side",
                pids=(500, 501),
                containers=(c("web", WEB_ID), c("side", "e" * 64, "container:" + WEB_ID, WEB_ID)),
                bind_mounts=(BindMount("/run/d/netns/47a48fe58b70", 9, True, via_pid=77),),
                access_path="/proc/500/ns/net",
            ),
            NetNamespace(NamespaceId(4, 300), label="app", containers=(c("app", APP_ID),)),
            NetNamespace(
                NamespaceId(4, 400),
                label="blue",
                names=("blue",),
                bind_mounts=(BindMount("/run/netns/blue", 8, False),),
            ),
            NetNamespace(NamespaceId(4, 500), label="pid 900 (sleep)", pids=(900,)),
            NetNamespace(NamespaceId(4, 600), label="[x]", names=("[x]",)),
        ),
    )


@pytest.mark.parametrize(
    ("target", "inode"),
    [
        ("web", 200),
        ("/web", 200),
        ("side", 200),
        (WEB_ID, 200),
        ("47a48", 200),
        ("4791", 300),
        ("blue", 400),
        ("/run/netns/blue", 400),
        ("/var/run/netns/blue", 400),
        ("/run/d/netns/47a48fe58b70", 200),
        ("/proc/77/root/run/d/netns/47a48fe58b70", 200),
        ("/proc/500/ns/net", 200),
        ("pid:900", 500),
        ("pid:501", 200),
        ("300", 300),
        ("pid 900 (sleep)", 500),
        ("[x]", 600),
        ("4791AA", 300),  # hex ids in any case
    ],
)
def test_resolves(target: str, inode: int) -> None:
    assert resolve(target, snapshot()).inode == inode


def test_container_sharing_a_namespace_is_not_ambiguous() -> None:
    # Both web and side start with their ids' prefixes but share one namespace.
    assert resolve("47a4", snapshot()).inode == 200


def test_ambiguous_prefix_names_every_candidate() -> None:
    with pytest.raises(TargetAmbiguous) as err:
        resolve("47", snapshot())
    assert err.value.exit_code == 2
    assert set(err.value.candidates) == {
        "web, side (containers, inode 200): id 47a48fe58b70 of container web",
        "app (containers, inode 300): id 4791aa000000 of container app",
    }
    assert err.value.message == "'47' matches 2 namespaces; name one of them exactly:"


def test_unknown_target_names_close_candidates() -> None:
    with pytest.raises(TargetNotFound) as err:
        resolve("wbe", snapshot())
    assert err.value.exit_code == 2
    assert err.value.candidates == (
        "web, side (containers, inode 200): container name web is close",
    )
    assert "did you mean" in err.value.message


@pytest.mark.parametrize("target", ["nope", "pid:12345", "999", "/run/netns/nope", "", "zz"])
def test_unknown_targets(target: str) -> None:
    with pytest.raises(TargetNotFound):
        resolve(target, snapshot())


def test_stat_id_from_caller_matches_any_path() -> None:
    assert resolve("/some/other/path", snapshot(), stat_id=NamespaceId(4, 400)).inode == 400
    # pid:N resolved by the caller's stat of /proc/N/ns/net, even if the pid is new.
    assert resolve("pid:4242", snapshot(), stat_id=NamespaceId(4, 300)).inode == 300


def test_inode_wins_over_prefix() -> None:
    # "300" is an inode, not an id prefix (no container id starts with 300 anyway).
    assert resolve("300", snapshot()).inode == 300


def test_unknown_target_says_the_container_engine_was_unreachable() -> None:
    """With Docker down a container name cannot match: the message must say why."""
    from dataclasses import replace

    from nsexplorer.model import EngineInfo

    snap = replace(
        snapshot(),
        engines=(EngineInfo("docker", reachable=False, host="unix:///nonexistent"),),
    )
    with pytest.raises(TargetNotFound) as info:
        resolve("nsxt-web", snap)
    assert "Docker engine at unix:///nonexistent" in info.value.message
    assert "container names and ids" in info.value.message
    # a pid or a path never names a container: no misleading note then
    for target in ("pid:999999", "/run/netns/nope"):
        with pytest.raises(TargetNotFound) as info:
            resolve(target, snap)
        assert "Docker" not in info.value.message


def test_unknown_target_with_engine_up_does_not_blame_it() -> None:
    from dataclasses import replace

    from nsexplorer.model import EngineInfo

    snap = replace(snapshot(), engines=(EngineInfo("docker", reachable=True, host="unix:///x"),))
    with pytest.raises(TargetNotFound) as info:
        resolve("nsxt-web", snap)
    assert "Docker" not in info.value.message


def test_unknown_path_target_names_why_it_could_not_be_read() -> None:
    """`show /proc/1/ns/net` (EACCES even for root here) said only 'no namespace matches'."""
    with pytest.raises(TargetNotFound) as info:
        resolve("/proc/1/ns/net", snapshot(), stat_error="/proc/1/ns/net: Permission denied")
    assert "cannot read /proc/1/ns/net: Permission denied" in info.value.message


def test_a_stopped_container_is_named_as_not_running() -> None:
    """`show nsxt-stop` (an exited container) listed unrelated 'close matches'."""
    from dataclasses import replace

    from nsexplorer.model import EngineInfo, StoppedContainer

    stopped = StoppedContainer(id="ab12" + "0" * 60, name="nsxt-stop", state="exited")
    snap = replace(
        snapshot(),
        engines=(EngineInfo("docker", reachable=True, host="unix:///x", stopped=(stopped,)),),
    )
    for target in ("nsxt-stop", "/nsxt-stop", "ab120"):
        with pytest.raises(TargetNotFound) as info:
            resolve(target, snap)
        msg = info.value.message
        assert "container nsxt-stop (ab1200000000) is exited, not running" in msg, msg
    # A running container with the same prefix wins over a stopped one.
    assert resolve("web", snap).inode == 200


def test_stopped_containers_round_trip_through_json() -> None:
    from dataclasses import replace

    from nsexplorer import snapshot_json
    from nsexplorer.model import EngineInfo, StoppedContainer

    stopped = StoppedContainer(id="c" * 64, name="nsxt-stop", state="created")
    snap = replace(
        snapshot(), engines=(EngineInfo("docker", True, "unix:///x", stopped=(stopped,)),)
    )
    assert snapshot_json.loads(snapshot_json.dumps(snap)).engines == snap.engines
