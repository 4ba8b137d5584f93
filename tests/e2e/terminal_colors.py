"""What a terminal shows, read back from `tmux capture-pane -p -e`: each cell's
character, foreground and background as RGB (xterm's palette for the 16 ANSI colours),
and the WCAG contrast ratio between them."""

from __future__ import annotations

import re
from dataclasses import dataclass

XTERM16 = (
    (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0),
    (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
    (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0),
    (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
)  # fmt: skip
DEFAULT_FG, DEFAULT_BG = XTERM16[7], XTERM16[0]  # tmux's defaults on a dark terminal
SGR = re.compile(r"\x1b\[([0-9;:]*)m")
RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Cell:
    char: str
    fg: RGB
    bg: RGB

    @property
    def contrast(self) -> float:
        return ratio(self.fg, self.bg)

    @property
    def is_text(self) -> bool:
        """Not blank, not a border, guide or scrollbar (box drawing, block elements)."""
        return bool(self.char.strip()) and not 0x2500 <= ord(self.char) <= 0x259F


def colour_256(n: int) -> RGB:
    if n < 16:
        return XTERM16[n]
    if n >= 232:
        v = 8 + (n - 232) * 10
        return (v, v, v)
    n -= 16
    steps = [0 if x == 0 else 55 + 40 * x for x in (n // 36, n // 6 % 6, n % 6)]
    return (steps[0], steps[1], steps[2])


def luminance(rgb: RGB) -> float:
    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(rgb[0]) + 0.7152 * channel(rgb[1]) + 0.0722 * channel(rgb[2])


def ratio(a: RGB, b: RGB) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


class _Pen:
    """The SGR state, carried across lines as capture-pane does."""

    def __init__(self) -> None:
        self.fg: RGB | None = None
        self.bg: RGB | None = None
        self.reverse = False

    def cell(self, char: str) -> Cell:
        fg, bg = self.fg or DEFAULT_FG, self.bg or DEFAULT_BG
        return Cell(char, bg, fg) if self.reverse else Cell(char, fg, bg)

    def apply(self, params: str) -> None:
        words = [int(w or 0) for w in params.replace(":", ";").split(";")] if params else [0]
        i = 0
        while i < len(words):
            p = words[i]
            if p == 0:
                self.fg = self.bg = None
                self.reverse = False
            elif p == 7:
                self.reverse = True
            elif p == 27:
                self.reverse = False
            elif 30 <= p <= 37 or 90 <= p <= 97:
                self.fg = XTERM16[p - 30 if p < 90 else p - 90 + 8]
            elif 40 <= p <= 47 or 100 <= p <= 107:
                self.bg = XTERM16[p - 40 if p < 100 else p - 100 + 8]
            elif p == 39:
                self.fg = None
            elif p == 49:
                self.bg = None
            elif p in (38, 48):
                if words[i + 1] == 5:
                    colour, i = colour_256(words[i + 2]), i + 2
                else:
                    colour, i = (words[i + 2], words[i + 3], words[i + 4]), i + 4
                if p == 38:
                    self.fg = colour
                else:
                    self.bg = colour
            i += 1


def cells(capture: str) -> list[list[Cell]]:
    pen = _Pen()
    rows = []
    for line in capture.split("\n"):
        row: list[Cell] = []
        pos = 0
        for match in SGR.finditer(line):
            row += [pen.cell(ch) for ch in line[pos : match.start()]]
            pen.apply(match.group(1))
            pos = match.end()
        row += [pen.cell(ch) for ch in line[pos:]]
        rows.append(row)
    return rows


def illegible(capture: str, minimum: float = 4.5) -> list[str]:
    """Every run of text under ``minimum``:1, as 'row N: ratio R: text'."""
    out = []
    for y, row in enumerate(cells(capture)):
        low = [c for c in row if c.is_text and c.contrast < minimum]
        if low:
            text = "".join(c.char for c in row)
            out.append(f"row {y}: {min(c.contrast for c in low):.1f}:1 on {low[0].char!r}: {text}")
    return out
