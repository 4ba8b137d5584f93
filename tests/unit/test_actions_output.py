from __future__ import annotations

import pytest

from nsexplorer.actions.output import TailBuffer


def test_small_output_kept_whole() -> None:
    buf = TailBuffer(100)
    buf.write(b"hello\n")
    buf.write(b"world\n")
    assert buf.text() == "hello\nworld\n"
    assert not buf.truncated
    assert buf.total == 12


def test_huge_output_keeps_the_tail_from_a_line_start() -> None:
    buf = TailBuffer(1000)
    for i in range(100_000):
        buf.write(f"line {i}\n".encode())
    text = buf.text()
    assert buf.truncated
    assert len(text) <= 1000
    assert text.endswith("line 99999\n")
    assert text.startswith("line ")  # the cut partial line is dropped
    assert buf.total == sum(len(f"line {i}\n") for i in range(100_000))


def test_single_huge_chunk() -> None:
    buf = TailBuffer(10)
    buf.write(b"x" * 1_000_000 + b"END")
    assert buf.text() == "x" * 7 + "END"
    assert len(buf._buf) <= 1_000_003


def test_cut_inside_a_multibyte_character_is_replaced_not_raised() -> None:
    buf = TailBuffer(5)
    buf.write("ééééé".encode())
    assert buf.text().endswith("éé")


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError):
        TailBuffer(0)
