"""Docker containers and networks, through the docker SDK, with a hard deadline.

A daemon that is absent, refuses or hangs costs a warning, never the snapshot: the query
runs on its own (daemon) thread and is abandoned when the deadline passes. The conversion
from inspect dicts to model values is pure and tested on recorded dicts.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from nsexplorer.model import (
    Container,
    ContainerNetwork,
    DockerNetwork,
    EngineInfo,
    StoppedContainer,
)

if TYPE_CHECKING:
    from typing import Any

DEFAULT_HOST = "unix:///var/run/docker.sock"
COMPOSE_PROJECT = "com.docker.compose.project"
BRIDGE_NAME_OPTION = "com.docker.network.bridge.name"


@dataclass(slots=True)
class EngineResult:
    engine: EngineInfo
    containers: list[Container] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def docker_host() -> str:
    return os.environ.get("DOCKER_HOST") or DEFAULT_HOST


def engine_configured() -> bool:
    """Is there any reason to ask Docker? (DOCKER_HOST set, or the default socket exists)"""
    if os.environ.get("DOCKER_HOST"):
        return True
    return os.path.exists(DEFAULT_HOST.removeprefix("unix://"))


class EngineQuery:
    """Starts the Docker query at construction; ``result()`` waits until the deadline."""

    def __init__(self, timeout: float, host: str | None = None) -> None:
        self.timeout = timeout
        self.host = host or docker_host()
        self._result: EngineResult | None = None
        self._done = threading.Event()
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="nsx-docker", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._result = query_docker(self.host, self.timeout)
        except Exception as err:
            self._result = _unreachable(self.host, f"{type(err).__name__}: {err}")
        finally:
            self._done.set()

    def result(self) -> EngineResult:
        left = max(0.0, self._started + self.timeout - time.monotonic())
        if not self._done.wait(left) or self._result is None:
            return EngineResult(
                engine=EngineInfo(engine="docker", reachable=False, host=self.host),
                warnings=[
                    f"Docker engine at {self.host} did not answer within "
                    f"{self.timeout:g} s; containers are not labelled"
                ],
            )
        return self._result


def _unreachable(host: str, why: str) -> EngineResult:
    return EngineResult(
        engine=EngineInfo(engine="docker", reachable=False, host=host),
        warnings=[f"Docker engine at {host} is unavailable ({why}); containers are not labelled"],
    )


def query_docker(host: str, timeout: float) -> EngineResult:
    """Containers and networks from the engine at ``host``.

    A local engine (``unix://``) is asked over a plain stdlib HTTP connection: the same
    read-only Engine API calls the SDK makes, minus the ~0.1 s it takes to import
    requests/urllib3, which matters for ``nsexplorer list``. Any other DOCKER_HOST
    (tcp with TLS, ssh) goes through the docker SDK's ``from_env``.
    """
    if host.startswith("unix://"):
        return query_unix(host, timeout)
    return query_docker_sdk(host, timeout)


def query_unix(host: str, timeout: float) -> EngineResult:
    from nsexplorer.collect.docker_api import EngineApi, EngineApiError

    try:
        with EngineApi(host.removeprefix("unix://"), timeout) as api:
            version = api.negotiate()
            listed = api.get("/containers/json?all=1")
            containers: list[Container] = []
            stopped: list[StoppedContainer] = []
            for item in listed if isinstance(listed, list) else ():
                cid = str(item.get("Id", "")) if isinstance(item, Mapping) else ""
                if not cid:
                    continue
                down = stopped_from_list_item(item)
                if down is not None:
                    stopped.append(down)
                    continue
                try:
                    attrs = api.get(f"/containers/{cid}/json")
                except EngineApiError as err:
                    if err.status == 404:  # removed since the list: ignore, like the SDK
                        continue
                    raise
                if isinstance(attrs, Mapping):
                    containers.append(container_from_inspect(attrs))
            nets = api.get("/networks")
            networks = tuple(
                network_from_attrs(n)
                for n in (nets if isinstance(nets, list) else ())
                if isinstance(n, Mapping)
            )
    except (OSError, EngineApiError, ValueError) as err:
        return _unreachable(host, _short(err))
    return _answered(host, version, containers, networks, stopped)


# States in which a container runs no process (so has no network namespace).
NOT_RUNNING = frozenset({"created", "exited", "dead"})


def stopped_from_list_item(item: Mapping[str, Any]) -> StoppedContainer | None:
    """A /containers/json?all=1 entry that is not running, else None (inspect it)."""
    state = str(item.get("State", ""))
    if state not in NOT_RUNNING:
        return None
    names = item.get("Names") or []
    name = str(names[0]).removeprefix("/") if isinstance(names, list) and names else ""
    return StoppedContainer(id=str(item.get("Id", "")), name=name, state=state)


def query_docker_sdk(host: str, timeout: float) -> EngineResult:
    import docker
    import docker.errors

    try:
        client = docker.from_env(timeout=max(1, round(timeout)))
    except docker.errors.DockerException as err:
        return _unreachable(host, _short(err))
    try:
        version = str(client.version().get("Version", ""))
        containers = [
            container_from_inspect(c.attrs) for c in client.containers.list(ignore_removed=True)
        ]
        stopped = [
            down
            for item in client.api.containers(all=True)
            if isinstance(item, Mapping) and (down := stopped_from_list_item(item)) is not None
        ]
        networks = tuple(network_from_attrs(n.attrs) for n in client.networks.list())
    except docker.errors.DockerException as err:
        return _unreachable(host, _short(err))
    except OSError as err:
        return _unreachable(host, _short(err))
    finally:
        client.close()
    return _answered(host, version, containers, networks, stopped)


def _answered(
    host: str,
    version: str,
    containers: list[Container],
    networks: tuple[DockerNetwork, ...],
    stopped: list[StoppedContainer],
) -> EngineResult:
    engine = EngineInfo(
        engine="docker",
        reachable=True,
        host=host,
        version=version,
        networks=networks,
        stopped=tuple(stopped),
    )
    return EngineResult(engine=engine, containers=containers)


def _short(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return text if len(text) <= 200 else text[:200] + "..."


def _get(d: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(d, Mapping):
            return None
        d = d.get(key)
    return d


def container_from_inspect(attrs: Mapping[str, Any]) -> Container:
    """A model Container from ``docker inspect`` output (one element)."""
    mode = str(_get(attrs, "HostConfig", "NetworkMode") or "")
    shares = mode.removeprefix("container:") if mode.startswith("container:") else ""
    pid = _get(attrs, "State", "Pid")
    networks: list[ContainerNetwork] = []
    nets = _get(attrs, "NetworkSettings", "Networks") or {}
    if isinstance(nets, Mapping):
        for name, n in sorted(nets.items()):
            if not isinstance(n, Mapping):
                continue
            networks.append(
                ContainerNetwork(
                    name=str(name),
                    ip_address=str(n.get("IPAddress") or ""),
                    prefixlen=int(n.get("IPPrefixLen") or 0),
                    gateway=str(n.get("Gateway") or ""),
                    mac=str(n.get("MacAddress") or ""),
                    ipv6_address=str(n.get("GlobalIPv6Address") or ""),
                )
            )
    labels = _get(attrs, "Config", "Labels") or {}
    return Container(
        engine="docker",
        id=str(attrs.get("Id", "")),
        name=str(attrs.get("Name", "")).removeprefix("/"),
        image=str(_get(attrs, "Config", "Image") or attrs.get("Image") or ""),
        network_mode=mode,
        pid=int(pid) if isinstance(pid, int) and pid > 0 else None,
        status=str(_get(attrs, "State", "Status") or ""),
        sandbox_key=str(_get(attrs, "NetworkSettings", "SandboxKey") or ""),
        compose_project=str(labels.get(COMPOSE_PROJECT, "")) if isinstance(labels, Mapping) else "",
        shares_with=shares,
        networks=tuple(networks),
    )


def network_from_attrs(attrs: Mapping[str, Any]) -> DockerNetwork:
    """A model DockerNetwork from ``docker network inspect`` output (one element)."""
    subnets: list[tuple[str, str]] = []
    for cfg in _get(attrs, "IPAM", "Config") or ():
        if isinstance(cfg, Mapping) and cfg.get("Subnet"):
            subnets.append((str(cfg["Subnet"]), str(cfg.get("Gateway") or "")))
    net_id = str(attrs.get("Id", ""))
    driver = str(attrs.get("Driver", ""))
    options = attrs.get("Options") or {}
    bridge = str(options.get(BRIDGE_NAME_OPTION, "")) if isinstance(options, Mapping) else ""
    if driver == "bridge" and not bridge:
        # User-defined bridge networks are named br-<first 12 hex of the id>.
        bridge = f"br-{net_id[:12]}" if attrs.get("Name") != "bridge" else ""
    return DockerNetwork(
        id=net_id,
        name=str(attrs.get("Name", "")),
        driver=driver,
        bridge=bridge,
        subnets=tuple(subnets),
    )
