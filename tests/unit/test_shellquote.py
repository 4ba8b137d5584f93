"""Equivalent commands: printable (no raw control characters) and exact when pasted."""

from __future__ import annotations

import shlex
import shutil
import subprocess

import pytest

from nsexplorer import shellquote as quoting
from nsexplorer.actions import entry
from nsexplorer.actions.entry import Entry, Kind

HOSTILE = [
    "plain",
    "with space",
    "it's",
    'dq"x',
    "$(reboot)",
    "`id`",
    "semi;colon",
    "new\nline",
    "\x1b]2;pwned\x07",
    "tab\there",
    "back\\slash'quote",
    "del\x7f",
    "c1\x9b31m",
    "bidi\u202eevil",
    "ünïcödé",
    "raw\udcffbyte",
    "-rf",
    "",
]


@pytest.mark.parametrize("word", HOSTILE)
def test_quote_is_printable(word: str) -> None:
    shown = quoting.quote(word)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in shown)
    assert "\u202e" not in shown


def test_plain_words_match_shlex() -> None:
    words = ["ip", "netns", "exec", "with space", "it's", "$(x)"]
    assert quoting.join(words) == shlex.join(words)


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_reads_back_every_word_exactly() -> None:
    argv = entry.wrap(Entry(Kind.NAMED, ref="n\x1bme"), HOSTILE)
    line = quoting.join(["printf", "%s\\0", *argv])
    out = subprocess.run(["bash", "-c", line], capture_output=True, check=True).stdout
    got = [w.decode("utf-8", "surrogateescape") for w in out.split(b"\0")[:-1]]
    assert got == argv


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_path_form_round_trips_through_bash() -> None:
    argv = entry.wrap(Entry(Kind.PATH, ref="/proc/1/root/x\ny"), ["sh", "-c", "exit 7"])
    line = quoting.join(["printf", "%s\\0", *argv])
    out = subprocess.run(["bash", "-c", line], capture_output=True, check=True).stdout
    assert [w.decode() for w in out.split(b"\0")[:-1]] == argv
