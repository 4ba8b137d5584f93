"""Docker: inspect dicts recorded from the testbed (the lab's containers) to model values,
the container:<id> mapping, and the tiny Engine API client's HTTP parsing."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import pytest

from nsexplorer.collect import container_netns, docker_api, docker_engine, engine
from nsexplorer.collect.docker_endpoint import Endpoint
from nsexplorer.kernel import procfs
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


@pytest.mark.parametrize(
    ("ping", "asked", "version", "prefix"),
    [
        # Docker: both facts in the ping's headers, no /version (dockerd runs runc for it)
        (b"Api-Version: 1.43\r\nServer: Docker/24.0.7 (linux)", ["/_ping"], "24.0.7", "/v1.43"),
        # newer than this client: it speaks its own newest
        (b"Api-Version: 1.99\r\nServer: Docker/99.0 (linux)", ["/_ping"], "99.0", "/v1.45"),
        # another engine's Server header: its version comes from /version
        (b"Api-Version: 1.41\r\nServer: Libpod/4.9.3 (linux)", ["/_ping", "/version"], "4.9.3",
         "/v1.40"),
        (b"Server: Docker/20.10.24 (linux)", ["/_ping", "/version"], "4.9.3", "/v1.40"),
    ],
)  # fmt: skip
def test_negotiation_reads_the_ping_headers(
    tmp_path: Path, ping: bytes, asked: list[str], version: str, prefix: str
) -> None:
    path = str(tmp_path / "p.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(4)
    requests: list[str] = []

    def serve() -> None:
        with srv:
            for _ in asked:
                conn, _ = srv.accept()
                with conn:
                    url = conn.recv(4096).decode().split(" ")[1]
                    requests.append(url)
                    if url == "/_ping":
                        conn.sendall(b"HTTP/1.0 200 OK\r\n" + ping + b"\r\n\r\nOK")
                    else:
                        conn.sendall(
                            b'HTTP/1.0 200 OK\r\n\r\n{"Version":"4.9.3","ApiVersion":"1.40"}'
                        )

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    api = docker_api.EngineApi(path, 2.0)
    assert api.negotiate() == version
    t.join(5)
    assert requests == asked and api.prefix == prefix


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
        res = engine.EngineQuery(local(str(path), 5.0), 0.3).result()  # the deadline wins
    finally:
        srv.close()
    assert not res.engine.reachable
    assert res.warnings and "did not answer" in res.warnings[0]


# --- ports, IPv6, bridges ----------------------------------------------------------------


def test_published_ports_ipv6_and_network_ids() -> None:
    c = docker_engine.container_from_inspect(
        {
            "Id": "p" * 64,
            "Name": "/web",
            "State": {"Pid": 5},
            "NetworkSettings": {
                "Ports": {
                    "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}],
                    "53/udp": [
                        {"HostIp": "0.0.0.0", "HostPort": "5353"},  # noqa: S104 - recorded
                        {"HostIp": "::"},  # no HostPort: not published
                    ],
                    "9000/tcp": None,  # exposed, not published
                },
                "Networks": {
                    "net6": {
                        "NetworkID": "n" * 64,
                        "IPAddress": "10.66.0.2",
                        "IPPrefixLen": 24,
                        "Gateway": "10.66.0.1",
                        "GlobalIPv6Address": "fd00:6::2",
                        "GlobalIPv6PrefixLen": 64,
                        "IPv6Gateway": "fd00:6::1",
                    }
                },
            },
        }
    )
    assert [(p.container_port, p.host_ip, p.host_port) for p in c.ports] == [
        ("53/udp", "0.0.0.0", "5353"),  # noqa: S104 - a recorded engine answer
        ("80/tcp", "127.0.0.1", "8080"),
    ]
    (n,) = c.networks
    assert (n.ipv6_address, n.ipv6_prefixlen, n.ipv6_gateway, n.network_id) == (
        "fd00:6::2",
        64,
        "fd00:6::1",
        "n" * 64,
    )
    lab = docker_engine.container_from_inspect(inspects()["nsxlab-web"])
    assert lab.ports == () and lab.networks[0].network_id


def test_default_network_bridge_falls_back_to_docker0() -> None:
    default = docker_engine.network_from_attrs(
        {"Id": "d" * 64, "Name": "bridge", "Driver": "bridge"}
    )
    assert default.bridge == "docker0"


def test_gateways_the_engine_omits_come_from_attached_containers() -> None:
    from nsexplorer.model import Container, ContainerNetwork, DockerNetwork

    net = DockerNetwork("n1", "app", "bridge", "br-n1", (("10.66.0.0/24", ""), ("fd00::/64", "")))
    other = DockerNetwork("n2", "x", "bridge", "br-n2", (("10.67.0.0/24", "10.67.0.1"),))
    c = Container(
        "docker",
        "c",
        "web",
        "img",
        "app",
        1,
        networks=(
            ContainerNetwork(
                "app", "10.66.0.2", 24, "10.66.0.1", "", "fd00::2", 64, "fd00::1", "n1"
            ),
        ),
    )
    done = engine.complete_networks([net, other], [c])
    assert done[0].subnets == (("10.66.0.0/24", "10.66.0.1"), ("fd00::/64", "fd00::1"))
    assert done[1] is other


def test_event_reasons() -> None:
    assert docker_engine.event_reason({"Action": "start"}) == "docker start"
    assert docker_engine.event_reason({"status": "die"}) == "docker die"
    for quiet in ("exec_start: sh", "health_status: healthy", "top"):
        assert docker_engine.event_reason({"Action": quiet}) == ""
    assert docker_engine.event_reason("garbage") == ""


def test_events_stream_over_the_stdlib_client(tmp_path: Path) -> None:
    """Newline-separated JSON as dockerd streams it over HTTP/1.0, split anywhere."""
    path = str(tmp_path / "ev.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(4)
    requests: list[str] = []

    def serve() -> None:
        with srv:
            for _ in range(2):
                conn, _ = srv.accept()
                with conn:
                    req = conn.recv(4096).decode()
                    requests.append(req.split(" ")[1])
                    if req.startswith("GET /_ping"):
                        conn.sendall(
                            b"HTTP/1.0 200 OK\r\nApi-Version: 1.41\r\n"
                            b"Server: Docker/20.10.24 (linux)\r\n\r\nOK"
                        )
                        continue
                    conn.sendall(b"HTTP/1.0 200 OK\r\nApi-Version: 1.41\r\n\r\n")
                    body = b'{"Action":"start"}\n{"Action":"exec_start: x"}\n{"Act'
                    conn.sendall(body)
                    conn.sendall(b'ion":"die"}\n')

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    e = local(path)
    seen: list[str] = []
    for reason in e.events(subscribed=lambda: seen.append("subscribed")):
        seen.append(reason)
    # Subscribed once the daemon answered, before the first event.
    assert seen == ["subscribed", "docker start", "docker die"]
    t.join(5)
    assert requests[0] == "/_ping"
    assert requests[1].startswith("/v1.41/events?filters=")
    assert "container" in requests[1] and "network" in requests[1]


# --- which daemon: DOCKER_HOST, the CLI context, the default socket ------------------


def _context(config: Path, name: str, host: str, *, tls: bool = False) -> None:
    import hashlib

    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = config / "contexts" / "meta" / digest
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(
        json.dumps({"Name": name, "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": False}}})
    )
    if tls:
        d = config / "contexts" / "tls" / digest / "docker"
        d.mkdir(parents=True)
        for f in ("ca.pem", "cert.pem", "key.pem"):
            (d / f).write_text("x")


def test_endpoint_resolution_order(tmp_path: Path) -> None:
    from nsexplorer.collect import docker_endpoint as de

    config = tmp_path / ".docker"
    config.mkdir()
    home = {"HOME": str(tmp_path)}
    assert de.resolve(home) == de.Endpoint(de.DEFAULT_HOST)
    (config / "config.json").write_text(json.dumps({"currentContext": "prod"}))
    _context(config, "prod", "tcp://10.0.0.9:2376", tls=True)
    _context(config, "other", "unix:///run/other.sock")
    got = de.resolve(home)
    assert (got.host, got.origin, got.tls_verify) == ("tcp://10.0.0.9:2376", "context prod", True)
    assert got.tls is not None and got.tls[1].endswith("/docker/cert.pem")
    # DOCKER_CONTEXT beats the config file; DOCKER_HOST beats both.
    assert de.resolve({**home, "DOCKER_CONTEXT": "other"}).host == "unix:///run/other.sock"
    env = {**home, "DOCKER_CONTEXT": "other", "DOCKER_HOST": "unix:///x.sock"}
    assert de.resolve(env) == de.Endpoint("unix:///x.sock", "DOCKER_HOST")
    # DOCKER_CONFIG moves the whole directory; "default" is the default socket.
    assert de.resolve({"DOCKER_CONFIG": str(config), "HOME": "/nonexistent"}).origin == (
        "context prod"
    )
    assert de.resolve({**home, "DOCKER_CONTEXT": "default"}) == de.Endpoint(de.DEFAULT_HOST)
    # A context that cannot be read: the default socket, and a warning to say so.
    broken = de.resolve({**home, "DOCKER_CONTEXT": "missing"})
    assert broken.host == de.DEFAULT_HOST and "missing" in broken.problem
    tls_env = de.resolve({**home, "DOCKER_HOST": "tcp://h:2376", "DOCKER_TLS_VERIFY": "1"})
    assert tls_env.tls is not None and tls_env.tls[0] == str(config / "ca.pem")


def test_a_context_problem_is_a_warning_even_when_the_engine_answers() -> None:
    class Fake:
        name = "docker"
        host = "unix:///x"
        origin = "default"
        problem = "Docker context 'gone' cannot be read"

        def version(self) -> str:
            return "1"

        def containers(self) -> tuple[list[object], list[object]]:
            return [], []

        def networks(self) -> list[object]:
            return []

    res = engine.query(Fake())  # type: ignore[arg-type]
    assert res.engine.reachable and res.warnings == ["Docker context 'gone' cannot be read"]
