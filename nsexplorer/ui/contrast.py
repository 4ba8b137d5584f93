"""Text that stays legible on any terminal: a line filter run last, after Textual's own
(its NO_COLOR greys, its reduction to 256 or 16 colours), that gives any character
whose foreground would land under 4.5:1 against its background a black or white one.

Under NO_COLOR a magenta or red word became a dark grey on a dark grey (1.3-1.5:1); on a
16-colour terminal (TERM=xterm, screen, linux) the footer's red key letters sat on the
grey the panel became (1.0:1) and the highlighted row was white on cyan (1.6:1). The
meaning never rests on colour alone (bold, underline, reverse carry it); this keeps the
letters readable.
"""

from __future__ import annotations

from functools import lru_cache

from rich.color import Color as RichColor
from rich.color import ColorSystem
from rich.segment import Segment
from rich.style import Style
from rich.terminal_theme import DEFAULT_TERMINAL_THEME
from textual.color import Color
from textual.filter import LineFilter

MINIMUM = 4.5
# xterm's 16 colours: what most terminals (and tmux) show for ANSI 0-15.
XTERM16 = (
    (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0),
    (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
    (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0),
    (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
)  # fmt: skip
WHITE, BLACK = (255, 255, 255), (0, 0, 0)
SYSTEMS = {"standard": ColorSystem.STANDARD, "256": ColorSystem.EIGHT_BIT}


def luminance(rgb: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = rgb
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def ratio(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _decorative(text: str) -> bool:
    """Blanks, box drawing and block elements (borders, guides, scrollbars)."""
    return all(ch == " " or 0x2500 <= ord(ch) <= 0x259F for ch in text)


class Legible(LineFilter):
    """See the module docstring. ``color_system`` is the console's ("truecolor",
    "256", "standard"): colours are judged as the terminal will show them."""

    def __init__(self, color_system: str | None, enabled: bool = True) -> None:
        super().__init__(enabled=enabled)
        self.system = SYSTEMS.get(color_system or "")

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        base = background.rgb
        out = []
        for text, style, control in segments:
            shown = style
            if style is not None and not control and not _decorative(text):
                shown = _legible(style, base, self.system)
            out.append(Segment(text, shown, control))
        return out


@lru_cache(4096)
def _legible(style: Style, background: tuple[int, int, int], system: ColorSystem | None) -> Style:
    fg = _shown(style.color, system) or WHITE
    # No background of its own: the terminal's default shows there (on 16-colour
    # terminals Textual leaves some cells so); assume the usual dark one.
    bg = _shown(style.bgcolor, system) or (BLACK if system is ColorSystem.STANDARD else background)
    if ratio(fg, bg) >= MINIMUM:
        return style
    white, black = ratio(WHITE, bg), ratio(BLACK, bg)
    if system is ColorSystem.STANDARD:  # the terminal's own white and black
        return style + Style(color=RichColor.from_ansi(15 if white >= black else 0))
    rgb = WHITE if white >= black else BLACK
    return style + Style(color=RichColor.from_rgb(*rgb))


def _shown(color: RichColor | None, system: ColorSystem | None) -> tuple[int, int, int] | None:
    """The RGB a terminal of ``system`` shows for ``color`` (None: the default)."""
    if color is None or color.is_default:
        return None
    if system is not None:
        color = color.downgrade(system)
    if system is ColorSystem.STANDARD and color.number is not None and color.number < 16:
        return XTERM16[color.number]
    triplet = color.get_truecolor(DEFAULT_TERMINAL_THEME)
    return (triplet.red, triplet.green, triplet.blue)
