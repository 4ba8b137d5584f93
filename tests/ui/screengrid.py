"""A small terminal for tests: plays what an app writes (cursor moves, SGR, text, ECH,
EL, cursor down and forward, newlines) onto a grid of cells, to compare what two encodings show.

Strict: any escape sequence it does not know fails the test, so an encoder cannot hide
a sequence the comparison would not see.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rich.cells import cell_len

Pen = tuple[frozenset[str], str, str]  # attributes, foreground codes, background codes
PLAIN: Pen = (frozenset(), "", "")
# What each "off" code turns off (22: bold and dim, 24: both underlines...).
OFF = {"22": {"1", "2"}, "23": {"3"}, "24": {"4", "21"}, "25": {"5", "6"}, "27": {"7"},
       "28": {"8"}, "29": {"9"}, "54": {"51", "52"}, "55": {"53"}}  # fmt: skip
# Attributes that show on a blank cell (a bold or italic space looks like any space).
SHOWS_ON_BLANK = frozenset({"4", "7", "9", "21", "51", "52", "53"})

_TOKEN = re.compile(
    r"\x1b\[(?P<params>[0-9;:?]*)(?P<final>[A-Za-z])"  # CSI
    r"|\x1b\]8;[^\x1b]*\x1b\\"  # an OSC 8 hyperlink edge
    r"|(?P<text>[^\x1b]+)"
    r"|(?P<other>\x1b.?)",
    re.DOTALL,
)


@dataclass
class Grid:
    width: int
    height: int
    x: int = 0
    y: int = 0
    pen: Pen = PLAIN
    cells: list[list[tuple[str, Pen]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.cells = [[(" ", PLAIN)] * self.width for _ in range(self.height)]

    def feed(self, data: str) -> None:
        for m in _TOKEN.finditer(data):
            if m.group("other") is not None:
                raise AssertionError(f"unknown escape {m.group('other')!r}")
            if m.group("text") is not None:
                self._text(m.group("text"))
            elif m.group("final") is not None:
                self._csi(m.group("params"), m.group("final"))

    def _csi(self, params: str, final: str) -> None:
        numbers = [int(p) if p else 0 for p in params.split(";")] if params else []
        if final == "H":
            row = numbers[0] if numbers else 1
            col = numbers[1] if len(numbers) > 1 else 1
            self.y, self.x = max(row, 1) - 1, max(col, 1) - 1
        elif final == "m":
            self._sgr(params)
        elif final == "X":  # ECH: blanks in the current background, the cursor stays
            n = max(numbers[0] if numbers else 1, 1)
            for x in range(self.x, min(self.x + n, self.width)):
                self.cells[self.y][x] = (" ", (frozenset(), "", self.pen[2]))
        elif final == "K" and not numbers:  # EL: to the end of the line, likewise
            for x in range(self.x, self.width):
                self.cells[self.y][x] = (" ", (frozenset(), "", self.pen[2]))
        elif final == "B":
            self.y = min(self.y + max(numbers[0] if numbers else 1, 1), self.height - 1)
        elif final == "C":
            self.x = min(self.x + max(numbers[0] if numbers else 1, 1), self.width - 1)
        else:
            raise AssertionError(f"unknown CSI {params!r}{final}")

    def _sgr(self, params: str) -> None:
        attrs, fg, bg = set(self.pen[0]), self.pen[1], self.pen[2]
        codes = params.split(";") if params else ["0"]
        n = 0
        while n < len(codes):
            code = codes[n] or "0"
            if code == "0":
                attrs, fg, bg = set(), "", ""
            elif code in ("38", "48"):
                width = 3 if codes[n + 1] == "5" else 5
                value = ";".join(codes[n : n + width])
                fg, bg = (value, bg) if code == "38" else (fg, value)
                n += width - 1
            elif code == "39":
                fg = ""
            elif code == "49":
                bg = ""
            elif code.isdigit() and (30 <= int(code) <= 37 or 90 <= int(code) <= 97):
                fg = code
            elif code.isdigit() and (40 <= int(code) <= 47 or 100 <= int(code) <= 107):
                bg = code
            elif code in ("1", "2", "3", "4", "5", "6", "7", "8", "9", "21", "51", "52", "53"):
                attrs.add(code)
            elif code in OFF:
                attrs -= OFF[code]
            else:
                raise AssertionError(f"unknown SGR {code!r} in {params!r}")
            n += 1
        self.pen = (frozenset(attrs), fg, bg)

    def _text(self, text: str) -> None:
        for ch in text:
            if ch == "\n":  # the pty turns it into CR LF
                self.x, self.y = 0, min(self.y + 1, self.height - 1)
                continue
            if ch == "\r":
                self.x = 0
                continue
            width = cell_len(ch)
            if width == 0 and self.x > 0:  # joins the character before it
                before, pen = self.cells[self.y][self.x - 1]
                self.cells[self.y][self.x - 1] = (before + ch, pen)
                continue
            if self.x < self.width:
                self.cells[self.y][self.x] = (ch, self.pen)
                if width == 2 and self.x + 1 < self.width:
                    self.cells[self.y][self.x + 1] = ("", self.pen)
            self.x += max(width, 1)

    def shown(self) -> list[list[tuple[str, Pen]]]:
        """The cells as a person sees them: a blank is its background (and any attribute
        that draws on a blank), whatever its foreground."""
        out = []
        for row in self.cells:
            line = []
            for ch, (attrs, fg, bg) in row:
                if ch == " " and not attrs & SHOWS_ON_BLANK:
                    line.append((ch, (frozenset(), "", bg)))
                elif ch == " ":
                    line.append((ch, (attrs & SHOWS_ON_BLANK, fg, bg)))
                else:
                    line.append((ch, (attrs, fg, bg)))
            out.append(line)
        return out

    def text(self) -> str:
        return "\n".join("".join(ch for ch, _ in row) for row in self.cells)
