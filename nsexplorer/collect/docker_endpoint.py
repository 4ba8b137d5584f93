"""Which Docker daemon to ask, decided once, the way the Docker CLI decides it.

1. ``DOCKER_HOST`` (with ``DOCKER_TLS_VERIFY`` / ``DOCKER_CERT_PATH``, as the CLI);
2. the CLI's current context: ``DOCKER_CONTEXT``, else ``currentContext`` of
   ``$DOCKER_CONFIG/config.json`` (``~/.docker``); its endpoint is in
   ``contexts/meta/<sha256(name)>/meta.json`` (``Endpoints.docker.Host``), its TLS files
   in ``contexts/tls/<sha256(name)>/docker/``; the context ``default`` is the default
   socket;
3. ``unix:///var/run/docker.sock``.

Pure file reads (bounded), no network, no docker SDK: ``nsexplorer list`` pays nothing
for it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from nsexplorer import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

DEFAULT_HOST = "unix:///var/run/docker.sock"
CONFIG_LIMIT = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Endpoint:
    """The daemon to talk to, and why that one."""

    host: str
    origin: str = "default"  # "DOCKER_HOST", "context <name>" or "default"
    # TLS files (ca, cert, key) from the context or DOCKER_CERT_PATH; None: no TLS
    tls: tuple[str, str, str] | None = None
    tls_verify: bool = True
    # Why the configured context could not be used (the default socket is used then).
    problem: str = ""

    @property
    def from_env(self) -> bool:
        return self.origin == "DOCKER_HOST"


def config_dir(environ: Mapping[str, str]) -> str:
    configured = environ.get("DOCKER_CONFIG")
    if configured:
        return configured
    home = environ.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".docker")


def resolve(environ: Mapping[str, str] | None = None) -> Endpoint:
    env = os.environ if environ is None else environ
    host = env.get("DOCKER_HOST")
    if host:
        tls = _env_tls(env)
        # As the CLI: DOCKER_CERT_PATH alone means TLS without verifying the daemon.
        return Endpoint(host, "DOCKER_HOST", tls, _env_tls_verify(env) if tls else True)
    directory = config_dir(env)
    name = env.get("DOCKER_CONTEXT") or _current_context(directory)
    if not name or name == "default":
        return Endpoint(DEFAULT_HOST)
    import hashlib  # only for a context: its import costs milliseconds on the `list` path

    digest = hashlib.sha256(name.encode()).hexdigest()
    meta_path = os.path.join(directory, "contexts", "meta", digest, "meta.json")
    try:
        meta: Any = _read_json(meta_path)
        docker = meta["Endpoints"]["docker"]
        context_host = str(docker["Host"])
        skip_verify = bool(docker.get("SkipTLSVerify"))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        why = err.strerror if isinstance(err, OSError) else f"no docker endpoint ({err})"
        return Endpoint(
            DEFAULT_HOST,
            problem=f"Docker context {name!r} cannot be read ({meta_path}: {why}); "
            "using the default socket",
        )
    tls_dir = os.path.join(directory, "contexts", "tls", digest, "docker")
    files = tuple(os.path.join(tls_dir, f) for f in ("ca.pem", "cert.pem", "key.pem"))
    tls = (files[0], files[1], files[2]) if os.path.exists(files[1]) else None
    return Endpoint(
        context_host,
        f"context {name}",
        tls,
        tls_verify=not skip_verify,
    )


def configured(endpoint: Endpoint) -> bool:
    """Is there any reason to ask? (explicitly configured, or the default socket exists)"""
    if endpoint.origin != "default":
        return True
    return os.path.exists(DEFAULT_HOST.removeprefix("unix://"))


def _current_context(directory: str) -> str:
    try:
        config = _read_json(os.path.join(directory, "config.json"))
    except (OSError, ValueError):
        return ""
    value = config.get("currentContext") if isinstance(config, dict) else None
    return value if isinstance(value, str) else ""


def _read_json(path: str) -> dict[str, object]:
    with open(path, "rb") as f:
        data = f.read(CONFIG_LIMIT + 1)
    if len(data) > CONFIG_LIMIT:
        raise ValueError(f"{path} is larger than {CONFIG_LIMIT} bytes")
    value = json.loads(data)
    if not isinstance(value, dict):
        raise ValueError(f"{path} is not a JSON object")
    return value


def _env_tls_verify(env: Mapping[str, str]) -> bool:
    return bool(env.get("DOCKER_TLS_VERIFY"))


def _env_tls(env: Mapping[str, str]) -> tuple[str, str, str] | None:
    cert_path = env.get("DOCKER_CERT_PATH") or ""
    if not cert_path and not _env_tls_verify(env):
        return None
    base = cert_path or config_dir(env)
    return (
        os.path.join(base, "ca.pem"),
        os.path.join(base, "cert.pem"),
        os.path.join(base, "key.pem"),
    )


def daemon_hosts(argv: Sequence[str]) -> list[str]:
    """The addresses a client can reach a dockerd at, from its command line (``-H X``,
    ``--host=X``); not ``fd://``, systemd's socket, which only the daemon can use."""
    hosts: list[str] = []
    for n, arg in enumerate(argv):
        if arg in ("-H", "--host") and n + 1 < len(argv):
            hosts.append(argv[n + 1])
        elif arg.startswith(("-H=", "--host=")):
            hosts.append(arg.split("=", 1)[1])
    return [h for h in hosts if not h.startswith("fd://")]


def unasked_daemons(asked: Collection[str], proc: str = "/proc") -> str:
    """A warning when a dockerd runs here that no engine asked answered for (none
    configured, or the one configured is down): otherwise its containers would just
    be missing, and "no containers" read as the truth. '' when there is none."""
    from nsexplorer.kernel import procfs

    found = []
    for pid in procfs.pids_named("dockerd", proc):
        hosts = daemon_hosts(procfs.read_cmdline(pid, proc))
        if not set(hosts) & set(asked):
            found.append((pid, hosts))
    if not found:
        return ""
    words = []
    for pid, hosts in found:
        where = f" listening on {', '.join(hosts)}" if hosts else ""
        words.append(f"pid {pid}{where}")
    hint = next((f"DOCKER_HOST={hosts[0]}" for _, hosts in found if hosts), "DOCKER_HOST")
    return (
        f"dockerd runs here ({'; '.join(words)}) but no engine asked answered for it: "
        f"its containers are not labelled (set {hint} to ask it)"
    )
