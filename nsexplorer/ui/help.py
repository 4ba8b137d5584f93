"""The help page and the README's key table, generated from the live bindings (one key
table: the main screen's BINDINGS, each with its longer ``tooltip``)."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.app import App
from textual.binding import Binding
from textual.geometry import Size
from textual.screen import Screen

from nsexplorer.textsafe import visible

# Keys that belong to widgets rather than the screen, said once here.
WIDGET_KEYS: tuple[tuple[str, str], ...] = (
    ("↑ ↓ j k", "move"),
    ("← →", "a column sideways"),
    ("home end", "first / last row"),
    ("enter", "into pane; follow veth"),
    ("^p", "palette: go to a netns"),
)
CLOSE_NOTE = "escape, q or ? closes this help"


def key_rows(app: App[object], bindings: Iterable[Binding]) -> list[tuple[str, str]]:
    """(keys, what) per help text, in binding order: keys with the same text (one action
    bound to several keys, next/previous pairs, the pane numbers) share a row."""
    rows: dict[str, list[str]] = {}
    for binding in bindings:
        keys = rows.setdefault(binding.tooltip or binding.description, [])
        display = app.get_key_display(binding)
        if display not in keys:
            keys.append(display)
    out = list(WIDGET_KEYS)
    for what, keys in rows.items():
        numbers = len(keys) > 2 and all(k.isdigit() for k in keys)
        out.append((f"{keys[0]}…{keys[-1]}" if numbers else " / ".join(keys), what))
    return out


def _cell(key: str, what: str, width: int) -> Text:
    text = Text(end="")
    text.append(f"{key:<10} ", style="bold")
    text.append(what)
    text.truncate(width, overflow="ellipsis", pad=True)
    return text


def help_text(screen: Screen[None], audit_log: str, size: Size) -> Text:
    """Every key in two columns when the screen is wide enough, how to close, and where
    the audit log is; sized to fit 80x24."""
    rows = key_rows(screen.app, Binding.make_bindings(type(screen).BINDINGS))
    inner = max(40, min(96, int(size.width * 0.9)) - 4)
    columns = 2 if inner >= 60 else 1
    width = inner // columns - 1
    text = Text(end="")
    text.append(f"{CLOSE_NOTE}\n", style="bold reverse")
    per_column = -(-len(rows) // columns)
    for line in range(per_column):
        for col in range(columns):
            n = col * per_column + line
            if n < len(rows):
                if col:
                    text.append(" ")
                text.append_text(_cell(*rows[n], width))
        text.append("\n")
    if audit_log:
        text.append("\naudit log: ", style="bold")
        text.append(visible(audit_log))  # no newline after it: a blank line at 80x24
    return text


def readme_table(app: App[object], bindings: Iterable[Binding]) -> str:
    """The README's key table (markdown), from the same rows as the help."""
    lines = ["| key | what it does |", "|---|---|"]
    for keys, what in key_rows(app, bindings):
        lines.append(f"| `{keys}` | {what} |")
    return "\n".join(lines)
