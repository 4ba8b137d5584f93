"""The stdlib Engine API client (used for unix:// hosts, to keep `list` fast) and the
docker SDK (used for every other host) must report the same containers, networks and
events, and both must talk to the daemon the endpoint names: the SDK path is otherwise
only exercised on hosts the test daemon isn't. Containers made here are named nsxh6-*
and removed even when a test fails."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from nsexplorer.collect import docker_endpoint, engine
from nsexplorer.collect.docker_endpoint import Endpoint
from nsexplorer.collect.docker_engine import DockerEngine

pytestmark = [pytest.mark.integration, pytest.mark.root, pytest.mark.docker]


def host() -> str:
    value = os.environ.get("DOCKER_HOST", "")
    assert value.startswith("unix://"), value
    return value


def docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/usr/bin/docker", "-H", host(), *args], capture_output=True, text=True, check=False
    )


@pytest.fixture
def published() -> Iterator[str]:
    """A running container with published ports on an IPv6-enabled user network."""
    tag = secrets.token_hex(3)
    net, name = f"nsxh6-n{tag}", f"nsxh6-p{tag}"
    made = docker(
        "network", "create", "--ipv6", "--subnet", "fd00:6:1::/64", "--subnet",
        "10.66.1.0/24", net,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    try:
        run = docker(
            "run", "-d", "--name", name, "--network", net, "-p", "127.0.0.1:18081:80",
            "-p", "127.0.0.1:18444:443/udp", "nsx-busybox:test", "sleep", "300",
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        yield name
    finally:
        docker("rm", "-f", name)
        docker("network", "rm", net)


def test_stdlib_client_and_sdk_agree(published: str) -> None:
    endpoint = Endpoint(host(), "DOCKER_HOST")
    ours = engine.query(DockerEngine(endpoint, 5.0))
    sdk = engine.query(DockerEngine(endpoint, 5.0, use_sdk=True))
    assert ours.engine.reachable and sdk.engine.reachable, (ours.warnings, sdk.warnings)
    assert ours.engine.version == sdk.engine.version
    assert {c.id: c for c in ours.containers} == {c.id: c for c in sdk.containers}
    assert sorted(ours.engine.networks, key=lambda n: n.id) == sorted(
        sdk.engine.networks, key=lambda n: n.id
    )
    (c,) = [c for c in ours.containers if c.name == published]
    assert [(p.container_port, p.host_ip, p.host_port) for p in c.ports] == [
        ("443/udp", "127.0.0.1", "18444"),
        ("80/tcp", "127.0.0.1", "18081"),
    ]
    (n,) = c.networks
    assert (n.ipv6_address, n.ipv6_prefixlen, n.ipv6_gateway) == ("fd00:6:1::2", 64, "fd00:6:1::1")
    (net,) = [x for x in ours.engine.networks if x.id == n.network_id]
    assert net.bridge == f"br-{net.id[:12]}"
    # The engine omits gateways it chose itself; they come from the attached container.
    assert dict(net.subnets) == {"10.66.1.0/24": "10.66.1.1", "fd00:6:1::/64": "fd00:6:1::1"}


def test_sdk_path_asks_the_endpoint_it_is_given(tmp_path: Path) -> None:
    """The SDK path used to call docker.from_env(), ignoring the host it was handed."""
    wrong = Endpoint(f"unix://{tmp_path}/nobody.sock", "context nsxh6")
    res = engine.query(DockerEngine(wrong, 2.0, use_sdk=True))
    # DOCKER_HOST (the testbed) answers; the endpoint given does not: it must fail.
    assert not res.engine.reachable
    assert any(str(tmp_path) in w for w in res.warnings), res.warnings


@pytest.mark.parametrize("use_sdk", [False, True])
def test_events_stream_over_the_shared_client(use_sdk: bool) -> None:
    e = DockerEngine(Endpoint(host(), "DOCKER_HOST"), 5.0, use_sdk=use_sdk)
    name = f"nsxh6-ev{secrets.token_hex(3)}"
    seen: list[str] = []
    done = threading.Event()

    def follow() -> None:
        try:
            for reason in e.events():
                seen.append(reason)
                if "create" in reason:
                    done.set()
        except engine.EngineError:
            pass

    t = threading.Thread(target=follow, daemon=True)
    t.start()
    try:
        for _ in range(50):  # until the stream is connected, then one container event
            docker("create", "--name", name, "nsx-busybox:test", "true")
            if done.wait(0.2):
                break
            docker("rm", "-f", name)
        assert done.is_set(), seen
    finally:
        e.close()
        docker("rm", "-f", name)
    t.join(timeout=5)
    assert not t.is_alive(), "close() did not end the event stream"
    assert "docker create" in seen


def test_context_is_honoured_by_the_whole_process(tmp_path: Path) -> None:
    """DOCKER_HOST unset, the CLI's current context names the testbed: `nsexplorer list`
    finds the containers through it (both clients follow the same resolution)."""
    import hashlib
    import json

    name = "nsxh6-ctx"
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = tmp_path / "contexts" / "meta" / digest
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(
        json.dumps({"Name": name, "Endpoints": {"docker": {"Host": host()}}})
    )
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": name}))
    env = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
    env["DOCKER_CONFIG"] = str(tmp_path)
    assert docker_endpoint.resolve(env) == Endpoint(host(), f"context {name}")
    done = subprocess.run(
        [sys.executable, "-m", "nsexplorer", "snapshot"],
        capture_output=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    (eng,) = doc["engines"]
    assert (eng["host"], eng["origin"], eng["reachable"]) == (host(), f"context {name}", True)


def test_stopped_container_is_named_not_running_by_both_clients_and_the_cli() -> None:
    """`show`/`exec` of an exited container said only 'no namespace matches'."""
    env = {**os.environ, "DOCKER_HOST": host()}
    name = f"nsxh6-stop{secrets.token_hex(3)}"
    assert docker("create", "--name", name, "nsx-busybox:test", "true").returncode == 0
    try:
        endpoint = Endpoint(host(), "DOCKER_HOST")
        for use_sdk in (False, True):
            _, stopped = DockerEngine(endpoint, 5.0, use_sdk=use_sdk).containers()
            assert [c.state for c in stopped if c.name == name] == ["created"]
        for argv in (["show", name], ["exec", name, "--", "true"]):
            got = subprocess.run(
                [sys.executable, "-m", "nsexplorer", *argv],
                capture_output=True,
                text=True,
                env=env,
                timeout=60,
                check=False,
            )
            assert got.returncode == 2, got
            assert f"container {name}" in got.stderr and "not running" in got.stderr, got.stderr
    finally:
        docker("rm", "-f", name)
