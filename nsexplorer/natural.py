"""The natural order of labels, one home for the sidebar, the CLI and the matcher."""

from __future__ import annotations

import re

# ASCII digits only, and at most 18 at a time: int() of a longer run is refused past
# 4,300 digits (a Docker container name has no length limit), and a run of other
# scripts' digits would compare oddly with ours.
_DIGITS = re.compile(r"([0-9]{1,18})", re.ASCII)


def natural_key(text: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key that orders digit runs by value, case aside: n1, n2, N10 (not n1, N10,
    n2). Never raises, whatever ``text`` holds."""
    parts = _DIGITS.split(text)
    return tuple(
        (0, int(p), "") if i % 2 else (1, 0, p.casefold()) for i, p in enumerate(parts) if p
    )
