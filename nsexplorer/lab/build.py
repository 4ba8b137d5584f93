"""`lab up`: build the throwaway topology, recording every step in state.json.

Host netns:  nsxlab-br0 (10.215.0.1/24)
               |- nsxlab-a-h  <veth>  eth0 in netns nsxlab-a (10.215.0.11)
               |- nsxlab-b-h  <veth>  eth0 in netns nsxlab-b (10.215.0.12)
               |- nsxlab-c-h  <veth>  eth0 in netns nsxlab-c (10.215.0.13)
               |- nsxlab-p-h  <veth>  eth0 in a netns held only by a process (.20)
               `- nsxlab-x-h  <veth>  eth0 in a netns bind-mounted only inside another
                                       process's private mount namespace (.30)
             nsxlab-a:nsxlab-ab <veth> nsxlab-b:nsxlab-ba (10.215.1.1/30, .2/30)
             nsxlab[@x=1]  a bridge with a hostile name and alias; netns nsxlab-[x]
Docker (when an engine answers): containers in bridge, host, none, container:<other>
modes and on the user network nsxlab-net (bridge nsxlab-dnet, 10.216.0.0/24).
--size N: N more netns nsxlab-nNNNN, each with eth0 on bridge nsxlab-bench.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from nsexplorer.errors import ActionFailed
from nsexplorer.lab import firewall
from nsexplorer.lab import state as st
from nsexplorer.lab.state import LabLink, LabState
from nsexplorer.lab.system import (
    NETNS_DIR,
    alive,
    ip,
    ip_batch,
    lab_env,
    mount_id_at,
    netns_inode,
)

NAMED = ("a", "b", "c")


def _spawn_detached(script: str, *args: str, log: Path | None = None) -> int:
    """Start a long-lived process in its own session, not a child of this process.

    `sh -c '... &'` forks it and exits, so the process is re-parented away from us: it
    survives the CLI, and no zombie or Popen is left in a long-running caller (pytest).
    Its pid comes back on stdout. Carries the lab mark in its environment.
    """
    out = "/dev/null" if log is None else str(log)
    wrapper = f'setsid sh -c "$0" "$@" </dev/null >>{out} 2>&1 & echo $!'
    done = subprocess.run(
        ["sh", "-c", wrapper, script, *args],
        capture_output=True,
        text=True,
        env=lab_env(),
        check=True,
        timeout=30,
    )
    return int(done.stdout.strip())


def _wait_for(what: str, cond: Callable[[], bool], pid: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        if not alive(pid):
            raise ActionFailed(f"lab: the process for {what} (pid {pid}) died while starting")
        time.sleep(0.01)
    raise ActionFailed(f"lab: {what} was not ready after {timeout:.0f}s")


def _exe_is(pid: int, name: str) -> bool:
    try:
        return os.readlink(f"/proc/{pid}/exe").rsplit("/", 1)[-1] == name
    except OSError:
        return False


class Builder:
    def __init__(self) -> None:
        self.state = LabState()

    def record(self, **changes: object) -> None:
        self.state = self.state.with_(**changes)
        st.save(self.state)

    def add_links(self, *links: LabLink) -> None:
        self.record(links=(*self.state.links, *links))

    def add_pid(self, pid: int) -> None:
        self.record(pids=(*self.state.pids, pid))

    # ---------------------------------------------------------------- plain kernel part

    def open_firewall(self) -> None:
        """Under a filtering FORWARD chain (any Docker host), accept nsxlab+ <-> nsxlab+."""
        for tool in firewall.needed():
            # recorded first: a crash right after the insert still leaves a trace
            self.record(firewall=(*self.state.firewall, tool))
            firewall.add(tool)

    def bridge_and_named(self) -> None:
        br = st.BRIDGE
        names = tuple(f"{st.PREFIX}-{x}" for x in NAMED)
        self.record(netns=names)
        lines = [f"link add name {br} type bridge", f"addr add {st.BRIDGE_ADDR} dev {br}"]
        lines.append(f"link set {br} up")
        for ns in names:
            lines.append(f"netns add {ns}")
        for x, ns in zip(NAMED, names, strict=True):
            host = f"{st.PREFIX}-{x}-h"
            lines.append(f"link add {host} type veth peer name eth0 netns {ns}")
            lines.append(f"link set {host} master {br} up")
        # the veth pair joining two non-host namespaces
        a, b = names[0], names[1]
        lines.append(
            f"link add {st.PREFIX}-ab netns {a} type veth peer name {st.PREFIX}-ba netns {b}"
        )
        netns_dir = os.path.realpath(NETNS_DIR)
        mounted_before = mount_id_at(netns_dir)
        ip_batch(lines)
        if mounted_before is None:
            # iproute2's first `netns add` bind-mounts /run/netns onto itself: the lab's
            self.record(netns_dir_mount_id=mount_id_at(netns_dir))
        links: list[LabLink] = [LabLink("host", br, "bridge", st.BRIDGE_ADDR)]
        for i, (x, ns) in enumerate(zip(NAMED, names, strict=True)):
            addr = f"10.215.0.{11 + i}/24"
            cmds = ["link set lo up", f"addr add {addr} dev eth0", "link set eth0 up"]
            if ns == a:
                cmds += [
                    f"addr add 10.215.1.1/30 dev {st.PREFIX}-ab",
                    f"link set {st.PREFIX}-ab up",
                ]
            if ns == b:
                cmds += [
                    f"addr add 10.215.1.2/30 dev {st.PREFIX}-ba",
                    f"link set {st.PREFIX}-ba up",
                ]
            ip_batch(cmds, netns_path=f"/run/netns/{ns}")
            host = f"{st.PREFIX}-{x}-h"
            links.append(LabLink("host", host, "veth", None, ns, "eth0", br))
            links.append(LabLink(ns, "eth0", "veth", addr, "host", host))
        links.append(LabLink(a, f"{st.PREFIX}-ab", "veth", "10.215.1.1/30", b, f"{st.PREFIX}-ba"))
        links.append(LabLink(b, f"{st.PREFIX}-ba", "veth", "10.215.1.2/30", a, f"{st.PREFIX}-ab"))
        self.add_links(*links)

    def process_only(self) -> None:
        """A netns that only a process holds: no name, no bind mount."""
        own = netns_inode("/proc/thread-self/ns/net")
        pid = _spawn_detached("exec unshare --net -- sleep infinity")
        self.add_pid(pid)
        _wait_for(
            "the process-only netns",
            lambda: _exe_is(pid, "sleep") and netns_inode(f"/proc/{pid}/ns/net") != own,
            pid,
        )
        self.record(process_ns_pid=pid)
        host = f"{st.PREFIX}-p-h"
        ip("link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", str(pid))
        ip("link", "set", host, "master", st.BRIDGE, "up")
        addr = "10.215.0.20/24"
        ip_batch(
            ["link set lo up", f"addr add {addr} dev eth0", "link set eth0 up"],
            netns_path=f"/proc/{pid}/ns/net",
        )
        self.add_links(
            LabLink("host", host, "veth", None, f"pid:{pid}", "eth0", st.BRIDGE),
            LabLink(f"pid:{pid}", "eth0", "veth", addr, "host", host),
        )

    def hidden(self) -> None:
        """A netns bind-mounted only inside a private mount namespace (seed step 6).

        Invisible to `ip netns` and `lsns`: no process is in it and the host's mount
        table does not show it. Reachable as /proc/<holder>/root/run/nsxlab/hidden/ns.
        """
        st.HIDDEN_MOUNT_DIR.mkdir(parents=True, exist_ok=True)
        host = f"{st.PREFIX}-x-h"
        addr = "10.215.0.30/24"
        script = (
            "set -e; d=$1; host=$2; addr=$3; "
            'mount -t tmpfs nsxlab-hidden "$d"; touch "$d/ns"; '
            'unshare --net="$d/ns" true; '
            # `netns $$`: the peer goes to this shell's netns, the host's
            'nsenter --net="$d/ns" ip link add eth0 type veth peer name "$host" netns $$; '
            'nsenter --net="$d/ns" ip addr add "$addr" dev eth0; '
            'nsenter --net="$d/ns" ip link set eth0 up; '
            'nsenter --net="$d/ns" ip link set lo up; '
            "exec sleep infinity"
        )
        log = st.STATE_DIR / "hidden.log"
        pid = _spawn_detached(
            'exec unshare --mount --propagation private -- sh -c "$0" sh "$@"',
            script,
            str(st.HIDDEN_MOUNT_DIR),
            host,
            addr,
            log=log,
        )
        self.add_pid(pid)
        try:
            _wait_for("the hidden netns", lambda: _exe_is(pid, "sleep"), pid)
        except ActionFailed as err:
            detail = log.read_text(errors="replace").strip() if log.exists() else ""
            raise ActionFailed(f"{err.message}: {detail}") from None
        self.record(hidden_holder_pid=pid)
        ip("link", "set", host, "master", st.BRIDGE, "up")
        self.add_links(
            LabLink("host", host, "veth", None, "hidden", "eth0", st.BRIDGE),
            LabLink("hidden", "eth0", "veth", addr, "host", host),
        )

    def hostile(self) -> None:
        name = st.HOSTILE_IFNAME
        ip("link", "add", "name", name, "type", "bridge")
        ip("link", "set", "dev", name, "alias", st.HOSTILE_ALIAS)
        ip("netns", "add", st.HOSTILE_NETNS)
        self.record(netns=(*self.state.netns, st.HOSTILE_NETNS))
        ip_batch(["link set lo up"], netns_path=f"/run/netns/{st.HOSTILE_NETNS}")
        self.add_links(LabLink("host", name, "bridge"))

    # ---------------------------------------------------------------- bench part

    def bench(self, size: int) -> None:
        if size <= 0:
            return
        if size > 60000:
            raise ActionFailed("lab: --size is limited to 60000 (one /16 of addresses)")
        width = max(4, len(str(size)))
        br = st.BENCH_BRIDGE
        names = [f"{st.PREFIX}-n{i:0{width}d}" for i in range(1, size + 1)]
        self.record(bench_bridge=br, bench_netns=tuple(names))
        lines = [f"link add name {br} type bridge", f"addr add {st.BENCH_BRIDGE_ADDR} dev {br}"]
        lines.append(f"link set {br} up")
        lines += [f"netns add {ns}" for ns in names]
        for i, ns in enumerate(names, start=1):
            host = f"{st.PREFIX}-b{i:0{width}d}"
            lines.append(f"link add {host} master {br} up type veth peer name eth0 netns {ns}")
        ip_batch(lines)

        def configure(item: tuple[int, str]) -> None:
            i, ns = item
            n = i + 1  # 10.220.0.1 is the bridge
            addr = f"10.220.{n // 256}.{n % 256}/16"
            ip_batch(
                ["link set lo up", f"addr add {addr} dev eth0", "link set eth0 up"],
                netns_path=f"/run/netns/{ns}",
            )

        with ThreadPoolExecutor(max_workers=max(2, (os.cpu_count() or 2) * 2)) as pool:
            list(pool.map(configure, enumerate(names, start=1)))


def build_kernel_part(builder: Builder, size: int) -> None:
    builder.open_firewall()
    builder.bridge_and_named()
    builder.process_only()
    builder.hidden()
    builder.hostile()
    builder.bench(size)
