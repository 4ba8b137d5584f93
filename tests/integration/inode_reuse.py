"""Make a named netns again until the kernel gives it the inode it had before.

The kernel hands out namespace inodes lowest-free-first (an IDA), and frees a netns's
from a workqueue some time after its last reference goes. So deleting and re-adding in a
loop never gets the old inode back while a lower one is free (a hole some other
namespace left): each add takes that hole, each delete gives it back. Here every
namespace that did not get the old inode is kept (``nsxid-fill-*``), filling the holes
one by one, until the old inode is the lowest free; the fillers are deleted at the end.
The workqueue can be minutes behind after a suite has deleted hundreds of namespaces,
so the wait backs off (each try made while the old one is not freed adds to that
queue) and, if it runs out, says who still holds the old namespace, if anyone does.
"""

from __future__ import annotations

import gc
import os
import secrets
import subprocess
import threading
import time

NETNS = "/run/netns"
PATIENCE = 300.0  # seconds for the old inode to come back (its netns freed, holes filled)
BACKOFF_MAX = 2.0  # seconds between tries while the old namespace is not freed


def _inode(name: str) -> int:
    return os.stat(f"{NETNS}/{name}").st_ino


def _delete(name: str) -> None:
    subprocess.run(["ip", "netns", "delete", name], check=False, capture_output=True)


def made_again_under_the_same_inode(name: str) -> str | None:
    """Delete ``name``'s namespace and make a new one under ``name`` that has the old
    one's inode. None when done, else why not (``name`` then names a new namespace
    with another inode)."""
    gc.collect()  # nothing of this process keeps the old one alive
    old = _inode(name)
    _delete(name)
    fillers: list[str] = []  # below the old inode: holes filled, kept to the end
    above = 0
    deadline = time.monotonic() + PATIENCE
    try:
        while time.monotonic() < deadline:
            made = f"nsxid-fill-{secrets.token_hex(4)}"
            subprocess.run(["ip", "netns", "add", made], check=True)
            got = _inode(made)
            if got == old:
                _attach(made, name)
                _delete(made)
                return None
            if got < old:
                fillers.append(made)
                continue
            # the old one is not freed yet (a workqueue frees it): give this one back
            _delete(made)
            above += 1
            time.sleep(min(0.1 * 1.5**above, BACKOFF_MAX))
        subprocess.run(["ip", "netns", "add", name], check=True)
        return (
            f"inode {old} did not come back in {PATIENCE:.0f} s: {len(fillers)} lower "
            f"inodes filled, {above} namespaces made above it; held by: "
            f"{', '.join(_holders(old)) or 'no process (the kernel has not freed it yet)'}; "
            f"this process's threads: {sorted(t.name for t in threading.enumerate())}"
        )
    finally:
        for filler in fillers:
            _delete(filler)


def _holders(inode: int) -> list[str]:
    """Every process whose netns, or one of whose descriptors, is net:[inode]."""
    want = f"net:[{inode}]"
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            links = [f"/proc/{pid}/ns/net"] + [
                f"/proc/{pid}/fd/{fd}" for fd in os.listdir(f"/proc/{pid}/fd")
            ]
            hits = [link.rsplit("/", 2)[-2:] for link in links if _readlink(link) == want]
            if hits:
                with open(f"/proc/{pid}/comm") as comm:
                    found.append(f"{pid} {comm.read().strip()} {hits}")
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


def _readlink(path: str) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None


def _attach(made: str, name: str) -> None:
    """``name`` names the namespace ``made`` names (a bind mount, as ip netns does)."""
    open(f"{NETNS}/{name}", "x").close()
    subprocess.run(["mount", "--bind", f"{NETNS}/{made}", f"{NETNS}/{name}"], check=True)
