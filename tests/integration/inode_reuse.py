"""Make a named netns again until the kernel gives it the inode it had before.

The kernel hands out namespace inodes lowest-free-first (an IDA), and frees a netns's
from a workqueue some time after its last reference goes. So deleting and re-adding in a
loop never gets the old inode back while a lower one is free (a hole some other
namespace left): each add takes that hole, each delete gives it back. Here every
namespace that did not get the old inode is kept (``nsxid-fill-*``), filling the holes
one by one, until the old inode is the lowest free; the fillers are deleted at the end.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time

NETNS = "/run/netns"
TRIES = 400  # namespaces made at most (holes below the old inode, plus waits for its free)


def _inode(name: str) -> int:
    return os.stat(f"{NETNS}/{name}").st_ino


def _delete(name: str) -> None:
    subprocess.run(["ip", "netns", "delete", name], check=False, capture_output=True)


def made_again_under_the_same_inode(name: str) -> bool:
    """Delete ``name``'s namespace and make a new one under ``name`` that has the old
    one's inode. False when the kernel did not give it back within TRIES namespaces
    (``name`` then names a new namespace with another inode)."""
    old = _inode(name)
    _delete(name)
    fillers: list[str] = []
    try:
        for _ in range(TRIES):
            made = f"nsxid-fill-{secrets.token_hex(4)}"
            subprocess.run(["ip", "netns", "add", made], check=True)
            fillers.append(made)  # kept unless it is the one: a hole filled
            got = _inode(made)
            if got == old:
                _attach(made, name)
                return True
            if got > old:  # the old one is not freed yet (the workqueue): let it finish
                time.sleep(0.05)
        subprocess.run(["ip", "netns", "add", name], check=True)
        return False
    finally:
        for filler in fillers:
            _delete(filler)


def _attach(made: str, name: str) -> None:
    """``name`` names the namespace ``made`` names (a bind mount, as ip netns does)."""
    open(f"{NETNS}/{name}", "x").close()
    subprocess.run(["mount", "--bind", f"{NETNS}/{made}", f"{NETNS}/{name}"], check=True)
