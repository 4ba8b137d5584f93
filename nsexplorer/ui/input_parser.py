"""Input parsing fixes over Textual's XTermParser: bracketed paste that keeps its escape
characters, and an Escape typed just before a key.

Textual 8's XTermParser starts an escape sequence at every ESC, inside a paste too: the
text after a pasted ESC comes out as keys (the ESC as ``^``) before a Paste event that
holds only the text before it, so ``echo ab<ESC>cd`` pasted into the run prompt ran
``^cdecho ab``. This parser hands the parser a paste's ESCs as a stand-in character and
turns them back in the Paste event, which the fields then show escaped (``\\x1b``).

Escape then a key in one read (a slow link batches them) is parsed as alt+KEY, and for
a key with no alt form (``/``, digits) the Escape is simply lost: escape ``/`` kept the
old filter and typed into it. nsexplorer binds no alt key, so an ESC followed by a
character that starts no escape sequence is the Escape key, ended at once; except the
pairs Textual reads as editing keys (alt+Backspace: delete a word; iTerm's Option+Left
and Right: ESC b, ESC f; the console's ESC Tab), which a prompt needs. The price: an
Escape followed by b, f, Tab or Backspace within one read (a slow link) is that key.

A paste's start marker split across reads (a slow link) is found all the same: the
end of what came outside a paste is remembered (never held back: a lone ESC at the end
of a read must stay the Escape key).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from textual import events
from textual._ansi_sequences import ANSI_SEQUENCES_KEYS
from textual._xterm_parser import XTermParser
from textual.message import Message

PASTE_START = "\x1b[200~"
PASTE_END = "\x1b[201~"
STAND_IN = "\ufdd0"  # a Unicode noncharacter: never typed, never in a paste
# ESC + a character Textual reads as a key of its own (ESC DEL = ctrl+w, ESC b = ctrl+left)
_EDITING = "".join(
    sorted(
        seq[1]
        for seq, keys in ANSI_SEQUENCES_KEYS.items()
        if len(seq) == 2 and seq[0] == "\x1b" and isinstance(keys, tuple)
    )
)
# ESC, then a character that introduces no sequence (CSI, SS3, DCS, OSC, ST, APC, PM, SOS)
# and makes no editing key
_LONE_ESC = re.compile(f"\x1b(?=[^{re.escape(_EDITING)}\\[OP\\]\\\\_^X])")


class InputParser(XTermParser):
    def __init__(self, debug: bool = False) -> None:
        super().__init__(debug)
        self._in_paste = False
        self._tail = ""  # the start of what may be PASTE_END, split across reads
        self._recent = ""  # the end of the last read outside a paste: PASTE_START's start?

    def feed(self, data: str) -> Iterable[Message]:
        if not data:  # end of input
            tail, self._tail = self._tail, ""
            if tail:
                yield from self._restored(super().feed(tail))
            yield from super().feed(data)
            return
        yield from self._restored(self._feed_keys(self._protect(self._tail + data)))

    def _feed_keys(self, data: str) -> Iterable[Message]:
        start = 0
        for lone in _LONE_ESC.finditer(data):  # ESCs left in data are outside pastes
            cut = lone.start() + 1
            yield from super().feed(data[start:cut])
            self._timeout_time = 0.0  # its escape delay is over: the Escape key, now
            yield from self.tick()
            start = cut
        if start < len(data):
            yield from super().feed(data[start:])

    def _protect(self, data: str) -> str:
        self._tail = ""
        out: list[str] = []
        at = 0
        recent, self._recent = self._recent, ""
        split = (recent + data).find(PASTE_START) if recent and not self._in_paste else -1
        if 0 <= split < len(recent):  # begun in the last read, already passed on
            at = split + len(PASTE_START) - len(recent)
            out.append(data[:at])
            self._in_paste = True
        while at < len(data):
            if not self._in_paste:
                start = data.find(PASTE_START, at)
                if start < 0:
                    out.append(data[at:])
                    # the marker may come a character a read (a serial console)
                    outside = (recent if at == 0 else "") + data[at:]
                    self._recent = outside[-(len(PASTE_START) - 1) :]
                    break
                out.append(data[at : start + len(PASTE_START)])
                at, self._in_paste = start + len(PASTE_START), True
                continue
            end = data.find(PASTE_END, at)
            if end < 0:
                rest = data[at:]
                keep = _partial_end(rest)
                out.append(rest[: len(rest) - keep].replace("\x1b", STAND_IN))
                self._tail = rest[len(rest) - keep :]
                break
            out.append(data[at:end].replace("\x1b", STAND_IN))
            out.append(PASTE_END)
            at, self._in_paste = end + len(PASTE_END), False
        return "".join(out)

    @staticmethod
    def _restored(tokens: Iterable[Message]) -> Iterable[Message]:
        for token in tokens:
            if isinstance(token, events.Paste) and STAND_IN in token.text:
                yield events.Paste(token.text.replace(STAND_IN, "\x1b"))
            else:
                yield token


def _partial_end(text: str) -> int:
    """How many characters at the end of ``text`` could begin PASTE_END."""
    for size in range(min(len(text), len(PASTE_END) - 1), 0, -1):
        if PASTE_END.startswith(text[-size:]):
            return size
    return 0


def install() -> None:
    """Make Textual's Linux driver use this parser (it names XTermParser at import)."""
    from textual.drivers import linux_driver

    linux_driver.XTermParser = InputParser  # type: ignore[attr-defined]
