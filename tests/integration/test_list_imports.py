"""The live `nsexplorer list` imports only what it needs (issue 9's speed target: `list`
is mostly interpreter start-up and imports). Checked on the real host, in a fresh
interpreter, with Docker asked when the testbed answers."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.root]

# Not needed to list namespaces: the UI toolkit, the docker SDK, psutil, pyroute2, the
# netlink readers, ctypes, and stdlib modules that cost milliseconds each.
UNWANTED = (
    "textual", "rich", "docker", "psutil", "pyroute2", "ctypes", "typing", "shutil",
    "hashlib", "subprocess", "nsexplorer.model_inside", "nsexplorer.kernel.netlink",
    "nsexplorer.collect.netns_reader", "nsexplorer.cli.show_net", "nsexplorer.actions",
    "nsexplorer.model_net",
)  # fmt: skip

PROBE = """
import io, json, sys
from contextlib import redirect_stdout
from nsexplorer.cli import main
out = io.StringIO()
with redirect_stdout(out):
    code = main({argv!r})
unwanted = {unwanted!r}
loaded = sorted(m for m in sys.modules if any(m == u or m.startswith(u + ".") for u in unwanted))
found = len(json.loads(out.getvalue())["namespaces"]) if {json_out!r} else -1
print(json.dumps({{"code": code, "loaded": loaded, "found": found}}))
"""


@pytest.mark.parametrize("argv", [["list", "--json"], ["list"]], ids=["json", "table"])
def test_list_imports_only_what_it_needs(argv: list[str]) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE.format(argv=argv, unwanted=UNWANTED, json_out="--json" in argv),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.splitlines()[-1])
    assert got["code"] == 0
    assert got["loaded"] == []
    if "--json" in argv:
        assert got["found"] >= 1  # it listed something: the host at least
