"""Marks: what a fan-out runs in is what the user sees marked, or all shown."""

from __future__ import annotations

import dataclasses

from uifixtures import lab_snapshot

from nsexplorer.ui.marks import Marks


def test_marked_and_shown_only_else_every_shown_never_gone() -> None:
    nss = list(lab_snapshot().namespaces)
    a, b, c = nss[4], nss[5], nss[6]
    marks = Marks()
    assert marks.targets([a, b, c]) == [a, b, c]
    assert marks.targets([a, dataclasses.replace(b, gone=True)]) == [a]
    assert marks.toggle(b.inode) is True
    assert marks.toggle(c.inode) is True
    assert marks.targets([a, b, c]) == [b, c]
    assert marks.targets([a, c]) == [c]  # b filtered out: not acted on
    assert marks.left_out([a, c]) == 1


def test_marks_that_are_all_hidden_or_gone_never_widen_to_every_row() -> None:
    nss = list(lab_snapshot().namespaces)
    a, b, c = nss[4], nss[5], nss[6]
    marks = Marks()
    marks.toggle(b.inode)
    assert marks.targets([a, c]) == []  # the caller refuses; never "all shown"
    assert marks.targets([a, dataclasses.replace(b, gone=True)]) == []
    assert marks.left_out([a, c]) == 1
    assert marks.toggle(b.inode) is False
    assert marks.targets([a, c]) == [a, c]
    marks.toggle(c.inode)
    marks.keep_only([a.inode])
    assert c.inode not in marks and len(marks) == 0
