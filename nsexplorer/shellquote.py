"""Shell quoting for words shown to a person, who pastes them into bash: commands, names.

``shlex.quote`` is correct for any string, but it leaves control characters raw inside
single quotes: a newline or ESC would reach the terminal when the command is printed.
Words holding one are written in ANSI-C quoting (``$'a\\nb'``, understood by bash, zsh,
ksh and busybox sh), so the text is both safe to print and exact when pasted.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable

from nsexplorer.textsafe import is_visible


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
    if not is_visible(ch):  # exactly what textsafe would escape
        # Emit the UTF-8 bytes so the shell rebuilds the exact character.
        return "".join(f"\\x{b:02x}" for b in ch.encode("utf-8", "surrogatepass"))
    return ch


def quote(word: str) -> str:
    """One shell word, safe to print and exact to paste."""
    if is_visible(word):
        return shlex.quote(word)
    return "$'" + "".join(_ansi_c_char(ch) for ch in word) + "'"


def join(argv: Iterable[str]) -> str:
    """Like ``shlex.join``, with ANSI-C quoting for words holding control characters."""
    return " ".join(quote(word) for word in argv)


_QUOTED_WHEN_IN = frozenset("\\'\"")  # a bare name would read as an escape or a quote


def shown(text: str) -> str:
    """``text`` as a message shows it: bare when plain, else quoted as the shell takes
    it back, every invisible character escaped (``'web '``, ``$'\\x1b[31m'``); a
    backslash quoted too, so a name spelled ``'a\\x1b'`` never reads as ``$'a\\x1b'``."""
    if text and text == text.strip() and text.isprintable() and _QUOTED_WHEN_IN.isdisjoint(text):
        return text
    return quote(text)  # 'web ' or $'\x1b[31m': what the shell needs, pasted as is
