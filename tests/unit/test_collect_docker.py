"""Docker: inspect dicts recorded from the testbed (the lab's containers) to model values,
the container:<id> mapping, and the tiny Engine API client's HTTP parsing."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import pytest

from nsexplorer.collect import container_netns, docker_api, docker_engine, engine, procfs
from nsexplorer.collect.docker_endpoint import Endpoint
from nsexplorer.model import BindMount

FIXTURES = Path(__file__).parent / "fixtures"


def local(path: str, timeout: float = 2.0) -> docker_engine.DockerEngine:
    return docker_engine.DockerEngine(Endpoint(f"unix://{path}", "DOCKER_HOST"), timeout)


def inspects() -> dict[str, dict[str, object]]:
    data = json.loads((FIXTURES / "docker_inspect.json").read_text())
    return {c["Name"].lstrip("/"): c for c in data}


def test_containers_in_every_mode() -> None:
    cs = {n: docker_engine.container_from_inspect(a) for n, a in inspects().items()}
    web = cs["nsxlab-web"]
    assert web.network_mode == "default" and web.pid and web.image == "nsx-busybox:test"
    assert web.sandbox_key.startswith("/run/nsx-testbed/exec/netns/")
    assert web.networks[0].name == "bridge"
    assert web.networks[0].ip_address.startswith("10.213.0.")
    assert web.networks[0].prefixlen == 24 and web.networks[0].gateway == "10.213.0.1"
    side = cs["nsxlab-side"]
    assert side.network_mode.startswith("container:")
    assert side.shares_with == web.id and side.sandbox_key == ""
    assert cs["nsxlab-hostnet"].network_mode == "host"
    assert cs["nsxlab-none"].network_mode == "none"
    assert cs["nsxlab-app"].network_mode == "nsxlab-net"
    assert cs["nsxlab-app"].networks[0].gateway == "10.216.0.1"
    assert all(len(c.id) == 64 and not c.name.startswith("/") for c in cs.values())


def test_compose_project_label_and_missing_fields() -> None:
    c = docker_engine.container_from_inspect(
        {
            "Id": "x" * 64,
            "Name": "/a",
            "Config": {"Labels": {"com.docker.compose.project": "shop"}},
            "State": {"Pid": 0},
        }
    )
    assert c.compose_project == "shop" and c.pid is None and c.networks == ()


def test_networks() -> None:
    nets = {
        n["Name"]: docker_engine.network_from_attrs(n)
        for n in json.loads((FIXTURES / "docker_networks.json").read_text())
    }
    assert nets["bridge"].bridge == "nsxtb0"
    assert nets["bridge"].subnets == (("10.213.0.0/24", "10.213.0.1"),)
    assert nets["nsxlab-net"].bridge == "nsxlab-dnet"
    assert nets["host"].bridge == "" and nets["none"].driver == "null"
    user = docker_engine.network_from_attrs(
        {"Id": "0123456789abcdef", "Name": "u", "Driver": "bridge"}
    )
    assert user.bridge == "br-0123456789ab"


def test_container_mode_maps_onto_the_other_containers_namespace() -> None:
    cs = [docker_engine.container_from_inspect(a) for a in inspects().values()]
    web = next(c for c in cs if c.name == "nsxlab-web")
    side = next(c for c in cs if c.name == "nsxlab-side")
    scan = procfs.ProcScan()
    for c in cs:
        assert c.pid is not None
        scan.pid_net[c.pid] = 1000 + c.pid
    # The side container's own process is gone: only its container:<id> mode remains.
    side_gone = type(side)(**{**{f: getattr(side, f) for f in side.__slots__}, "pid": None})
    others = [c for c in cs if c.name != "nsxlab-side"]
    out, warnings = container_netns.map_containers(
        [side_gone, *others], scan, {}, None, "/nonexistent"
    )
    assert warnings == []
    web_ns = 1000 + (web.pid or 0)
    assert [c.name for c in out[web_ns]] == ["nsxlab-web", "nsxlab-side"]


def test_container_by_sandbox_key_mount_when_pid_unknown() -> None:
    c = docker_engine.container_from_inspect(inspects()["nsxlab-none"])
    c = type(c)(**{**{f: getattr(c, f) for f in c.__slots__}, "pid": None})
    mounts = {4242: [BindMount(c.sandbox_key, 9, True, 1)]}
    out, _ = container_netns.map_containers([c], procfs.ProcScan(), mounts, None, "/nonexistent")
    assert list(out) == [4242]


def test_stale_sandbox_key_is_not_a_namespace(tmp_path: Path) -> None:
    stale = tmp_path / "netns" / "abc"
    stale.parent.mkdir()
    stale.write_bytes(b"")  # what `docker rm` leaves behind for a while
    c = docker_engine.container_from_inspect(
        {
            "Id": "s" * 64,
            "Name": "/gone",
            "HostConfig": {"NetworkMode": "default"},
            "State": {"Pid": 0},
            "NetworkSettings": {"SandboxKey": str(stale)},
        }
    )
    out, warnings = container_netns.map_containers([c], procfs.ProcScan(), {}, None, str(tmp_path))
    assert out == {}
    assert any("gone" in w for w in warnings)


def test_parse_http_response_plain_and_chunked() -> None:
    status, body = docker_api.parse_response(b'HTTP/1.0 200 OK\r\nA: b\r\n\r\n{"x":1}')
    assert (status, body) == (200, b'{"x":1}')
    chunked = (
        b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'4\r\n{"me\r\n9\r\nssage":1}\r\n0\r\n\r\n'
    )
    assert docker_api.parse_response(chunked) == (404, b'{"message":1}')
    with pytest.raises(docker_api.EngineApiError):
        docker_api.parse_response(b"garbage")


def _serve(path: str, answers: dict[str, bytes], stop: threading.Event) -> threading.Thread:
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(8)
    srv.settimeout(0.2)

    def loop() -> None:
        with srv:
            while not stop.is_set():
                try:
                    conn, _ = srv.accept()
                except TimeoutError:
                    continue
                with conn:
                    req = conn.recv(4096).decode()
                    url = req.split(" ")[1]
                    body = answers.get(url)
                    if body is None:
                        conn.sendall(b'HTTP/1.0 404 NF\r\n\r\n{"message":"no such"}')
                    else:
                        conn.sendall(b"HTTP/1.0 200 OK\r\n\r\n" + body)

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    return t


def test_engine_api_negotiates_and_skips_removed_containers(tmp_path: Path) -> None:
    path = str(tmp_path / "d.sock")
    web = inspects()["nsxlab-web"]
    answers = {
        "/version": b'{"Version":"20.10.24","ApiVersion":"1.41"}',
        "/v1.41/containers/json?all=1": json.dumps(
            [
                {"Id": web["Id"], "State": "running"},
                {"Id": "gone"},
                {"Id": "d" * 64, "Names": ["/nsxt-stop"], "State": "exited"},
            ]
        ).encode(),
        f"/v1.41/containers/{web['Id']}/json": json.dumps(web).encode(),
        "/v1.41/networks": b"[]",
    }
    stop = threading.Event()
    t = _serve(path, answers, stop)
    try:
        res = engine.query(local(path))
    finally:
        stop.set()
        t.join()
    assert res.warnings == []
    assert res.engine.reachable and res.engine.version == "20.10.24"
    assert [c.name for c in res.containers] == ["nsxlab-web"]
    # not running: never inspected, but known, so `show nsxt-stop` can say why
    assert [(c.name, c.state) for c in res.engine.stopped] == [("nsxt-stop", "exited")]


def test_engine_refusing_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "dead.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.close()  # the socket file exists, nobody listens: ECONNREFUSED
    res = engine.EngineQuery(local(str(path)), 2.0).result()
    assert not res.engine.reachable
    assert res.warnings and "unavailable" in res.warnings[0]


def test_engine_hanging_costs_only_the_timeout(tmp_path: Path) -> None:
    path = tmp_path / "hang.sock"
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(path))
    srv.listen(1)  # accepts connections (backlog) and never answers
    try:
        res = engine.EngineQuery(local(str(path), 0.3), 0.3).result()
    finally:
        srv.close()
    assert not res.engine.reachable
    assert res.warnings and "did not answer" in res.warnings[0]
