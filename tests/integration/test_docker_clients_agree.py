"""The stdlib Engine API client (used for unix:// hosts, to keep `list` fast) and the
docker SDK (used for every other DOCKER_HOST) must report the same containers and
networks: the SDK path is otherwise only exercised on hosts the test daemon isn't."""

from __future__ import annotations

import os

import pytest

from nsexplorer.collect.docker_engine import docker_host, query_docker_sdk, query_unix

pytestmark = [pytest.mark.integration, pytest.mark.root, pytest.mark.docker]


def test_stdlib_client_and_sdk_agree(lab, docker_reachable: bool) -> None:  # type: ignore[no-untyped-def]
    host = docker_host()
    assert host.startswith("unix://"), host
    if not lab.containers:
        pytest.fail("the lab made no containers although the engine answers")
    os.environ.setdefault("DOCKER_HOST", host)
    ours = query_unix(host, timeout=5.0)
    sdk = query_docker_sdk(host, timeout=5.0)
    assert ours.engine.reachable and sdk.engine.reachable, (ours.warnings, sdk.warnings)
    assert ours.engine.version == sdk.engine.version
    by_id_ours = {c.id: c for c in ours.containers}
    by_id_sdk = {c.id: c for c in sdk.containers}
    assert by_id_ours == by_id_sdk
    assert {c.name for c in ours.containers} >= {c.name for c in lab.containers}
    assert sorted(ours.engine.networks, key=lambda n: n.id) == sorted(
        sdk.engine.networks, key=lambda n: n.id
    )


def test_stopped_container_is_named_not_running_by_both_clients_and_the_cli(
    docker_reachable: bool,
) -> None:
    """`show`/`exec` of an exited container said only 'no namespace matches'."""
    import secrets
    import subprocess
    import sys

    host = docker_host()
    env = {**os.environ, "DOCKER_HOST": host}
    name = f"nsxt-stop{secrets.token_hex(3)}"
    docker = ["/usr/bin/docker", "-H", host]
    subprocess.run(
        [*docker, "create", "--name", name, "nsx-busybox:test", "true"],
        check=True,
        capture_output=True,
    )
    try:
        for result in (query_unix(host, 5.0), query_docker_sdk(host, 5.0)):
            assert [c.state for c in result.engine.stopped if c.name == name] == ["created"]
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
        subprocess.run([*docker, "rm", "-f", name], check=False, capture_output=True)
