"""Keeping the tail of an output that may never end."""

from __future__ import annotations

DEFAULT_LIMIT = 256 * 1024


class TailBuffer:
    """Holds at most ``limit`` bytes: the most recent ones."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        if limit <= 0:
            raise ValueError("limit must be positive")
        self.limit = limit
        self.total = 0  # bytes ever written
        self._buf = bytearray()

    def write(self, data: bytes) -> None:
        self.total += len(data)
        self._buf += data
        if len(self._buf) > 2 * self.limit:  # trim in batches: amortised O(1)
            del self._buf[: len(self._buf) - self.limit]

    @property
    def truncated(self) -> bool:
        return self.total > self.limit

    def text(self) -> str:
        """The kept tail, decoded; a partial first line of a cut output is dropped."""
        data = bytes(self._buf[-self.limit :])
        if self.truncated:
            cut = data.find(b"\n")
            if 0 <= cut < len(data) - 1:
                data = data[cut + 1 :]
        return data.decode("utf-8", errors="replace")
