"""The published ports of a container, as its engine reports them (part "nat").

NetworkSettings.Ports of each container, asked of a local engine over the read-only
Engine API client. (Helper work in progress moves this fact into the Container model:
then the ports come from there and fetch_published goes.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from nsexplorer.model_inside import PortBinding

if TYPE_CHECKING:
    from typing import Any


def published_from_inspect(ports: Any) -> tuple[PortBinding, ...]:
    """NetworkSettings.Ports ({"80/tcp": [{"HostIp", "HostPort"}] or null}): the
    published bindings; a port that is only exposed (null) is not published."""
    out: list[PortBinding] = []
    if not isinstance(ports, Mapping):
        return ()
    for port, bindings in sorted(ports.items()):
        for b in bindings if isinstance(bindings, list) else ():
            if isinstance(b, Mapping) and b.get("HostPort"):
                out.append(PortBinding(str(port), str(b.get("HostIp") or ""), str(b["HostPort"])))
    return tuple(out)


def fetch_published(
    container_ids: Sequence[str], host: str, timeout: float
) -> tuple[tuple[PortBinding, ...], list[str]]:
    """The published ports of these containers, asked of the engine at ``host``."""
    from nsexplorer.collect.docker_api import EngineApi, EngineApiError

    if not container_ids:
        return (), []
    if not host.startswith("unix://"):
        return (), [f"published ports are read from a local engine only (DOCKER_HOST={host})"]
    out: list[PortBinding] = []
    try:
        with EngineApi(host.removeprefix("unix://"), timeout) as api:
            api.negotiate()
            for cid in container_ids:
                try:
                    attrs = api.get(f"/containers/{cid}/json")
                except EngineApiError as err:
                    if err.status == 404:
                        continue
                    raise
                settings = attrs.get("NetworkSettings") if isinstance(attrs, Mapping) else None
                if isinstance(settings, Mapping):
                    out.extend(published_from_inspect(settings.get("Ports")))
    except (OSError, EngineApiError, ValueError) as err:
        return (), [f"published ports not read: Docker did not answer ({err})"]
    return tuple(dict.fromkeys(out)), []
