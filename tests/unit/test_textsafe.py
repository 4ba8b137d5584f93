"""textsafe.visible: the one rule for text that reaches a terminal."""

from __future__ import annotations

import itertools
import os
import unicodedata

import pytest

from nsexplorer import shellquote as quoting
from nsexplorer.textsafe import is_visible, visible, visible_runs

# Everything a terminal could act on, or that looks like something it is not.
ESCAPED = {
    "\x1b]2;title\x07": "\\x1b]2;title\\x07",  # OSC title: ESC ... BEL
    "a\nb\rc\td": "a\\x0ab\\x0dc\\x09d",
    "nul\x00": "nul\\x00",
    "del\x7f": "del\\x7f",
    "csi\x9b31m": "csi\\x9b31m",  # C1 CSI: a whole escape sequence in one character
    "osc\x9d0;x\x9c": "osc\\x9d0;x\\x9c",
    "nel\x85": "nel\\x85",
    "bidi\u202eevil": "bidi\\u202eevil",  # right-to-left override
    "iso\u2066x\u2069": "iso\\u2066x\\u2069",
    "lrm\u200f": "lrm\\u200f",
    "zw\u200bsp": "zw\\u200bsp",
    "line\u2028para\u2029": "line\\u2028para\\u2029",
    "nb\u00a0sp": "nb\\xa0sp",  # looks like a space, is not one
    "shy\u00ad": "shy\\xad",
    "bom\ufeff": "bom\\ufeff",
    "tag\U000e0041": "tag\\U000e0041",
    "private\ue000": "private\\ue000",
}


@pytest.mark.parametrize(("raw", "shown"), ESCAPED.items())
def test_controls_and_invisible_characters_are_escaped(raw: str, shown: str) -> None:
    assert visible(raw) == shown
    assert not is_visible(raw)


def test_bytes_that_are_not_utf8_are_shown_as_the_byte() -> None:
    """os.fsdecode keeps them as lone surrogates; the screen shows the original byte."""
    name = os.fsdecode(b"nsx-\xff\x80\xc3(\x1b]2;x\x07")
    assert visible(name) == "nsx-\\xff\\x80\\xc3(\\x1b]2;x\\x07"


def test_every_single_byte_is_either_itself_or_its_escape() -> None:
    for byte in range(256):
        ch = os.fsdecode(bytes([byte]))
        expected = chr(byte) if 0x20 <= byte <= 0x7E else f"\\x{byte:02x}"
        assert visible(ch) == expected, byte


@pytest.mark.parametrize(
    "text", ["eth0", "with space", "é ü ß", "名前", "emoji 🐳", "x[/]@=", "back\\x1bslash", ""]
)
def test_printable_text_is_unchanged(text: str) -> None:
    assert visible(text) == text
    assert is_visible(text)


def test_lone_surrogates_outside_the_escape_range() -> None:
    """Not produced by fsdecode, but a replayed JSON file may hold them: still escaped."""
    assert visible("a\ud800b\udfff") == "a\\ud800b\\udfff"


def test_the_result_is_printable_encodable_and_stable() -> None:
    """For every code point of the BMP (and the planes' starts): the result is printable,
    valid UTF-8 (never a surrogate), ASCII with backslashreplace, and visible() of it is
    itself, so escaping twice (a formatter and the stream) never doubles anything."""
    samples = [chr(c) for c in range(0x10000)] + [chr(c) for c in range(0x10000, 0x110000, 251)]
    for ch in samples:
        shown = visible(f"a{ch}b")
        assert shown.isprintable(), repr(ch)
        shown.encode("utf-8")  # strict: raises on a surrogate
        shown.encode("ascii", "backslashreplace")
        assert visible(shown) == shown
        if shown == f"a{ch}b":
            assert unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Zl", "Zp"), repr(ch)


@pytest.mark.parametrize("word", [*ESCAPED, os.fsdecode(b"n\xff"), "plain", "é"])
def test_shell_quoting_escapes_exactly_what_visible_escapes(word: str) -> None:
    """One rule: a word the screen would escape is written in ANSI-C quoting."""
    quoted = quoting.quote(word)
    assert quoted.startswith("$'") == (not is_visible(word))
    assert is_visible(quoted)


ODD = [*ESCAPED, os.fsdecode(b"n\xff\xfe"), "plain", "", "\x1b", "a\\x1b"]


@pytest.mark.parametrize("raw", ODD)
def test_the_runs_are_visible_cut_where_escapes_begin_and_end(raw: str) -> None:
    """The TUI shows escapes apart from text; the runs must add up to visible() exactly,
    alternate (escapes side by side are one run) and mark as escapes exactly the
    escaped characters."""
    runs = visible_runs(raw)
    assert "".join(run for run, _ in runs) == visible(raw)
    assert all(run for run, _ in runs)
    assert all(a[1] != b[1] for a, b in itertools.pairwise(runs))
    plain_chars = "".join(run for run, escaped in runs if not escaped)
    assert plain_chars == "".join(ch for ch in raw if ch.isprintable())


def test_a_real_escape_and_its_spelling_give_different_runs() -> None:
    """A name holding ESC and one spelled with a backslash show the same characters;
    only the runs tell them apart."""
    real, spelled = visible_runs("a\x1bb"), visible_runs("a\\x1bb")
    assert visible("a\x1bb") == visible("a\\x1bb")
    assert real == [("a", False), ("\\x1b", True), ("b", False)]
    assert spelled == [("a\\x1bb", False)]
