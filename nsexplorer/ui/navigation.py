"""Where the user has been: back and forward along peer jumps and palette go-tos."""

from __future__ import annotations

from dataclasses import dataclass

HISTORY_LIMIT = 100


@dataclass(frozen=True, slots=True)
class Place:
    """A namespace, the pane shown, and the interface row highlighted there (if any)."""

    inode: int
    pane: str
    ifindex: int | None = None


class History:
    """A browser's history: ``visit`` records where you left, ``back``/``forward`` walk it.

    Each walk takes the current place so that the opposite walk returns to it.
    """

    def __init__(self, limit: int = HISTORY_LIMIT) -> None:
        self.limit = limit
        self._back: list[Place] = []
        self._forward: list[Place] = []

    def visit(self, leaving: Place) -> None:
        """About to go somewhere new from ``leaving``: it becomes the way back."""
        if self._back and self._back[-1] == leaving:
            return
        self._back.append(leaving)
        del self._back[: -self.limit]
        self._forward.clear()

    def back(self, current: Place | None) -> Place | None:
        if not self._back:
            return None
        if current is not None:
            self._forward.append(current)
        return self._back.pop()

    def forward(self, current: Place | None) -> Place | None:
        if not self._forward:
            return None
        if current is not None:
            self._back.append(current)
        return self._forward.pop()

    def forget(self, inode: int) -> None:
        """Drop every place in a namespace that is no longer listed."""
        self._back = [p for p in self._back if p.inode != inode]
        self._forward = [p for p in self._forward if p.inode != inode]

    @property
    def can_go_back(self) -> bool:
        return bool(self._back)

    @property
    def can_go_forward(self) -> bool:
        return bool(self._forward)
