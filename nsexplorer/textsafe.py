"""Making untrusted strings safe to print: control characters shown escaped.

Names of interfaces, aliases, netns names, process names and labels are chosen by
whoever created them; they may hold ESC, BEL or newlines. Nothing from them may reach a
terminal raw.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape_char(match: re.Match[str]) -> str:
    ch = match.group(0)
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with every control or bidi-override character written as ``\\xNN``.

    A literal backslash stays as is; the output is for eyes, not for round trips
    (the JSON snapshot keeps the exact bytes).
    """
    return _CONTROL.sub(_escape_char, text)
