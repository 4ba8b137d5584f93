"""`-o FILE` when FILE changes between the check and the write (a planted link, a file
that appears): refused, nothing replaced, nothing written through, no temporary left.

The steps after the check are called directly, on what an attacker would have swapped
in by then; the whole command is tested on real files in
tests/integration/test_snapshot_output.py.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from nsexplorer.cli import output


def leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.startswith(".nsexplorer-")]


def test_a_symlink_planted_after_the_check_is_not_replaced(tmp_path: Path) -> None:
    target = tmp_path / "precious"
    target.write_text("precious\n")
    link = tmp_path / "out.json"
    link.symlink_to(target)
    with pytest.raises(output.OutputRefused, match="is a symbolic link"):
        output._replace(str(link), b"{}\n")  # the check said: a regular file
    assert link.is_symlink() and target.read_text() == "precious\n"
    assert leftovers(tmp_path) == []


def test_a_file_that_appears_meanwhile_is_not_replaced(tmp_path: Path) -> None:
    tmp = tmp_path / ".nsexplorer-x.tmp"
    tmp.write_text("ours\n")
    theirs = tmp_path / "out.json"
    theirs.write_text("theirs\n")
    with pytest.raises(output.OutputRefused, match="appeared while it was written"):
        output._publish_new(str(tmp), str(theirs))  # the check said: missing
    assert theirs.read_text() == "theirs\n"


def test_a_stream_swapped_for_a_regular_file_is_not_written(tmp_path: Path) -> None:
    path = tmp_path / "was-a-fifo"
    path.write_text("theirs\n")
    with pytest.raises(output.OutputRefused, match="changed while it was opened"):
        output._write_through(str(path), b"{}\n")
    assert path.read_text() == "theirs\n"


def test_a_stream_swapped_for_a_symlink_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "precious"
    target.write_text("precious\n")
    link = tmp_path / "was-a-fifo"
    link.symlink_to(target)
    with pytest.raises(output.OutputRefused, match="is a symbolic link"):
        output._write_through(str(link), b"{}\n")
    assert target.read_text() == "precious\n"


def test_json_to_stdout_is_utf8_bytes_whatever_the_stream_encoding(
    capfdbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    ascii_out = io.TextIOWrapper(os.fdopen(os.dup(sys.stdout.fileno()), "wb"), "ascii")
    monkeypatch.setattr(sys, "stdout", ascii_out)
    output.write_json('{"name": "é\\udcff"}')
    ascii_out.flush()
    assert capfdbinary.readouterr().out == '{"name": "é\\udcff"}\n'.encode()


def test_text_to_an_ascii_stream_never_raises(
    capfdbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    ascii_out = io.TextIOWrapper(os.fdopen(os.dup(sys.stdout.fileno()), "wb"), "ascii")
    monkeypatch.setattr(sys, "stdout", ascii_out)
    output.make_streams_safe()
    output.write_stdout("é → \udcff\n")  # the last one only if visible() was forgotten
    ascii_out.flush()
    assert capfdbinary.readouterr().out == b"\\xe9 \\u2192 \\udcff\n"
