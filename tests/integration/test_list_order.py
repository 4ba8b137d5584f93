"""`list`, snapshots and `problems` give namespaces in the sidebar's natural order:
nsxt..n2 before nsxt..n10 (they were in byte order, n1, n10, n11, n2). Namespaces:
nsxt prefix, removed even on failure."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.root]


def test_list_and_snapshot_sort_digit_runs_by_value(nsxt: Any) -> None:
    made = [nsxt.netns() for _ in range(11)]  # ...n1 to ...n11
    done = subprocess.run(
        [sys.executable, "-m", "nsexplorer", "list", "--json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    doc = json.loads(done.stdout)
    listed = [ns["label"] for ns in doc["namespaces"] if ns["label"] in made]
    assert listed == made, listed  # made in natural order: n1, n2, ..., n10, n11
    assert sorted(made) != made  # the byte order differs, or this proves nothing
