"""The `s` shell's prompt (bash, through the rcfile) shows NSX_NETNS_LABEL exactly as
the UI shows the label, and never runs what a hostile label holds: bash expands PS1 once,
and a variable's value is not expanded again."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nsexplorer.cli.tui import _bash_rcfile


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_a_hostile_label_is_shown_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    label = f"nsxh-$(touch {marker})`touch {marker}`\\u!x\\$"
    rcfile = _bash_rcfile()
    try:
        env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "NSX_NETNS_LABEL": label}
        done = subprocess.run(
            ["bash", "--noediting", "--rcfile", rcfile, "-i"],
            input="exit\n", env=env, capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    finally:
        os.unlink(rcfile)
    assert not marker.exists()
    assert f"[nsx {label}] " in done.stderr, done.stderr  # the prompt, on stderr


SPAWN = """
import sys
from nsexplorer.cli.output import make_streams_safe
from nsexplorer.cli.tui import spawn_shell
make_streams_safe()  # as cli.main does before the TUI (the shell's stdout is that one)
from nsexplorer.ports import PreparedShell
shell = PreparedShell(argv=(sys.argv[1],), command="sh", pass_fds=(), release=lambda: None)
print("status", spawn_shell(shell, netns_inode=4026531840, label="nsxh-caf\\u00e9"))
"""


@pytest.mark.parametrize("program", ["sh", "bash"])
def test_a_non_ascii_label_under_an_ascii_locale(program: str, tmp_path: Path) -> None:
    """PYTHONUTF8=0 LC_ALL=C: stdout and the file system encoding are ASCII. A label with
    an é (a container's name, from Docker's JSON) must not make Popen raise on the
    environment (UnicodeEncodeError ended the app), nor leave the bash rcfile behind."""
    if shutil.which(program) is None:
        pytest.skip(f"{program} is not installed")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "TMPDIR": str(tmp_path),
        "PYTHONUTF8": "0",
        "LC_ALL": "C",
    }
    done = subprocess.run(
        [sys.executable, "-c", SPAWN, program],
        input='echo "label=$NSX_NETNS_LABEL"\nexit 7\n', env=env, capture_output=True,
        text=True, errors="backslashreplace", timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "a shell in netns 4026531840 (nsxh-caf\\xe9)" in done.stdout, done.stdout
    assert "label=nsxh-caf\\xe9" in done.stdout, done.stdout
    assert "status 7" in done.stdout, done.stdout
    assert not list(tmp_path.glob("nsx-bashrc-*")), "the rcfile was left behind"


ENDED = """
import sys
from nsexplorer.cli.tui import spawn_shell
from nsexplorer.ports import PreparedShell
ends = []
shell = PreparedShell(
    argv=tuple(sys.argv[1:]), command="sh", pass_fds=(), release=lambda: None,
    ended=lambda status, error: ends.append((status, error)),
)
try:
    print("status", spawn_shell(shell, netns_inode=4026531840, label="nsxh-x"))
except OSError as err:
    print("raised", err.strerror)
print("ended", ends)
"""


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        # killed by a signal: 128+N, as `exec` records it (review: the raw -9 was logged)
        (["sh", "-c", "kill -9 $$"], ["status 137", "ended [(137, '')]"]),
        # never started: the caller is told (and records why), not "exited with 127"
        (["/nonexistent/nsxh-shell"], ["raised No such file or directory", "ended []"]),
    ],
)
def test_how_a_shell_ended_is_what_it_did(argv: list[str], said: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", ENDED, *argv],
        capture_output=True, text=True, timeout=30, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.stdout.splitlines()[-2:] == said, done.stdout + done.stderr
