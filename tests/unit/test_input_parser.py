"""A bracketed paste keeps its ESC characters, in order (ui/input_parser.py): Textual's own
parser turned the text after a pasted ESC into keys sent before the paste."""

from __future__ import annotations

from textual import events
from textual._xterm_parser import XTermParser

from nsexplorer.ui.input_parser import InputParser


def tokens(parser: XTermParser, *reads: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for data in reads:
        for token in parser.feed(data):
            if isinstance(token, events.Paste):
                out.append(("paste", token.text))
            elif isinstance(token, events.Key):
                out.append(("key", token.key))
    return out


def test_textual_alone_scrambles_a_paste_with_an_escape() -> None:
    # The reason for InputParser: if Textual ever fixes this, the class can go.
    got = tokens(XTermParser(), "\x1b[200~echo ab\x1bcd\x1b[201~")
    assert got != [("paste", "echo ab\x1bcd")]


def test_a_paste_keeps_its_escapes_in_order() -> None:
    got = tokens(InputParser(), "x\x1b[200~echo ab\x1bcd \x1b[31mred\x1b[201~y")
    assert got == [("key", "x"), ("paste", "echo ab\x1bcd \x1b[31mred"), ("key", "y")]


def test_the_end_of_a_paste_split_across_reads() -> None:
    for cut in range(1, len("\x1b[201~")):
        end = "\x1b[201~"
        got = tokens(InputParser(), "\x1b[200~a\x1bb" + end[:cut], end[cut:] + "z")
        assert got == [("paste", "a\x1bb"), ("key", "z")], cut


def test_keys_outside_a_paste_are_as_textual_parses_them() -> None:
    reads = ("j", "\x1b[A", "k", "\x1b[200~plain\x1b[201~", "\x1b[B")
    assert tokens(InputParser(), *reads) == tokens(XTermParser(), *reads)


def keys(*reads: str) -> list[str]:
    return [key for kind, key in tokens(InputParser(), *reads) if kind == "key"]


def test_escape_then_a_key_in_one_read_is_both_keys() -> None:
    # Textual alone: escape then `/` gives `/` only (the Escape lost), escape `x` alt+x.
    assert tokens(XTermParser(), "\x1b/") == []  # waits for its escape delay...
    assert keys("\x1b/") == ["escape", "slash"]  # ...here the Escape is there at once
    assert keys("\x1b2") == ["escape", "2"]
    assert keys("j\x1bj") == ["j", "escape", "j"]


def test_sequences_are_still_sequences() -> None:
    assert keys("\x1b[A", "\x1bOB", "\x1b[1;5C") == ["up", "down", "ctrl+right"]
    assert tokens(InputParser(), "\x1b[200~a\x1b/b\x1b[201~") == [("paste", "a\x1b/b")]


def test_the_start_of_a_paste_split_across_reads() -> None:
    """Review: the start marker cut by a read (a slow link) left the pasted ESC raw, and
    it ended at once as the Escape key, which closed the prompt mid-paste."""
    start = "\x1b[200~"
    for cut in range(1, len(start)):
        got = tokens(InputParser(), "ab" + start[:cut], start[cut:] + "x\x1bcd\x1b[201~z")
        assert got == [("key", "a"), ("key", "b"), ("paste", "x\x1bcd"), ("key", "z")], cut


def test_editing_keys_made_of_esc_and_a_character_stay_editing_keys() -> None:
    """alt+Backspace (delete a word), iTerm's Option+Left/Right, the console's ESC Tab:
    in the run prompt they must edit, not close it (review: the typed command was lost)."""
    pairs = {"\x1b\x7f": "ctrl+w", "\x1bb": "ctrl+left", "\x1bf": "ctrl+right"}
    pairs["\x1b\t"] = "shift+tab"
    for data, key in pairs.items():
        assert keys(data) == [key] == [k for _, k in tokens(XTermParser(), data)], data
    assert keys("\x1b1") == ["escape", "1"]  # a pane's digit after Escape: still both


def test_the_start_of_a_paste_a_character_a_read() -> None:
    """Review: only the last read's end was remembered; a marker spread over three
    reads or more (one character a read, as on a serial console) was missed."""
    start = "\x1b[200~"
    reads = ["ab", *start, "x\x1bcd\x1b[201~z"]
    got = tokens(InputParser(), *reads)
    assert got == [("key", "a"), ("key", "b"), ("paste", "x\x1bcd"), ("key", "z")], got
