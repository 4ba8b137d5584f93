"""Modal dialogs: a prompt with history, a choice, a confirmation, and the help page.

Every title, note and choice is a ``Text`` made by ``ui.render`` (escaped, never
markup); the prompt's field is a SafeInput, and it is never pre-filled with a raw name:
picking one of a namespace's names is a ChoiceScreen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from nsexplorer.ui.roles import KIND
from nsexplorer.ui.screens.once import OnceModal
from nsexplorer.ui.widgets.inputs import SafeInput


class PromptScreen(OnceModal[str | None]):
    """One line of input; up/down walk the history. Dismisses with the text or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("up", "history(-1)", "Previous", show=False),
        Binding("down", "history(1)", "Next", show=False),
    ]

    def __init__(
        self,
        title: Text,
        *,
        history: Sequence[str] = (),
        placeholder: str = "",
        note: Text | None = None,
        value: str = "",
    ) -> None:
        super().__init__()
        self._title = title
        self._value = value  # what the field starts with (editable)
        self._history = list(history)
        self._pos = len(self._history)
        self._placeholder = placeholder
        self._note = note

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="prompt"):
            yield Static(self._title, id="dialog-title")
            yield SafeInput(self._value, placeholder=self._placeholder, id="prompt-input")
            if self._note is not None:
                yield Static(self._note, id="dialog-note")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_history(self, step: int) -> None:
        if not self._history:
            return
        self._pos = max(0, min(len(self._history), self._pos + step))
        value = self._history[self._pos] if self._pos < len(self._history) else ""
        field = self.query_one(Input)
        field.value = value
        field.cursor_position = len(value)

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)


class ChoiceScreen(OnceModal[int | None]):
    """Pick one of several (already escaped) choices; dismisses with its index or None.

    For actions on a raw name: the person sees ``visible(name)``, the caller acts on
    the name at the index chosen, never on text that went through a field.
    """

    DEFAULT_CSS = """
    ChoiceScreen {
        align: center middle;
        background: $background 60%;
    }
    #choices {
        height: auto;
        max-height: 16;
        border: none;
        background: $boost;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: Text, choices: Sequence[Text], note: Text | None = None) -> None:
        super().__init__()
        self._title = title
        self._choices = list(choices)
        self._note = note

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="choice"):
            yield Static(self._title, id="dialog-title")
            yield OptionList(
                *(Option(text, id=str(n)) for n, text in enumerate(self._choices)), id="choices"
            )
            if self._note is not None:
                yield Static(self._note, id="dialog-note")

    def on_mount(self) -> None:
        choices = self.query_one(OptionList)
        choices.highlighted = 0
        choices.focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(OptionList.OptionSelected)
    def selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option_index)


class ConfirmScreen(OnceModal[bool]):
    """Yes/no for a change; the exact equivalent command is shown."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: Text, command: Text) -> None:
        super().__init__()
        self._question = question
        self._command = command

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="confirm"):
            yield Static(self._question, id="dialog-title")
            yield Static(self._command, id="dialog-command")
            yield Static(Text("y: yes   n / escape: no", style="dim"), id="dialog-note")
            with Horizontal(id="dialog-buttons"):
                yield Button("Yes (y)", id="yes", variant="warning", compact=True)
                yield Button("No (n)", id="no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class HelpScreen(OnceModal[None]):
    """Every key, and where the audit log is."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close"),
        Binding("j", "scroll(1)", show=False),
        Binding("k", "scroll(-1)", show=False),
    ]

    def __init__(self, keys: Sequence[tuple[str, str]], footer: Text) -> None:
        super().__init__()
        self._keys = keys
        self._footer = footer

    def compose(self) -> ComposeResult:
        text = Text(end="")
        text.append("Keys\n", style="bold underline")
        for key, what in self._keys:
            text.append(f"  {key:<16}", style=KIND)
            text.append(f"{what}\n")
        text.append("\n")
        text.append_text(self._footer)
        with VerticalScroll(id="help"):
            yield Static(text, id="help-body")

    def action_close(self) -> None:
        self.dismiss(None)

    def action_scroll(self, step: int) -> None:
        self.query_one("#help", VerticalScroll).scroll_relative(y=step, animate=False)
