"""The sidebar's filter line, edited key by key in the order keys arrive.

It is not a focusable Input on purpose: an Input edits its value in its own message
queue, so keys typed right after Enter (a paste, a fast typist over a laggy link) were
acted on while the filter still showed an intermediate match. Here the main screen
feeds every key to :meth:`FilterBar.edit` at the moment the app receives it, so the
sidebar and the selection are final before the next key is looked at.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from nsexplorer.ui.render import safe

PLACEHOLDER = "/ filter: name, ip, mac…"
MAX_LENGTH = 256

# What a key does to the filter while it is being edited.
DONE = "done"  # stop editing, keep the filter (the key is used up)
CLEAR = "clear"  # stop editing and clear the filter
EDITED = "edited"  # the text changed
IGNORED = "ignored"  # a key the filter does not use: stop editing, handle it as usual


class FilterBar(Widget):
    """One line: ``/ query▏`` while editing, the query (or a placeholder) otherwise."""

    DEFAULT_CSS = """
    FilterBar { height: 1; }
    """
    COMPONENT_CLASSES = {"filterbar--placeholder", "filterbar--cursor"}

    value: reactive[str] = reactive("")
    editing: reactive[bool] = reactive(False)
    # Opened again over a filter: its text is selected, the first key typed replaces
    # it (QA: `/` after a kept filter appended to it, and matched nothing).
    replacing: reactive[bool] = reactive(False)

    class Clicked(Message):
        """The filter line was clicked: start editing."""

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        if not self.value and not self.editing:
            style = self.get_component_rich_style("filterbar--placeholder", partial=True)
            text.append(PLACEHOLDER, style=style)
            return text
        text.append("/ ")
        # escapes stand out as everywhere (a pasted ESC is not the four characters \x1b)
        shown = safe(self.value, "reverse" if self.replacing and self.editing else "")
        room = self.size.width - 4
        if room > 0 and shown.cell_len > room:
            shown = Text("…").append_text(shown[-(room - 1) :])  # the end is being typed
        text.append_text(shown)
        if self.editing:
            text.append(" ", style=self.get_component_rich_style("filterbar--cursor"))
        return text

    def watch_editing(self, editing: bool) -> None:
        self.set_class(editing, "-editing")
        if not editing:
            self.replacing = False

    def on_click(self, event: events.Click) -> None:
        self.post_message(self.Clicked())

    def start(self) -> None:
        """Start editing; a filter already there is selected, to be replaced or kept."""
        self.replacing = bool(self.value)
        self.editing = True

    def edit(self, key: str, character: str | None) -> str:
        """Apply one key; returns DONE, CLEAR, EDITED or IGNORED."""
        if self.replacing:
            self.replacing = False
            if key in ("right", "end"):  # keep the text, go on typing after it
                return EDITED
            if key in ("backspace", "ctrl+u", "ctrl+w"):
                self.value = ""
                return EDITED
            if character is not None and character.isprintable() and len(character) == 1:
                self.value = ""
        if key in ("enter", "down", "tab"):
            return DONE if key != "tab" else IGNORED
        if key == "escape":
            return CLEAR
        if key == "backspace":
            self.value = self.value[:-1]
            return EDITED
        if key == "ctrl+u":
            self.value = ""
            return EDITED
        if key == "ctrl+w":
            self.value = self.value.rstrip().rpartition(" ")[0] + (
                " " if " " in self.value.rstrip() else ""
            )
            return EDITED
        if character is not None and character.isprintable() and len(character) == 1:
            self.insert(character)
            return EDITED
        return IGNORED

    def insert(self, text: str) -> None:
        """Append typed or pasted text, line breaks and tabs dropped. Other control
        characters are kept as they are, shown escaped (``\\x1b``): a pasted name that
        holds an ESC must find that name, not another one spelled with a backslash that
        reads the same (the matcher takes the typed ``\\x1b`` for either)."""
        text = text[: 2 * MAX_LENGTH]  # what is kept at most: a huge paste costs nothing
        clean = "".join(ch for ch in text if ch not in "\r\n\t")
        if self.replacing:  # a paste over the selected filter replaces it
            self.replacing, self.value = False, ""
        self.value = (self.value + clean)[:MAX_LENGTH]
