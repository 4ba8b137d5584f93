"""The lab's Docker part: containers in every network mode, a user network.

Only an engine named by DOCKER_HOST (or the testbed's socket when that is unset) is
used, never a system daemon found by default. Everything is named ``nsxlab-`` and
labelled ``nsxlab``; `down` removes exactly those.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
from collections.abc import Callable
from typing import Any

from nsexplorer.errors import ActionFailed, EngineUnavailable
from nsexplorer.lab import state as st
from nsexplorer.lab.state import LabContainer

TESTBED_SOCKET = "/run/nsx-testbed/docker.sock"


def docker_host() -> str | None:
    """The engine the lab may use: DOCKER_HOST, else the testbed socket if present."""
    host = os.environ.get("DOCKER_HOST")
    if host:
        return host
    if os.path.exists(TESTBED_SOCKET):
        return f"unix://{TESTBED_SOCKET}"
    return None


def unreachable(host: str) -> str | None:
    """None when the engine at ``host`` answers a ping, else why not."""
    try:
        client(host).close()
    except EngineUnavailable as err:
        return err.message
    return None


def client(host: str) -> Any:
    import docker
    import docker.errors

    try:
        c = docker.DockerClient(base_url=host, timeout=60)
        c.ping()
    except (docker.errors.DockerException, OSError) as err:
        raise EngineUnavailable(
            f"lab: the Docker engine at {host} does not answer: {err}"
        ) from None
    return c


def _busybox_rootfs_tar() -> bytes:
    bb = shutil.which("busybox")
    if bb is None:
        raise ActionFailed("lab: busybox is not installed (apt-get install busybox-static)")
    if subprocess.run(["ldd", bb], capture_output=True, check=False).returncode == 0:
        raise ActionFailed(f"lab: {bb} is dynamically linked; install busybox-static")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for d in ("bin", "etc", "tmp", "proc", "sys", "dev"):
            info = tarfile.TarInfo(d)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            tar.addfile(info)
        tar.add(bb, arcname="bin/busybox")
        for applet in ("sh", "ip", "sleep", "ls", "cat", "ifconfig", "echo", "true", "ps"):
            info = tarfile.TarInfo(f"bin/{applet}")
            info.type = tarfile.SYMTYPE
            info.linkname = "busybox"
            tar.addfile(info)
    return buf.getvalue()


def ensure_image(c: Any, before_import: Callable[[], None]) -> bool:
    """Import the busybox image unless the engine has it; True when this imported it.

    ``before_import`` runs first (the caller records the import), and the image is
    labelled ``nsxlab.imported``: `down` removes it, and only it, even after a crash.
    """
    import docker.errors

    try:
        c.images.get(st.IMAGE)
        return False
    except docker.errors.ImageNotFound:
        pass
    before_import()
    repo, tag = st.IMAGE.split(":")
    c.api.import_image_from_data(
        _busybox_rootfs_tar(),
        repository=repo,
        tag=tag,
        changes=['CMD ["sh"]', "ENV PATH=/bin", f"LABEL {st.IMAGE_LABEL}=1"],
    )
    return True


def _describe(c: Any, name: str, mode: str) -> LabContainer:
    obj = c.containers.get(name)
    attrs = obj.attrs
    nets = attrs["NetworkSettings"].get("Networks") or {}
    address = None
    for net in nets.values():
        if net.get("IPAddress"):
            address = f"{net['IPAddress']}/{net.get('IPPrefixLen', 32)}"
            break
    return LabContainer(
        name=name,
        id=obj.id,
        network_mode=mode,
        pid=int(attrs["State"]["Pid"]),
        sandbox_key=attrs["NetworkSettings"].get("SandboxKey") or "",
        address=address,
    )


def build(host: str, before_import: Callable[[], None]) -> tuple[str, tuple[LabContainer, ...]]:
    """Create the network and containers; returns (network name, containers).

    ``before_import`` is called just before the image is imported, if it is.
    """
    import docker.errors

    try:
        return _build(host, before_import)
    except docker.errors.DockerException as err:
        raise ActionFailed(f"lab: Docker at {host} refused: {err}") from None


def _build(host: str, before_import: Callable[[], None]) -> tuple[str, tuple[LabContainer, ...]]:
    import docker.types

    c = client(host)
    ensure_image(c, before_import)
    labels = {st.DOCKER_LABEL: "1", f"{st.DOCKER_LABEL}.note": st.HOSTILE_LABEL}
    ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=st.DOCKER_SUBNET)])
    c.networks.create(
        st.DOCKER_NETWORK,
        driver="bridge",
        options={"com.docker.network.bridge.name": st.DOCKER_NETWORK_BRIDGE},
        ipam=ipam,
        labels={st.DOCKER_LABEL: "1"},
    )
    p = st.PREFIX
    plan: list[tuple[str, str, dict[str, Any]]] = [
        (f"{p}-web", "bridge", {}),
        (f"{p}-hostnet", "host", {"network_mode": "host"}),
        (f"{p}-none", "none", {"network_mode": "none"}),
        (f"{p}-side", f"container:{p}-web", {"network_mode": f"container:{p}-web"}),
        (f"{p}-app", st.DOCKER_NETWORK, {"network": st.DOCKER_NETWORK}),
        (f"{p}-app2", st.DOCKER_NETWORK, {"network": st.DOCKER_NETWORK}),
    ]
    made: list[LabContainer] = []
    for name, mode, extra in plan:
        kw = dict(extra)
        if not mode.startswith("container:"):
            kw["hostname"] = name  # the engine refuses a hostname in container mode
        c.containers.run(
            st.IMAGE, ["sleep", "infinity"], name=name, detach=True, labels=labels, **kw
        )
        made.append(_describe(c, name, mode))
    c.close()
    return st.DOCKER_NETWORK, tuple(made)


def remove(host: str) -> tuple[list[str], list[str]]:
    """Remove every container, network and image the lab made on this engine.

    Returns (what was removed, problems).
    """
    import docker.errors

    removed: list[str] = []
    problems: list[str] = []
    try:
        c = client(host)
    except EngineUnavailable as err:
        return removed, [err.message]
    try:
        seen: set[str] = set()
        for obj in c.containers.list(all=True, filters={"label": st.DOCKER_LABEL}):
            seen.add(obj.id)
        for obj in c.containers.list(all=True, filters={"name": f"{st.PREFIX}-"}):
            if obj.name.startswith(f"{st.PREFIX}-"):
                seen.add(obj.id)
        # container:<x> users first, so their target is not in use when removed
        for cid in sorted(seen, key=lambda i: _is_joined(c, i), reverse=True):
            try:
                c.api.remove_container(cid, force=True)
                removed.append(f"container {cid[:12]}")
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as err:
                problems.append(f"docker rm {cid[:12]}: {err.explanation}")
        for net in c.networks.list():
            if net.name.startswith(f"{st.PREFIX}-"):
                try:
                    net.remove()
                    removed.append(f"network {net.name}")
                except docker.errors.NotFound:
                    pass
                except docker.errors.APIError as err:
                    problems.append(f"docker network rm {net.name}: {err.explanation}")
        removed_image, image_problems = _remove_imported_images(c)
        removed += removed_image
        problems += image_problems
    finally:
        c.close()
    return removed, problems


def _remove_imported_images(c: Any) -> tuple[list[str], list[str]]:
    """Remove the images `up` imported (they carry its label); never forced, so an image
    someone else's container uses stays, and says so."""
    import docker.errors

    removed: list[str] = []
    problems: list[str] = []
    for image in c.images.list(filters={"label": st.IMAGE_LABEL}):
        # only the lab's own name: a tag someone else added keeps the image for them
        ref = st.IMAGE if st.IMAGE in image.tags else None if image.tags else image.id
        if ref is None:
            continue
        try:
            c.images.remove(ref)
            removed.append(f"image {ref}")
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as err:
            problems.append(f"docker rmi {ref}: {err.explanation}")
    return removed, problems


def _is_joined(c: Any, cid: str) -> bool:
    import docker.errors

    try:
        mode = c.api.inspect_container(cid)["HostConfig"].get("NetworkMode", "")
    except docker.errors.NotFound:
        return False
    return str(mode).startswith("container:")
