"""What reaches the terminal: Textual's screen updates, re-encoded to send only what changed.

Textual writes every dirty chop (the part of a screen line one widget covers) in full, a
full SGR sequence and a reset around every styled segment, a newline between lines. A
table refilled with the same header, a scrollbar or status line refreshed to the same
picture, a Down that changes one address in a row: all of it goes out again. Over SSH on
a slow link those bytes are the lag.

``Wire`` remembers what each chop last showed on the terminal (the way curses keeps its
picture of the physical screen) and, for each update, writes:

- nothing for a chop that shows what it showed;
- only the changed middle of a chop, when every character in it has a width all
  terminals agree on (ASCII, Latin, box drawing...), else the chop whole, as Textual;
- an SGR only where the style changes (only the colour that changed when the
  attributes stay), no reset after every segment, no newline (each run is placed with a
  cursor move).

Its picture is dropped whenever the terminal may no longer show what was written: a new
size, the app resumed after a suspend (a shell ran), a write it did not encode.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from functools import lru_cache

from rich.color import ColorSystem
from rich.style import Style
from textual._compositor import ChopsUpdate, CompositorUpdate, LayoutUpdate
from textual.geometry import Size
from textual.strip import Strip

# A style as the terminal sees it: (attribute codes, foreground codes, background codes,
# hyperlink). Meta (Textual's click data) is not drawn, so it is not part of it.
Pen = tuple[str, str, str, str]
BLANK: Pen = ("", "", "", "")
Cells = tuple[tuple[str, Pen], ...]  # (text, pen) runs of one chop

# Characters whose width (one cell) no terminal disputes: a changed run may start or end
# next to them. Anything else (CJK, emoji, combining marks...) sends its chop whole.
_NARROW = frozenset("…→←↑↓⇄⇆↳↲●○•·▶▼◀▲►▸▾✓✗✔✘")

# The SGR codes of rich's attribute bits (bold, dim, italic, underline, blink, blink2,
# reverse, conceal, strike, underline2, frame, encircle, overline), as Textual writes them.
_ATTRIBUTES = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "21", "51", "52", "53")


class Encoded(CompositorUpdate):
    """An update already turned into terminal data."""

    def __init__(self, data: str) -> None:
        self.data = data

    def render_segments(self, console: object) -> str:
        return self.data


@lru_cache(maxsize=4096)
def pen_of(style: Style | None, system: ColorSystem) -> Pen:
    if style is None:
        return BLANK
    bits = style._attributes & style._set_attributes
    attrs = ";".join(code for n, code in enumerate(_ATTRIBUTES) if bits & (1 << n))
    fg = ";".join(style._color.downgrade(system).get_ansi_codes()) if style._color else ""
    bg = style._bgcolor
    back = ";".join(bg.downgrade(system).get_ansi_codes(False)) if bg else ""
    link = f"id={style._link_id};{style._link}" if style._link else ""
    return (attrs, fg, back, link)


def _narrow(text: str) -> bool:
    if text.isascii():
        return text.isprintable()
    return all(
        ("\x20" <= ch < "\u0300" and ch.isprintable())
        or "\u2500" <= ch <= "\u259f"
        or ch in _NARROW
        for ch in text
    )


# SGR codes that turn attributes off, and what each turns off.
_OFF = {"22": {"1", "2"}, "23": {"3"}, "24": {"4", "21"}, "25": {"5", "6"}, "27": {"7"},
        "28": {"8"}, "29": {"9"}, "54": {"51", "52"}, "55": {"53"}}  # fmt: skip
_OFF_OF = {code: off for off, codes in _OFF.items() for code in codes}
# Attributes that show on a blank cell (a bold or italic space looks like any space).
_SHOWS_ON_BLANK = frozenset({"4", "7", "9", "21", "51", "52", "53"})


@lru_cache(maxsize=256)
def _codes(attrs: str) -> frozenset[str]:
    return frozenset(attrs.split(";")) if attrs else frozenset()


@lru_cache(maxsize=8192)
def _sgr(old: Pen | None, new: Pen) -> str:
    """The shortest SGR taking the terminal from ``old`` (None: unknown) to ``new``:
    a reset and the whole of ``new``, or only what differs (attributes turned off and
    on, the colours that changed), whichever is shorter."""
    if old == new:
        return ""
    full = ";".join(["0", *[code for code in new[:3] if code]])
    if old is None:
        return f"\x1b[{full}m"
    before, after = _codes(old[0]), _codes(new[0])
    offs = sorted({_OFF_OF[code] for code in before - after}, key=int)
    left = before - {code for off in offs for code in _OFF[off]}
    delta = [*offs, *sorted(after - left, key=int)]
    if old[1] != new[1]:
        delta.append(new[1] or "39")
    if old[2] != new[2]:
        delta.append(new[2] or "49")
    codes = ";".join(delta)
    if not codes:
        return ""
    return f"\x1b[{codes if len(codes) <= len(full) else full}m"


def _blank_pen(pen: Pen) -> Pen:
    """How a run of blanks in ``pen`` looks: its background (and link), and any
    attribute that draws on a blank; the foreground and bold, dim, italic do not."""
    shows = _codes(pen[0]) & _SHOWS_ON_BLANK
    if shows:
        return pen
    return ("", "", pen[2], pen[3])


def _looks_blank(pen: Pen, blank: Pen) -> bool:
    """Whether blanks written in ``pen`` look like blanks in ``blank`` (a blank pen)."""
    return pen[2:] == blank[2:] and not blank[0] and not _codes(pen[0]) & _SHOWS_ON_BLANK


# Blanks as an erase: ECH (``ESC[nX``, the cursor stays) then, if more follows, a move
# forward (``ESC[nC``): worth it from this many blanks on; only in a pen whose blanks
# look like their background alone (no reverse, underline, strike, overline).
_BLANKS = " " * 12
_RUN_OF_BLANKS = re.compile(f"{_BLANKS}+")


def _erased(text: str, *, at_end: bool, to_edge: bool) -> tuple[str, int]:
    """``text`` with its long runs of blanks as erases, and how many cells short of the
    end of ``text`` the cursor stays (a last run, erased without moving: ECH, or EL when
    it reaches the edge of the screen)."""
    back = 0

    def erase(found: re.Match[str]) -> str:
        nonlocal back
        n = len(found.group())
        if at_end and found.end() == len(text):
            back = n
            return "\x1b[K" if to_edge else f"\x1b[{n}X"
        return f"\x1b[{n}X\x1b[{n}C"

    return _RUN_OF_BLANKS.sub(erase, text), back


def erases_in_colour() -> bool:
    """Whether $TERM's terminal fills erased cells with the current background colour
    (terminfo ``bce``) and has ECH. xterm, VTE, rxvt, the Linux console: yes; tmux and
    screen (whose entries have no ``bce``): no, blanks are sent as blanks there."""
    try:
        import curses

        with open(os.devnull, "wb") as null:
            curses.setupterm(os.environ.get("TERM") or "dumb", null.fileno())
        return curses.tigetflag("bce") == 1 and bool(curses.tigetstr("ech"))
    except Exception:  # no terminfo entry, no curses: the safe answer
        return False


def _move(x: int, y: int, cursor: tuple[int, int] | None) -> str:
    """To column ``x`` of line ``y``: relative from a known ``cursor`` when shorter."""
    cup = f"\x1b[{y + 1}H" if x == 0 else f"\x1b[{y + 1};{x + 1}H"
    if cursor is None:
        return cup
    cx, cy = cursor
    if (cx, cy) == (x, y):
        return ""
    if cx == x and y > cy:
        rel = "\x1b[B" if y == cy + 1 else f"\x1b[{y - cy}B"
    elif cy == y and x > cx:
        rel = "\x1b[C" if x == cx + 1 else f"\x1b[{x - cx}C"
    else:
        return cup
    return rel if len(rel) < len(cup) else cup


class Wire:
    """The terminal's picture, chop by chop, and the encoder that keeps it true."""

    def __init__(self, *, erase: bool | None = None) -> None:
        """``erase``: send long runs of blanks as an erase (ECH), which fills with the
        current background only on terminals with terminfo's ``bce``; None: ask the
        terminfo entry of $TERM (at the first update)."""
        self._erase = erase
        self._size: Size | None = None
        self._system = ColorSystem.TRUECOLOR
        self._pen: Pen | None = None
        self._cursor: tuple[int, int] | None = None
        # line -> {x: (end, cells)}: what each chop written there last showed
        self._lines: dict[int, dict[int, tuple[int, Cells]]] = {}

    @property
    def erase(self) -> bool:
        if self._erase is None:
            self._erase = erases_in_colour()
        return self._erase

    def forget(self) -> None:
        """The terminal may show anything now: the next update writes all it covers."""
        self._lines = {}

    def encode(self, update: CompositorUpdate, size: Size, system: ColorSystem) -> str | None:
        """Terminal data for ``update`` ("" when nothing changed), or None for a kind of
        update this does not know (the caller writes it as Textual does, and the picture
        is dropped)."""
        self._system = system
        if size != self._size:
            self._size = size
            self.forget()
        if isinstance(update, LayoutUpdate):
            writes = _layout_writes(update)
        elif isinstance(update, ChopsUpdate):
            writes = _chops_writes(update)
        else:
            self.forget()
            return None
        out: list[str] = []
        self._pen = None  # what the terminal has, as far as this update knows
        self._cursor = None
        try:
            for y, x, strip in writes:
                self._write(out, y, x, strip)
        except _NotText:
            self.forget()
            return None
        if self._pen is not None and self._pen != BLANK:
            out.append("\x1b[0m")
        return "".join(out)

    def _write(self, out: list[str], y: int, x: int, strip: Strip) -> None:
        end = x + strip.cell_length
        if end == x:
            return  # an empty chop (a cut where nothing is drawn): nothing to send
        cells = _cells(strip, self._system)
        line = self._lines.setdefault(y, {})
        old = line.get(x)
        if old is not None and old == (end, cells):
            return  # the terminal shows this already
        start, run = x, cells
        if old is not None and old[0] == end:
            start, run = _changed(old[1], cells, x)
        for other in [ox for ox, (oend, _) in line.items() if ox < end and oend > x]:
            del line[other]
        line[x] = (end, cells)
        out.append(_move(start, y, self._cursor))
        width = self._size.width if self._size is not None else 0
        # where the run ends: the chop's end, or (a changed middle: narrow) counted
        run_end = end if run is cells else start + sum(len(text) for text, _ in run)
        at = start  # the column the cursor is at, while it is known
        known = True
        last = len(run) - 1
        for n, (text, new) in enumerate(run):
            pen = self._pen
            if pen is None or text.strip(" ") or not _looks_blank(pen, new):
                out.append(_sgr(pen, new))
                pen = self._pen = new
            # else blanks, in the pen there is: they look the same
            back = 0
            if new[3]:
                out.append(f"\x1b]8;{new[3]}\x1b\\{text}\x1b]8;;\x1b\\")
            elif self.erase and _BLANKS in text and not _codes(pen[0]) & _SHOWS_ON_BLANK:
                data, back = _erased(text, at_end=n == last, to_edge=run_end == width)
                out.append(data)
            else:
                out.append(text)
            known = known and _narrow(text)
            at += len(text) - back
        # past the last column the terminal waits to wrap: the cursor is not known then
        self._cursor = (at, y) if known and at < width else None


class _NotText(Exception):
    """A strip carries control codes: not encoded here."""


def _cells(strip: Strip, system: ColorSystem) -> Cells:
    """The strip's (text, pen) runs, neighbours with one pen merged."""
    runs: list[tuple[str, Pen]] = []
    for text, style, control in strip._segments:
        if control:
            raise _NotText
        if not text:
            continue
        pen = pen_of(style, system)
        if not text.strip(" "):
            pen = _blank_pen(pen)
        if runs and runs[-1][1] == pen:
            runs[-1] = (runs[-1][0] + text, pen)
        else:
            runs.append((text, pen))
    return tuple(runs)


def _changed(old: Cells, new: Cells, x: int) -> tuple[int, Cells]:
    """(column, runs) of the part of ``new`` that differs from ``old`` over the same
    columns; the whole of ``new`` unless every character of both is narrow."""
    if not all(_narrow(text) for text, _ in old) or not all(_narrow(t) for t, _ in new):
        return x, new
    a = [(ch, _blank_pen(pen) if ch == " " else pen) for text, pen in old for ch in text]
    b = [(ch, _blank_pen(pen) if ch == " " else pen) for text, pen in new for ch in text]
    if len(a) != len(b):
        return x, new
    head = 0
    while head < len(b) and a[head] == b[head]:
        head += 1
    tail = len(b)
    while tail > head and a[tail - 1] == b[tail - 1]:
        tail -= 1
    runs: list[tuple[str, Pen]] = []
    for ch, pen in b[head:tail]:
        if runs and runs[-1][1] == pen:
            runs[-1] = (runs[-1][0] + ch, pen)
        else:
            runs.append((ch, pen))
    return x + head, tuple(runs)


def _layout_writes(update: LayoutUpdate) -> Iterator[tuple[int, int, Strip]]:
    for y, line in enumerate(update.strips, update.region.y):
        x = update.region.x
        for strip in line:
            yield y, x, strip
            x += strip.cell_length


def _chops_writes(update: ChopsUpdate) -> Iterator[tuple[int, int, Strip]]:
    """The same pieces ChopsUpdate.render_segments writes, in the same order."""
    chops, chop_ends = update.chops, update.chop_ends
    for y, x1, x2 in update.spans:
        for end, (x, strip) in zip(chop_ends[y], chops[y].items(), strict=False):
            if strip is None or x > x2 or end <= x1:
                continue
            if x2 > x >= x1 and end <= x2:
                yield y, x, strip
            else:
                yield y, x, strip.crop(0, min(end, x2) - x)
