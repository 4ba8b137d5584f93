"""Parsing mountinfo (the one parser): nsfs bind mounts and the mount tree.

Pure functions of the bytes read from /proc/<pid>/mountinfo; the readers that choose
which process's table to read live with their callers (collect.mounts, actions.holders).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

# mountinfo of a busy host is a few hundred KB; refuse to read absurd amounts.
MOUNTINFO_LIMIT = 32 * 1024 * 1024

_OCTAL = re.compile(rb"\\([0-7]{3})")


@dataclass(frozen=True, slots=True)
class NsfsMount:
    """An nsfs bind mount in a mountinfo table."""

    mount_point: str
    netns_inode: int  # the namespace's inode (a mount namespace's for kind "mnt")
    kind: str = "net"


def unescape(field: bytes) -> str:
    """mountinfo escapes space, tab, newline and backslash as \\ooo."""
    return os.fsdecode(_OCTAL.sub(lambda m: bytes([int(m.group(1), 8)]), field))


# "<id> <parent> <maj:min> net:[<ino>] <mount point> <options...> - nsfs <source> <super>"
_NSFS_LINE = re.compile(rb"^\S+ \S+ \S+ (net|mnt):\[(\d+)\] (\S+) [^\n]*? - nsfs ", re.MULTILINE)


def parse_nsfs(data: bytes) -> list[NsfsMount]:
    """The nsfs mounts of network and mount namespaces in a mountinfo text (bytes)."""
    out: list[NsfsMount] = []
    for kind, ino, point in _NSFS_LINE.findall(data):
        path = unescape(point) if b"\\" in point else os.fsdecode(point)  # as os.listdir
        out.append(NsfsMount(path, int(ino), kind.decode()))
    return out


def parse_mountinfo(data: bytes) -> list[NsfsMount]:
    """The nsfs network-namespace mounts in a mountinfo text (bytes, as read)."""
    return [m for m in parse_nsfs(data) if m.kind == "net"]


@dataclass(frozen=True, slots=True)
class MountEntry:
    """One mountinfo line, the fields that place it in the tree."""

    id: int
    parent: int
    root: str  # "net:[N]" for an nsfs bind mount of netns N
    mount_point: str
    fstype: str


def parse_tree(data: bytes) -> list[MountEntry]:
    """Every mount of a mountinfo text, in table order."""
    out: list[MountEntry] = []
    for line in data.split(b"\n"):
        left, sep, right = line.partition(b" - ")
        fields = left.split(b" ")
        if not sep or len(fields) < 5 or not fields[0].isdigit() or not fields[1].isdigit():
            continue
        out.append(
            MountEntry(
                int(fields[0]),
                int(fields[1]),
                unescape(fields[3]),
                unescape(fields[4]),
                unescape(right.split(b" ", 1)[0]),
            )
        )
    return out
