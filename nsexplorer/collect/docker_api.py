"""A minimal read-only Docker Engine API client over a unix socket (stdlib only).

Only GET requests, one HTTP/1.0 connection each (the daemon closes it after the
answer, so there is no chunked encoding to decode); the API version is negotiated like
the SDK does (the lower of the daemon's ApiVersion and ours); every socket operation
has a timeout; answers are bounded. Kept tiny because importing requests/urllib3 (the
SDK) or even http.client costs more than the whole `nsexplorer list`.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket

from nsexplorer import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

# Docker's Server header: "Docker/<the engine version /version gives> (<os>)".
_DOCKER_SERVER = re.compile(r"Docker/(\S+) \(\w+\)")
# The newest Engine API this client knows; older daemons are spoken to in their version.
MAX_API_VERSION = "1.45"
MIN_API_VERSION = "1.24"
BODY_LIMIT = 256 * 1024 * 1024


class EngineApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}" if status else message)
        self.status = status


def _version_tuple(v: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in v.split("."))
    except ValueError:
        return (0,)


def parse_response(raw: bytes) -> tuple[int, bytes]:
    """(status, body) of a complete HTTP/1.x answer (chunked encoding undone)."""
    status, _headers, body = parse_answer(raw)
    return status, body


def parse_answer(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """(status, headers by lower-case name, body) of a complete HTTP/1.x answer."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        raise EngineApiError(0, "truncated HTTP answer")
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        raise EngineApiError(0, "not an HTTP answer")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        key = name.strip().lower().decode("latin-1")
        headers[key] = value.strip().decode("latin-1")
        if key == "transfer-encoding" and b"chunked" in value.lower():
            body = _dechunk(body)
    return int(parts[1]), headers, body


def _dechunk(body: bytes) -> bytes:
    out: list[bytes] = []
    pos = 0
    while True:
        end = body.find(b"\r\n", pos)
        if end < 0:
            raise EngineApiError(0, "bad chunked encoding")
        size = int(body[pos:end].split(b";")[0], 16)
        if size == 0:
            return b"".join(out)
        out.append(body[end + 2 : end + 2 + size])
        pos = end + 2 + size + 2


EVENT_LIMIT = 1024 * 1024  # one event line; a longer one is not an event


class EngineApi:
    def __init__(self, socket_path: str, timeout: float) -> None:
        self._path = socket_path
        self._timeout = timeout
        self._prefix = ""
        self._streaming: socket.socket | None = None

    def __enter__(self) -> EngineApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """End a running :meth:`stream` (from any thread)."""
        sock = self._streaming
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    @property
    def prefix(self) -> str:
        return self._prefix

    def use_prefix(self, prefix: str) -> None:
        """Speak an API version negotiated before (skips the /version request)."""
        self._prefix = prefix

    def negotiate(self) -> str:
        """Speak min(theirs, ours) from now on; returns the engine version.

        /_ping first, as the docker CLI does: Docker's answer carries the API version
        (``Api-Version``) and the engine version (``Server: Docker/20.10.24 (linux)``,
        the very string /version gives) in ~0.3 ms, where /version makes dockerd run
        `runc --version` and `docker-init --version` (~10 ms, on the path of every
        `list`). Any other answer (another engine, an old daemon): /version.
        """
        try:
            status, headers, _body = self._exchange("/_ping", versioned=False)
        except EngineApiError:
            status, headers = 0, {}
        server = _DOCKER_SERVER.fullmatch(headers.get("server", ""))
        theirs = headers.get("api-version", "")
        if status == 200 and server is not None and _version_tuple(theirs) > (0,):
            self._use(theirs)
            return server.group(1)
        info = self.get("/version", versioned=False)
        if not isinstance(info, dict):
            raise EngineApiError(0, "unexpected /version answer")
        self._use(str(info.get("ApiVersion") or MIN_API_VERSION))
        return str(info.get("Version", ""))

    def _use(self, theirs: str) -> None:
        self._prefix = f"/v{min(theirs, MAX_API_VERSION, key=_version_tuple)}"

    def get(self, path: str, *, versioned: bool = True) -> Any:
        status, _headers, body = self._exchange(path, versioned=versioned)
        if status != 200:
            try:
                message = str(json.loads(body).get("message", ""))
            except (ValueError, AttributeError):
                message = body[:200].decode("utf-8", "replace")
            raise EngineApiError(status, message)
        return json.loads(body)

    def _exchange(self, path: str, *, versioned: bool) -> tuple[int, dict[str, str], bytes]:
        url = (self._prefix if versioned else "") + path
        request = f"GET {url} HTTP/1.0\r\nHost: docker\r\nAccept: application/json\r\n\r\n"
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(self._timeout)
            sock.connect(self._path)
            sock.sendall(request.encode("ascii"))
            chunks: list[bytes] = []
            total = 0
            while True:
                chunk = sock.recv(1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
                if total > BODY_LIMIT:
                    raise EngineApiError(0, "answer too large")
        return parse_answer(b"".join(chunks))

    def stream(self, path: str, on_open: Callable[[], None] | None = None) -> Iterator[Any]:
        """The JSON values of a streaming answer (``/events``), one per line, as they
        come. Connecting and the headers have the timeout; the stream itself waits as
        long as it takes, until the daemon closes it or :meth:`close` is called.
        ``on_open`` is called once the daemon has answered 200 (before any value)."""
        request = f"GET {self._prefix}{path} HTTP/1.0\r\nHost: docker\r\n\r\n"
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(self._timeout)
            sock.connect(self._path)
            self._streaming = sock
            try:
                sock.sendall(request.encode("ascii"))
                buf = b""
                while b"\r\n\r\n" not in buf:
                    chunk = sock.recv(1 << 16)
                    if not chunk or len(buf) > EVENT_LIMIT:
                        raise EngineApiError(0, "truncated HTTP answer")
                    buf += chunk
                head, _, buf = buf.partition(b"\r\n\r\n")
                status, _ = parse_response(head + b"\r\n\r\n")
                if status != 200:
                    raise EngineApiError(status, "the daemon refused the event stream")
                sock.settimeout(None)
                if on_open is not None:
                    on_open()
                while True:
                    while b"\n" in buf:
                        line, _, buf = buf.partition(b"\n")
                        if line.strip():
                            yield json.loads(line)
                    if len(buf) > EVENT_LIMIT:
                        raise EngineApiError(0, "event too large")
                    chunk = sock.recv(1 << 16)
                    if not chunk:
                        return
                    buf += chunk
            finally:
                self._streaming = None
