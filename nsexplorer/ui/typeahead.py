"""Keys typed ahead of a screen that is still opening go to that screen, in order.

Over a laggy link or a paste, ``x`` and the command after it arrive in one read. Textual
forwards each key to the focused widget's queue as it arrives, so the keys after ``x``
were queued for the sidebar before ``x`` opened its prompt: they were lost, or ran as
the main screen's keys (``c`` copies, ``s`` opens a shell, ``/`` filters), and the
prompt got the rest (``ho hello world`` ran). So the app runs the main screen's key
bindings as each key arrives (``run_binding_now``: what Textual would do when the key
bubbled back up, minus the queue in between), and a screen pushed by one of them is
"opening" until its first focus lands: keys arriving meanwhile are held and replayed to
it, then, in arrival order. When such a key is refused instead (nothing selected, a
command still running), the rest of its burst is dropped: it was typed for a prompt that
never opened, and its letters must not act as keys. "The rest of its burst" is every key
that arrived before the refusal was made: typed blind, before anyone could see it (a
paste arrives in one read, so all of it), and the typing that goes on after it: the keys
of a command line (characters, Enter, Backspace; never ctrl+c, arrows or escape) within
TYPING_GAP of the refusal or of the key dropped before it
(a person types on for a moment before the refusal is read: `x`, then `ip -br link`
0.3 s later, marked namespaces with its spaces). A key after a pause is a key again.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from textual import events
from textual._time import get_time
from textual.screen import Screen

HOLD_LIMIT = 2.0  # seconds: a screen that never takes focus gets its keys anyway
TYPING_GAP = 0.5  # seconds: a key this soon after the last one dropped was typed blind too
POLL = 0.01  # seconds between looks at the opening screen


class TypeAhead:
    """Holds keys while the top screen is opening; ``replay`` gets them back in order."""

    def __init__(
        self,
        top: Callable[[], Screen[Any] | None],
        replay: Callable[[events.Key], Awaitable[None]],
        set_timer: Callable[[float, Callable[[], Awaitable[None]]], object],
        on_dropped: Callable[[], None],
    ) -> None:
        self._top = top
        self._replay = replay
        self._set_timer = set_timer
        self._on_dropped = on_dropped
        self._refused_at: float | None = None  # keys that arrived before this are dropped
        self._last = 0.0  # the refusal's time, or the last key dropped after it
        self._dropped = False
        self._held: list[events.Key] = []
        self._since: float | None = None
        # screens that have been ready once: a later loss of focus never holds keys
        self._ready: weakref.WeakSet[Screen[Any]] = weakref.WeakSet()
        self._own_rules: weakref.WeakSet[Screen[Any]] = weakref.WeakSet()

    def always_ready(self, screen: Screen[Any]) -> None:
        """``screen`` takes keys as they come once it is mounted, focus or not (the main
        screen: its own rules apply); keys before that wait for it, however long (its
        bindings need its widgets: a key in the first half second ended the app)."""
        self._own_rules.add(screen)

    def drop_rest_of_burst(self) -> None:
        """The key being handled was refused: drop the keys that came in with it."""
        self._refused_at, self._dropped = get_time(), False
        self._last = self._refused_at  # the typing that goes on is measured from here

    def hold(self, key: events.Key) -> bool:
        """True when ``key`` is held for the opening screen (or behind keys held), or
        dropped as the rest of a refused key's burst."""
        if self._refused_at is not None:
            blind = key.time <= self._refused_at
            typing_on = _typed(key) and key.time - self._last <= TYPING_GAP
            if blind or typing_on:
                if not self._dropped:
                    self._on_dropped()  # once a burst
                self._dropped = True
                self._last = max(self._last, key.time)
                return True
            self._refused_at, self._dropped = None, False
        if not self._held and self._is_ready():
            return False
        self._held.append(key)
        if self._since is None:
            self._since = get_time()
            self._set_timer(POLL, self._release)
        return True

    @property
    def holding(self) -> int:
        return len(self._held)

    def _is_ready(self) -> bool:
        screen = self._top()
        if screen is None or screen in self._ready:
            return True
        # mounted and focused, or mounted with nothing to focus (help)
        ready = screen.is_mounted and (
            screen in self._own_rules or screen.focused is not None or not screen.focus_chain
        )
        if ready:
            self._ready.add(screen)
        return ready

    async def _release(self) -> None:
        since = self._since if self._since is not None else get_time()
        if not self._is_ready() and (
            get_time() - since < HOLD_LIMIT or self._top() in self._own_rules
        ):
            self._set_timer(POLL, self._release)
            return
        screen = self._top()
        if screen is not None:
            self._ready.add(screen)
        held, self._held, self._since = self._held, [], None
        for key in held:
            await self._replay(key)  # may hold again: a key that opens the next screen


def _typed(key: events.Key) -> bool:
    """A key of a command line being typed (what goes on after a refused `x`)."""
    return key.is_printable or key.key in ("enter", "backspace")
