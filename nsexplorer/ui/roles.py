"""What a style means: the roles render.py gives text, and their look in the current theme.

render.py names a role (``BAD``, ``KIND``...), never a colour. Each role is a component
class of the main screen (``nsx--bad``), styled in app.tcss with the theme's variables
(``$text-error``, ``$text-success``...) and an emphasis that says the same without colour
(bold for what is wrong, underline for headings), so NO_COLOR and 16-colour terminals
keep the meaning. :func:`console_theme` turns them into a Rich theme for the app's
console, which resolves the names whenever Textual renders a ``Text``; the app pushes it
again when the theme changes.
"""

from __future__ import annotations

from rich.style import Style
from rich.theme import Theme
from textual.widget import Widget

ROLES = (
    "good",  # as it should be: up, exit 0
    "bad",  # wrong or gone: down, errors, a failed command (bold)
    "warn",  # worth a look: unknown state, an unresolved peer, a hidden path
    "alert",  # needs a look: up without carrier, a cancelled command (bold)
    "heading-warn",  # the heading of a list of warnings (bold underline)
    "kind",  # what a thing is: interface kind, network mode, engine network
    "link",  # the arrows of a wire: → ⇄
    "place",  # where a thing is: the namespace at the other end
    "bridge",  # a bridge (bold)
    "prompt",  # the "$ " before a command (bold)
)

GOOD, BAD, WARN, ALERT, HEADING_WARN, KIND, LINK, PLACE, BRIDGE, PROMPT = (
    f"nsx.{role}" for role in ROLES
)
COMPONENT_CLASSES = frozenset(f"nsx--{role}" for role in ROLES)


def console_theme(screen: Widget | None) -> Theme:
    """The roles as Rich styles, from ``screen``'s component classes (the main screen,
    mounted: its CSS applied), or without any look (before that: nothing fails to
    resolve)."""
    styles: dict[str, Style] = {}
    for role in ROLES:
        look = Style()
        if screen is not None:
            look = screen.get_component_rich_style(f"nsx--{role}", partial=True)
        styles[f"nsx.{role}"] = look
    return Theme(styles, inherit=False)
