"""What the lab built, as typed values, and their JSON form in /run/nsxlab/state.json."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from nsexplorer.errors import NeedsRoot

PREFIX = "nsxlab"
STATE_DIR = Path("/run/nsxlab")
STATE_FILE = STATE_DIR / "state.json"
# The hidden namespace's bind mount lives on a tmpfs mounted on this (empty) host
# directory inside the holder's private mount namespace only.
HIDDEN_MOUNT_DIR = STATE_DIR / "hidden"
HIDDEN_NS_PATH = str(HIDDEN_MOUNT_DIR / "ns")
# Every long-lived process the lab starts carries this in its environment, so `down`
# finds them even when state.json is lost.
PROCESS_MARK = "NSXLAB_LAB=1"

BRIDGE = f"{PREFIX}-br0"
BRIDGE_ADDR = "10.215.0.1/24"
BENCH_BRIDGE = f"{PREFIX}-bench"
BENCH_BRIDGE_ADDR = "10.220.0.1/16"
DOCKER_NETWORK = f"{PREFIX}-net"
DOCKER_NETWORK_BRIDGE = f"{PREFIX}-dnet"
DOCKER_SUBNET = "10.216.0.0/24"
DOCKER_LABEL = PREFIX
IMAGE = "nsx-busybox:test"
# Put on the image when `lab up` imports it, so `down` removes it even without state.json
# (and never an image of that name that someone else made).
IMAGE_LABEL = f"{PREFIX}.imported"

HOSTILE_IFNAME = f"{PREFIX}[@x=1]"
HOSTILE_ALIAS = "[@click=app.quit]x[/] \x1b]2;pwned\x07 [bold]b[/bold]"
HOSTILE_NETNS = f"{PREFIX}-[x]"
HOSTILE_LABEL = "[@click=app.quit]x[/]\x1b[31mred"


@dataclass(frozen=True, slots=True)
class LabLink:
    """One interface the lab made, with where it lives.

    ``netns`` is a netns name, ``"host"``, ``"pid:N"`` (the process-only netns) or
    ``"hidden"`` (the bind mount only visible in the holder's mount namespace).
    """

    netns: str
    ifname: str
    kind: str  # "veth" or "bridge"
    address: str | None = None
    peer_netns: str | None = None
    peer_ifname: str | None = None
    master: str | None = None


@dataclass(frozen=True, slots=True)
class LabContainer:
    name: str
    id: str
    network_mode: str  # "bridge", "host", "none", "container:<name>", or a network name
    pid: int
    sandbox_key: str
    address: str | None = None


@dataclass(frozen=True, slots=True)
class LabState:
    prefix: str = PREFIX
    bridge: str = BRIDGE
    bridge_address: str = BRIDGE_ADDR
    # Named netns (`ip netns`) the lab made, the hostile-named one included.
    netns: tuple[str, ...] = ()
    links: tuple[LabLink, ...] = ()
    # The netns held only by a process (`unshare --net sleep`): that process's pid.
    process_ns_pid: int | None = None
    # The netns bind-mounted only inside a process's private mount namespace.
    hidden_holder_pid: int | None = None
    hidden_ns_path: str = HIDDEN_NS_PATH  # valid inside the holder's mount namespace
    hostile_ifname: str = HOSTILE_IFNAME
    hostile_alias: str = HOSTILE_ALIAS
    hostile_netns: str = HOSTILE_NETNS
    docker_host: str | None = None
    docker_network: str | None = None
    docker_network_bridge: str | None = None
    containers: tuple[LabContainer, ...] = ()
    bench_bridge: str | None = None
    bench_netns: tuple[str, ...] = ()
    # iptables/ip6tables: the families whose FORWARD chain got the lab's accept rule
    # (nsexplorer.lab.firewall), recorded before the rule is inserted.
    firewall: tuple[str, ...] = ()
    # The image `up` imported (None: it was there already and is not the lab's).
    imported_image: str | None = None
    # The mount id of /run/netns when the lab's first `ip netns add` made it a mount
    # point (iproute2 bind-mounts the directory onto itself once); `down` unmounts it.
    netns_dir_mount_id: int | None = None
    pids: tuple[int, ...] = field(default=())  # every long-lived process the lab started
    complete: bool = False

    @property
    def hidden_proc_path(self) -> str | None:
        """The hidden netns file as opened from the host, through the holder's root."""
        if self.hidden_holder_pid is None:
            return None
        return f"/proc/{self.hidden_holder_pid}/root{self.hidden_ns_path}"

    @property
    def process_ns_path(self) -> str | None:
        if self.process_ns_pid is None:
            return None
        return f"/proc/{self.process_ns_pid}/ns/net"

    def container(self, name: str) -> LabContainer:
        for c in self.containers:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=True)

    @classmethod
    def from_json(cls, text: str) -> LabState:
        raw: dict[str, Any] = json.loads(text)
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in raw.items() if k in known}
        kw["netns"] = tuple(kw.get("netns", ()))
        kw["bench_netns"] = tuple(kw.get("bench_netns", ()))
        kw["pids"] = tuple(kw.get("pids", ()))
        kw["firewall"] = tuple(kw.get("firewall", ()))
        kw["links"] = tuple(LabLink(**x) for x in kw.get("links", ()))
        kw["containers"] = tuple(LabContainer(**x) for x in kw.get("containers", ()))
        return cls(**kw)

    def with_(self, **changes: Any) -> LabState:
        return replace(self, **changes)


def save(state: LabState) -> None:
    STATE_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = STATE_FILE.with_suffix(".tmp")
    tmp.write_text(state.to_json())
    os.replace(tmp, STATE_FILE)


def load() -> LabState | None:
    try:
        return LabState.from_json(STATE_FILE.read_text())
    except FileNotFoundError:
        return None
    except PermissionError as err:
        raise NeedsRoot(
            f"reading the lab's state ({STATE_FILE}) needs root: the lab is root's "
            "(run it with sudo or as root)"
        ) from err
    except (ValueError, TypeError):
        return None
