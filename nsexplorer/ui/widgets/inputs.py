"""An Input that can never draw a control character.

Textual's Input renders its value as it is: an ESC in it reaches the terminal (a pasted
title sequence retitles it). Every Input of the app is a SafeInput: whatever enters the
value (typed, pasted, set by code) is made visible first (``\\x1b``), so what the field
shows is exactly what it submits. Actions that need a raw name never go through an
Input: they offer a list of visible choices and act on the name behind the one chosen
(``ChoiceScreen``).
"""

from __future__ import annotations

from textual.widgets import Input

from nsexplorer.textsafe import visible


class SafeInput(Input):
    def replace(self, text: str, start: int, end: int) -> None:
        # Escaped before insertion, so the cursor lands after the escape, not inside it.
        super().replace(visible(text), start, end)

    def validate_value(self, value: str) -> str:
        """Textual's hook for every assignment to ``value`` (the constructor's too)."""
        return visible(value)
