"""The lab: a throwaway topology with the prefix ``nsxlab``, for tests, demos and benches.

    from nsexplorer import lab
    state = lab.up(docker=True, size=0)   # LabState: names, pids, paths, containers
    lab.down()                            # removes all of it, even after a crash

``up`` needs root. State is kept in /run/nsxlab/state.json; ``down`` also finds
leftovers by prefix (links, named netns, Docker objects), by label (the image it
imported), by comment (its FORWARD accept rules, see ``firewall``) and by the mark the
lab puts in the environment of each process it starts, and touches nothing else.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass

from nsexplorer.errors import EngineUnavailable, NeedsRoot
from nsexplorer.lab import containers, firewall, state
from nsexplorer.lab.build import Builder, build_kernel_part
from nsexplorer.lab.state import LabContainer, LabLink, LabState
from nsexplorer.lab.system import (
    NETNS_DIR,
    alive,
    has_submounts,
    host_links,
    ip_batch,
    kill_and_wait,
    lab_processes,
    mount_id_at,
    named_netns,
    run,
)

__all__ = ["DownReport", "LabContainer", "LabLink", "LabState", "down", "status", "up"]


@dataclass(frozen=True, slots=True)
class DownReport:
    removed: tuple[str, ...]
    problems: tuple[str, ...]


def _need_root(what: str) -> None:
    if os.geteuid() != 0:
        raise NeedsRoot(
            f"lab {what} needs root: it creates and removes namespaces, veths, bridges "
            "and mounts (run it with sudo or as root)"
        )


def up(docker: bool = True, size: int = 0) -> LabState:
    """Build the lab (after removing any earlier one); returns what was built.

    With ``docker``, the Docker part is built when an engine is reachable
    (DOCKER_HOST, else the testbed socket) and skipped otherwise.
    """
    _need_root("up")
    down()
    builder = Builder()
    try:
        build_kernel_part(builder, size)
        host = containers.docker_host() if docker else None
        if host is not None and containers.unreachable(host) is None:
            builder.record(
                docker_host=host,
                docker_network=state.DOCKER_NETWORK,
                docker_network_bridge=state.DOCKER_NETWORK_BRIDGE,
            )
            network, made = containers.build(
                host, before_import=lambda: builder.record(imported_image=state.IMAGE)
            )
            builder.record(docker_network=network, containers=made)
        builder.record(complete=True)
    except BaseException:
        down()
        raise
    return builder.state


def status() -> LabState | None:
    """The recorded lab, or None when no lab is up."""
    return state.load()


def docker_skipped_reason(docker: bool) -> str | None:
    """Why `up(docker=...)` builds (or built) no Docker part; None when it does."""
    if not docker:
        return "--no-docker"
    host = containers.docker_host()
    if host is None:
        return "no engine: DOCKER_HOST is unset and the testbed socket is absent"
    return containers.unreachable(host)


def _is_bridge(name: str) -> bool:
    return os.path.isdir(f"/sys/class/net/{name}/bridge")


def _unmount_netns_dir(mount_id: int) -> list[str]:
    """Undo iproute2's self bind mount of /run/netns that the lab's first `netns add`
    made: only that very mount (same id), and only with nothing mounted under it (any
    other namespace name keeps it; umount without -l would refuse anyway)."""
    netns_dir = os.path.realpath(NETNS_DIR)
    if mount_id_at(netns_dir) != mount_id or has_submounts(mount_id):
        return []
    run(["umount", netns_dir], check=False)
    return [] if mount_id_at(netns_dir) == mount_id else [f"mount {netns_dir}"]


def down() -> DownReport:
    """Remove everything the lab made (recorded or found by prefix/mark), nothing else."""
    _need_root("down")
    removed: list[str] = []
    problems: list[str] = []
    recorded = state.load()
    prefix = state.PREFIX

    # Docker objects: on the recorded engine, and on the current one.
    hosts = {h for h in (recorded.docker_host if recorded else None, containers.docker_host()) if h}
    for host in sorted(hosts):
        try:
            gone, found = containers.remove(host)
            removed += gone
        except EngineUnavailable as err:
            found = [err.message]
        # An absent engine is only a problem when the lab recorded using it.
        if recorded is None or recorded.docker_host != host:
            found = [p for p in found if "does not answer" not in p]
        problems += found

    # Processes the lab started: recorded pids and anything carrying the mark.
    pids = set(recorded.pids if recorded else ()) | set(lab_processes())
    pids = {p for p in pids if alive(p)}
    if pids:
        left_pids = kill_and_wait(sorted(pids))
        removed += [f"process {p}" for p in sorted(pids) if p not in left_pids]
        problems += [f"process {p} did not die" for p in left_pids]

    links = [n for n in host_links() if n.startswith(prefix)]
    # Named netns next: the kernel tears many namespaces down in one batch, veths
    # included, far faster than deleting veths one by one (1000: ~2 s against ~20 s).
    namespaces = [n for n in named_netns() if n.startswith(prefix)]
    if namespaces:
        try:
            ip_batch([f'netns del "{n}"' for n in namespaces])
        except Exception:
            for n in namespaces:
                run(["ip", "netns", "del", n], check=False)
        left = [n for n in named_netns() if n.startswith(prefix)]
        problems += [f"netns {n!r} could not be removed" for n in left]
        removed += [f"netns {n}" for n in namespaces if n not in left]

    # Host links: veths whose peer was in a removed netns go away by themselves
    # (asynchronously); wait for that, then delete what is left (bridges, strays).
    if links:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            pending = [n for n in host_links() if n.startswith(prefix) and not _is_bridge(n)]
            if not pending:
                break
            time.sleep(0.05)
        rest = [n for n in host_links() if n.startswith(prefix)]
        if rest:
            # one process; names may hold [ ] @ = and so are quoted for ip's batch parser
            try:
                ip_batch([f'link del dev "{n}"' for n in rest])
            except Exception:  # fall back one by one
                for n in rest:
                    run(["ip", "link", "del", "dev", n], check=False)
        left = [n for n in host_links() if n.startswith(prefix)]
        problems += [f"interface {n!r} could not be removed" for n in left]
        removed += [f"link {n}" for n in links if n not in left]

    rules = firewall.remove()
    removed += rules.done
    problems += rules.problems

    if recorded is not None and recorded.netns_dir_mount_id is not None:
        removed += _unmount_netns_dir(recorded.netns_dir_mount_id)

    if state.STATE_DIR.exists():
        shutil.rmtree(state.STATE_DIR, ignore_errors=True)
        if state.STATE_DIR.exists():
            problems.append(f"{state.STATE_DIR} could not be removed")
    return DownReport(tuple(removed), tuple(problems))
