"""Shell quoting for commands shown to a person, who pastes them into bash.

``shlex.quote`` is correct for any string, but it leaves control characters raw inside
single quotes: a newline or ESC would reach the terminal when the command is printed.
Words holding one are written in ANSI-C quoting (``$'a\\nb'``, understood by bash, zsh,
ksh and busybox sh), so the text is both safe to print and exact when pasted.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable

# C0, DEL, C1, and the Unicode line separators and bidi overrides textsafe also escapes.
_NEEDS_ANSI_C = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\udc80-\udcff]"
)


def _ansi_c_char(ch: str) -> str:
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # a raw byte kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    if ch == "\\":
        return "\\\\"
    if ch == "'":
        return "\\'"
    if code < 0x20 or code == 0x7F:
        return f"\\x{code:02x}"
    if _NEEDS_ANSI_C.match(ch):
        # Emit the UTF-8 bytes so the shell rebuilds the exact character.
        return "".join(f"\\x{b:02x}" for b in ch.encode("utf-8"))
    return ch


def quote(word: str) -> str:
    """One shell word, safe to print and exact to paste."""
    if not _NEEDS_ANSI_C.search(word):
        return shlex.quote(word)
    return "$'" + "".join(_ansi_c_char(ch) for ch in word) + "'"


def join(argv: Iterable[str]) -> str:
    """Like ``shlex.join``, with ANSI-C quoting for words holding control characters."""
    return " ".join(quote(word) for word in argv)
