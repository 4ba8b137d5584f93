"""Docker as a :class:`~nsexplorer.collect.engine.ContainerEngine`.

One engine object per resolved endpoint (:mod:`docker_endpoint`), shared by the
collector and the watcher. A local engine (``unix://``) is asked over a plain stdlib
HTTP connection (:mod:`docker_api`): the same read-only Engine API calls the SDK makes,
minus the ~0.1 s it takes to import requests/urllib3, which matters for
``nsexplorer list``. Any other host (tcp with TLS, ssh) goes through one docker SDK
client built from that same endpoint. The conversion from inspect dicts to model values
is pure and tested on recorded dicts.
"""

from __future__ import annotations

import contextlib
import threading
import urllib.parse
from collections.abc import Callable, Iterator, Mapping

from nsexplorer import TYPE_CHECKING
from nsexplorer.collect.docker_endpoint import Endpoint
from nsexplorer.collect.engine import EngineError
from nsexplorer.kernel import procfs
from nsexplorer.model import (
    Container,
    ContainerNetwork,
    DockerNetwork,
    PublishedPort,
    StoppedContainer,
)

if TYPE_CHECKING:
    from typing import Any, TypeVar

    T = TypeVar("T")


COMPOSE_PROJECT = "com.docker.compose.project"
BRIDGE_NAME_OPTION = "com.docker.network.bridge.name"
DEFAULT_BRIDGE = "docker0"
# States in which a container runs no process (so has no network namespace).
NOT_RUNNING = frozenset({"created", "exited", "dead"})
EVENT_FILTERS = '{"type":["container","network"]}'
# Events that change nothing the snapshot shows.
QUIET_ACTIONS = ("exec_", "health_status", "top")


class DockerEngine:
    """The Docker daemon at one endpoint."""

    name = "docker"

    def __init__(
        self, endpoint: Endpoint, timeout: float = 3.0, *, use_sdk: bool | None = None
    ) -> None:
        """``use_sdk``: None picks the stdlib client for unix:// hosts and the SDK for
        the others; True forces the SDK (the test that both clients agree)."""
        self.endpoint = endpoint
        self.timeout = timeout
        self._stdlib = endpoint.host.startswith("unix://") and not use_sdk
        self._lock = threading.Lock()
        self._sdk: Any = None  # docker.DockerClient, made on first use (non-unix hosts)
        self._stream: Any = None  # the running event stream, to close it
        self._prefix = ""  # "/v1.41": the API version negotiated with this daemon
        self._version = ""

    @property
    def host(self) -> str:
        return self.endpoint.host

    @property
    def origin(self) -> str:
        return self.endpoint.origin

    @property
    def problem(self) -> str:
        return self.endpoint.problem

    @property
    def local_socket(self) -> str | None:
        if self.host.startswith("unix://"):
            return self.host.removeprefix("unix://")
        return None

    # --- the stdlib client (unix sockets) -------------------------------------------

    def _api(self) -> Any:
        """A stdlib client speaking the API version negotiated with this daemon."""
        from nsexplorer.collect.docker_api import EngineApi

        path = self.local_socket
        assert path is not None  # noqa: S101 - only called for unix:// hosts
        api = EngineApi(path, self.timeout)
        if self._prefix:
            api.use_prefix(self._prefix)
        else:
            self._version = api.negotiate()
            self._prefix = api.prefix
        return api

    def _get(self, path: str) -> Any:
        from nsexplorer.collect.docker_api import EngineApiError

        try:
            with self._api() as api:
                return api.get(path)
        except (OSError, EngineApiError, ValueError) as err:
            raise EngineError(_short(err)) from err

    # --- the SDK client (every other host) ------------------------------------------

    def sdk(self) -> Any:
        """The one docker SDK client for this endpoint (made once, shared)."""
        with self._lock:
            if self._sdk is None:
                self._sdk = _sdk_client(self.endpoint, self.timeout)
            return self._sdk

    def _sdk_call(self, fn: Callable[[Any], T]) -> T:
        import docker.errors

        try:
            return fn(self.sdk())
        except (docker.errors.DockerException, OSError) as err:
            raise EngineError(_short(err)) from err

    # --- ContainerEngine --------------------------------------------------------------

    def version(self) -> str:
        if not self._stdlib:
            return self._sdk_call(lambda c: str(c.version().get("Version", "")))
        from nsexplorer.collect.docker_api import EngineApiError

        try:
            with self._api() as api:
                # Asked every time: it is also the liveness check, and a restarted
                # daemon may speak another version.
                self._version = api.negotiate()
                self._prefix = api.prefix
        except (OSError, EngineApiError, ValueError) as err:
            raise EngineError(_short(err)) from err
        return self._version

    def containers(self) -> tuple[list[Container], list[StoppedContainer]]:
        if not self._stdlib:
            items, inspected = self._sdk_call(
                lambda c: (
                    c.api.containers(all=True),
                    [x.attrs for x in c.containers.list(ignore_removed=True)],
                )
            )
        else:
            items, inspected = self._stdlib_containers()
        stopped = [x for i in items if _is_map(i) and (x := stopped_from_list_item(i))]
        return [container_from_inspect(a) for a in inspected if _is_map(a)], stopped

    def _stdlib_containers(self) -> tuple[list[Any], list[Any]]:
        from nsexplorer.collect.docker_api import EngineApiError

        try:
            with self._api() as api:
                listed = api.get("/containers/json?all=1")
                items = [i for i in (listed if isinstance(listed, list) else ()) if _is_map(i)]
                inspected: list[Any] = []
                for item in items:
                    cid = str(item.get("Id", ""))
                    if not cid or stopped_from_list_item(item) is not None:
                        continue
                    try:
                        inspected.append(api.get(f"/containers/{cid}/json"))
                    except EngineApiError as err:
                        if err.status != 404:  # 404: removed since the list, like the SDK
                            raise
        except (OSError, EngineApiError, ValueError) as err:
            raise EngineError(_short(err)) from err
        return items, inspected

    def networks(self) -> list[DockerNetwork]:
        if not self._stdlib:
            nets = self._sdk_call(lambda c: [n.attrs for n in c.networks.list()])
        else:
            got = self._get("/networks")
            nets = got if isinstance(got, list) else []
        return [network_from_attrs(n) for n in nets if _is_map(n)]

    def events(self, subscribed: Callable[[], None] | None = None) -> Iterator[str]:
        if self._stdlib:
            yield from self._stdlib_events(subscribed)
        else:
            yield from self._sdk_events(subscribed)

    def _stdlib_events(self, subscribed: Callable[[], None] | None) -> Iterator[str]:
        from nsexplorer.collect.docker_api import EngineApiError

        try:
            api = self._api()
            self._stream = api
            query = urllib.parse.quote(EVENT_FILTERS, safe="")
            for event in api.stream(f"/events?filters={query}", on_open=subscribed):
                reason = event_reason(event)
                if reason:
                    yield reason
        except (OSError, EngineApiError, ValueError) as err:
            raise EngineError(_short(err)) from err
        finally:
            self._stream = None

    def _sdk_events(self, subscribed: Callable[[], None] | None) -> Iterator[str]:
        import docker.errors

        try:
            # The SDK sends the request and reads the answer's headers here.
            stream = self.sdk().events(decode=True, filters={"type": ["container", "network"]})
            self._stream = stream
            if subscribed is not None:
                subscribed()
            for event in stream:
                reason = event_reason(event)
                if reason:
                    yield reason
        except (docker.errors.DockerException, OSError) as err:
            raise EngineError(_short(err)) from err
        finally:
            self._stream = None

    def close(self) -> None:
        stream = self._stream
        if stream is not None:
            with contextlib.suppress(Exception):  # a stream that already ended
                stream.close()

    def daemon_pid(self, proc: str = "/proc") -> int | None:
        """The dockerd serving this endpoint: the one whose command line names its
        socket, or the only dockerd running (a remote daemon has none here)."""
        sock = self.local_socket
        if sock is None:
            return None
        pids = procfs.pids_named("dockerd", proc)
        if len(pids) <= 1:
            return pids[0] if pids else None
        for pid in pids:
            if any(sock in arg for arg in procfs.read_cmdline(pid, proc)):
                return pid
        return None


def _sdk_client(endpoint: Endpoint, timeout: float) -> Any:
    import docker
    import docker.errors
    import docker.tls

    tls: Any = None
    if endpoint.tls is not None:
        ca, cert, key = endpoint.tls
        tls = docker.tls.TLSConfig(
            client_cert=(cert, key),
            ca_cert=ca if endpoint.tls_verify else None,
            verify=endpoint.tls_verify,
        )
    try:
        return docker.DockerClient(
            base_url=endpoint.host,
            tls=tls if tls is not None else False,
            timeout=max(1, round(timeout)),
        )
    except docker.errors.DockerException as err:
        raise EngineError(_short(err)) from err


def event_reason(event: Any) -> str:
    """'docker start' for an event that may change the picture, '' for the others."""
    if not isinstance(event, Mapping):
        return ""
    action = str(event.get("Action") or event.get("status") or "")
    if action.startswith(QUIET_ACTIONS):
        return ""
    return f"docker {action}".strip()


def _is_map(value: Any) -> bool:
    return isinstance(value, Mapping)


def stopped_from_list_item(item: Mapping[str, Any]) -> StoppedContainer | None:
    """A /containers/json?all=1 entry that is not running, else None (inspect it)."""
    state = str(item.get("State", ""))
    if state not in NOT_RUNNING:
        return None
    names = item.get("Names") or []
    name = str(names[0]).removeprefix("/") if isinstance(names, list) and names else ""
    return StoppedContainer(id=str(item.get("Id", "")), name=name, state=state)


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
                    prefixlen=_int(n.get("IPPrefixLen")),
                    gateway=str(n.get("Gateway") or ""),
                    mac=str(n.get("MacAddress") or ""),
                    ipv6_address=str(n.get("GlobalIPv6Address") or ""),
                    ipv6_prefixlen=_int(n.get("GlobalIPv6PrefixLen")),
                    ipv6_gateway=str(n.get("IPv6Gateway") or ""),
                    network_id=str(n.get("NetworkID") or ""),
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
        ports=ports_from_inspect(_get(attrs, "NetworkSettings", "Ports")),
    )


def ports_from_inspect(ports: Any) -> tuple[PublishedPort, ...]:
    """NetworkSettings.Ports ({"80/tcp": [{"HostIp", "HostPort"}] or null}): the
    published bindings; a port that is only exposed (null) is not published."""
    out: list[PublishedPort] = []
    if not isinstance(ports, Mapping):
        return ()
    for port, bindings in sorted(ports.items()):
        for b in bindings if isinstance(bindings, list) else ():
            if isinstance(b, Mapping) and b.get("HostPort"):
                out.append(PublishedPort(str(port), str(b.get("HostIp") or ""), str(b["HostPort"])))
    return tuple(out)


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


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
        # User-defined bridge networks are named br-<first 12 hex of the id>; the
        # default network `bridge` is docker0 (or the daemon's -b bridge, which the
        # engine reports in the option above).
        bridge = f"br-{net_id[:12]}" if attrs.get("Name") != "bridge" else DEFAULT_BRIDGE
    return DockerNetwork(
        id=net_id,
        name=str(attrs.get("Name", "")),
        driver=driver,
        bridge=bridge,
        subnets=tuple(subnets),
    )
