"""The seam a container engine plugs into (Docker now; podman, containerd next).

Discovery and the watcher only know :class:`ContainerEngine`: containers with their
process and sandbox, networks, an event stream and the daemon's pid. Each engine converts
its own API's answers to model values at its boundary. The process resolves its engines
once (:func:`engines`) and the collector and the watcher share them, so both always talk
to the same daemon.

A daemon that is absent, refuses or hangs costs a warning, never the snapshot: the query
runs on its own (daemon) thread and is abandoned when the deadline passes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from nsexplorer import TYPE_CHECKING
from nsexplorer.model import Container, DockerNetwork, EngineInfo, StoppedContainer


class EngineError(Exception):
    """The engine could not be asked (down, refusing, a bad answer)."""


if TYPE_CHECKING:  # a type only (nothing subclasses it): typing stays off the `list` path
    from typing import Protocol

    class ContainerEngine(Protocol):
        @property
        def name(self) -> str:
            """ "docker", "podman", ..."""
            ...

        @property
        def host(self) -> str:
            """Where the daemon is (``unix:///...``, ``tcp://...``)."""
            ...

        @property
        def origin(self) -> str:
            """Why this daemon: "DOCKER_HOST", "context <name>", "default"."""
            ...

        @property
        def problem(self) -> str:
            """A configuration problem worth a warning ('' for none)."""
            ...

        def version(self) -> str: ...

        def containers(self) -> tuple[list[Container], list[StoppedContainer]]:
            """(running containers, inspected; containers that run no process)."""
            ...

        def networks(self) -> list[DockerNetwork]: ...

        def events(self, subscribed: Callable[[], None] | None = None) -> Iterator[str]:
            """Blocks; yields a short reason for every change worth a re-read, until the
            daemon closes the stream or :meth:`close` is called. Raises EngineError.
            ``subscribed`` is called once the daemon has answered the request: changes
            from then on come as events, those before it only in a new read."""
            ...

        def close(self) -> None:
            """End a running :meth:`events` stream (from any thread)."""
            ...

        def daemon_pid(self, proc: str = "/proc") -> int | None:
            """The pid of the daemon serving ``host``, when it runs on this machine."""
            ...


@dataclass(slots=True)
class EngineResult:
    """What one engine answered (or why not)."""

    engine: EngineInfo
    containers: list[Container] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def query(engine: ContainerEngine) -> EngineResult:
    """Everything the engine says, or an unreachable EngineInfo and a warning."""
    try:
        version = engine.version()
        running, stopped = engine.containers()
        networks = complete_networks(engine.networks(), running)
    except EngineError as err:
        return unreachable(engine, str(err))
    info = EngineInfo(
        engine=engine.name,
        reachable=True,
        host=engine.host,
        version=version,
        networks=networks,
        stopped=tuple(stopped),
        origin=engine.origin,
    )
    return EngineResult(info, running, [engine.problem] if engine.problem else [])


def complete_networks(
    networks: Sequence[DockerNetwork], containers: Sequence[Container]
) -> tuple[DockerNetwork, ...]:
    """Networks whose subnets lack a gateway (engines omit one they chose themselves)
    take it from an attached container's view of that network, per address family."""
    seen: dict[str, tuple[str, str]] = {}
    for c in containers:
        for n in c.networks:
            if n.network_id:
                v4, v6 = seen.get(n.network_id, ("", ""))
                seen[n.network_id] = (v4 or n.gateway, v6 or n.ipv6_gateway)
    out: list[DockerNetwork] = []
    for net in networks:
        v4, v6 = seen.get(net.id, ("", ""))
        subnets = tuple(
            (subnet, gateway or (v6 if ":" in subnet else v4)) for subnet, gateway in net.subnets
        )
        out.append(replace(net, subnets=subnets) if subnets != net.subnets else net)
    return tuple(out)


def unreachable(engine: ContainerEngine, why: str) -> EngineResult:
    where = (
        engine.host
        if engine.origin in ("", "default", "DOCKER_HOST")
        else (f"{engine.host} ({engine.origin})")
    )
    warnings = [engine.problem] if engine.problem else []
    warnings.append(
        f"{engine.name.capitalize()} engine at {where} is unavailable ({why}); "
        "containers are not labelled"
    )
    info = EngineInfo(engine=engine.name, reachable=False, host=engine.host, origin=engine.origin)
    return EngineResult(info, warnings=warnings)


class EngineQuery:
    """Starts the query at construction; ``result()`` waits until the deadline."""

    def __init__(self, engine: ContainerEngine, timeout: float) -> None:
        self.engine = engine
        self.timeout = timeout
        self._result: EngineResult | None = None
        self._done = threading.Event()
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="nsx-engine", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._result = query(self.engine)
        except Exception as err:
            self._result = unreachable(self.engine, f"{type(err).__name__}: {err}")
        finally:
            self._done.set()

    def result(self) -> EngineResult:
        left = max(0.0, self._started + self.timeout - time.monotonic())
        if not self._done.wait(left) or self._result is None:
            e = self.engine
            return EngineResult(
                engine=EngineInfo(engine=e.name, reachable=False, host=e.host, origin=e.origin),
                warnings=[
                    f"{e.name.capitalize()} engine at {e.host} did not answer within "
                    f"{self.timeout:g} s; containers are not labelled"
                ],
            )
        return self._result


_engines: list[ContainerEngine] | None = None
_lock = threading.Lock()


def engines(timeout: float = 3.0) -> Sequence[ContainerEngine]:
    """The engines configured on this machine, resolved once per process and shared by
    the collector and the watcher (the same daemon for both)."""
    global _engines  # noqa: PLW0603 - one resolution per process
    with _lock:
        if _engines is None:
            from nsexplorer.collect import docker_endpoint
            from nsexplorer.collect.docker_engine import DockerEngine

            endpoint = docker_endpoint.resolve()
            found: list[ContainerEngine] = []
            if docker_endpoint.configured(endpoint):
                found.append(DockerEngine(endpoint, timeout))
            _engines = found
        return list(_engines)


def reset() -> None:
    """Resolve again on the next :func:`engines` (tests; a changed environment)."""
    global _engines  # noqa: PLW0603
    with _lock:
        _engines = None
