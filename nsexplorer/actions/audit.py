"""The audit log: one JSON line per action that ran or changed something.

Where: ``$NSX_AUDIT_LOG`` if set, else /var/log/nsexplorer/audit.log; when that cannot
be written, ``$XDG_STATE_HOME/nsexplorer/audit.log`` (default ~/.local/state/...).
Nothing is created until the first action is logged.

A record that cannot be written (disk full, a directory where the file should be, a
read-only file system) never stops the action: an incident is no time to refuse. The
caller is told why (``record`` returns it) and warns the person, naming the path.
"""

from __future__ import annotations

import json
import os
import pwd
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

SYSTEM_LOG = "/var/log/nsexplorer/audit.log"


def _user_state_log(env: Mapping[str, str]) -> str:
    base = env.get("XDG_STATE_HOME") or os.path.join(
        env.get("HOME") or os.path.expanduser("~"), ".local", "state"
    )
    return os.path.join(base, "nsexplorer", "audit.log")


def _writable(path: str) -> bool:
    """True if ``path`` could be appended to (creating missing directories)."""
    if os.path.exists(path):
        return os.path.isfile(path) and os.access(path, os.W_OK)
    parent = os.path.dirname(path) or "."
    while not os.path.exists(parent):
        up = os.path.dirname(parent)
        if up == parent:
            return False
        parent = up
    return os.path.isdir(parent) and os.access(parent, os.W_OK | os.X_OK)


def choose_path(explicit: str | None = None, env: Mapping[str, str] | None = None) -> str:
    environ = os.environ if env is None else env
    first = explicit or environ.get("NSX_AUDIT_LOG") or SYSTEM_LOG
    if _writable(first):
        return first
    fallback = _user_state_log(environ)
    return fallback if _writable(fallback) else first


def who() -> dict[str, Any]:
    uid = os.getuid()
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        user = str(uid)
    out: dict[str, Any] = {"uid": uid, "user": user}
    for key, env in (("sudo_user", "SUDO_USER"), ("ssh_client", "SSH_CLIENT")):
        if os.environ.get(env):
            out[key] = os.environ[env]
    return out


class AuditLog:
    def __init__(self, path: str) -> None:
        self.path = path

    def record(
        self,
        action: str,
        *,
        netns_inode: int | None,
        netns: str,
        argv: Sequence[str] = (),
        command: Sequence[str] = (),
        exit_status: int | None = None,
        **extra: Any,
    ) -> str:
        """Append one line; "" when written, else why not (the action goes on)."""
        entry: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "action": action,
            "netns_inode": netns_inode,
            "netns": netns,
            "argv": list(argv),
            "command": list(command),
            "exit_status": exit_status,
            "who": who(),
            "pid": os.getpid(),
        }
        entry.update(extra)
        line = (json.dumps(entry, ensure_ascii=True) + "\n").encode("ascii")
        try:
            os.makedirs(os.path.dirname(self.path) or ".", mode=0o750, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                os.write(fd, line)  # one write with O_APPEND: lines never interleave
            finally:
                os.close(fd)
        except OSError as err:
            return f"audit log {self.path} not written: {err.strerror or err}"
        return ""
