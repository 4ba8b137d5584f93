"""The run prompt: names the namespace it will run in, and says how the line is read
(an argv, or with a leading ``!`` a shell line for ``sh -c``) while it is typed."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.widgets import Input, Static

from nsexplorer.model import Container, NetNamespace
from nsexplorer.ui import render
from nsexplorer.ui.roles import ALERT
from nsexplorer.ui.screens.dialogs import PromptScreen

SHELL_PREFIX = "!"


def shell_words(line: str) -> list[str]:
    """The argv a run-prompt line means: ``!LINE`` is ``sh -c LINE`` (pipes, ``;``,
    redirections work); anything else is split into words like a shell would, and run
    directly (no shell: ``;`` and ``|`` are plain arguments)."""
    text = line.strip()
    if text.startswith(SHELL_PREFIX):
        body = text[len(SHELL_PREFIX) :].strip()
        return ["sh", "-c", body] if body else []
    return shlex.split(text)


def mode_text(line: str) -> Text:
    if line.strip().startswith(SHELL_PREFIX):
        text = render.plain("shell mode: ", "bold reverse")
        text.append(" the line runs as  sh -c '…'  (pipes, ; and > work)", style="bold")
    else:
        text = render.plain("argv mode: ", "bold")
        text.append("words run directly, no shell; start with ! for sh -c", style="")
    text.append("\nenter: run · ↑↓: history · escape: cancel", style="dim")
    return text


class RunPrompt(PromptScreen):
    """``x``: the command line for one namespace, named in the title (label and inode)."""

    def __init__(
        self,
        ns: NetNamespace,
        *,
        history: Sequence[str],
        all_namespaces: bool = False,
        container: Container | None = None,
        row_of: Container | None = None,
    ) -> None:
        """``container``: the one whose namespaces are all entered (``a``, on its ↳
        row); ``row_of``: the container of the ↳ row highlighted without ``a``, whose
        network namespace this is (the label names another container of it)."""
        title = render.plain("Run in ", "bold")
        title.append_text(render.target_text(ns))
        if container is not None:  # one of several containers sharing the namespace
            title.append_text(
                render.safe(f" (all namespaces of container {container.name})", ALERT)
            )
        elif all_namespaces:
            title.append(" (all of its namespaces)", style=ALERT)
        elif row_of is not None:
            title.append_text(render.safe(f", the network namespace {row_of.name} shares"))
        super().__init__(
            title,
            history=history,
            placeholder="e.g. ip -br addr   or   !ss -tan | head",
            note=mode_text(""),
        )
        self.target = ns

    @on(Input.Changed)
    def line_changed(self, event: Input.Changed) -> None:
        self.query_one("#dialog-note", Static).update(mode_text(event.value))
