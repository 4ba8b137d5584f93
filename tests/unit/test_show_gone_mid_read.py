"""`show` of a namespace that vanishes between its interfaces and its inside: the
namespace is marked gone, with why, in the JSON and the text, and the exit status says
so (it printed `"gone": false`, no reason for the missing inside, and exited 0)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nsexplorer.cli import discovery, main
from nsexplorer.collect.recorded import RecordedSource
from nsexplorer.errors import NamespaceGone
from nsexplorer.model import NetNamespace

SNAPSHOT = Path(__file__).parents[2] / "screenshots" / "lab-snapshot.json"


class VanishingInside(RecordedSource):
    def inside(self, ns: NetNamespace, parts: Any = None) -> Any:
        raise NamespaceGone(f"namespace {ns.label} is gone (No such file or directory)")


@pytest.fixture
def vanishing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discovery, "_source", lambda args: VanishingInside(str(SNAPSHOT)))


def test_show_json_marks_it_gone_and_says_why(
    vanishing: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["show", "--json", "nsxlab-app"]) == 1
    out = capsys.readouterr()
    doc = json.loads(out.out)
    assert doc["gone"] is True
    assert any("gone during the read" in w for w in doc["warnings"]), doc["warnings"]
    assert doc["interfaces"]  # what was read before it went is kept


def test_show_text_says_gone(vanishing: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "nsxlab-app"]) == 1
    out = capsys.readouterr()
    assert "GONE: the namespace vanished" in out.out
    assert "gone during the read" in out.err
