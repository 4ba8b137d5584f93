"""Making untrusted strings safe to print: the one home for terminal-safe text.

Names of interfaces, aliases, netns names, process names and labels are chosen by
whoever created them; they may hold ESC, BEL, newlines, bidi overrides, or bytes that
are not UTF-8 (``os.fsdecode`` keeps those as lone surrogates U+DC80..U+DCFF). Nothing
from them may reach a terminal raw: every string shown to a person (CLI text output and
every TUI widget) goes through :func:`visible` first.

The rule is Python's own ``str.isprintable()``: a character is shown as it is when it is
printable, otherwise as an escape. That covers C0, DEL and C1 controls (Cc), format
characters such as bidi overrides and isolates, zero-width characters and soft hyphens
(Cf), line and paragraph separators (Zl, Zp), spaces other than U+0020 (Zs: a
no-break space looks like a space but is not one), surrogates (Cs), private-use (Co)
and unassigned (Cn) code points. The output depends on nothing else (not the locale),
so it is the same under C, POSIX, C.UTF-8 and en_US.UTF-8.

Escapes: a raw byte kept by ``surrogateescape`` is ``\\xNN`` of that byte; other code
points up to U+00FF are ``\\xNN``, up to U+FFFF ``\\uNNNN``, beyond ``\\UNNNNNNNN``. A
literal backslash stays as is: the output is for eyes, not for round trips (the JSON
snapshot keeps the exact bytes). Where the reader must tell an escape from the same
characters typed literally (a name ``a\\x1b`` beside one holding a real ESC), the TUI
shows the escapes apart (:func:`visible_runs`, in reverse video, as ``less`` does).
"""

from __future__ import annotations

_SURROGATE_ESCAPE_FIRST = 0xDC80
_SURROGATE_ESCAPE_LAST = 0xDCFF


def _escape(ch: str) -> str:
    code = ord(ch)
    if _SURROGATE_ESCAPE_FIRST <= code <= _SURROGATE_ESCAPE_LAST:
        return f"\\x{code - 0xDC00:02x}"  # the original byte, 0x80..0xff
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def is_visible(text: str) -> bool:
    """True when ``text`` can be shown as it is (``visible(text) == text``)."""
    return text.isprintable()


def visible(text: str) -> str:
    """``text`` with every character that is not printable written as an escape.

    Never raises; the result holds printable characters only (so no surrogate: it can
    always be encoded as UTF-8, and as ASCII with ``errors="backslashreplace"``).
    """
    if text.isprintable():  # the common case, at C speed
        return text
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)


def visible_runs(text: str) -> list[tuple[str, bool]]:
    """``visible(text)`` cut into runs, each with True when it is escapes (the joined
    runs are ``visible(text)``); a printable ``text`` is one run, [] when empty."""
    if text.isprintable():
        return [(text, False)] if text else []
    runs: list[tuple[str, bool]] = []
    start = 0
    for i, ch in enumerate(text):
        if ch.isprintable():
            continue
        if start < i:
            runs.append((text[start:i], False))
        shown = _escape(ch)
        if runs and runs[-1][1] and start == i:
            runs[-1] = (runs[-1][0] + shown, True)  # one run for escapes side by side
        else:
            runs.append((shown, True))
        start = i + 1
    if start < len(text):
        runs.append((text[start:], False))
    return runs


def counted(n: int, noun: str) -> str:
    """'1 namespace', '3 namespaces': a count in the words a person reads (``noun``
    takes a plain "s")."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
