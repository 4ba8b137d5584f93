"""Screens that close once, however many keys arrive in one read.

Two Enters in one read (a laggy link, a terminal without bracketed paste) reach a
prompt's handler twice: a second ``dismiss`` ran the caller's callback again and then
popped the screen below, or, with nothing below, ended the app (ScreenStackError).
"""

from __future__ import annotations

from typing import TypeVar

from textual.await_complete import AwaitComplete
from textual.screen import ModalScreen, Screen

ResultT = TypeVar("ResultT")


class OnceScreen(Screen[ResultT]):
    """A screen whose first ``dismiss`` is its only one; keys after it are dropped."""

    _dismissed = False

    def dismiss(self, result: ResultT | None = None) -> AwaitComplete:
        if self._dismissed:
            return AwaitComplete()
        self._dismissed = True
        return super().dismiss(result)


class OnceModal(OnceScreen[ResultT], ModalScreen[ResultT]):
    """A modal dialog that closes once."""
